"""Expert reviewer specialties and license states, in letter order (rules: reviewer.jsonl).

Both styles: 2014-15 prose ("Board Certified in X ... licensed to practice in Y") and 2016-17
labelled lines ("State(s) of Licensure:", "Certification(s)/Specialty:", which may wrap).
The 2014-17 letters give them under "HOW THE IMR FINAL DETERMINATION WAS MADE"; the 2013 and
professional-review layouts under a qualifications heading of their own.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_extract.components.base import RuleComponent, doc_text, section_body
from imr_extract.normalize.specialties import board_table, boards_and_subspecialties
from imr_extract.normalize.text import squash
from imr_extract.rules import packaged_rules, read_rules

SECTIONS = ("how_determination_made", "reviewer_qualifications")


@Language.factory(
    "imr_reviewer",
    assigns=[
        "doc._.imr_reviewer_specialties",
        "doc._.imr_reviewer_license_states",
        "doc._.imr_reviewer_board",
        "doc._.imr_reviewer_subspecialty",
    ],
    requires=["doc._.imr_section_bodies"],
)
def make_reviewer(nlp: Language, name: str):
    return ReviewerCredentials(nlp, name)


def parse_credentials(text: str, rules) -> dict[str, list[str]]:
    """{field: values in text order}; rules are (field, pattern, split pattern)."""
    hits: dict[str, list[tuple[int, str]]] = {}
    for field, pattern, split in rules:
        for m in pattern.finditer(text):
            for part in split.split(m.group("value")):
                part = part.strip(" .;,")
                if part:
                    hits.setdefault(field, []).append((m.start("value"), part))
    out = {}
    for field, found in hits.items():
        values: list[str] = []
        for _, value in sorted(found, key=lambda f: f[0]):
            if value not in values:
                values.append(value)
        out[field] = values
    return out


BOARD_NAME = "board_name"  # the field of a specialty_boards.csv row among the rules


class ReviewerCredentials(RuleComponent):
    """Credential patterns (reviewer.jsonl) plus the canonical board names
    (specialty_boards.csv), kept together in the saved rules."""

    rules_file = "reviewer.jsonl"
    boards_file = "specialty_boards.csv"

    def initialize(self, get_examples=None, *, nlp=None, rules_path=None, boards_path=None):
        rules = read_rules(rules_path) if rules_path else packaged_rules(self.rules_file)
        boards = read_rules(boards_path) if boards_path else packaged_rules(self.boards_file)
        self.set_rules(rules + [{"field": BOARD_NAME, **row} for row in boards])

    def compile(self) -> None:
        self._compiled = [
            (r["field"], re.compile(r["pattern"]), re.compile(r["split"]))
            for r in self.rules
            if r["field"] != BOARD_NAME
        ]
        self._boards = board_table(r for r in self.rules if r["field"] == BOARD_NAME)

    def __call__(self, doc: Doc) -> Doc:
        bounds = [b for b in (section_body(doc, name) for name in SECTIONS) if b]
        text = " ".join(squash(doc_text(doc)[start:end]) for start, end in bounds)
        found = parse_credentials(text, self._compiled)
        doc._.imr_reviewer_specialties = found.get("specialties", [])
        doc._.imr_reviewer_license_states = found.get("license_states", [])
        boards, subspecialties = boards_and_subspecialties(
            doc._.imr_reviewer_specialties, self._boards
        )
        doc._.imr_reviewer_board = boards
        doc._.imr_reviewer_subspecialty = subspecialties
        return doc
