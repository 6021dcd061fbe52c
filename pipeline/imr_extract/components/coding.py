"""Coded clinical context (issue 14): every DIAGNOSIS gets a WCIO Part of Body code, laterality,
spinal levels and an ICD-10-CM code; every decision gets the body part of its item (or of the
diagnoses its rationale, else the case summary, is about) and the diagnoses linked to it.

Rules are data (resources/wcio_body_parts.csv, body_part_terms.csv, icd10cm_map.csv). The
ICD-10-CM titles come from the code set of the `simple-icd-10-cm` package, read once when the
pipeline is built and saved beside the rules (icd10cm_titles.tsv): loading the pipeline
never imports the package, and coding is dictionary lookups.
"""

import re
from collections import Counter
from pathlib import Path
from typing import Any

import srsly
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import ensure_path

from imr_extract.components.base import TEXT_CACHE, RuleComponent
from imr_extract.components.decisions import DECISIONS_KEY
from imr_extract.components.sentences import SENTENCES_CACHE, Sentences
from imr_extract.extensions import span_getter
from imr_extract.normalize.coding import (
    FALLBACK_CHAPTERS,
    LINK_KEY,
    MENTAL,
    MULTIPLE,
    REGION_MULTIPLE,
    SIDES,
    SYSTEMIC,
    UNCLASSIFIED,
    Coder,
    icd10cm_titles,
    laterality,
    title_key,
)
from imr_extract.normalize.text import squash, unique
from imr_extract.pattern_set import AnySearch

TITLES_FILE = "icd10cm_titles.tsv"
SUMMARY_SECTION = "clinical_case_summary"
BLOCK_PARTS = {"item", "rationale", None}
# an item that serves a surgery takes the surgery's part ("Associated surgical service: Arc
# sling", "Pre-operative EKG"): annotations/README.md, items guide
SERVICE = re.compile(
    r"associated surgical service|\bpre-?\s?op(?:erative)?\b|\bpost-?\s?op(?:erative)?\b"
    r"|\bassist(?:ant)?\b",
    re.IGNORECASE,
)
# a device named after a part is not the part treated ("knee scooter", "hip pad")
DEVICE = re.compile(r"\b(?:scooter|pads?|wraps?|stockings?)\b", re.IGNORECASE)
# parts with no side: the spine, neck and trunk (a decision's side is not taken from them)
UNSIDED = {
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
    "26",
    "40",
    "41",
    "42",
    "43",
    "45",
    "47",
    "48",
    "49",
    "63",
}
ORGANS = {"48", "49"}
DISC_AREA = {"43": "42", "22": "20"}  # a disc's code and its area's
# a rationale sentence about this patient, not a guideline's words
PATIENT = AnySearch(
    re.compile(
        r"\b(?:injured worker|patient|claimant|employee|applicant|in this case|records?|"
        r"documentation|documented|he|she|his|her)\b",
        re.IGNORECASE,
    )
)  # a rationale's kidney or heart is a drug's risk, not what it treats
# a case summary's sentence that lists the working diagnoses
WORKING = re.compile(r"\bdiagnos(?:is|es|ed)\b", re.IGNORECASE)
# the diagnosis under treatment, named as such
CURRENT = re.compile(
    r"\b(?:working|current|primary|principal|treating|final)\s+diagnos(?:is|es)\b", re.IGNORECASE
)
DOMINANT = 0.75  # the share of a summary's diagnoses that makes their part the summary's
RULE_FILES = {
    "wcio": "wcio_body_parts.csv",
    "term": "body_part_terms.csv",
    "icd": "icd10cm_map.csv",
    # generated from icd10cm_map_bases.csv by `python -m imr_extract.icd10cm_map_gen`: after
    # the curated rows, so a curated row wins
    "icd_generated": "icd10cm_map_generated.csv",
    "local": "local_conditions.csv",
}


@Language.factory(
    "imr_coding",
    assigns=["span._.imr_body_part_code", "span._.imr_icd10cm"],
    requires=["doc.ents"],
)
def make_coding(nlp: Language, name: str):
    return ClinicalCoder(nlp, name)


class ClinicalCoder(RuleComponent):
    """Rules: rows of the three rule files, each marked with its `table` (wcio, term, icd).
    The ICD-10-CM titles index ({title key: code} and {code: title}) is kept apart from the
    rules: it is the code set, not ours."""

    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(nlp, name)
        self.index: dict[str, dict[str, str]] = {"by_title": {}, "titles": {}}
        self.coder: Coder | None = None

    def initialize(self, get_examples=None, *, nlp=None, rules_path=None):
        """The packaged rule files, and the titles index from the installed code set."""
        from imr_extract.rules import packaged_rules

        rules = []
        for table, file in RULE_FILES.items():
            rules += [{"table": table, **row} for row in packaged_rules(file)]
        map_codes = [r["code"] for r in rules if r["table"] in ("icd", "icd_generated")]
        self.index = titles_index(icd10cm_titles(map_codes), map_codes)
        self.set_rules(rules)

    def compile(self) -> None:
        rows = {table: [r for r in self.rules if r["table"] == table] for table in RULE_FILES}
        self.coder = Coder(
            rows["wcio"],
            rows["term"],
            rows["icd"] + rows["icd_generated"],
            self.index["titles"],
            self.index["by_title"],
            rows["local"],
        )

    def to_disk(self, path, *, exclude=()) -> None:
        super().to_disk(path, exclude=exclude)
        (ensure_path(path) / TITLES_FILE).write_text(dump_index(self.index), encoding="utf-8")

    def from_disk(self, path, *, exclude=()) -> "ClinicalCoder":
        self.index = load_index((Path(path) / TITLES_FILE).read_text(encoding="utf-8"))
        return super().from_disk(path, exclude=exclude)

    def to_bytes(self, *, exclude=()) -> bytes:
        return srsly.json_dumps({"rules": self.rules, "index": self.index}).encode()

    def from_bytes(self, data: bytes, *, exclude=()) -> "ClinicalCoder":
        loaded = srsly.json_loads(data)
        self.index = loaded["index"]
        self.set_rules(loaded["rules"])
        return self

    def __call__(self, doc: Doc) -> Doc:
        coder = self.coder
        coded: list[tuple[Any, dict[str, Any]]] = []
        sentences = Sentences.of_doc(doc) if doc.has_annotation("SENT_START") else None
        sentence_text = sentences.sentence_text if sentences else _spacy_sentence_text
        diagnoses = [ent for ent in doc.ents if ent.label_ == "DIAGNOSIS"]
        where = [sentences.index(ent.start) for ent in diagnoses] if sentences else []
        by_sentence: dict[int, list] = {}
        for ent, k in zip(diagnoses, where, strict=False):
            by_sentence.setdefault(k, []).append(ent)
        for i, ent in enumerate(diagnoses):
            if sentences:
                others = [e for e in by_sentence[where[i]] if e is not ent]
                values = coder.code(
                    ent.text,
                    context=_context(ent, sentences, others),
                    previous=_previous(ent, sentences),
                )
            else:
                values = coder.code(ent.text)
            set_values(ent, values)
            coded.append((ent, values))
        # each diagnosis's context and place, read once (`ent._` builds an object per read)
        get = span_getter(doc)
        facts = [_Facts(ent, get, sentence_text) for ent, _ in coded]
        links: dict[int, list[int]] = {}
        decisions = list(doc.spans.get(DECISIONS_KEY, []))
        surgery = None  # the part of the first decision that names one: what services serve
        for decision in sorted(decisions, key=lambda d: bool(SERVICE.search(d._.imr_item or ""))):
            serves = surgery if SERVICE.search(decision._.imr_item or "") else None
            code_decision(coder, decision, coded, links, sentence_text, serves, facts)
            if surgery is None and decision._.imr_body_part_source == "item":
                if _physical([decision._.imr_body_part_code]):
                    surgery = decision
        for i, (ent, _) in enumerate(coded):
            if i in links:
                ent._.imr_decision_indexes = links[i]
        # the last component: drop the text copy and the sentences the components shared
        doc.user_data.pop(TEXT_CACHE, None)
        doc.user_data.pop(SENTENCES_CACHE, None)
        return doc


def _spacy_sentence_text(span) -> str:
    """`span.sent`'s text, for a Doc without sentence marks (spaCy says so: E030)."""
    return span.sent.text


def _context(ent, sentences: Sentences, others=()) -> str:
    """The sentence of `ent`, the entity itself marked by \x00 on both sides, and the side
    words of the `others` (the sentence's other diagnoses) blanked: a side written for
    another item of a list is not carried over ("right shoulder rotator cuff tear,
    acromioclavicular joint arthrosis"; annotations/README.md), while the side of what is not
    a diagnosis is ("MRI of the right knee revealed meniscal tearing")."""
    sent_start, sent_end = sentences.of(ent)
    text = sentences.text[sent_start:sent_end]
    if others:
        chars = list(text)
        for other in others:
            for token in other:
                at = token.idx - sent_start
                if token.lower_ in SIDES and at + len(token) <= len(chars):
                    chars[at : at + len(token)] = "x" * len(token)
        text = "".join(chars)
    start, end = ent.start_char - sent_start, ent.end_char - sent_start
    return f"{text[:start]}\x00{text[start:end]}\x00{text[end:]}"


def _previous(ent, sentences: Sentences) -> str | None:
    """The sentence before the one of `ent`, in the same section (a reference to a part
    named there: "MRI of the left knee ... . There is a tear of the body ...")."""
    first = sentences.index(ent.start)
    if first == 0:
        return None
    before_start, before_end = sentences.chars[first - 1]
    body = (ent.doc._.imr_section_bodies or {}).get(ent._.imr_section)
    if not body or before_start < body[0] or not PATIENT.found(sentences.sentence_text(ent)):
        return None
    return sentences.text[before_start:before_end]


def titles_index(titles: dict[str, str], map_codes: list[str]) -> dict[str, dict[str, str]]:
    """{"by_title": {title key: code}, "titles": {code: title}} for the title fallback: only
    titles one code has (no guessing between two), and the titles of the mapped codes."""
    by_title: dict[str, str] = {}
    shared: set[str] = set()
    for code, title in titles.items():
        k = title_key(title)
        if k in by_title and by_title[k] != code:
            shared.add(k)
        by_title.setdefault(k, code)
    by_title = {k: c for k, c in by_title.items() if k not in shared and c[0] in FALLBACK_CHAPTERS}
    used = set(by_title.values()) | {c for c in map_codes if c}
    return {"by_title": by_title, "titles": {c: titles[c] for c in used if c in titles}}


def dump_index(index: dict[str, dict[str, str]]) -> str:
    """The titles index as text: `code<TAB>title` lines, a blank line, `key<TAB>code` lines.
    Splitting text loads it in a few milliseconds (a msgpack of dicts takes ~0.3 s)."""
    titles = "\n".join(f"{c}\t{t}" for c, t in sorted(index["titles"].items()))
    by_title = "\n".join(f"{k}\t{c}" for k, c in sorted(index["by_title"].items()))
    return f"{titles}\n\n{by_title}\n"


def load_index(text: str) -> dict[str, dict[str, str]]:
    def pairs(block: str) -> dict[str, str]:
        cells = block.strip("\n").replace("\n", "\t").split("\t") if block.strip() else []
        return dict(zip(cells[0::2], cells[1::2], strict=True))

    titles, _, by_title = text.partition("\n\n")
    return {"titles": pairs(titles), "by_title": pairs(by_title)}


def set_values(span, values: dict[str, Any]) -> None:
    x = span._
    x.imr_body_part_code = values["body_part_code"]
    x.imr_body_part = values["body_part"]
    x.imr_laterality = values["laterality"] or None
    x.imr_spinal_levels = values["spinal_levels"] or None
    x.imr_icd10cm = values["icd10cm"]
    x.imr_icd10cm_title = values["icd10cm_title"]
    x.imr_icd10cm_category = values["icd10cm_category"]


def _physical(codes: list[str]) -> list[str]:
    return [c for c in codes if c and c not in (UNCLASSIFIED, MENTAL, SYSTEMIC)]


def code_decision(
    coder: Coder,
    decision,
    coded,
    links: dict[int, list[int]],
    sentence_text,
    serves,
    facts: list,
) -> None:
    """Body part of the item, else of the rationale's diagnoses, else of the summary's; the
    diagnoses of its block plus the summary diagnoses of the same part; the primary code.
    An item that `serves` a surgery (another decision) takes its part unless it names it.
    `sentence_text(span)` is the text of `span.sent`; `facts[i]` what is read of `coded[i]`."""
    index = decision._.imr_decision_index
    item = coder.code(decision._.imr_item or "", default_part="")
    if DEVICE.search(decision._.imr_item or ""):
        item = {**item, "body_part_code": "", "parts": []}
    if serves is not None and not item["body_part_code"]:
        x = serves._
        item = {
            "body_part_code": x.imr_body_part_code,
            "body_part": x.imr_body_part,
            "laterality": x.imr_laterality or "",
            "spinal_levels": x.imr_spinal_levels or [],
            "parts": [x.imr_body_part_code],
            "served": True,
        }
    present = [(i, ent, v) for i, (ent, v) in enumerate(coded) if facts[i].present]
    block = [
        (i, ent, v)
        for i, ent, v in present
        if facts[i].decision_index == index and facts[i].decision_part in BLOCK_PARTS
    ]
    rationale = [t for t in block if facts[t[0]].decision_part == "rationale"]
    # what the rationale is about: its sentences about this patient, when they name a part;
    # else the summary decides (a guideline's "recommended for chronic low back pain" is not
    # this patient's part: the guide, and the adjudicated decisions of annotations/README.md)
    sentences = bool(rationale) and rationale[0][1].doc.has_annotation("SENT_START")
    about = [t for t in rationale if PATIENT.found(sentence_text(t[1]))] if sentences else []
    if _physical([v["body_part_code"] for _, _, v in about]):
        rationale = about
    elif sentences:
        rationale = []
    in_summary = [
        (i, ent, v)
        for i, (ent, v) in enumerate(coded)
        if facts[i].section == SUMMARY_SECTION and facts[i].decision_index is None
    ]
    summary = [t for t in in_summary if facts[t[0]].present]
    # the part also counts a stated diagnosis to rule out ("Diagnoses: right hip fracture;
    # r/o cervical radiculopathy": hip and neck, 90); links keep what is present
    summary_parts = [
        t
        for t in in_summary
        if facts[t[0]].present or (facts[t[0]].suspected and facts[t[0]].stated)
    ]
    values = dict(item)
    # a GI drug's 91 is what its rationale weighs (the guide's `rationale`), not a part it names
    drug_risk = item["body_part_code"] == SYSTEMIC
    named = "rationale" if item.get("served") or drug_risk else "item"
    source = named if item["body_part_code"] else None
    parts = item["parts"]
    if not source:
        for name, group in (("rationale", rationale), ("summary", summary_parts)):
            chosen = _group_part(coder, group, name == "rationale", facts)
            if chosen:
                values, parts = chosen
                source = name
                break
    if not source:
        values.update(body_part_code=UNCLASSIFIED, body_part=coder.names.get(UNCLASSIFIED))
        parts = []
    if source == "item" and _physical([values["body_part_code"]]):
        _locate_lesions(coder, index, values, coded, facts)
    keys = {LINK_KEY.get(p, p) for p in _physical(parts)}
    if not keys and values["body_part_code"] in (MENTAL, SYSTEMIC):
        keys = {values["body_part_code"]}  # psychological testing: the psychiatric diagnoses
    # a region's "multiple" code (30: "NCV of the upper extremities") links all of its parts
    regions = {coder.regions.get(p) for p in keys if p in REGION_MULTIPLE.values()}

    def same_part(v: dict[str, Any]) -> bool:
        mine = {LINK_KEY.get(p, p) for p in v["parts"]}
        return bool(keys & mine) or any(coder.regions.get(p) in regions for p in mine)

    linked = [t for t in summary if same_part(t[2])] if keys else []
    unsided = values["body_part_code"] in UNSIDED or values["body_part_code"] == MULTIPLE
    if source == "item" and not values["laterality"] and not unsided:
        sides = {v["laterality"] for _, _, v in linked} - {""}
        if len(sides) == 1:  # "MRI of the knee": the knee's side
            values["laterality"] = sides.pop()
    if source != "item" and unsided:  # a spine or several regions: no side
        values["laterality"] = ""
    for i, _, _ in linked:
        links.setdefault(i, [])
        if index not in links[i]:
            links[i].append(index)
    chosen = block + [t for t in linked if t not in block]
    diagnoses = unique(_normalized(ent) for _, ent, _ in chosen)
    codes = unique(v["icd10cm"] for _, _, v in chosen)
    # the primary: a condition the rationale says the patient has, not a guideline's words
    # ("NSAIDs are recommended for osteoarthritis"); else the summary's first of the part
    primary = next((v["icd10cm"] for _, _, v in about if v["icd10cm"] and same_part(v)), None)
    primary = primary or next((v["icd10cm"] for _, _, v in about if v["icd10cm"]), None)
    primary = primary or next((v["icd10cm"] for _, _, v in linked if v["icd10cm"]), None)
    x = decision._
    x.imr_body_part_code = values["body_part_code"]
    x.imr_body_part = values["body_part"]
    x.imr_laterality = values["laterality"] or None
    x.imr_spinal_levels = values["spinal_levels"] or None
    x.imr_body_part_source = source
    x.imr_linked_diagnoses = diagnoses or None
    x.imr_linked_icd10cm = codes or None
    x.imr_primary_icd10cm = primary


def _locate_lesions(coder: Coder, index: int, values: dict[str, Any], coded, facts) -> None:
    """A site-less lesion in the rationale of an item that names its part ("MRI of the hip":
    "to rule out osteonecrosis or an occult fracture") is of that part; its code stays that
    of its own words (annotations/README.md), and so does its side."""
    for i, (ent, v) in enumerate(coded):
        fact = facts[i]
        if (
            fact.decision_index == index
            and fact.decision_part == "rationale"
            and v["body_part_code"] == UNCLASSIFIED
            and coder.is_local(ent.text)
        ):
            v = {**v, "body_part_code": values["body_part_code"], "body_part": values["body_part"]}
            set_values(ent, v)
            coded[i] = (ent, v)


class _Facts:
    """What code_decision reads of a diagnosis, read once per letter instead of once per
    decision: whether it is present (not negated, hypothetical or of the family) or only
    suspected (hypothetical: "r/o"), its section, decision and decision part, and, read when
    first asked (a Doc without sentence marks has no sentence to read), whether its sentence
    states diagnoses ("Diagnoses: ...") and names the one under treatment ("The current
    diagnosis is ...")."""

    __slots__ = (
        "present",
        "suspected",
        "section",
        "decision_index",
        "decision_part",
        "_ent",
        "_sentence_text",
        "_sentence",
    )

    def __init__(self, ent, get, sentence_text) -> None:
        hypothetical = get(ent, "imr_hypothetical")
        other = get(ent, "imr_negated") or get(ent, "imr_family")
        self.present = not (other or hypothetical)
        self.suspected = bool(hypothetical) and not other
        self.section = get(ent, "imr_section")
        self.decision_index = get(ent, "imr_decision_index")
        self.decision_part = get(ent, "imr_decision_part")
        self._ent, self._sentence_text, self._sentence = ent, sentence_text, None

    def _read_sentence(self) -> tuple[bool, bool]:
        if self._sentence is None:
            text = self._sentence_text(self._ent)
            stated = bool(WORKING.search(text))
            self._sentence = (stated, stated and bool(CURRENT.search(text)))
        return self._sentence

    @property
    def stated(self) -> bool:
        return self._read_sentence()[0]

    @property
    def current(self) -> bool:
        return self._read_sentence()[1]


def _group_part(
    coder: Coder, group, rationale: bool, facts: list
) -> tuple[dict[str, Any], list[str]] | None:
    """The body part of a group of diagnoses ((index, entity, values) of `coded`): their
    physical parts combined (90 across regions); else the most frequent of mental (66) and
    systemic (91); None when none has a part."""
    physical = [
        (i, v)
        for i, _, v in group
        if _physical([v["body_part_code"]]) and not (rationale and v["body_part_code"] in ORGANS)
    ]
    # a GI drug's or a sleep aid's part comes from its name (the item); in a rationale or a
    # summary, systemic conditions are mostly a drug's risks
    group = [t for t in group if t[2]["body_part_code"] != SYSTEMIC]
    if physical and rationale:
        physical = _working_diagnosis(physical)
    elif physical:
        # a summary's part is that of the diagnoses it states ("Diagnoses: lumbar disc
        # displacement"), not of every complaint before them (second reading, items_second)
        stated = [(i, v) for i, v in physical if facts[i].stated]
        # "Her current diagnosis is thoracic strain" outranks a diagnosis of another claim
        current = [(i, v) for i, v in stated if facts[i].current]
        physical = _dominant_part(current or stated or physical)
    if physical:
        parts = unique(p for _, v in physical for p in _physical(v["parts"]))
        code = coder.combine(parts)
        if code in DISC_AREA:  # a disc among its area's diagnoses: the part most of them name
            named = Counter(v["body_part_code"] for _, v in physical)
            area = DISC_AREA[code]
            if named[area] > named[code]:
                code = area
        sides = {v["laterality"] for _, v in physical} - {""}
        working = {v["laterality"] for i, v in physical if facts[i].stated}
        working -= {""}
        if len(sides) > 1 and len(working) == 1:
            sides = working  # the side of the working diagnosis ("right knee sprain")
        # the one side written; both sides of one part are bilateral, of several parts none
        tokens = list(sides) if len(sides) == 1 or len(parts) == 1 else []
        levels = unique(lv for _, v in physical for lv in v["spinal_levels"])
    else:
        other = Counter(
            v["body_part_code"] for _, _, v in group if v["body_part_code"] in (MENTAL, SYSTEMIC)
        )
        if not other:
            return None
        code = other.most_common(1)[0][0]
        parts, tokens, levels = [code], [], []
    side = laterality(tokens)
    values = {
        "body_part_code": code,
        "body_part": coder.names.get(code),
        "laterality": side,
        "spinal_levels": levels,
    }
    return values, parts


def _dominant_part(physical):
    """The diagnoses of the part a case summary is about: the part at least three quarters
    of its diagnoses name (a knee case whose summary also lists "pain in the neck, right
    shoulder, low back and knees" once); else all of them (several parts: 90)."""
    ranked = Counter(_linked(v) for _, v in physical).most_common(1)
    if ranked and ranked[0][1] >= DOMINANT * len(physical):
        return [(i, v) for i, v in physical if _linked(v) == ranked[0][0]]
    return physical


def _working_diagnosis(physical):
    """The diagnoses of the part a rationale is about: the part its diagnoses name most often
    when one part is named more often than any other ("the working diagnosis",
    annotations/README.md); else all of them."""
    ranked = Counter(_linked(v) for _, v in physical).most_common(2)
    if len(ranked) < 2 or ranked[0][1] == ranked[1][1]:
        return physical
    return [(i, v) for i, v in physical if _linked(v) == ranked[0][0]]


def _linked(v: dict[str, Any]) -> str:
    """The part a diagnosis is linked by (a disc by its area)."""
    return LINK_KEY.get(v["body_part_code"], v["body_part_code"])


def _normalized(ent) -> str:
    """The diagnosis as written, lowercase, line breaks joined: its `normalized` value drops
    the site ("cervical radiculopathy" -> "radiculopathy"), which a decision's list needs."""
    return squash(ent.text).lower()
