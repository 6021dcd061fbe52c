"""Reason codes as output: the taxonomy contract, reasons.csv, the decisions columns, ConText
polarity, depends_on, report and show."""

import csv

import pandas as pd
import pytest

from imr_extract.components.reasons import REASON_CODES
from imr_extract.export import REASON_COLUMNS, TABLES, doc_rows
from imr_extract.ingest import SourceDocument
from imr_extract.runner import run
from test_reasons import block, letter_text, reasons

from conftest import ROOT, SAMPLES, read_sample

TAXONOMY = ROOT / "pipeline" / "imr_extract" / "resources" / "reason_codes.csv"
ISSUE_CODES = [  # the contract of issue 13, in taxonomy order
    "not_recommended",
    "first_line_not_tried",
    "no_functional_improvement",
    "criteria_not_documented",
    "exceeds_guideline",
    "opioid_monitoring",
    "request_incomplete",
    "depends_on_denied",
    "weaning",
    "criteria_met",
    "other",
]


def test_the_taxonomy_file_holds_exactly_the_issue_codes_and_the_readme_lists_them():
    lines = [line for line in TAXONOMY.read_text().splitlines() if not line.startswith("#")]
    assert [row["code"] for row in csv.DictReader(lines)] == ISSUE_CODES == REASON_CODES
    assert TAXONOMY.read_text().startswith("# source:")
    readme = (ROOT / "README.md").read_text()
    for code in ISSUE_CODES:
        assert f"| `{code}` |" in readme, code


def test_every_decision_gets_codes_with_evidence_inside_its_rationale(nlp):
    text = read_sample("CM16-9900001.txt")
    doc = nlp(text)
    rows = doc_rows(doc, SourceDocument(doc_id="x", path="x", text=text))
    assert list(TABLES["reasons"]) == REASON_COLUMNS
    decisions = pd.DataFrame(rows["decisions"])
    reasons = pd.DataFrame(rows["reasons"])
    assert set(reasons.decision_index) == set(decisions.decision_index)
    assert set(reasons.reason) <= set(REASON_CODES)
    for r in reasons.itertuples():
        d = decisions[decisions.decision_index == r.decision_index].iloc[0]
        assert d.start_char <= r.start_char < r.end_char <= d.end_char
        assert " ".join(text[r.start_char : r.end_char].split()) == r.evidence
    # decisions.reasons is the same codes, in taxonomy order
    for d in decisions.itertuples():
        codes = reasons[reasons.decision_index == d.decision_index].reason.tolist()
        assert d.reasons == ";".join(sorted(codes, key=REASON_CODES.index))
    assert decisions.set_index("decision_index").loc[0, "reasons"] == "not_recommended"
    assert decisions.set_index("decision_index").loc[1, "reasons"] == "criteria_met"


def test_context_tells_negated_from_affirmed_findings(nlp):
    blocks = (
        block(
            "Norco 10/325mg #120",
            "Upheld",
            "The patient has used Norco for months. There is no documentation of objective "
            "functional improvement with it. The request is not medically necessary.",
        ),
        block(
            "Norco 10/325mg #60",
            "Overturned",
            "The patient has used Norco for months. There is documentation of objective "
            "functional improvement and a current urine drug screen. The request is medically "
            "necessary.",
        ),
    )
    found = {index: list(codes) for index, codes in reasons(nlp, *blocks).items()}
    assert "no_functional_improvement" in found[0]
    assert "no_functional_improvement" not in found[1]
    assert "opioid_monitoring" not in found[1]
    assert found[1] == ["criteria_met"]


def test_a_dependent_item_names_the_decision_it_depends_on(nlp):
    text = letter_text(
        block(
            "Right shoulder arthroscopy",
            "Upheld",
            "There are no imaging findings of a rotator cuff tear. The surgery is not medically "
            "necessary.",
        ),
        block(
            "Post-operative physical therapy, twelve sessions",
            "Upheld",
            "As the right shoulder arthroscopy is not medically necessary, the associated "
            "post-operative physical therapy is not medically necessary either.",
        ),
    )
    doc = nlp(text)
    rows = doc_rows(doc, SourceDocument(doc_id="x", path="x", text=text))
    second = rows["decisions"][1]
    assert "depends_on_denied" in second["reasons"].split(";")
    assert second["depends_on_decision_index"] == 0


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reasons") / "out"
    run([SAMPLES], out, progress=False)
    return out


def test_a_run_writes_reasons_csv_and_the_report_and_page_show_them(sample_run, tmp_path):
    from imr_extract.report import build_report
    from imr_extract.show import show

    reasons = pd.read_csv(sample_run / "reasons.csv")
    assert list(reasons.columns) == REASON_COLUMNS and len(reasons)
    decisions = pd.read_csv(sample_run / "decisions.csv")
    assert decisions.reasons.notna().all()
    page = build_report(sample_run)
    assert "Outcomes by reason code" in page and "Reason codes by item type" in page
    html = show(SAMPLES / "CM16-9900001.txt", tmp_path / "x.html").read_text()
    assert 'title="not_recommended"' in html and "<mark" in html
