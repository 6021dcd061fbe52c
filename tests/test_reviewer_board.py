"""documents.csv reviewer_board and reviewer_subspecialty: canonical names (issue 15)."""

import pytest

from imr_extract.normalize.specialties import board_table, boards_and_subspecialties, name_key
from imr_extract.rules import packaged_rules

TABLE = board_table(packaged_rules("specialty_boards.csv"))


@pytest.mark.parametrize(
    ("written", "board", "subspecialty"),
    [
        (["Family Practice"], ["Family Medicine"], []),
        (["Family Medicine"], ["Family Medicine"], []),
        (["Physical Medicine Rehab"], ["Physical Medicine & Rehabilitation"], []),
        (["Physical Medicine and Rehabilitation"], ["Physical Medicine & Rehabilitation"], []),
        (
            ["Preventive Medicine", "Occupational Medicine"],
            ["Preventive Medicine"],
            ["Occupational Medicine"],
        ),
        (["Anesthesiology", "Pain Management"], ["Anesthesiology"], ["Pain Medicine"]),
        (["Orthopedic Surgery", "Hand Surgery"], ["Orthopaedic Surgery"], ["Surgery of the Hand"]),
        (
            ["Internal Medicine", "Emergency Medicine"],
            ["Internal Medicine", "Emergency Medicine"],
            [],
        ),
        (["Family Practice", "Family Medicine"], ["Family Medicine"], []),  # one board, once
        (["Underwater Basket Weaving"], ["Underwater Basket Weaving"], []),  # kept, not guessed
        ([], [], []),
    ],
)
def test_canonical_boards_and_subspecialties(written, board, subspecialty):
    assert boards_and_subspecialties(written, TABLE) == (board, subspecialty)


def test_names_compare_without_case_punctuation_or_and():
    assert name_key("Physical Medicine and Rehabilitation.") == name_key(
        "physical medicine & rehabilitation"
    )


def test_every_row_is_a_board_or_subspecialty_and_canonical_names_are_their_own():
    rows = packaged_rules("specialty_boards.csv")
    assert {r["kind"] for r in rows} == {"board", "subspecialty"}
    for r in rows:  # a canonical name maps to itself, with the same kind
        assert TABLE[name_key(r["canonical"])] == (r["canonical"], r["kind"])


def test_documents_rows_keep_specialties_as_written_and_add_board(nlp):
    from imr_extract.export import DOCUMENT_COLUMNS, doc_rows
    from imr_extract.ingest import SourceDocument

    text = (
        "HOW THE IMR FINAL DETERMINATION WAS MADE\n"
        "MAXIMUS Federal Services sent the case file to a Medical Doctor.\n"
        "State(s) of Licensure: California\n"
        "Certification(s)/Specialty: Family Practice; Occupational Medicine\n"
        "CLINICAL CASE SUMMARY\nThe patient is a 40 year old male.\n"
    )
    doc = nlp(text)
    row = doc_rows(doc, SourceDocument(doc_id="x", path="x", text=text))["documents"][0]
    assert {"reviewer_board", "reviewer_subspecialty"} <= set(DOCUMENT_COLUMNS)
    assert row["reviewer_specialties"] == "Family Practice;Occupational Medicine"
    assert (row["reviewer_board"], row["reviewer_subspecialty"]) == (
        "Family Medicine",
        "Occupational Medicine",
    )


def test_saved_pipeline_keeps_the_board_names(nlp, tmp_path):
    import spacy

    nlp.get_pipe("imr_reviewer").to_disk(tmp_path / "reviewer")
    blank = spacy.blank("en")
    pipe = blank.add_pipe("imr_reviewer")
    pipe.from_disk(tmp_path / "reviewer")
    assert pipe._boards == nlp.get_pipe("imr_reviewer")._boards
