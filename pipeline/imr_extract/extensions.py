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
    # coded clinical context (components/coding.py), on DIAGNOSIS entities and on decisions:
    # WCIO Part of Body code and name, left/right/bilateral, spinal levels (list, "L4-5")
    "imr_body_part_code": None,
    "imr_body_part": None,
    "imr_laterality": None,
    "imr_spinal_levels": None,
    # ICD-10-CM code (no 7th character), its title in the code set, its 3-character category
    "imr_icd10cm": None,
    "imr_icd10cm_title": None,
    "imr_icd10cm_category": None,
    # a summary DIAGNOSIS: the decisions it was linked to (list of decision indexes)
    "imr_decision_indexes": None,
    # a decision: where its body part came from (item, rationale, summary), the normalised
    # diagnoses linked to it and their codes (lists), and the code its rationale names
    "imr_body_part_source": None,
    "imr_linked_diagnoses": None,
    "imr_linked_icd10cm": None,
    "imr_primary_icd10cm": None,
}


def register_extensions() -> None:
    for name, default in DOC_EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
    for name, default in SPAN_EXTENSIONS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)


register_extensions()


def span_setter(doc: Doc):
    """`set(span, name, value)`, what `setattr(span._, name, value)` does, for the many values
    a component writes on every entity: `span._` builds an Underscore object per access (a
    tenth of `imr_entities`, issue 17). spaCy 3.7 keeps a Span's value of a plain `default=`
    extension in doc.user_data under ("._.", name, start_char, end_char); an extension with
    a setter, getter or method (ours have none) goes through `span._` as before.
    tests/test_speed_entities.py checks both ways write the same."""
    data = doc.user_data

    def set_value(span: Span, name: str, value) -> None:
        if name in plain_span_extensions():
            data[("._.", name, span.start_char, span.end_char)] = value
        else:
            setattr(span._, name, value)

    return set_value


def span_getter(doc: Doc):
    """`get(span, name)`, what `getattr(span._, name)` gives for our plain `default=` span
    extensions (the value under spaCy's key in doc.user_data, else the default), without an
    Underscore object per read; any other extension is read through `span._`.
    tests/test_speed_entities.py checks both ways read the same."""
    data = doc.user_data

    def get_value(span: Span, name: str):
        plain = plain_span_extensions()
        if name in plain:
            return data.get(("._.", name, span.start_char, span.end_char), plain[name])
        return getattr(span._, name)

    return get_value


_PLAIN: dict[str, object] = {}


def plain_span_extensions() -> dict[str, object]:
    """Our span extensions that are plain defaults (no getter, setter or method) that cannot
    be changed in place, with their defaults (spaCy writes a copy of a list, dict or set
    default into user_data when it is read)."""
    if not _PLAIN:
        for name in SPAN_EXTENSIONS:
            if Span.has_extension(name):
                default, method, getter, setter = Span.get_extension(name)
                mutable = isinstance(default, (list, dict, set))
                if method is None and getter is None and setter is None and not mutable:
                    _PLAIN[name] = default
    return _PLAIN
