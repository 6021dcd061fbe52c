"""Our custom attributes, registered once, all prefixed `imr_`."""

from __future__ import annotations

from spacy.tokens import Doc, Span

DOC_EXTENSIONS = {
    # which published layout the letter has (resources/layouts.jsonl): 2013, 2014-15, 2016-17,
    # professional-review or unknown; and whether it names Independent Medical Review and MAXIMUS
    "imr_layout": None,
    "imr_mentions_imr": False,
    # {section name: [body_start_char, end_char]}: plain ints so the Doc serialises
    "imr_section_bodies": None,
    # {field: value} from the header block: case_number, ISO dates, priority
    "imr_header": None,
    "imr_reviewer_specialties": None,
    "imr_reviewer_license_states": None,
    # canonical names of the specialties (resources/specialty_boards.csv), letter order
    "imr_reviewer_board": None,
    "imr_reviewer_subspecialty": None,
    "imr_patient_age": None,
    "imr_patient_sex": None,
    "imr_warnings": None,
    # structural self-check codes of the letter (resources/qa_flags.csv), in the order found
    "imr_qa_flags": None,
    # [[short_start, short_end, long_start, long_end], ...] from scispaCy's abbreviation detector
    "imr_abbreviations": None,
}

SPAN_EXTENSIONS = {
    "imr_decision_index": None,
    "imr_item": None,
    "imr_outcome": None,
    "imr_partial": False,
    "imr_original_request": None,
    "imr_authorized": None,
    # a GUIDELINE_CITATION's fields: source, guideline_family, guideline, edition, chapter,
    # guideline_section, pages (list of int), page_text, known_title, raw
    "imr_citation": None,
    # entities (doc.ents): where they are, their normalised value and context
    "imr_section": None,
    "imr_decision_part": None,
    "imr_normalized": None,
    "imr_brand": None,
    "imr_drug_class": None,
    # a MEDICATION's ids from drug-named-entity-recognition (`;`-joined, ingredient order) and
    # how it is given (resources/drug_routes.csv): topical, oral, injection or None
    "imr_drugbank_id": None,
    "imr_mesh_id": None,
    "imr_route": None,
    "imr_item_type": None,
    "imr_role": None,
    "imr_qualifier": None,
    "imr_related": None,  # index in doc.ents of the medication a dose part belongs to
    "imr_negated": False,
    "imr_historical": False,
    "imr_hypothetical": False,
    "imr_uncertain": False,
    "imr_family": False,
    "imr_medication_status": None,  # requested / taking
    # a reason span (label = code) of `depends_on_denied`: the decision it depends on
    "imr_depends_on": None,
}


def register_extensions() -> None:
    for name, default in DOC_EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
    for name, default in SPAN_EXTENSIONS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)


register_extensions()
