"""Body part (WCIO Part of Body), laterality, spinal levels and ICD-10-CM code of a diagnosis
or item text: dictionary lookups over its words, with the rules as data
(resources/wcio_body_parts.csv, body_part_terms.csv, icd10cm_map.csv).

`Coder` is built once from the rule rows (and, for the title fallback, from ICD-10-CM titles
that `icd10cm_titles` reads from the code set when the pipeline is built); coding a text is a
few dict lookups, never a search of the code set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

WORD = re.compile(r"[a-z0-9]+(?:'s)?")
# C5-6, C5-C6, L4/5, L5/S1, L5-S1, "L4 to L5", single levels (T10, L5); the letter is the region
LEVEL = re.compile(
    r"\b([CTLS])\s?(\d{1,2})(?:\s*(?:-|/|–|to|through)\s*([CTLS])?\s?(\d{1,2}))?\b",
    re.IGNORECASE,
)
LEVEL_SITE = {"C": "cervical", "T": "thoracic", "L": "lumbar", "S": "lumbosacral"}
SIDES = {
    "left": "left",
    "right": "right",
    "bilateral": "bilateral",
    "bilaterally": "bilateral",
    "bilat": "bilateral",
    "rt": "right",
    "lt": "left",
}
# side abbreviations written as more than one word: "B/L knees"; "R knee", "L shoulder" (a
# capital R or L before a limb's joint: not a spinal level, which has a number)
SIDE_WORDS = re.compile(r"\bb/l\b", re.IGNORECASE)
SIDE_LETTER = re.compile(
    r"\b([RL])\.?[ \t]+(?=(?:shoulder|elbow|wrist|hand|hip|knee|ankle|foot|leg|arm|thumb|"
    r"finger|heel|upper|lower|groin|calf|thigh|forearm)s?\b)"
)
STOP = {"the", "a", "an"}
MAX_TERM_WORDS = 6
# a disc condition moves a spine code to its disc code (conventions of issue 14)
DISC_CODE = {"42": "43", "41": "43", "40": "43", "63": "43", "20": "22", "21": "22"}
# for linking diagnoses to decisions: parts of one body region that count as the same part
LINK_KEY = {"43": "42", "63": "42", "22": "20", "21": "20", "23": "20", "25": "20"}
REGION_MULTIPLE = {
    "head": "10",
    "neck": "20",
    "upper_extremities": "30",
    "trunk": "40",
    "lower_extremities": "50",
}
UNCLASSIFIED, MULTIPLE, MENTAL, SYSTEMIC = "65", "90", "66", "91"
UNSITED = "T14"  # "injury of unspecified body region": the code of a fracture with no site
# chapters whose titles the fallback compares with a diagnosis (blood, endocrine, mental,
# nervous, circulatory, respiratory, digestive, skin, musculoskeletal, genitourinary,
# symptoms, injuries): not pregnancy, perinatal, congenital, eye and ear, neoplasms,
# infections, poisoning, external causes or encounter factors, which IMR letters name rarely
# and would only make the index (loaded with every pipeline) bigger
FALLBACK_CHAPTERS = "DEFGIJKLMNRS"


def words(text: str) -> list[str]:
    if "/" in text:
        text = SIDE_WORDS.sub("bilateral", text)
    if "R" in text or "L" in text:
        text = SIDE_LETTER.sub(lambda m: "right " if m.group(1) == "R" else "left ", text)
    return WORD.findall(text.lower())


def key(text: str) -> str:
    return " ".join(words(text))


def title_key(text: str) -> str:
    """A code title or a diagnosis as the title fallback compares them: lowercase words, no
    punctuation, no articles."""
    return " ".join(w for w in words(text) if w not in STOP)


def spinal_levels(text: str) -> list[str]:
    """`C5-6`, `L4-5`, `L5-S1`, `T10`: every spinal level or level pair written, in order,
    normalised (L4-L5, L4/5 -> L4-5; L5/S1 -> L5-S1)."""
    found: list[str] = []
    for m in LEVEL.finditer(text):
        region, first, region2, second = m.group(1).upper(), m.group(2), m.group(3), m.group(4)
        if not _valid_level(region, int(first)):
            continue
        if second is None:
            level = f"{region}{first}"
        else:
            region2 = (region2 or region).upper()
            if not _valid_level(region2, int(second)):
                continue
            level = (
                f"{region}{first}-{second}"
                if region2 == region
                else f"{region}{first}-{region2}{second}"
            )
        if level not in found:
            found.append(level)
    return found


def _valid_level(region: str, number: int) -> bool:
    return 1 <= number <= {"C": 8, "T": 12, "L": 5, "S": 5}[region]


# a limb written in the plural with no side is both sides ("EMG of the lower extremities")
PLURAL_LIMBS = {
    "extremities",
    "limbs",
    "arms",
    "legs",
    "shoulders",
    "elbows",
    "wrists",
    "hands",
    "hips",
    "knees",
    "ankles",
    "feet",
}


SPINE_SITES = {
    "spine",
    "back",
    "cervical",
    "cervicothoracic",
    "thoracic",
    "thoracolumbar",
    "lumbar",
    "lumbosacral",
    "sacrum",
    "coccyx",
}
CLAUSE_END = re.compile(r"[,;:()]")
# a prepositional phrase right after a span, to the end of its clause: " of the right femur"
SITE_OF = re.compile(
    r"^[ \t\n]*(?:of|in|to|at|involving|over)[ \t\n]+(?:(?:the|his|her|their)[ \t\n]+)?"
    r"([a-z' \t\n-]+?)[ \t\n]*(?:[,;:.()]|\b(?:and|or|with|which|that|was|were|is|are|on)\b|$)",
    re.IGNORECASE,
)
# a separator of coordinated sites at the end of the text before a span: ", ", ", and ", " and
# ", " or ", "/", " & "
COORDINATION = re.compile(
    r"(?:[ \t\n]*,[ \t\n]*(?:and[ \t\n]+)?|[ \t\n]+(?:and|or|&)[ \t\n]+|[ \t]*/[ \t]*)$"
)
LAST_CONJUNCTION = re.compile(r"(?:\b(?:and|or)|&|/)[ \t\n]*$", re.IGNORECASE)
# what a code title says its condition is without: "without myelopathy or radiculopathy"
WITHOUT = re.compile(r"\bwithout ([a-z -]+)")


def _clause_and_sentence(context: str) -> list[str]:
    """`context` is the sentence with the span marked by \x00 on both sides: the clause of
    the span (between commas, semicolons, colons, brackets), then the whole sentence."""
    before, _, rest = context.partition("\x00")
    span, _, after = rest.partition("\x00")
    head = CLAUSE_END.split(before)[-1]
    tail = CLAUSE_END.split(after)[0]
    return [f"{head} {tail}", f"{before} {after}"]


# a side written right after the span, in its own phrase: "(right arm)", ", left upper limb"
# (only site words follow the side), "... in the legs bilaterally" (before the clause ends)
SIDE_IN_BRACKETS = re.compile(
    r"^(?:[ \t]*,[ \t]*[a-z ]+?)?\s*\(\s*(left|right|bilateral)\b[^()]*\)", re.IGNORECASE
)
SIDE_AFTER_COMMA = re.compile(
    r"^[ \t]*,[ \t]*(left|right|bilateral)[ \t]+([a-z ]+?)[ \t]*(?:[,;:.()\n]|$)", re.IGNORECASE
)
# a side right before the span, a spinal level between them or not: "bilateral L5 [radicular
# symptoms]"
# the span's site written after it, ICD-10-CM title style: ", left upper limb", ", cervical
# region", ", left hand" (a side, or region/level/area, must be there: not the next item of a list)
SITE_AFTER_COMMA = re.compile(
    r"^[ \t]*,[ \t]*((?:(?:left|right|bilateral)[ \t]+)?[a-z ]+?)[ \t]*(?:[;.(]|$)",
    re.IGNORECASE,
)
SIDE_BEFORE = re.compile(
    r"\b(left|right|bilateral)(?:-sided|[ \t-])*"
    # where in the canal, as an MRI report writes it: "right lateral recessed [disc extrusion]",
    # "left paracentral [disc protrusion]", "right foraminal [stenosis]"
    r"(?:(?:far[ \t\n]+)?(?:lateral|paracentral|paramedian|posterolateral|foraminal|"
    r"extraforaminal|subarticular|recess(?:ed)?)[ \t\n]+){0,3}"
    r"(?:[CTLS]\d{1,2}(?:[-/][CTLS]?\d{1,2})?[ \t]*)?$",
    re.IGNORECASE,
)
# a span that ends with its site in ICD-10-CM title style: "carpal tunnel syndrome, right upper
# limb" (only site words after the side)
SIDE_AT_END = re.compile(
    r",[ \t\n]*(left|right|bilateral)[ \t\n]+([a-z \t\n]+?)[ \t\n]*$", re.IGNORECASE
)
# "left and " + "right wrist pain": both sides
BOTH_SIDES_BEFORE = re.compile(r"\b(left|right)[ \t\n]+(?:and|&)[ \t\n]+$", re.IGNORECASE)
BILATERALLY_AFTER = re.compile(r"^[^,;:.()]*?\bbilaterally\b", re.IGNORECASE)
# "low back pain radiating to the thighs bilaterally": the side of where it spreads
RADIATION = re.compile(r"\b(?:radiat|extend|travel|shoot|into\b|down\b)", re.IGNORECASE)
# a side phrase right after the span: "radiculopathy on the right", "fracture of multiple
# ribs of left side" (ICD-10-CM title style)
SIDE_ON_AFTER = re.compile(
    r"^[ \t]+(?:on[ \t]+the[ \t]+(left|right)\b(?![ \t]+(?:and|or)\b)|of[ \t]+(?:the[ \t]+)?"
    r"(left|right)[ \t\n]+side\b)",
    re.IGNORECASE,
)


def laterality(tokens: list[str]) -> str:
    sides = {SIDES[t] for t in tokens if t in SIDES}
    if "bilateral" in sides or {"left", "right"} <= sides:
        return "bilateral"
    if not sides and any(t in PLURAL_LIMBS for t in tokens):
        return "bilateral"
    return sides.pop() if sides else ""


def span_side(tokens: list[str], sites) -> str:
    """The side of a span: its side words, and a plural limb with none ("lower extremities").
    A span naming several sites ("pain in the neck, right shoulder and low back") has a side
    only when one side word comes before all its sites ("bilateral hand and arm pain") or every
    site has the same side written before it: a side written for one item of a list is not
    carried over to the others (annotations/README.md), and two sides of two parts are not
    bilateral."""
    distinct = {s for _, _, s in sites}
    said = [(i, SIDES[t]) for i, t in enumerate(tokens) if t in SIDES]
    if len(distinct) <= 1 or not said:
        return laterality(tokens)
    if len(said) == 1 and said[0][0] < sites[0][0]:
        return said[0][1]
    per_site = []
    for start, _, site in sites:
        if site in SPINE_SITES:
            continue  # the spine has no side: "neck and right hand" is right
        near = [side for i, side in said if start - 3 <= i < start]
        per_site.append(near[-1] if near else "")
    if per_site and all(per_site) and len(set(per_site)) == 1:
        return per_site[0]
    return ""


def _plural(condition: str) -> str:
    """The plural of a condition's last word when it is a regular one ("tear" -> "tears";
    not "bursitis", "radiculopathy", "stenosis", "pain" stays "pains")."""
    last = condition.rsplit(" ", 1)[-1]
    if not last.isalpha() or last.endswith(("s", "y", "x", "ia", "is", "ch", "sh")):
        return ""
    return condition + "s"


class Coder:
    """Codes texts with the rows of the rule files (WCIO parts, body-part terms, ICD-10-CM map,
    local conditions); `titles` is {code: title} of the ICD-10-CM codes without a 7th character
    (the title fallback and the `icd10cm_title`)."""

    def __init__(
        self,
        wcio: list[dict[str, Any]],
        terms: list[dict[str, Any]],
        icd_map: list[dict[str, Any]],
        titles: dict[str, str],
        by_title: dict[str, str] | None = None,
        local: Sequence[dict[str, Any]] = (),
    ) -> None:
        self.names = {r["code"]: r["name"] for r in wcio}
        self.local = {key(r["condition"]) for r in local}  # lesions: always of some part
        self.regions = {r["code"]: r["region"] for r in wcio}
        self.terms = {key(r["term"]): (r["kind"], r["site"], r["code"]) for r in terms}
        self.map: dict[tuple[str, str, str], str] = {}
        self.sited: set[str] = set()  # conditions whose code depends on a site
        self.alias: dict[str, str] = {}  # code "=sprain": coded as the condition "sprain"
        for r in icd_map:
            for condition in r["condition"].split("|"):
                k = key(condition)
                if r["code"].startswith("="):
                    self.alias[k] = key(r["code"][1:])
                    continue
                self.map.setdefault((k, r["site"], r["side"]), r["code"])
                if r["site"]:
                    self.sited.add(k)
        for k in {k for k, _, _ in self.map} | set(self.alias):
            plural = _plural(k)  # "post-traumatic headaches", "tears": as the singular
            if (
                plural
                and plural not in self.alias
                and not any((plural, s, d) in self.map for s, d in (("", ""), ("", "right")))
            ):
                self.alias.setdefault(plural, self.alias.get(k, k))
        self.conditions = {k for k, _, _ in self.map} | set(self.alias)
        self._longest: dict[int, dict[str, int]] = {}  # first word -> most words of a key
        for vocabulary in (self.terms, self.conditions):
            longest: dict[str, int] = {}
            for k in vocabulary:
                first, n = k.split(" ", 1)[0], k.count(" ") + 1
                longest[first] = max(longest.get(first, 0), n)
            self._longest[id(vocabulary)] = longest
        self._around: dict[str, dict[str, Any]] = {}  # context text -> its body part
        self.titles = titles
        self._by_title = by_title

    @property
    def by_title(self) -> dict[str, str]:
        """Normalised title -> code, built once when first needed; a title that two codes
        share is left out (no guessing)."""
        if self._by_title is None:
            index: dict[str, str] = {}
            shared: set[str] = set()
            for code, title in self.titles.items():
                k = title_key(title)
                if k in index and index[k] != code:
                    shared.add(k)
                index.setdefault(k, code)
            self._by_title = {k: c for k, c in index.items() if k not in shared}
        return self._by_title

    def is_local(self, text: str) -> bool:
        """Whether `text` ends with a condition that is always of some part ("occult stress
        fracture", "joint effusion"): local_conditions.csv."""
        tokens = words(text)
        return any(" ".join(tokens[-n:]) in self.local for n in (1, 2) if len(tokens) >= n)

    # -- body part -------------------------------------------------------------------------
    def _matches(self, tokens: list[str], vocabulary, greedy: bool):
        """(start, end, key) of vocabulary keys in tokens: the longest at each word, and with
        `greedy` the next search starts after it (sites); without, every match (conditions).
        Only words that start a key are tried, up to that key's length."""
        longest = self._longest[id(vocabulary)]
        found, i = [], 0
        while i < len(tokens):
            hit = None
            for n in range(min(longest.get(tokens[i], 0), len(tokens) - i), 0, -1):
                k = " ".join(tokens[i : i + n])
                if k in vocabulary:
                    hit = (i, i + n, k)
                    found.append(hit)
                    if not greedy:
                        for m in range(n - 1, 0, -1):
                            sub = " ".join(tokens[i : i + m])
                            if sub in vocabulary:
                                found.append((i, i + m, sub))
                    break
            i = hit[1] if hit and greedy else i + 1
        return found

    def body_part(
        self, tokens: list[str], levels: list[str], context: bool = False
    ) -> dict[str, Any]:
        """{body_part_code, body_part, sites [(start, end, site key)], parts (codes before
        combining)}; code "" when nothing is written (the caller decides on 65)."""
        sites, parts, disc, mental, systemic = [], [], False, False, False
        # "strain ... at upper arm level, right arm": the words after "level" only say the side
        end_at = tokens.index("level") if "level" in tokens else len(tokens)
        limbs = []
        for start, end, k in self._matches(tokens[:end_at], self.terms, greedy=True):
            kind, site, code = self.terms[k]
            if kind == "limb":
                sites.append((start, end, site))
                limbs.append(code)
            elif kind == "disc":
                disc = True
            elif kind == "mental":
                mental = True
            elif kind == "systemic":
                systemic = True
            else:
                if site:
                    sites.append((start, end, site))
                if code and code not in parts:
                    parts.append(code)
        for code in limbs:  # "carpal tunnel syndrome, left upper limb" is the wrist
            if code not in parts and not any(
                self.regions.get(p) == self.regions.get(code) for p in parts
            ):
                parts.append(code)
        if not parts and levels:
            region = levels[0][0]
            parts = [{"C": "20", "T": "41"}.get(region, "42")]
        if disc and not context:
            parts = list(dict.fromkeys(DISC_CODE.get(p, p) for p in parts))
        if not parts:
            parts = [MENTAL] if mental else [SYSTEMIC] if systemic else []
        code = self.combine(parts)
        sided = {  # the sides written right before a site ("MRI of the right knee")
            tokens[i]
            for start, _, _ in sites
            for i in range(max(0, start - 2), start)
            if tokens[i] in SIDES
        }
        return {
            "code": code,
            "sites": sites,
            "parts": parts,
            "sided": laterality(list(sided)),
            "disc": disc,
        }

    def combine(self, parts: list[str]) -> str:
        """One code for several parts: wrist and hand 39; parts of one region its `multiple`
        code (10, 20, 30, 40, 50); parts of two or more regions 90."""
        parts = list(dict.fromkeys(parts))
        if not parts:
            return ""
        if len(parts) == 1:
            return parts[0]
        if set(parts) <= {"34", "35", "39"}:
            return "39"
        if set(parts) <= {"42", "43"} or set(parts) <= {"20", "22"}:
            return "43" if "43" in parts else "22"  # a disc and its area: the disc
        regions = {self.regions.get(p, "other") for p in parts}
        if len(regions) == 1:
            return REGION_MULTIPLE.get(regions.pop(), MULTIPLE)
        return MULTIPLE

    # -- ICD-10-CM ---------------------------------------------------------------------------
    def icd10cm(self, text: str, tokens: list[str], sites, levels: list[str], side: str) -> str:
        """The code of the whole text's exact title, else the curated map; '' when neither
        gives one code, or when the code's title says "without" what the text has
        ("cervical spondylosis with radiculopathy" is not "Spondylosis without myelopathy or
        radiculopathy")."""
        code = self._lookup(text, tokens, sites, levels, side)
        title = self.titles.get(code, "") if code else ""
        if "without" in title and "without" not in tokens:
            m = WITHOUT.search(title.lower())
            lacking = set(words(m.group(1))) - {"or", "and"} if m else set()
            if lacking & set(tokens):
                return ""
        return code

    def _lookup(self, text: str, tokens: list[str], sites, levels: list[str], side: str) -> str:
        exact = self.by_title.get(title_key(text)) if self.titles else None
        if exact:
            return exact
        conditions = sorted(
            self._matches(tokens, self.conditions, greedy=False),
            key=lambda m: (-(m[1] - m[0]), m[0]),
        )
        if not conditions:
            return ""
        level_site = LEVEL_SITE.get(levels[0][0]) if levels else None
        if level_site and any(lv.startswith("L5-S") for lv in levels):
            level_site = "lumbosacral"
        candidates = []
        for start, end, cond in conditions:
            if any(
                s0 <= start and end <= s1 and s1 - s0 > end - start and s0 <= t0 and t1 <= s1
                for s0, s1, _ in conditions
                for t0, t1, _ in sites
            ):
                continue  # part of a longer condition that names its site ("trochanteric bursitis")
            cond = self.alias.get(cond, cond)
            outside = {s for s0, s1, s in sites if s1 <= start or s0 >= end}
            if len(outside) > 1:
                outside.discard("spine")  # "lumbar vertebral": the region says which spine
            if not outside and level_site:
                outside = {level_site}
            candidates.append((cond, outside))
        for cond, outside in candidates:  # a site-specific code first
            if len(outside) == 1:
                site = next(iter(outside))
                for k in ((cond, site, side), (cond, site, "")):
                    if k in self.map:
                        return self.map[k]
                parent = {"lumbosacral": "lumbar", "cervicothoracic": "cervical"}.get(site)
                if parent and (cond, parent, "") in self.map:
                    return self.map[(cond, parent, "")]
        fallback = ""
        for cond, outside in candidates:  # then a condition whose code needs no site
            for k in ((cond, "", side), (cond, "", "")):
                if k not in self.map:
                    continue
                if not (outside and (cond in self.sited or self.map[k].startswith(UNSITED))):
                    return self.map[k]  # never "unspecified body region" beside a site
                if not fallback and not self.map[k].startswith(UNSITED):
                    fallback = self.map[k]
        # a site no row of the condition has, written beside it ("radiculopathy" in a
        # sentence about the wrist): the code of its own words, as the guide codes a site-less
        # mention; not when the span names the site ("thumb CMC arthritis" is not M19.90), and
        # never T14 (a fracture of a bone the map lacks is of that bone, not "unspecified")
        if fallback and self.body_part(words(text), [])["code"]:
            return ""
        return fallback

    def _needs_site(self, tokens: list[str]) -> bool:
        """A text whose condition is coded by its site ("fracture", "meniscal tearing"), or
        that names no known condition; not a condition that has no site ("chronic pain")."""
        found = [self.alias.get(k, k) for _, _, k in self._matches(tokens, self.conditions, True)]
        return not found or any(k in self.sited for k in found)

    def _context_part(self, text: str):
        """(words, levels, body part) of a clause or sentence, kept for the next entity of
        the same sentence (a letter's entities share sentences)."""
        found = self._around.get(text)
        if found is None:
            if len(self._around) > 256:
                self._around.clear()
            tokens, levels = words(text), spinal_levels(text)
            found = self._around[text] = (tokens, levels, self.body_part(tokens, levels, True))
        return found

    def _site_after(self, context: str) -> list[str]:
        """The words of a site phrase right after the span (", left upper limb", ", cervical
        region"): they belong to the span, as in an ICD-10-CM title."""
        m = SITE_AFTER_COMMA.match(context.partition("\x00")[2].partition("\x00")[2])
        if not m:
            return []
        found = words(m.group(1))
        rest = [t for t in found if t not in SIDES]
        sided = len(rest) < len(found)
        if rest and rest[-1] in ("region", "level", "area") and len(rest) > 1:
            rest, sided = rest[:-1], True
        return found if sided and rest and " ".join(rest) in self.terms else []

    def _starts_with_site(self, tokens: list[str]) -> bool:
        """Whether a span begins with its site ("arm pain", "left shoulder pain"), as the last
        of coordinated sites does ("neck, shoulder, and arm pain"); "strain of ..." does not."""
        first = 1 if tokens[0] in SIDES else 0
        if first >= len(tokens):
            return False
        longest = self._longest[id(self.terms)].get(tokens[first], 0)
        return any(" ".join(tokens[first : first + n]) in self.terms for n in range(longest, 0, -1))

    def _sites_before(self, context: str) -> list[str]:
        """The sites coordinated right before the span, which its condition shares: "neck,
        shoulder, and " + "arm pain", "cervical/" + "lumbar spine pain", "left sided neck and "
        + "shoulder pain". [] when the words before are not such a list (a list of conditions,
        "MRI of the knee and ...": a site after an article is not the condition's)."""
        before = context.partition("\x00")[0][-120:]
        if not LAST_CONJUNCTION.search(before):
            return []  # "headaches, right shoulder pain": a list of diagnoses, not of sites
        found: list[str] = []
        while True:
            m = COORDINATION.search(before)
            if not m:
                break
            head = before[: m.start()]
            tokens = words(head)[-4:]
            site = []
            for n in range(min(3, len(tokens)), 0, -1):
                k = " ".join(tokens[-n:])
                if (
                    k in self.terms
                    and self.terms[k][0] in ("site", "limb")
                    and (k not in self.conditions)
                ):
                    site = tokens[-n:]
                    break
            if not site:
                break
            rest = tokens[: -len(site)]
            if rest and rest[-1] == "sided":
                rest = rest[:-1]
            if rest and rest[-1] in SIDES:
                site = [rest[-1], *site]
            found = [*site, "and", *found]
            cut = len(head)
            for word in reversed(site):
                cut = head.lower().rfind(word, 0, cut)
            before = head[: max(cut, 0)]
            if not COORDINATION.search(before) or re.search(r"\b(?:the|a|an)\s*$", before, re.I):
                break
        if found and re.search(r"\b(?:the|a|an)\s*$", before, re.IGNORECASE):
            return []  # "MRI of the knee and": a site of what comes before
        return found

    def _site_of_phrase(self, context: str) -> tuple[list[str], bool]:
        """The words of a site in a prepositional phrase right after the span ("fracture" +
        " of the fourth metacarpal", "tear" + " of the left medial meniscus"): a side, up to
        two other words, then a site term, before the clause ends; and whether the site term
        came first: "the fourth metacarpal" says more than the code of "metacarpal" would."""
        m = SITE_OF.match(context.partition("\x00")[2].partition("\x00")[2])
        if not m:
            return [], False
        found = words(m.group(1))[:8]
        sides = {SIDES[t] for t in found if t in SIDES}
        side = [sides.pop()] if len(sides) == 1 else []  # "tarsal bone of the right foot"
        start = 1 if found and found[0] in SIDES else 0
        for skip in range(start, min(start + 3, len(found))):
            longest = self._longest[id(self.terms)].get(found[skip], 0)
            for n in range(min(longest, len(found) - skip), 0, -1):
                if " ".join(found[skip : skip + n]) in self.terms:
                    return side + found[skip : skip + n], skip == start
        return [], False

    def _side_after(self, context: str) -> str:
        """A side in the span's own phrase after it: "(right arm)", ", left upper limb",
        "in the legs bilaterally"."""
        before, _, rest = context.partition("\x00")
        after = rest.partition("\x00")[2]
        m = SIDE_BEFORE.search(before)
        if m:  # "bilateral" + "L5 radicular symptoms"
            return SIDES[m.group(1).lower()]
        m = SIDE_IN_BRACKETS.match(after)
        if m:
            return SIDES[m.group(1).lower()]
        m = SIDE_AFTER_COMMA.match(after)
        if m and key(m.group(2)) in self.terms:
            return SIDES[m.group(1).lower()]
        m = BILATERALLY_AFTER.match(after)
        if m and not RADIATION.search(m.group(0)):
            return "bilateral"
        m = SIDE_ON_AFTER.match(after)
        if m:
            return SIDES[(m.group(1) or m.group(2)).lower()]
        return ""

    def _side_of_site(self, sites, context: str) -> str:
        """The side its clause, else its sentence, writes right before the span's own site
        ("MRI of the right knee revealed meniscal tearing"); '' when none or several."""
        keys = {s for _, _, s in sites}
        if len(keys) != 1 or keys & SPINE_SITES:
            return ""  # a spine condition has no side of its own ("low back strain")
        for around_text in _clause_and_sentence(context):
            around_tokens, _, around = self._context_part(around_text)
            same = [(s0, s1, s) for s0, s1, s in around["sites"] if s in keys]
            sides = {
                SIDES[around_tokens[i]]
                for s0, _, _ in same
                for i in range(max(0, s0 - 2), s0)
                if around_tokens[i] in SIDES
            }
            if sides:
                return sides.pop() if len(sides) == 1 else ""
        return ""

    def code(
        self,
        text: str,
        default_part: str = UNCLASSIFIED,
        context: str | None = None,
        previous: str | None = None,
    ) -> dict[str, Any]:
        """All coded values of one diagnosis (or item) text. A text that names no part
        ("meniscal tearing") takes the part, side and levels of its `context` (its sentence:
        "MRI of the right knee revealed meniscal tearing") when that names exactly one part;
        when its sentence names none, of the `previous` sentence ("The right knee was
        aspirated. There was no effusion.")."""
        tokens = words(text)
        if context and tokens and self._starts_with_site(tokens):
            tokens = self._sites_before(context) + tokens
        if context:
            tokens += self._site_after(context)
        levels = spinal_levels(text)
        part = self.body_part(tokens, levels)
        loose = None  # "fracture" + " of the fourth metacarpal": the part, not the code
        several_around = False
        if context and not part["code"] and self._needs_site(tokens):
            phrase, exact = self._site_of_phrase(context)
            if phrase and exact:  # "fracture" + " of the right femur": the span's own site
                tokens = tokens + phrase
                part = self.body_part(tokens, levels)
            elif phrase:
                loose = self.body_part(tokens + phrase, levels)
        sites = part["sites"]
        side = span_side(tokens, sites)
        if not side and sum(t in SIDES for t in tokens) == 1:  # not "left hand, right leg"
            m = SIDE_AT_END.search(text)
            if m and key(m.group(2)) in self.terms:
                side = SIDES[m.group(1).lower()]
        if not side and context:
            side = self._side_after(context)
        elif side in ("left", "right") and context and tokens[0] == side:
            m = BOTH_SIDES_BEFORE.search(context.partition("\x00")[0])
            if m and m.group(1).lower() != side:
                side = "bilateral"
        if not part["code"] and context and self._needs_site(tokens):
            arounds = _clause_and_sentence(context)
            if previous and self.icd10cm(text, tokens, [], levels, "")[:3] in ("", UNSITED):
                arounds.append(previous)  # only to give a site to what has no code without
            for around_text in arounds:
                around_tokens, context_levels, around = self._context_part(around_text)
                physical = [p for p in around["parts"] if p not in (MENTAL, SYSTEMIC)]
                if len(physical) == 1:  # one part, however many words name it (tarsal, foot)
                    around = dict(around)  # the cached one stays as it is
                    if part["disc"]:  # "degenerative disc disease" in "L5-S1 ...": the disc
                        around["parts"] = [DISC_CODE.get(p, p) for p in around["parts"]]
                        around["code"] = self.combine(around["parts"])
                    part = around
                    levels = levels or context_levels
                    # the side written before the context's site, not any side of it
                    side = side or around["sided"]
                    n = len(tokens) + 1  # the context's sites count as written outside the span
                    sites = [(n, n + 1, s) for _, _, s in around["sites"]]
                    break
                if physical:
                    several_around = True
                    break  # the clause names several parts: the sentence cannot tell either
        elif part["code"] and context and not side:
            side = self._side_of_site(part["sites"], context)
        code = part["code"] or default_part
        icd = self.icd10cm(text, tokens, sites, levels, side)
        if loose and not part["code"]:
            part, code = loose, loose["code"]
            side = side or loose["sided"]
            icd = ""  # "fracture of the fourth metacarpal": not T14.8, nor "unspecified" bone
        if icd.startswith(UNSITED) and several_around:
            icd = ""  # a fracture in a sentence of several parts is one of them, not "unspecified"
        several = {LINK_KEY.get(p, p) for p in part["parts"]}
        if icd and len(several) > 1 and icd != self.by_title.get(title_key(text)):
            icd = ""  # two or more sites in one condition: no one code (annotations guide)
        return {
            "body_part_code": code or None,
            "body_part": self.names.get(code) if code else None,
            "laterality": side,
            "spinal_levels": levels,
            "parts": part["parts"],
            "icd10cm": icd or None,
            "icd10cm_title": self.titles.get(icd) if icd else None,
            "icd10cm_category": icd[:3] if icd else None,
        }


def icd10cm_titles(codes: list[str] = ()) -> dict[str, str]:
    """{code: title} of the most specific ICD-10-CM codes without a 7th character of the
    FALLBACK_CHAPTERS, and of `codes`, from the code set the `simple-icd-10-cm` package
    ships. Imported only here (building the pipeline): the package takes ~1.7 s to import."""
    import simple_icd_10_cm as cm

    titles = {}
    for code in cm.get_all_codes(with_dots=True):
        if code[0] not in FALLBACK_CHAPTERS or not re.match(r"[A-Z][0-9]", code):
            continue
        if len(code.replace(".", "")) > 6:
            continue  # chapters and blocks; 7-character codes carry an encounter
        if any(len(child.replace(".", "")) <= 6 for child in cm.get_children(code)):
            continue  # not the most specific: a code below it says more
        titles[code] = cm.get_description(code)
    for code in codes:
        if code and cm.is_valid_item(code):
            titles[code] = cm.get_description(code)
    return titles
