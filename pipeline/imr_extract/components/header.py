"""Header block fields: case number, ISO dates, priority (rules: resources/header_fields.jsonl)."""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_extract.components.base import RuleComponent, doc_text, section_body
from imr_extract.components.sectionizer import HEADER_SECTION
from imr_extract.normalize.dates import parse_date

HEADER_FIELDS = (
    "case_number",
    "date_assigned",
    "decision_date",
    "date_of_injury",
    "ur_denial_date",
    "application_received",
    "priority",
)


@Language.factory("imr_header", assigns=["doc._.imr_header"], requires=["doc._.imr_section_bodies"])
def make_header(nlp: Language, name: str):
    return HeaderFields(nlp, name)


def parse_header(text: str, rules: list[tuple[str, str, re.Pattern]]) -> dict[str, str]:
    """First match of each field's rules; dates become ISO, unparseable dates are dropped."""
    values: dict[str, str] = {}
    for field, kind, pattern in rules:
        if field in values:
            continue
        m = pattern.search(text)
        if not m:
            continue
        value = m.group("value").strip()
        if kind == "date":
            value = parse_date(value) or ""
        elif kind == "word":
            value = value.capitalize()
        if value:
            values[field] = value
    return values


class HeaderFields(RuleComponent):
    rules_file = "header_fields.jsonl"

    def compile(self) -> None:
        self._compiled = [(r["field"], r["type"], re.compile(r["pattern"])) for r in self.rules]

    def __call__(self, doc: Doc) -> Doc:
        bounds = section_body(doc, HEADER_SECTION)
        text = doc_text(doc)[bounds[0] : bounds[1]] if bounds else ""
        doc._.imr_header = parse_header(text, self._compiled)
        return doc
