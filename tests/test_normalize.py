import pytest

from imr_extract.normalize.dates import parse_date
from imr_extract.normalize.text import normalize_text, squash
from imr_extract.rules import packaged_rules

FURNITURE = packaged_rules("page_furniture.jsonl")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("5/28/2010", "2010-05-28"),
        ("10-13-16", "2016-10-13"),
        ("12/11/14", "2014-12-11"),
        ("1-3-17", "2017-01-03"),
        ("01/05/1998", "1998-01-05"),
        ("6/2/85", "1985-06-02"),
        ("December 2014", "2014-12"),
        ("October 10, 2015", "2015-10-10"),
        ("13/01/2016", None),
        ("2/30/2016", None),
        ("not a date", None),
    ],
)
def test_parse_date(text, iso):
    assert parse_date(text) == iso


def test_double_spaced_letter_is_collapsed_and_paragraphs_kept():
    raw = "Title \n\nline one \n\nline two \n\n \n\nNext paragraph \n\nend \n\n"
    assert normalize_text(raw) == "Title\nline one\nline two\n\nNext paragraph\nend"


def test_single_spaced_text_keeps_its_blank_lines():
    raw = "a\r\nb\r\n\r\nc\r\nd\r\ne\r\nf\r\ng"
    assert normalize_text(raw) == "a\nb\n\nc\nd\ne\nf\ng"


def test_page_breaks_and_pdf_hyphen_markers():
    raw = "Decision rationale: the request\fwas reviewed. A non\ufffecertified item."
    assert normalize_text(raw) == (
        "Decision rationale: the request\nwas reviewed. A non-certified item."
    )


def test_page_furniture_removed():
    raw = "MAXIMUS guideline: Muscle\nFinal\nRelaxants Page(s): 63.\nboth Final\nshould be used"
    assert normalize_text(raw, FURNITURE) == (
        "MAXIMUS guideline: Muscle\nRelaxants Page(s): 63.\nboth\nshould be used"
    )


def test_final_in_a_sentence_is_kept():
    text = "The Final Determination was based on decisions\nFinal\nOK"
    assert normalize_text(text, FURNITURE) == "The Final Determination was based on decisions\nOK"


def test_squash():
    assert squash("  a\n  b\tc ") == "a b c"
