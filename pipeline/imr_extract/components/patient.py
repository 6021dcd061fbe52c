"""Patient age and sex as the clinical case summary states them (rules: resources/patient.jsonl)."""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_extract.components.base import RuleComponent, doc_text, section_body
from imr_extract.normalize.text import squash

SEX_CODES = {"male": "M", "man": "M", "gentleman": "M", "female": "F", "woman": "F", "lady": "F"}


@Language.factory(
    "imr_patient",
    assigns=["doc._.imr_patient_age", "doc._.imr_patient_sex"],
    requires=["doc._.imr_section_bodies"],
)
def make_patient(nlp: Language, name: str):
    return PatientFacts(nlp, name)


def parse_patient(text: str, patterns: list[re.Pattern]) -> tuple[int | None, str | None]:
    """The first rule that matches wins; sex only when the text says it (no pronoun guessing)."""
    for pattern in patterns:
        m = pattern.search(text)
        if not m:
            continue
        age = int(m.group("age"))
        sex = m.groupdict().get("sex")
        return (age if 0 < age < 120 else None), (SEX_CODES.get(sex.lower()) if sex else None)
    return None, None


class PatientFacts(RuleComponent):
    rules_file = "patient.jsonl"

    def compile(self) -> None:
        self._patterns = [re.compile(r["pattern"], re.IGNORECASE) for r in self.rules]

    def __call__(self, doc: Doc) -> Doc:
        bounds = section_body(doc, "clinical_case_summary")
        if bounds:
            text = squash(doc_text(doc)[bounds[0] : bounds[1]])
            doc._.imr_patient_age, doc._.imr_patient_sex = parse_patient(text, self._patterns)
        return doc
