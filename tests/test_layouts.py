"""Every known IMR letter layout is recognised, and the 2013 and professional-review layouts
are read as far as their public descriptions go (synthetic letters: tests/fixtures/layout_*)."""

import re

import pytest

from imr_extract.components.layout import LayoutDetector, detect_layout
from imr_extract.export import SECTION_HEADINGS_MISSING, UNRECOGNISED_LAYOUT, doc_rows
from imr_extract.ingest import SourceDocument, read_document

from conftest import FIXTURES, SAMPLES

LETTER_2013 = (FIXTURES / "layout_2013.txt").read_text()
PROFESSIONAL_REVIEW = (FIXTURES / "layout_professional_review.txt").read_text()
HEADING_2013 = "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE"
OUTCOME_SENTENCE = (
    "MAXIMUS Federal Services, Inc. has determined the request for Tramadol ER 150 mg #30 is "
    "not medically necessary and appropriate.\n"
)


def tables(nlp, text: str, doc_id: str = "letter") -> dict:
    return doc_rows(nlp(text), SourceDocument(doc_id=doc_id, path="", text=text))


def decisions_of(rows) -> list[tuple[str, str, str | None]]:
    return [(d["item"], d["outcome"], d["rationale"]) for d in rows["decisions"]]


@pytest.fixture(scope="module")
def detector(nlp):
    return nlp.get_pipe("imr_layout")


@pytest.mark.parametrize(
    "text, layout",
    [
        ("Case Number: CM16-0000001\nHOW THE IMR FINAL DETERMINATION WAS MADE\n", "2016-17"),
        ("HOW THE IMR FINAL DETERMINATION WAS MADE\n\nMAXIMUS sent the file\n", "2014-15"),
        (
            "MAXIMUS FEDERAL SERVICES, INC.\nNotice of Independent Medical Review\n"
            "Determination\nDated: 10/14/2013\n",
            "2013",
        ),
        ("NoticeofIndependentMedicalReviewDetermination", "2013"),
        (f"Page 3\n{HEADING_2013}\n", "2013"),
        ("  MEDICAL PROFESSIONAL REVIEW\nISSUE AT DISPUTE:\n", "professional-review"),
        ("A letter that quotes MEDICAL PROFESSIONAL REVIEW mid-sentence.", "unknown"),
        ("Eggs, milk, bread.", "unknown"),
    ],
)
def test_layout_signatures(detector, text, layout):
    assert detect_layout(text, detector._layouts) == layout


def test_layout_rules_are_data_saved_with_the_pipeline(tmp_path, detector, nlp):
    detector.to_disk(tmp_path)
    back = LayoutDetector(nlp, "imr_layout").from_disk(tmp_path)
    assert [name for name, _ in back._layouts] == [
        "2016-17",
        "2014-15",
        "2013",
        "professional-review",
    ]


def test_the_samples_keep_their_layouts(nlp):
    layouts = {}
    for path in sorted(SAMPLES.iterdir()):
        source = read_document(path)
        layouts[source.doc_id] = doc_rows(nlp(source.text), source)["documents"][0]["layout"]
    assert layouts == {
        "CM16-9900001": "2016-17",
        "CM17-9900002": "2016-17",
        "sample_2014_seed_style": "2014-15",
    }


def test_2013_letter_is_recognised_and_read(nlp):
    rows = tables(nlp, LETTER_2013)
    doc = rows["documents"][0]
    assert (doc["layout"], doc["status"], doc["error"]) == ("2013", "ok", "")
    # the list under the heading; "notmedically" (glued by PDF text) still reads as Upheld
    assert decisions_of(rows) == [
        ("a 28 day functional restoration program", "Upheld", None),
        ("12 sessions of aquatic therapy for the lumbar spine", "Overturned", None),
    ]
    assert (doc["n_upheld"], doc["n_overturned"]) == (1, 1)
    assert doc["qa_flags"] == "no_rationale_block"
    assert {k: doc[k] for k in ("application_received", "ur_denial_date", "date_assigned")} == {
        "application_received": "2013-09-16",
        "ur_denial_date": "2013-09-03",
        "date_assigned": "2013-09-30",
    }
    assert doc["decision_date"] == "2013-10-14"  # "Dated:" of the notice
    assert doc["case_number"] is None and doc["date_of_injury"] is None  # not in this layout
    assert (doc["reviewer_specialties"], doc["reviewer_license_states"]) == (
        "Occupational Medicine",
        "California",
    )
    assert (doc["patient_age"], doc["patient_sex"]) == (47, "F")
    summary = {
        (e["label"], e["text"]) for e in rows["entities"] if e["section"] == "clinical_case_summary"
    }
    assert {("MEDICATION", "Naproxen"), ("STRENGTH", "550 mg"), ("PAIN_SCORE", "6/10")} <= summary
    items = [e for e in rows["entities"] if e["decision_part"] == "item"]
    assert [(e["text"], e["decision_index"]) for e in items] == [
        ("functional restoration program", 0),
        ("aquatic therapy", 1),
    ]


def test_2013_rationale_blocks_are_read_where_the_letter_has_them(nlp):
    head, rest = LETTER_2013.split(HEADING_2013)
    first, second = (m.end() for m in re.finditer(r"appropriate\.\n", rest))
    rest = (
        rest[:first]
        + "The program is not supported after failed prior therapy.\n"
        + rest[first:second]
        + "Aquatic therapy suits this patient's obesity.\n\n"
        + rest[second:]
    )
    rows = tables(nlp, head + HEADING_2013 + rest)
    assert decisions_of(rows) == [
        (
            "a 28 day functional restoration program",
            "Upheld",
            "The program is not supported after failed prior therapy.",
        ),
        (
            "12 sessions of aquatic therapy for the lumbar spine",
            "Overturned",
            "Aquatic therapy suits this patient's obesity.",
        ),
    ]
    assert rows["documents"][0]["qa_flags"] == ""


def test_2013_lists_that_differ_are_flagged(nlp):
    head, rest = LETTER_2013.split(HEADING_2013)
    head = head.replace("is medically necessary", "is not medically necessary")
    rows = tables(nlp, head + HEADING_2013 + rest)
    assert [d["outcome"] for d in rows["decisions"]] == ["Upheld", "Overturned"]  # the heading's
    assert rows["documents"][0]["qa_flags"] == "decision_lists_differ;no_rationale_block"


def test_2013_letter_without_the_heading_reads_the_top_list(nlp):
    head, rest = LETTER_2013.split(HEADING_2013)
    rest = rest.split("Medical Qualifications")[1]
    rows = tables(nlp, head + "Medical Qualifications" + rest)
    assert decisions_of(rows) == [
        ("a 28 day functional restoration program", "Upheld", None),
        ("12 sessions of aquatic therapy for the lumbar spine", "Overturned", None),
    ]
    assert rows["documents"][0]["layout"] == "2013"


def test_2013_letter_without_any_decision_is_an_error_not_a_non_letter(nlp):
    text = re.sub(r"\d\) MAXIMUS Federal Services.*?appropriate\.", "", LETTER_2013, flags=re.S)
    doc = tables(nlp, text)["documents"][0]
    assert (doc["layout"], doc["status"]) == ("2013", "error")
    assert doc["error"].startswith("no decisions found")


def test_professional_review_letter_is_read_without_a_decision(nlp):
    rows = tables(nlp, PROFESSIONAL_REVIEW)
    doc = rows["documents"][0]
    assert (doc["layout"], doc["status"], doc["error"]) == ("professional-review", "ok", "")
    # the rationale heading says "IS/WAS NOT MEDICALLY NECESSARY": that is not an outcome
    assert rows["decisions"] == [] and doc["n_decisions"] == 0
    assert doc["qa_flags"] == "no_outcome_found"
    assert (doc["patient_age"], doc["patient_sex"]) == (58, "M")
    assert (doc["reviewer_specialties"], doc["reviewer_license_states"]) == (
        "Physical Medicine and Rehabilitation",
        "California",
    )
    (citation,) = rows["citations"]
    assert citation["decision_index"] is None
    assert (citation["guideline"], citation["section"], citation["pages"]) == (
        "MTUS Chronic Pain Medical Treatment Guidelines",
        "Opioids",
        "76;77;78;79;80",
    )
    sections = {e["section"] for e in rows["entities"]}
    assert {"issue_at_dispute", "clinical_case_summary", "rationale"} <= sections


def test_professional_review_headings_may_wrap(nlp):
    doc = nlp(PROFESSIONAL_REVIEW)
    assert "PROFESSIONAL\nREVIEWER AND WHY:" in PROFESSIONAL_REVIEW  # the fixture wraps two
    assert set(doc._.imr_section_bodies) == {
        "header",
        "issue_at_dispute",
        "clinical_case_summary",
        "documents_reviewed",
        "guidelines",
        "rationale",
        "reviewer_qualifications",
    }


def test_professional_review_decision_where_the_letter_states_it(nlp):
    text = PROFESSIONAL_REVIEW.replace(
        "MEDICAL REVIEWER QUALIFICATIONS:", OUTCOME_SENTENCE + "MEDICAL REVIEWER QUALIFICATIONS:"
    )
    rows = tables(nlp, text)
    ((item, outcome, rationale),) = decisions_of(rows)
    assert (item, outcome) == ("Tramadol ER 150 mg #30", "Upheld")
    assert rationale.startswith("The records give no measure of function")
    assert (
        rows["decisions"][0]["maximus_guidelines"]
        == "MTUS Chronic Pain Medical Treatment Guidelines"
    )
    assert [c["decision_index"] for c in rows["citations"]] == [0]
    assert rows["documents"][0]["qa_flags"] == ""


def test_letter_of_an_unknown_layout_is_not_called_a_non_letter(nlp):
    text = (
        "MAXIMUS Federal Services\nIndependent Medical Review\n"
        "A layout nobody has described yet.\nThe request is reviewed.\n"
    )
    doc = tables(nlp, text)["documents"][0]
    assert (doc["layout"], doc["status"], doc["error"]) == ("unknown", "error", UNRECOGNISED_LAYOUT)
    junk = tables(nlp, (FIXTURES / "not_a_letter.txt").read_text())["documents"][0]
    assert (junk["layout"], junk["error"]) == ("unknown", SECTION_HEADINGS_MISSING)


def test_headings_of_one_layout_are_not_looked_for_in_another(nlp):
    text = (
        (SAMPLES / "CM16-9900001.txt")
        .read_text()
        .replace("The injured worker", "CASE SUMMARY: The injured worker")
    )
    doc = nlp(text)
    assert doc._.imr_layout == "2016-17"
    assert "CASE SUMMARY:" in doc.text[slice(*doc._.imr_section_bodies["clinical_case_summary"])]
