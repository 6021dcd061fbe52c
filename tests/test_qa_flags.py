"""Letters whose decisions section is odd: the run keeps going, says why, and flags the shape."""

import ast
import re

import pytest

from imr_extract.cli import main
from imr_extract.export import doc_rows
from imr_extract.ingest import SourceDocument
from imr_extract.qa import QA_FLAGS

from conftest import ROOT

HEAD = """Case Number: CM16-9900077
Date Assigned: 03/02/2016 Date of Injury: 05/17/2013
Decision Date: 04/01/2016 UR Denial Date: 02/20/2016
Priority: Standard Application
Received:
02/26/2016
HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services sent the complete case file to an expert reviewer.
CLINICAL CASE SUMMARY
The injured worker is a 51-year-old female with low back pain rated 7 out of 10.
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
"""


def item(line: str, rationale: str = "Guidelines do not support it. It is not necessary.") -> str:
    return (
        f"{line}\n"
        "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment\n"
        "2016, Section(s): Muscle relaxants.\n"
        "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016,\n"
        "Section(s): Muscle relaxants.\n"
        f"Decision rationale: {rationale}\n"
    )


def rows(nlp, body: str) -> dict:
    text = HEAD + body
    source = SourceDocument(doc_id="synthetic", path="synthetic.txt", text=text)
    return doc_rows(nlp(text), source)


@pytest.mark.parametrize("outcome", ["Upheld .", "Upheld\u200b", "Upheld\u2003", "Upheld\u00a0"])
@pytest.mark.parametrize("separator", [":  ", " - "])
def test_off_outcome_line_is_a_decision_not_part_of_the_rationale(nlp, separator, outcome):
    body = item("Norco 10/325mg #60: Overturned", "Reasonable for now.")
    body += item(f"FEXMID 7.5 MG #30{separator}{outcome}")
    out = rows(nlp, body)
    doc = out["documents"][0]
    assert (doc["status"], doc["n_decisions"], doc["qa_flags"]) == ("ok", 2, "")
    assert [d["item"] for d in out["decisions"]] == ["Norco 10/325mg #60", "FEXMID 7.5 MG #30"]
    assert out["decisions"][0]["rationale"] == "Reasonable for now."


def test_zero_recognisable_decisions_is_a_plain_error(nlp):
    out = rows(nlp, "Norco 10/325mg #60 was requested.\nDecision rationale: Not needed.\n")
    doc = out["documents"][0]
    assert doc["status"] == "error"
    assert doc["error"] == "no decisions found under 'IMR ISSUES, DECISIONS AND RATIONALES'"


def test_letter_cut_right_after_an_outcome_keeps_its_decisions_and_is_flagged(nlp):
    out = rows(nlp, item("Soma 350mg #90: Upheld") + "Xanax 1mg #30: Overturned")
    doc = out["documents"][0]
    assert (doc["status"], doc["n_decisions"], doc["qa_flags"]) == ("ok", 2, "missing_rationale")
    assert out["decisions"][1]["rationale"] is None


def test_letter_cut_mid_rationale_is_flagged(nlp):
    out = rows(nlp, item("Soma 350mg #90: Upheld", "The drug is not recommended for longer"))
    doc = out["documents"][0]
    assert (doc["status"], doc["qa_flags"]) == ("ok", "truncated_rationale")


def test_orphan_outcome_line_and_repeated_label_are_flagged(nlp):
    body = item("Soma 350mg #90: Upheld") + item("Xanax 1mg #30, Upheld")
    doc = rows(nlp, body)["documents"][0]
    assert (doc["status"], doc["n_decisions"]) == ("ok", 1)
    assert doc["qa_flags"] == "orphan_outcome_line;repeated_part_label"


@pytest.mark.parametrize("body", ["Norco 10/325mg #60 was requested.\n", "Soma 350mg #90: Upheld"])
def test_show_says_why_in_one_line(tmp_path, capsys, body):
    letter = tmp_path / "cut.txt"
    letter.write_text(HEAD + body)
    code = main(["show", str(letter), "--out", str(tmp_path / "cut.html")])
    printed = capsys.readouterr()
    if "Upheld" in body:  # a decision was found: the page is written
        assert code == 0 and (tmp_path / "cut.html").exists()
        return
    assert code == 1
    assert printed.err.strip().splitlines() == [
        f"imr-extract: {letter}: no decisions found under 'IMR ISSUES, DECISIONS AND RATIONALES'"
    ]
    assert "zip" not in printed.err + printed.out


def _codes_in_package() -> set[str]:
    """String constants of the package that name a code, and every literal add_qa_flag gets."""
    found, literal_calls = set(), set()
    for path in (ROOT / "pipeline" / "imr_extract").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in QA_FLAGS:
                found.add(node.value)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "add_qa_flag":
                code = node.args[1] if len(node.args) > 1 else None
                if isinstance(code, ast.Constant):
                    literal_calls.add(code.value)
    return found | literal_calls


def test_qa_flags_csv_and_the_code_agree():
    from imr_extract.components.decisions import QA_CODES

    assert set(QA_CODES) <= set(QA_FLAGS)
    assert _codes_in_package() == set(QA_FLAGS)  # no listed code that nothing raises


def test_readme_lists_every_qa_flag_with_its_meaning():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^\| qa_flags \|", readme, re.M)  # the documents.csv column
    section = readme.split("### qa_flags", 1)[1].split("\n#", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \| (.+) \|$", section, re.M)
    assert listed == list(QA_FLAGS.items())
