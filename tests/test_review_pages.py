"""What the review pages say: show's hover titles, citations, paragraphs and offsets; the
report's run facts, clustered intervals, small groups and coded sections; the statistics."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest

import imr_extract
from imr_extract.report import build_report, render_report
from imr_extract.show import render_letter, wrapped_line_breaks
from imr_extract.stats import (
    clustered_interval,
    design_effect,
    explode_values,
    letter_icc,
    outcome_rates,
    wilson,
)

from conftest import SAMPLES, read_sample


class LetterText(HTMLParser):
    """The text of the letter's `div.entities` blocks, each mark's own text (its label left
    out) and the mark titles, from a show page."""

    def __init__(self):
        super().__init__()
        self.depth = 0  # inside div.entities
        self.in_mark = self.in_label = False
        self.text, self.marks, self.titles, self.citations = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("class") == "entities":
            self.depth += 1
        elif self.depth and tag == "mark":
            self.in_mark = True
            self.marks.append("")
            self.titles.append(attrs.get("title", ""))
        elif self.depth and tag == "span" and self.in_mark:
            self.in_label = True
        elif self.depth and tag == "span" and attrs.get("class") == "citation":
            self.citations.append(attrs.get("title", ""))
        elif self.depth and tag == "br":
            self.text.append("\n")

    def handle_endtag(self, tag):
        if tag == "div" and self.depth:
            self.depth -= 1
        elif tag == "mark":
            self.in_mark = False
        elif tag == "span" and self.in_label:
            self.in_label = False

    def handle_data(self, data):
        if not self.depth or self.in_label:
            return
        self.text.append(data)
        if self.in_mark:
            self.marks[-1] += data


def parse(page: str) -> LetterText:
    parser = LetterText()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def sample_doc(nlp):
    return nlp(read_sample("CM16-9900001.txt"))


def test_show_entities_say_label_value_context_and_date_role(nlp):
    doc = nlp(read_sample("CM16-9900001.txt"))
    (injury,) = [e for e in doc.ents if e.label_ == "DATE" and e._.imr_role == "injury"][:1]
    flagged = next(e for e in doc.ents if e.label_ == "DIAGNOSIS")
    flagged._.imr_negated = True
    flagged._.imr_historical = True
    page = parse(render_letter(doc, "synthetic"))
    by_text = dict(zip(page.marks, page.titles, strict=True))
    assert (
        by_text[injury.text] == "DATE | normalised: 2015-02-09 | context: none | date role: injury"
    )
    title = by_text[" ".join(flagged.text.split())]
    assert title.startswith("DIAGNOSIS | normalised: ") and "context: negated, historical" in title
    drug = by_text["Flurbiprofen"]
    assert drug.startswith("MEDICATION | normalised: flurbiprofen") and "date role" not in drug


def test_show_marks_sit_on_the_entity_offsets_and_no_character_is_lost(sample_doc):
    page = parse(render_letter(sample_doc, "synthetic"))
    assert len(page.marks) == len(sample_doc.ents)
    for mark, ent in zip(page.marks, sample_doc.ents, strict=True):
        assert mark.split() == ent.text.split()
    assert "".join(page.text).split() == sample_doc.text.split()


def test_show_joins_wrapped_lines_into_paragraphs(sample_doc):
    page = parse(render_letter(sample_doc, "synthetic"))
    text = "".join(page.text)
    paragraphs = [" ".join(p.split()) for p in text.split("\n")]
    # a sentence the synthetic letter wraps over three lines reads as one paragraph
    assert (
        "Decision rationale: Compounded products that contain at least one drug that is not "
        "recommended are not recommended. Topical baclofen is not recommended, so the cream is "
        "not medically necessary." in paragraphs
    )
    # headings and fields keep their own lines
    assert (
        "CLINICAL CASE SUMMARY" in paragraphs
        and "IMR ISSUES, DECISIONS AND RATIONALES" in paragraphs
    )
    assert any(p.startswith("MAXIMUS guideline:") for p in paragraphs)
    assert text.count("\n") < 0.6 * sample_doc.text.count("\n")  # 27 of 52 in the sample


def test_wrapped_line_breaks_rules():
    wide = "x" * 70
    text = "\n".join(
        [
            "SHORT HEADING",
            f"{wide} a sentence that the",  # full line, continued: wrapped
            f"page wrapped here and {wide}",  # full line, next is a field: kept
            "Decision rationale: a field starts its own line.",
            "short line.",  # short: kept
            f"{wide} the next line is a heading",
            "HEADING IN CAPITALS",
        ]
    )
    breaks = [i for i, c in enumerate(text) if c == "\n"]
    assert wrapped_line_breaks(text) == {breaks[1]}
    assert wrapped_line_breaks("one\ntwo") == set()


def test_show_highlights_citations_and_heads_the_summary_table(sample_doc):
    html = render_letter(sample_doc, "synthetic")
    page = parse(html)
    assert len(page.citations) >= 6  # claims administrator's and MAXIMUS's, every decision
    assert any(t.startswith("citation: maximus | ") for t in page.citations)
    assert "<th>partial</th>" in html and "<th></th>" not in html
    assert html.count('<td class="outcome upheld">Upheld</td>') == 3
    assert html.count('<td class="outcome overturned">Overturned</td>') == 1
    assert re.search(r"td\.outcome\.upheld \{ background: #c0392b", html)


def test_show_nests_marks_and_citations(sample_doc):
    """Every tag closes in the order it opened, so a citation never cuts through a mark."""
    html = render_letter(sample_doc, "synthetic")
    stack = []
    for closing, tag in re.findall(r"<(/?)(mark|span|div|section)\b", html):
        if closing:
            assert stack and stack.pop() == tag
        else:
            stack.append(tag)
    assert not stack


# --- the report ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    imr_extract.run_corpus([str(SAMPLES)], out, progress=False)
    return out


def test_report_names_the_run_and_explains_its_intervals(sample_run):
    html = build_report(sample_run)
    manifest = (sample_run / "manifest.json").read_text()
    finished = re.search(r'"finished_at": "([^"]+)"', manifest).group(1)
    assert f"<dt>run finished</dt><dd>{finished}</dd>" in html
    assert f"<dd>imr-extract {imr_extract.__version__}</dd>" in html
    assert "3 documents: 3 read, 0 failed; 9 decisions" in html
    assert "design effect" in html and "clustered by letter" in html
    assert html.count("tick: its 95% interval") == html.count("<th>95% CI</th>") > 3
    # the samples are 9 decisions: every group is under 10, greyed, and no bar is drawn
    assert '<div class="bar">' not in html and "<tr class=small>" in html
    # the body part and ICD sections are there exactly when the run has their columns
    header = (sample_run / "decisions.csv").read_text().splitlines()[0].split(",")
    assert ("Outcomes by body part (WCIO)" in html) == ("body_part_code" in header)
    assert ("ICD-10-CM category" in html) == ("primary_icd10cm" in header)


def synthetic_tables(n_letters: int = 14, per_letter: int = 3) -> dict[str, pd.DataFrame]:
    """A run's tables as load_run gives them, made up: overturns all in two letters."""
    rows = []
    for letter in range(n_letters):
        for i in range(per_letter):
            k = letter * per_letter + i
            rows.append(
                {
                    "doc_id": f"L{letter:02d}",
                    "decision_index": i,
                    "outcome": "Overturned" if letter < 2 else "Upheld",
                    "item_type": "imaging" if i < 2 else "surgery",
                    "reasons": "criteria_met" if letter < 2 else "not_recommended;other",
                    "drug_class": ["opioid", "NSAID"] if i == 0 else [],
                    "ingredients": "",
                    "body_part_code": [42, 53, None][i],
                    "body_part": ["lower back area", "knee", None][i],
                    "primary_icd10cm": f"M{50 + k % 20}.1" if k % 7 else None,
                }
            )
    decisions = pd.DataFrame(rows)
    decisions["outcome"] = decisions["outcome"].astype("category")
    documents = pd.DataFrame(
        {
            "doc_id": [f"L{i:02d}" for i in range(n_letters)],
            "status": "ok",
            "error": None,
            "reviewer_specialties": "Orthopedic Surgery",
        }
    )
    citations = pd.DataFrame(
        {"doc_id": [], "decision_index": [], "source": [], "guideline": [], "section": []}
    )
    return {"documents": documents, "decisions": decisions, "citations": citations}


def test_report_outcome_by_body_part_and_icd_category_with_counts():
    tables = synthetic_tables()
    html = render_report(tables, {}, "synthetic")
    body = html[html.index("Outcomes by body part (WCIO)") :]
    body = body[: body.index("</table>")]
    # 14 decisions each; 2 of 14 letters overturned everything
    assert re.search(
        r"<tr><td>42 lower back area</td><td class=n>14</td><td class=n>14</td>"
        r"<td class=n>2</td>",
        body,
    )
    assert "<td>53 knee</td>" in body and "<td>(not coded)</td>" in body
    assert '<div class="bar">' in body  # 14 decisions: a bar is drawn
    icd = html[html.index("ICD-10-CM category of the primary diagnosis (top 15)") :]
    icd = icd[: icd.index("</table>")]
    assert icd.count("<tr") == 1 + 15  # the header and the top 15 of 21 categories
    assert re.search(r"<td>M5\d", icd) and "(not coded)" in icd
    assert "M51.1" not in icd  # the category, not the code


def test_report_skips_coded_sections_only_for_the_columns_a_run_lacks():
    tables = synthetic_tables()
    tables["decisions"] = tables["decisions"].drop(columns=["primary_icd10cm"])
    html = render_report(tables, {}, "synthetic")
    assert "Outcomes by body part (WCIO)" in html and "ICD-10-CM" not in html
    tables["decisions"] = tables["decisions"].drop(columns=["body_part_code", "body_part"])
    assert "Outcomes by body part" not in render_report(tables, {}, "synthetic")


def test_report_intervals_are_clustered_by_letter():
    tables = synthetic_tables()
    html = render_report(tables, {}, "synthetic")
    # overall 6 of 42 overturned; a plain Wilson interval would be 7%-28%
    plain = wilson(6, 42)
    low, high, deff = clustered_interval(
        tables["decisions"].outcome == "Overturned",
        tables["decisions"].doc_id,
        letter_icc(tables["decisions"].outcome == "Overturned", tables["decisions"].doc_id),
    )
    assert deff > 2 and low < plain[0] and high > plain[1]
    assert f"95% CI {low:.1%}&ndash;{high:.1%}" in html
    assert "2 letters hold the overturns" in html


def test_report_greys_small_groups_without_a_bar():
    tables = synthetic_tables(n_letters=6)  # surgery: 6 decisions, 2 of them overturned
    html = render_report(tables, {}, "synthetic")
    section = html[html.index("Outcomes by item type") :]
    section = section[: section.index("</table>")]
    row = re.search(r"<tr class=small><td>surgery</td>.*?</tr>", section).group(0)
    assert "<td class=n>6</td>" in row and "<div" not in row
    assert re.search(r"<tr><td>imaging</td>.*?<div class=\"bar\">", section)


def test_report_renders_lists_from_parquet_like_frames():
    tables = synthetic_tables()
    html = render_report(tables, {}, "synthetic")
    assert "<td>opioid</td><td class=n>14</td>" in html  # real lists, exploded


# --- the statistics --------------------------------------------------------------------------


def test_intra_letter_correlation():
    letters = pd.Series([f"L{i // 3}" for i in range(30)])
    same = pd.Series([i // 3 < 3 for i in range(30)])  # whole letters overturned
    assert letter_icc(same, letters) == pytest.approx(1.0)
    mixed = pd.Series([i % 3 == 0 for i in range(30)])  # one per letter: no clustering
    assert letter_icc(mixed, letters) == 0.0
    assert letter_icc(pd.Series([True]), pd.Series(["a"])) == 0.0


def test_design_effect_and_interval():
    assert design_effect([1, 1, 1], 0.9) == 1.0  # one decision per letter
    assert design_effect([4], 0.5) == pytest.approx(2.5)
    assert design_effect([], 0.5) == 1.0
    # one letter of four decisions, three overturned: far wider than the plain interval
    low, high, deff = clustered_interval(pd.Series([1, 1, 1, 0]), pd.Series(["a"] * 4), 0.6)
    plain = wilson(3, 4)
    assert deff == pytest.approx(2.8) and low < plain[0] and high >= plain[1]
    # a group all one outcome still has an interval (a bootstrap would give a point)
    low, high, _ = clustered_interval(pd.Series([0] * 12), pd.Series(list("aabbccddeeff")), 0.5)
    assert low == 0.0 and high > 0.2


def test_outcome_rates_table():
    frame = pd.DataFrame(
        {
            "doc_id": [f"L{i // 2}" for i in range(24)],
            "outcome": ["Overturned" if i < 4 else "Upheld" for i in range(24)],
            "kind": ["a"] * 16 + ["b"] * 8,
        }
    )
    table = outcome_rates(frame, "kind")
    assert list(table.index) == ["a", "b"]
    assert table.loc["a", ["n", "letters", "overturned"]].tolist() == [16, 8, 4]
    assert not table.loc["a", "small"] and table.loc["b", "small"]
    assert 0 <= table.loc["a", "low"] < 0.25 < table.loc["a", "high"] <= 1
    assert outcome_rates(frame, "absent").empty


def test_explode_values_takes_lists_and_joined_strings():
    frame = pd.DataFrame({"x": ["a;b", None, ["c", "d"], "", pd.NA], "k": range(5)})
    assert explode_values(frame, "x").x.tolist() == ["a", "b", "c", "d"]
    assert explode_values(frame, "x").k.tolist() == [0, 0, 2, 2]


def test_report_of_a_run_with_a_failed_letter(tmp_path):
    letters = tmp_path / "in"
    shutil.copytree(SAMPLES, letters)
    (letters / "broken.txt").write_text("Nothing here is a determination letter.\n")
    imr_extract.run_corpus([str(letters)], tmp_path / "out", progress=False)
    html = build_report(tmp_path / "out")
    assert "4 documents: 3 read, 1 failed" in html and "broken" in html
