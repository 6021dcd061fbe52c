"""Split a letter into its sections by their headings (rules: resources/sections.jsonl).

A light stand-in for medspaCy's sectionizer: the headings of these letters are fixed strings,
so one regex per heading is exact and costs nothing next to PyRuSH-based sentence splitting.
A rule may name the `layouts` it belongs to (set by `imr_layout`): the headings of one layout
("CASE SUMMARY:") must not be looked for in the letters of another ("CLINICAL CASE SUMMARY").
"""

import re

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text

SPAN_KEY = "imr_sections"
HEADER_SECTION = "header"


@Language.factory(
    "imr_sectionizer",
    default_config={"span_key": SPAN_KEY},
    assigns=["doc.spans", "doc._.imr_section_bodies"],
)
def make_sectionizer(nlp: Language, name: str, span_key: str):
    return Sectionizer(nlp, name, span_key)


class Sectionizer(RuleComponent):
    rules_file = "sections.jsonl"

    def __init__(self, nlp: Language, name: str, span_key: str = SPAN_KEY) -> None:
        super().__init__(nlp, name)
        self.span_key = span_key
        self._patterns: list[tuple[str, re.Pattern, tuple[str, ...]]] = []

    def compile(self) -> None:
        self._patterns = [
            (r["section"], re.compile(r["pattern"]), tuple(r.get("layouts", ())))
            for r in self.rules
        ]

    def match(self, text: str, layout: str | None = None) -> list[tuple[str, int, int]]:
        """(section, heading_start, body_start) for each heading found, in text order; rules
        that name their layouts are used only for a letter of one of those layouts."""
        found = []
        for section, pattern, layouts in self._patterns:
            if layouts and layout not in layouts:
                continue
            m = pattern.search(text)
            if m:
                found.append((section, m.start(), m.end()))
        found.sort(key=lambda f: f[1])
        return found

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        headings = self.match(text, doc._.imr_layout)
        bodies: dict[str, list[int]] = {}
        spans = []
        starts = [h[1] for h in headings] + [len(text)]
        if headings and text[: headings[0][1]].strip():
            bodies[HEADER_SECTION] = [0, headings[0][1]]
            spans.append((HEADER_SECTION, 0, headings[0][1]))
        for (section, start, body_start), end in zip(headings, starts[1:], strict=True):
            bodies[section] = [body_start, end]
            spans.append((section, start, end))
        group = []
        for label, start, end in spans:
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                group.append(span)
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=group)
        doc._.imr_section_bodies = bodies
        return doc
