"""From candidates to entities: resolve overlaps, normalise values, link each entity to its
section, decision and (for dose parts) medication.

Rules for what a candidate needs to be kept, which candidates are not entities, how dates get
a role and pain scores a qualifier are data (resources/entity_patterns.jsonl `needs`,
entity_filters.jsonl, date_roles.jsonl, pain_qualifiers.jsonl). A medication's route and its
route-aware class are data too (drug_routes.csv, and the drug_classes.csv rows with a route).
"""

import re
from bisect import bisect_right

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from imr_extract.components.base import RuleComponent, doc_text
from imr_extract.components.decisions import DECISIONS_KEY, PARTS_KEY
from imr_extract.components.lexicon import SEP, VALUE_KINDS
from imr_extract.components.lexicon import SPAN_KEY as LEXICON_KEY
from imr_extract.components.patterns import SPAN_KEY as PATTERNS_KEY
from imr_extract.components.sectionizer import SPAN_KEY as SECTIONS_KEY
from imr_extract.extensions import span_setter
from imr_extract.normalize.dates import parse_date
from imr_extract.normalize.drugs import class_of
from imr_extract.normalize.values import (
    normalize_pain,
    normalize_quantity,
    normalize_refills,
    normalize_strength,
)

DOSE_LABELS = ("STRENGTH", "QUANTITY", "REFILLS", "FREQUENCY", "FORM", "DAY_SUPPLY")
RELATE_BEFORE = 60  # a dose part belongs to the medication just before it in its clause...
RELATE_AFTER = 25  # ...or, failing that, just after it


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


_CLAUSE_CUT = re.compile(r"[.;:](?:\s|$)|\n\s*\n")  # a route word counts inside the clause


@Language.factory(
    "imr_entities",
    assigns=["doc.ents"],
    requires=["doc.spans"],
)
def make_entities(nlp: Language, name: str):
    return EntityResolver(nlp, name)


class EntityResolver(RuleComponent):
    """Rules: date roles (date_roles.jsonl), candidate filters (entity_filters.jsonl: a
    label with the words right `after` or `before` it, or `inside` a citation) and pain-score
    qualifiers (pain_qualifiers.jsonl)."""

    rules_file = "date_roles.jsonl"
    filters_file = "entity_filters.jsonl"
    qualifiers_file = "pain_qualifiers.jsonl"
    routes_file = "drug_routes.csv"
    classes_file = "drug_classes.csv"
    route_window = 40  # characters around a medication searched for a route word

    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(nlp, name)
        self.window = 60

    def initialize(
        self,
        get_examples=None,
        *,
        nlp=None,
        rules_path=None,
        filters_path=None,
        qualifiers_path=None,
        routes_path=None,
    ):
        """Routes: rows {kind, term, route}; classes: drug_classes.csv rows as
        {ingredient, drug_class, route?} (`class_rule` marks them)."""
        from imr_extract.rules import packaged_rules, read_rules

        def rules(path, packaged):
            return read_rules(path) if path else packaged_rules(packaged)

        classes = [
            {"class_rule": True, **{k: v for k, v in r.items() if v}}
            for r in packaged_rules(self.classes_file)
        ]
        self.set_rules(
            rules(rules_path, self.rules_file)
            + rules(filters_path, self.filters_file)
            + rules(qualifiers_path, self.qualifiers_file)
            + [{"route_rule": True, **r} for r in rules(routes_path, self.routes_file)]
            + classes
        )

    def compile(self) -> None:
        self._roles = [
            (
                r["role"],
                r.get("section"),
                re.compile(r["pattern"], re.IGNORECASE) if "pattern" in r else None,
                re.compile(r["after"], re.IGNORECASE) if "after" in r else None,
            )
            for r in self.rules
            if "role" in r
        ]
        self._qualifiers = [
            (
                r["qualifier"],
                re.compile(r["after"]) if "after" in r else None,
                re.compile(r["before"]) if "before" in r else None,
            )
            for r in self.rules
            if "qualifier" in r
        ]
        filters = [r for r in self.rules if "label" in r]
        # the "after" and "before" filters by label, in their order (`_filtered`)
        self._after_by_label: dict[str, list] = {}
        self._before_by_label: dict[str, list] = {}
        for r in filters:
            if "after" in r:
                self._after_by_label.setdefault(r["label"], []).append(re.compile(r["after"]))
            if "before" in r:
                pattern = re.compile(f"(?:{r['before']})$")
                self._before_by_label.setdefault(r["label"], []).append(pattern)
        self._inside = {(r["label"], r["inside"]) for r in filters if "inside" in r}
        routes = [r for r in self.rules if r.get("route_rule")]
        self._route_names = {r["term"]: r["route"] for r in routes if r["kind"] == "name"}
        words = {r["term"]: r["route"] for r in routes if r["kind"] == "word"}
        self._route_words = words
        self._route_word_pattern = (
            re.compile(
                r"(?<![A-Za-z-])(?:"
                + "|".join(
                    r"\s+".join(map(re.escape, w.split()))
                    for w in sorted(words, key=len, reverse=True)
                )
                + r")(?![A-Za-z-])",
                re.IGNORECASE,
            )
            if words
            else None
        )
        self._route_units = [(r["term"], r["route"]) for r in routes if r["kind"] == "strength"]
        classes = [r for r in self.rules if r.get("class_rule")]
        self._classes = {r["ingredient"]: r["drug_class"] for r in classes if not r.get("route")}
        self._route_classes: dict[str, dict[str, str]] = {}
        for r in classes:
            if r.get("route"):
                self._route_classes.setdefault(r["route"], {})[r["ingredient"]] = r["drug_class"]

        self._in_sections = [
            (r["label"], set(r["in_section"])) for r in filters if "in_section" in r
        ]

    def _filtered(self, text: str, span, citations: list[tuple[int, int]], bodies=None) -> bool:
        label, start = span.label_, span.start_char  # read once: each read is a lookup
        for name_label, names in self._in_sections:
            if name_label == label and any(
                bounds[0] <= start < bounds[1]
                for name, bounds in (bodies or {}).items()
                if name in names
            ):
                return True
        end = span.end_char
        if any(p.match(text, end) for p in self._after_by_label.get(label, ())):
            return True
        before_patterns = self._before_by_label.get(label)
        if before_patterns:
            before = text[max(0, start - 40) : start]
            if any(p.search(before) for p in before_patterns):
                return True
        if (label, "GUIDELINE_CITATION") in self._inside:
            return any(s <= start < e for s, e in citations)
        return False

    def _qualifier(self, text: str, start: int, end: int) -> str | None:
        """with/without medication, at best/worst, current: from the words right after a score
        ("8/10 without and 4/10 with medications") or right before it ("with medication 5/10")."""
        after = " ".join(text[end : end + 60].lower().split())
        before = " ".join(text[max(0, start - 50) : start].lower().split())
        for qualifier, after_pattern, before_pattern in self._qualifiers:
            if after_pattern and after_pattern.search(after):
                return qualifier
            if before_pattern and before_pattern.search(before):
                return qualifier
        return None

    def _date_role(self, text: str, start: int, end: int, section: str) -> str | None:
        before = " ".join(text[max(0, start - self.window) : start].split())
        after = " ".join(text[end : end + 2 * self.window].split())
        for role, only_in, before_pattern, after_pattern in self._roles:
            if only_in and only_in != section:
                continue
            if before_pattern and before_pattern.search(before):
                return role
            if after_pattern and after_pattern.search(after):
                return role
        return None

    def __call__(self, doc: Doc) -> Doc:
        lexicon = self.nlp.get_pipe("imr_lexicon") if "imr_lexicon" in self.nlp.pipe_names else None
        patterns = self.nlp.get_pipe("imr_patterns")
        candidates = list(doc.spans.get(LEXICON_KEY, []))
        meds = [s for s in candidates if s.label_ == "MEDICATION"]
        med_ends = {s.end for s in meds}
        for span in doc.spans.get(PATTERNS_KEY, []):
            rule = patterns.by_name[span.kb_id_]
            if rule.get("needs") == "after_medication":
                prev = span.start
                while prev > 0 and doc[prev - 1].is_space:
                    prev -= 1
                if prev not in med_ends:
                    continue
            if span.label_ == "DATE" and not parse_date(_flat_date(span.text)):
                continue
            candidates.append(span)
        text = doc_text(doc)
        candidates += _short_forms(doc, text, candidates)
        citations = [(c.start_char, c.end_char) for c in doc.spans.get("imr_citations", [])]
        bodies = doc._.imr_section_bodies or {}
        candidates = [c for c in candidates if not self._filtered(text, c, citations, bodies)]
        # `doc.ents = spans` makes each Span again before `set_ents` (spaCy 3.7): a quarter of
        # the time of setting them
        doc.set_ents(filter_spans(candidates), default="outside")
        ents = list(doc.ents)  # read once: every read of doc.ents builds its Spans again
        self._annotate(doc, text, lexicon, ents)
        self._relate(doc, text, ents)
        return doc

    def _annotate(self, doc: Doc, text: str, lexicon, ents: list) -> None:
        sections = _Regions(
            (s.start_char, s.end_char, s.label_) for s in doc.spans.get(SECTIONS_KEY, [])
        )
        decisions = _Regions(
            (d.start_char, d.end_char, d._.imr_decision_index)
            for d in doc.spans.get(DECISIONS_KEY, [])
        )
        parts = _Regions((p.start_char, p.end_char, p.label_) for p in doc.spans.get(PARTS_KEY, []))
        put = span_setter(doc)
        for ent in ents:
            start = ent.start_char
            section = sections.at(start)
            put(ent, "imr_section", section)
            put(ent, "imr_decision_index", decisions.at(start))
            put(ent, "imr_decision_part", parts.at(start))
            label = ent.label_
            if label in ("MEDICATION", "DIAGNOSIS", "PROCEDURE") and ent.kb_id_ and lexicon:
                entry = lexicon.entries.get(ent.kb_id_)
                if entry is None:  # an ICD code from a pattern
                    put(ent, "imr_normalized", ent.text)
                elif label == "MEDICATION":
                    put(ent, "imr_normalized", ";".join(entry["ingredients"]))
                    put(ent, "imr_brand", entry.get("brand"))
                    put(ent, "imr_drug_class", entry.get("drug_class"))
                    put(ent, "imr_drugbank_id", entry.get("drugbank_id"))
                    put(ent, "imr_mesh_id", entry.get("mesh_id"))
                elif label == "DIAGNOSIS":
                    put(ent, "imr_normalized", _diagnosis_value(ent, entry, lexicon))
                else:
                    put(ent, "imr_normalized", entry["term"].lower())
                    put(ent, "imr_item_type", entry.get("item_type"))
            elif label == "STRENGTH":
                put(ent, "imr_normalized", normalize_strength(ent.text))
            elif label == "QUANTITY":
                put(ent, "imr_normalized", normalize_quantity(ent.text)[0])
            elif label == "REFILLS":
                put(ent, "imr_normalized", normalize_refills(ent.text))
            elif label == "DATE":
                put(ent, "imr_normalized", parse_date(_flat_date(ent.text)))
                put(ent, "imr_role", self._date_role(text, start, ent.end_char, section))
            elif label == "PAIN_SCORE":
                put(ent, "imr_normalized", normalize_pain(ent.text)[0])
                put(ent, "imr_qualifier", self._qualifier(text, start, ent.end_char))
            else:
                put(ent, "imr_normalized", " ".join(ent.text.split()).lower())

    def _relate(self, doc: Doc, text: str, ents: list) -> None:
        """Attach dose parts to their medication; a percentage or a release form with no
        medication beside it is not a dose ("36 to 56% of users", "seen in the ER")."""

        def links(ents) -> dict[int, int | None]:
            return {
                i: _related_medication(text, ents, i)
                for i, e in enumerate(ents)
                if e.label_ in DOSE_LABELS
            }

        related = links(ents)
        orphans = {
            i
            for i, r in related.items()
            if r is None and (ents[i].label_ == "FORM" or re.search(r"%|percent", ents[i].text))
        }
        if orphans:
            doc.ents = [e for i, e in enumerate(ents) if i not in orphans]
            ents = list(doc.ents)
            related = links(ents)
        for i, medication in related.items():
            ents[i]._.imr_related = medication
        self._routes(text, ents, related)

    def _routes(self, text: str, ents, related: dict[int, int | None]) -> None:
        """Each medication's route (a product name, else the nearest route word in its clause,
        else a linked strength in %), and its class for that route where drug_classes.csv
        has one: injected lidocaine is a local anesthetic, topical diclofenac a topical NSAID."""
        strengths: dict[int, list[str]] = {}
        for i, medication in related.items():
            if medication is not None and ents[i].label_ == "STRENGTH":
                strengths.setdefault(medication, []).append(ents[i].text.lower())
        for i, ent in enumerate(ents):
            if ent.label_ != "MEDICATION":
                continue
            route = self._route_names.get(_flat(ent.text))
            if route is None:
                route = self._route_word(text, ent.start_char, ent.end_char)
            if route is None:
                route = next(
                    (r for unit, r in self._route_units for s in strengths.get(i, []) if unit in s),
                    None,
                )
            ent._.imr_route = route
            by_route = self._route_classes.get(route) if route else None
            ingredients = (ent._.imr_normalized or "").split(";")
            if by_route and any(x in by_route for x in ingredients):
                ent._.imr_drug_class = class_of(ingredients, self._classes | by_route)

    def _route_word(self, text: str, start: int, end: int) -> str | None:
        """The route of the route word nearest the medication, in its clause and window."""
        if self._route_word_pattern is None:
            return None
        before = text[max(0, start - self.route_window) : start]
        after = text[end : min(len(text), end + self.route_window)]
        cut = [m.end() for m in _CLAUSE_CUT.finditer(before)]
        if cut:
            before = before[cut[-1] :]
        m = _CLAUSE_CUT.search(after)
        if m:
            after = after[: m.start()]
        best = None  # (distance, route)
        for m in self._route_word_pattern.finditer(before):
            best = (len(before) - m.end(), self._route_words[_flat(m.group())])
        m = self._route_word_pattern.search(after)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), self._route_words[_flat(m.group())])
        return best[1] if best else None


def _short_forms(doc: Doc, text: str, candidates) -> list:
    """Occurrences of an abbreviation whose long form is a lexicon entity take its label and
    entry: "complex regional pain syndrome (CRPS) ... the CRPS" tags both CRPS."""
    out, done = [], set()
    for short_start, short_end, long_start, long_end in doc._.imr_abbreviations or []:
        short = text[short_start:short_end]
        if short in done:
            continue
        inside = [
            c
            for c in candidates
            if c.kb_id_
            and long_start <= c.start_char
            and c.end_char <= long_end
            and c.label_ in ("DIAGNOSIS", "PROCEDURE", "MEDICATION")
        ]
        if not inside:
            continue
        source = max(inside, key=len)
        done.add(short)
        for m in re.finditer(rf"(?<!\w){re.escape(short)}(?!\w)", text):
            span = doc.char_span(m.start(), m.end(), label=source.label_, kb_id=source.kb_id_)
            if span is not None:
                out.append(span)
    return out


def _diagnosis_value(ent, entry: dict, lexicon) -> str:
    """The condition with its site words first, without side words: "right shoulder
    contusion" and "contusion of the right shoulder" both give "shoulder contusion"."""
    words = [t.lower_ for t in ent if not t.is_space]
    key = entry["key"].split(SEP)
    at = next((i for i in range(len(words)) if words[i : i + len(key)] == key), 0)
    extra = words[:at] + words[at + len(key) :]
    sites = [w for w in extra if lexicon.modifiers.get(w) in VALUE_KINDS]
    return " ".join([*sites, entry["normalized"]])


def _flat_date(text: str) -> str:
    return re.sub(r"\s+", "", text) if re.match(r"^\d", text) else " ".join(text.split())


CLAUSE_ENDS = ("\n\n", ". ", ".\n", ";", ": ", ":\n")


def _related_medication(text: str, ents, i: int) -> int | None:
    """Index of the medication a dose part belongs to: the closest before it in the same
    clause (no other medication between), else the closest after it. A clause ends at a
    sentence end, a semicolon, a colon or a blank line, not at a line wrapped by the PDF
    ("Flexeril\n10mg #30")."""
    ent = ents[i]
    # only clause ends inside the windows matter: search there, not the whole letter
    lo, hi = max(0, ent.start_char - RELATE_BEFORE - 2), ent.end_char + RELATE_AFTER + 2
    left = max(text.rfind(end, lo, ent.start_char) + len(end) for end in CLAUSE_ENDS)
    found = [text.find(end, ent.end_char, hi) for end in CLAUSE_ENDS]
    right = min([f for f in found if f >= 0] or [len(text)])
    for j in range(i - 1, -1, -1):
        other = ents[j]
        if other.end_char < max(left, ent.start_char - RELATE_BEFORE):
            break
        if other.label_ == "MEDICATION":
            return j
    for j in range(i + 1, len(ents)):
        other = ents[j]
        if other.start_char > min(right, ent.end_char + RELATE_AFTER):
            break
        if other.label_ == "MEDICATION":
            return j
    return None


class _Regions:
    """Labelled character regions (sections, decisions, decision parts): `at(offset)` is the
    label of the first region, in the order given, that holds the offset, as
    `next((n for s, e, n in regions if s <= offset < e), None)` gives it, without walking
    them all for every entity when they do not overlap."""

    def __init__(self, regions) -> None:
        self.regions = list(regions)
        ordered = sorted(self.regions, key=lambda r: r[0])
        self.disjoint = ordered == self.regions and all(
            a[1] <= b[0] for a, b in zip(ordered, ordered[1:], strict=False)
        )
        self.starts = [r[0] for r in self.regions]

    def at(self, offset: int):
        if not self.disjoint:
            return next((n for s, e, n in self.regions if s <= offset < e), None)
        i = bisect_right(self.starts, offset) - 1
        if i >= 0 and offset < self.regions[i][1]:
            return self.regions[i][2]
        return None
