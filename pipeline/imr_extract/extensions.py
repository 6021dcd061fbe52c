"""Our custom attributes, registered once, all prefixed `imr_`."""

from __future__ import annotations

from spacy.tokens import Doc, Span

DOC_EXTENSIONS = {
    # {section name: [body_start_char, end_char]}: plain ints so the Doc serialises
    "imr_section_bodies": None,
    # {field: value} from the header block: case_number, ISO dates, priority
    "imr_header": None,
    "imr_reviewer_specialties": None,
    "imr_reviewer_license_states": None,
    "imr_patient_age": None,
    "imr_patient_sex": None,
    "imr_warnings": None,
}

SPAN_EXTENSIONS = {
    "imr_decision_index": None,
    "imr_item": None,
    "imr_outcome": None,
    "imr_partial": False,
    "imr_original_request": None,
    "imr_authorized": None,
    # a GUIDELINE_CITATION's fields: source, guideline_family, guideline, edition, chapter,
    # section, pages (list of int), page_text, known_title, raw
    "imr_citation": None,
}


def register_extensions() -> None:
    for name, default in DOC_EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
    for name, default in SPAN_EXTENSIONS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)


register_extensions()
