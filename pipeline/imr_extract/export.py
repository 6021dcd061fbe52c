"""Docs to table rows: the one place that knows the output columns (a public contract).

Add columns freely; never rename or drop one without a note in the README's changelog.
"""

from __future__ import annotations

from typing import Any

from spacy.tokens import Doc, Span

from imr_extract import covariates
from imr_extract.components.citations import CITATIONS_KEY
from imr_extract.components.decisions import DECISIONS_KEY, PARTS_KEY
from imr_extract.components.header import HEADER_FIELDS
from imr_extract.components.layout import LAYOUT_2013, PROFESSIONAL_REVIEW
from imr_extract.components.layout import UNKNOWN as UNKNOWN_LAYOUT
from imr_extract.components.reasons import REASONS_KEY
from imr_extract.extensions import plain_span_extensions
from imr_extract.ingest import SourceDocument
from imr_extract.normalize.amounts import AMOUNT_COLUMNS, parse_amounts
from imr_extract.normalize.citations import NO_CITATION
from imr_extract.normalize.mme import doses_per_day, mme_with_note
from imr_extract.normalize.text import squash, unique

DOCUMENT_COLUMNS = [
    "doc_id",
    "path",
    "status",
    "error",
    *HEADER_FIELDS,
    "reviewer_specialties",
    "reviewer_license_states",
    "patient_age",
    "patient_sex",
    "n_decisions",
    "n_upheld",
    "n_overturned",
    "n_words",
    # added after the first contract
    "warnings",
    "sha1",
    "n_pages",
    "n_chars",
    "qa_flags",
    "text_file",
    "layout",
    "reviewer_board",
    "reviewer_subspecialty",
    "days_injury_to_ur",
    "days_ur_to_application",
    "days_application_to_decision",
    "date_of_injury_source",
    "reviewer_key",
    "pain_max",
    "pain_latest",
    "pain_with_medication",
    "pain_without_medication",
]

DECISION_PART_COLUMNS = ["claims_administrator_guideline", "maximus_guideline", "rationale"]

DECISION_COLUMNS = [
    "doc_id",
    "decision_index",
    "item",
    "outcome",
    "partial",
    "original_request",
    *DECISION_PART_COLUMNS,
    "start_char",
    "end_char",
    # added after the first contract
    "authorized",
    "maximus_guideline_family",
    "maximus_guidelines",
    "maximus_sections",
    "maximus_pages",
    "item_type",
    "ingredients",
    "brand",
    "drug_class",
    "strength",
    "quantity",
    "quantity_unit",
    "refills",
    "frequency",
    "mme_per_day",
    "mme_factor",
    "mme_inputs",
    "reasons",
    "depends_on_decision_index",
    "same_guideline_as_claims_administrator",
    # issue 15: amounts as numbers, and why an opioid item has no MME
    *AMOUNT_COLUMNS,
    "doses_per_day",
    "mme_note",
    # issue 14: the ids of `ingredients`, aligned with it
    "drugbank_id",
    "mesh_id",
    # issue 14: coded clinical context
    "body_part_code",
    "body_part",
    "laterality",
    "spinal_levels",
    "body_part_source",
    "diagnoses",
    "icd10cm",
    "primary_icd10cm",
]

ENTITY_COLUMNS = [
    "doc_id",
    "entity_id",
    "label",
    "text",
    "start_char",
    "end_char",
    "section",
    "decision_index",
    "normalized",
    "negated",
    "historical",
    "hypothetical",
    "uncertain",
    "role",
    "qualifier",
    "related_entity_id",
    # beyond the first entity contract
    "decision_part",
    "family",
    "medication_status",
    "brand",
    "drug_class",
    "item_type",
    # issue 14: a MEDICATION's ids (ingredient order) and the route its class depends on
    "drugbank_id",
    "mesh_id",
    "route",
    # issue 14: coded clinical context of DIAGNOSIS entities
    "body_part_code",
    "body_part",
    "laterality",
    "spinal_levels",
    "icd10cm",
    "icd10cm_title",
    "icd10cm_category",
    "decision_indexes",
]

CITATION_COLUMNS = [
    "doc_id",
    "decision_index",
    "source",
    "guideline_family",
    "guideline",
    "edition",
    "chapter",
    "section",
    "pages",
    "page_text",
    "known_title",
    "raw",
    "start_char",
    "end_char",
    # added after the first contract
    "sections",
    "section_key",
]

REASON_COLUMNS = ["doc_id", "decision_index", "reason", "evidence", "start_char", "end_char"]

TABLES = {
    "documents": DOCUMENT_COLUMNS,
    "decisions": DECISION_COLUMNS,
    "citations": CITATION_COLUMNS,
    "entities": ENTITY_COLUMNS,
    "reasons": REASON_COLUMNS,
}

# Whole numbers that may be missing: pandas' nullable Int64, so CSVs show 48, not 48.0.
# Column types, the same in every table and every part of a run (nullable, so a missing value
# stays missing): whole numbers print as 48, not 48.0; the rest are text.
INTEGER_COLUMNS = {
    "patient_age",
    "n_decisions",
    "n_upheld",
    "n_overturned",
    "n_words",
    "n_pages",
    "n_chars",
    "decision_index",
    "start_char",
    "end_char",
    "entity_id",
    "related_entity_id",
    "refills",
    "depends_on_decision_index",
    *AMOUNT_COLUMNS,
    "days_injury_to_ur",
    "days_ur_to_application",
    "days_application_to_decision",
}
FLOAT_COLUMNS = {
    "quantity",
    "mme_per_day",
    "mme_factor",
    "doses_per_day",
    "pain_max",
    "pain_latest",
    "pain_with_medication",
    "pain_without_medication",
}
BOOLEAN_COLUMNS = {
    "same_guideline_as_claims_administrator",
    "partial",
    "known_title",
    "negated",
    "historical",
    "hypothetical",
    "uncertain",
    "family",
}


def column_dtype(column: str) -> str:
    if column in INTEGER_COLUMNS:
        return "Int64"
    if column in FLOAT_COLUMNS:
        return "Float64"
    if column in BOOLEAN_COLUMNS:
        return "boolean"
    return "string"


def typed(name: str, df):
    """`df` with exactly the declared columns of table `name`, in order and typed (`df` itself
    when it already is, as a frame that `frame` made)."""
    columns = TABLES[name]
    if list(df.columns) == columns and all(
        str(dtype) == column_dtype(col) for col, dtype in zip(columns, df.dtypes, strict=True)
    ):
        return df
    df = df.reindex(columns=columns)
    return df.astype({col: column_dtype(col) for col in df.columns})


def frame(name: str, rows: list[dict[str, Any]]):
    """The DataFrame of one table from its rows."""
    import pandas as pd

    return typed(name, pd.DataFrame(rows, columns=TABLES[name]))


SECTION_HEADINGS_MISSING = (
    "not an IMR final determination letter: none of its section headings "
    "(HOW THE IMR FINAL DETERMINATION WAS MADE, CLINICAL CASE SUMMARY, "
    "IMR ISSUES, DECISIONS AND RATIONALES) was found"
)


UNRECOGNISED_LAYOUT = "unrecognised IMR letter layout"
NO_2013_DECISIONS = (
    "no decisions found: no numbered sentence 'has determined the request for … is (not) "
    "medically necessary and appropriate' (2013 layout)"
)


def join_list(values: list[str] | None) -> str:
    return ";".join(values or [])


def join_items(texts: list[str] | None) -> str:
    """A list of free-text items (warnings) joined like any list column; a `;` inside an item
    becomes `,`, so the list splits back into the same items."""
    return join_list([t.replace(";", ",") for t in texts or []])


def letter_error(doc: Doc) -> str:
    """Why an annotated text is not a usable letter, or '' when it is. A text that names
    Independent Medical Review and MAXIMUS but has no known layout is an IMR letter we cannot
    read, not "not an IMR letter". A professional-review letter is usable without a decision
    (it says so in qa_flags): its other sections are still read."""
    layout = doc._.imr_layout
    if layout == UNKNOWN_LAYOUT and doc._.imr_mentions_imr:
        return UNRECOGNISED_LAYOUT
    if layout == PROFESSIONAL_REVIEW:
        return ""
    if layout == LAYOUT_2013:
        return "" if len(doc.spans.get(DECISIONS_KEY, [])) else NO_2013_DECISIONS
    bodies = doc._.imr_section_bodies or {}
    if not any(name in bodies for name in ("how_determination_made", "decisions")):
        return SECTION_HEADINGS_MISSING
    if "decisions" not in bodies:
        return "no 'IMR ISSUES, DECISIONS AND RATIONALES' section (truncated letter?)"
    if not len(doc.spans.get(DECISIONS_KEY, [])):
        return "no decisions found under 'IMR ISSUES, DECISIONS AND RATIONALES'"
    return ""


def error_rows(source: SourceDocument, error: str) -> dict[str, list[dict[str, Any]]]:
    row = {col: None for col in DOCUMENT_COLUMNS}
    row.update(
        doc_id=source.doc_id,
        path=source.path,
        status="error",
        error=error,
        warnings=join_items(source.warnings),
        sha1=source.sha1,
        n_pages=source.n_pages,
        n_decisions=0,
        n_upheld=0,
        n_overturned=0,
    )
    return {"documents": [row]} | {name: [] for name in TABLES if name != "documents"}


def letter_text(doc: Doc, source: SourceDocument) -> str:
    """The Doc's text, without rebuilding it from the tokens (spaCy's `doc.text` and
    `span.text` join every token: a tenth of the export): the source's text when the Doc was
    made from it (it ends where the Doc's last token does, with that token)."""
    text = source.text
    if text and len(doc):
        last = doc[-1]
        if last.idx + len(last.text_with_ws) == len(text) and text.startswith(last.text, last.idx):
            return text
    return doc.text


def span_text(text: str, span: Span) -> str:
    """`span.text`, sliced from the Doc's text (the same characters)."""
    return text[span.start_char : span.end_char]


def doc_rows(doc: Doc, source: SourceDocument) -> dict[str, list[dict[str, Any]]]:
    """All table rows of one annotated letter."""
    text = letter_text(doc, source)
    decisions = list(doc.spans.get(DECISIONS_KEY, []))
    error = letter_error(doc)
    header = doc._.imr_header or {}
    doc_row = {
        "doc_id": source.doc_id,
        "path": source.path,
        "status": "error" if error else "ok",
        "error": error,
        **{name: header.get(name) for name in HEADER_FIELDS},
        "reviewer_specialties": join_list(doc._.imr_reviewer_specialties),
        "reviewer_license_states": join_list(doc._.imr_reviewer_license_states),
        "patient_age": doc._.imr_patient_age,
        "patient_sex": doc._.imr_patient_sex,
        "n_decisions": len(decisions),
        "n_upheld": sum(1 for d in decisions if d._.imr_outcome == "Upheld"),
        "n_overturned": sum(1 for d in decisions if d._.imr_outcome == "Overturned"),
        "n_words": len(source.text.split()) if source.text else len(doc.text.split()),
        "warnings": join_items(source.warnings + (doc._.imr_warnings or [])),
        "sha1": source.sha1,
        "n_pages": source.n_pages,
        "n_chars": len(source.text) if source.text else len(doc.text),
        "qa_flags": join_list(unique(doc._.imr_qa_flags or [])),
        "layout": doc._.imr_layout,
        "reviewer_board": join_list(doc._.imr_reviewer_board),
        "reviewer_subspecialty": join_list(doc._.imr_reviewer_subspecialty),
    }
    parts: dict[int, dict[str, str]] = {}
    for part in doc.spans.get(PARTS_KEY, []):
        if part.label_ in DECISION_PART_COLUMNS:
            parts.setdefault(part._.imr_decision_index, {})[part.label_] = squash(
                span_text(text, part)
            )
    citation_rows = citation_table_rows(doc, source.doc_id)
    entity_rows = entity_table_rows(doc, source.doc_id, text)
    reason_rows = reason_table_rows(doc, source.doc_id, text)
    decision_rows = []
    for span in decisions:
        index = span._.imr_decision_index
        decision_rows.append(
            {
                "doc_id": source.doc_id,
                "decision_index": index,
                "item": span._.imr_item,
                "outcome": span._.imr_outcome,
                "partial": span._.imr_partial,
                "original_request": span._.imr_original_request,
                **{col: parts.get(index, {}).get(col) for col in DECISION_PART_COLUMNS},
                "start_char": span.start_char,
                "end_char": span.end_char,
                "authorized": span._.imr_authorized,
                **maximus_summary([c for c in citation_rows if c["decision_index"] == index]),
                **item_summary(
                    span._.imr_item,
                    [
                        e
                        for e in entity_rows
                        if e["decision_index"] == index and e["decision_part"] == "item"
                    ],
                ),
                **reason_summary([r for r in reason_rows if r["decision_index"] == index]),
                "item_type": span._.imr_item_type,
                "same_guideline_as_claims_administrator": same_guideline(
                    [c for c in citation_rows if c["decision_index"] == index]
                ),
                **coding_summary(span),
            }
        )
    if error:  # a letter that cannot be used is one documents row and nothing else
        decision_rows, citation_rows, entity_rows, reason_rows = [], [], [], []
    doc_row.update(letter_covariates(doc_row, entity_rows))
    return {
        "documents": [doc_row],
        "decisions": decision_rows,
        "citations": citation_rows,
        "entities": entity_rows,
        "reasons": reason_rows,
    }


def letter_covariates(doc_row: dict[str, Any], entity_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """documents.csv's covariates (see `covariates`): the injury date from the case summary
    where the header has none, the days between dates, reviewer_key and pain per letter."""
    values = covariates.injury_date(doc_row, entity_rows)
    values.update(covariates.intervals({**doc_row, **values}))
    # the canonical board, so "Family Practice" and "Family Medicine" share a key
    board = covariates.board_text((doc_row["reviewer_board"] or "").split(";"))
    values["reviewer_key"] = covariates.reviewer_key(
        board, doc_row["reviewer_license_states"].split(";")
    )
    values.update(covariates.letter_pain(entity_rows))
    return values


def reason_table_rows(doc: Doc, doc_id: str, text: str | None = None) -> list[dict[str, Any]]:
    """One row per reason code per decision, with the sentence that states it."""
    text = doc.text if text is None else text
    return [
        {
            "doc_id": doc_id,
            "decision_index": span._.imr_decision_index,
            "reason": span.label_,
            "evidence": squash(span_text(text, span)),
            "start_char": span.start_char,
            "end_char": span.end_char,
            "depends_on": span._.imr_depends_on,
        }
        for span in doc.spans.get(REASONS_KEY, [])
    ]


def reason_summary(reasons: list[dict[str, Any]]) -> dict[str, Any]:
    """The decision's codes (already in taxonomy order) and what a dependent item hangs on."""
    depends = [r["depends_on"] for r in reasons if r["depends_on"] is not None]
    return {
        "reasons": join_list([r["reason"] for r in reasons]),
        "depends_on_decision_index": depends[0] if depends else None,
    }


ENTITY_ATTRIBUTES = {
    "section": "imr_section",
    "decision_index": "imr_decision_index",
    "normalized": "imr_normalized",
    "negated": "imr_negated",
    "historical": "imr_historical",
    "hypothetical": "imr_hypothetical",
    "uncertain": "imr_uncertain",
    "role": "imr_role",
    "qualifier": "imr_qualifier",
    "related_entity_id": "imr_related",
    "decision_part": "imr_decision_part",
    "family": "imr_family",
    "medication_status": "imr_medication_status",
    "brand": "imr_brand",
    "drug_class": "imr_drug_class",
    "item_type": "imr_item_type",
    "drugbank_id": "imr_drugbank_id",
    "mesh_id": "imr_mesh_id",
    "route": "imr_route",
    "body_part_code": "imr_body_part_code",
    "body_part": "imr_body_part",
    "laterality": "imr_laterality",
    "spinal_levels": "imr_spinal_levels",
    "icd10cm": "imr_icd10cm",
    "icd10cm_title": "imr_icd10cm_title",
    "icd10cm_category": "imr_icd10cm_category",
    "decision_indexes": "imr_decision_indexes",
}
LIST_ENTITY_COLUMNS = ("spinal_levels", "decision_indexes")  # lists on the span, `;`-joined
FAST_ENTITY_ROWS = True  # False: read each value through `ent._` (the plain path)


def entity_table_rows(doc: Doc, doc_id: str, text: str | None = None) -> list[dict[str, Any]]:
    text = doc.text if text is None else text
    rows = []
    read = _user_data_reader(doc) if FAST_ENTITY_ROWS else _underscore_values
    for i, ent in enumerate(doc.ents):
        row = {
            "doc_id": doc_id,
            "entity_id": i,
            "label": ent.label_,
            "text": squash(span_text(text, ent)),
            "start_char": ent.start_char,
            "end_char": ent.end_char,
            **read(ent),
        }
        for column in LIST_ENTITY_COLUMNS:
            if row[column] is not None:
                row[column] = join_list([str(v) for v in row[column]]) or None
        rows.append(row)
    return rows


def coding_summary(decision: Span) -> dict[str, Any]:
    """The decision's body part (WCIO), side, levels, where they came from, and the diagnoses
    linked to it with their ICD-10-CM codes (components/coding.py)."""
    x = decision._
    return {
        "body_part_code": x.imr_body_part_code,
        "body_part": x.imr_body_part,
        "laterality": x.imr_laterality,
        "spinal_levels": join_list(x.imr_spinal_levels) or None,
        "body_part_source": x.imr_body_part_source,
        "diagnoses": join_list(x.imr_linked_diagnoses) or None,
        "icd10cm": join_list(x.imr_linked_icd10cm) or None,
        "primary_icd10cm": x.imr_primary_icd10cm,
    }


def _underscore_values(ent: Span) -> dict[str, Any]:
    x = ent._
    return {column: getattr(x, name) for column, name in ENTITY_ATTRIBUTES.items()}


def _user_data_reader(doc: Doc):
    """What `_underscore_values` returns, read from doc.user_data: 16 `Underscore.__getattr__`
    calls an entity were 6% of a run (issue 17). spaCy 3.7 keeps a Span's value of a plain
    `default=` extension under ("._.", name, start_char, end_char), and `ent._.name` returns
    the default when the key is absent (writing a copy first only for a mutable default, which
    ours are not); tests/test_speed_context.py checks both. The extensions read this way are
    those of `extensions.span_getter`."""
    plain = plain_span_extensions()
    if not all(name in plain for name in ENTITY_ATTRIBUTES.values()):
        return _underscore_values
    fields = [(column, name, plain[name]) for column, name in ENTITY_ATTRIBUTES.items()]
    data = doc.user_data

    def read(ent: Span) -> dict[str, Any]:
        start, end = ent.start_char, ent.end_char
        return {column: data.get(("._.", name, start, end), dflt) for column, name, dflt in fields}

    return read


def item_summary(item: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    """What the disputed item holds, from the entities of its item text: drug and dose."""
    by_label: dict[str, list[dict]] = {}
    for e in entities:
        by_label.setdefault(e["label"], []).append(e)
    meds = by_label.get("MEDICATION", [])
    quantity = by_label.get("QUANTITY", [{}])[0].get("normalized")
    number, unit = None, ""
    if quantity and quantity != "unknown":
        head, _, unit = quantity.partition(" ")
        number = float(head)
    refills = (by_label.get("REFILLS") or [{}])[0].get("normalized")
    frequencies = [e["normalized"] for e in by_label.get("FREQUENCY", []) if e["normalized"]]
    # the first frequency that gives doses per day ("every 4-6 hrs", not "as needed")
    frequency = next((f for f in frequencies if doses_per_day(f)), None) or (
        frequencies[0] if frequencies else None
    )
    drugs = medication_slots(meds, by_label.get("STRENGTH", []))
    ingredients = unique(i for slot in drugs for i in slot["ingredients"])
    strength = join_list([slot["strength"] for slot in drugs]) if drugs else ""
    if not strength.strip(";"):
        strength = ""
    ids = ingredient_id_lists(ingredients, meds)
    mme = mme_with_note(ingredients, strength or None, frequency, item)
    doses = doses_per_day(frequency) if meds else None
    return {  # item_type: the decision span's, set by imr_item_types
        "ingredients": join_list(ingredients),
        "brand": join_list(unique(m["brand"] for m in meds)),
        "drug_class": join_list(unique(m["drug_class"] for m in meds)),
        "strength": strength or None,
        "quantity": number,
        "quantity_unit": unit or None,
        "refills": int(refills) if refills else None,
        "frequency": frequency,
        "mme_per_day": mme["mme_per_day"],
        "mme_factor": mme["mme_factor"],
        "mme_inputs": mme["mme_inputs"],
        **parse_amounts(item),
        "doses_per_day": doses,
        "mme_note": mme["mme_note"],
        **ids,
    }


def medication_slots(meds: list[dict], strengths: list[dict]) -> list[dict]:
    """The item's drugs in letter order, one per distinct ingredient list (a drug named twice,
    "Ultram (tramadol)", is one), each with its strength: the first STRENGTH linked to one of
    its mentions, as normalised ("10 mg + 325 mg" for a fixed combination), or "" when the item
    states none. Strengths linked to no drug of the item fill the drugs without one, in order.
    So `strength` has one element per drug, in `ingredients` order, never deduplicated; a fixed
    combination (Norco, or "Diclofenac/misoprostol 75-0.2mg") is one drug, its strength one
    element "75 mg + 0.2 mg" whose parts follow its ingredients."""
    slots: dict[tuple, dict] = {}
    by_entity: dict[int, dict] = {}
    for m in meds:
        ingredients = tuple(i for i in (m["normalized"] or "").split(";") if i)
        if not ingredients:
            continue
        slot = slots.setdefault(ingredients, {"ingredients": list(ingredients), "strength": ""})
        by_entity[m["entity_id"]] = slot
    loose = []
    for s in strengths:
        slot = by_entity.get(s["related_entity_id"])
        if slot is None:
            loose.append(s["normalized"])
        elif not slot["strength"] and s["normalized"]:
            slot["strength"] = s["normalized"]
    for slot in slots.values():
        if not slot["strength"] and loose:
            slot["strength"] = loose.pop(0) or ""
    return _combinations(list(slots.values()))


def _combinations(slots: list[dict]) -> list[dict]:
    """ "Diclofenac/misoprostol 75-0.2mg": a strength of k parts on a single drug whose k-1
    drugs before it state none is one fixed combination of the k, one drug."""
    out: list[dict] = []
    for slot in slots:
        k = len(slot["strength"].split(" + ")) if slot["strength"] else 1
        before = out[len(out) - (k - 1) :] if k > 1 else []
        if (
            len(slot["ingredients"]) == 1
            and len(before) == k - 1
            and all(len(b["ingredients"]) == 1 and not b["strength"] for b in before)
        ):
            del out[len(out) - (k - 1) :]
            ingredients = [i for b in before for i in b["ingredients"]] + slot["ingredients"]
            slot = {"ingredients": ingredients, "strength": slot["strength"]}
        out.append(slot)
    return out


def ingredient_id_lists(ingredients: list[str], meds: list[dict]) -> dict[str, str | None]:
    """`drugbank_id` and `mesh_id` of the decision, aligned with its `ingredients` (an empty
    element where the dictionary gives none), from the ids of its MEDICATION entities."""
    known: dict[str, dict[str, str]] = {}
    for m in meds:
        names = (m["normalized"] or "").split(";")
        for key in ("drugbank_id", "mesh_id"):
            values = (m.get(key) or "").split(";")
            if len(values) == len(names):
                for name, value in zip(names, values, strict=True):
                    if value:
                        known.setdefault(name, {}).setdefault(key, value)
    out = {}
    for key in ("drugbank_id", "mesh_id"):
        ids = [known.get(i, {}).get(key, "") for i in ingredients]
        out[key] = join_list(ids) if any(ids) else None
    return out


def maximus_summary(citations: list[dict[str, Any]]) -> dict[str, str]:
    """What the MAXIMUS reviewer cited, flattened onto the decision row (no join needed).
    Its sections are those of citations.csv `sections` ('A, B' and 'A; B' count as two; a
    "No citation" row has none)."""
    mine = [c for c in citations if c["source"] == "maximus"]
    sections = [part for c in mine for part in (c["sections"] or "").split(";") if part]
    pages = [int(p) for c in mine for p in (c["pages"] or "").split(";") if p]
    return {
        "maximus_guideline_family": join_list(unique(c["guideline_family"] for c in mine)),
        "maximus_guidelines": join_list(unique(c["guideline"] for c in mine)),
        "maximus_sections": join_list(unique(sections)),
        "maximus_pages": join_list([str(p) for p in unique(pages)]),
    }


def same_guideline(citations: list[dict[str, Any]]) -> bool | None:
    """Whether the MAXIMUS reviewer cited a guideline title that the claims administrator also
    cited; None when a side has no guideline line (no citation row). "No citation" is no title,
    and an unknown title is compared by its text as written."""
    titles: dict[str, set[str]] = {"claims_administrator": set(), "maximus": set()}
    seen = set()
    for c in citations:
        seen.add(c["source"])
        if c["guideline"] == NO_CITATION:
            continue
        title = c["guideline"] if c["known_title"] else f"{c['guideline']}: {c['raw']}"
        titles.setdefault(c["source"], set()).add(" ".join(title.lower().split()))
    if not {"claims_administrator", "maximus"} <= seen:
        return None
    return bool(titles["claims_administrator"] & titles["maximus"])


def citation_table_rows(doc: Doc, doc_id: str) -> list[dict[str, Any]]:
    rows = []
    for span in doc.spans.get(CITATIONS_KEY, []):
        c = span._.imr_citation
        rows.append(
            {
                "doc_id": doc_id,
                "decision_index": span._.imr_decision_index,
                **{
                    key: c[key]
                    for key in (
                        "source",
                        "guideline_family",
                        "guideline",
                        "edition",
                        "chapter",
                        "page_text",
                        "known_title",
                    )
                },
                "section": c["guideline_section"],
                "pages": join_list([str(p) for p in c["pages"]]),
                "raw": c["raw"],
                "start_char": span.start_char,
                "end_char": span.end_char,
                "sections": join_list(c.get("guideline_sections")),
                "section_key": join_list(c.get("section_keys")),
            }
        )
    return rows
