"""Analysis-ready tables (issue 15): letter covariates of documents.csv, list columns as Arrow
lists, one typing for load_run and to_frames, datapackage.json, and the data dictionary
(resources/columns.csv) that drives them and the README's column tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import imr_extract
from imr_extract import columns, covariates
from imr_extract.export import TABLES, column_dtype

from conftest import ROOT, SAMPLES, read_sample

# ------------------------------------------------------------------ covariates (pure functions


def test_days_between_full_dates_only():
    assert covariates.days_between("2016-01-01", "2016-03-01") == 60
    assert covariates.days_between("2016-03-01", "2016-01-01") == -60  # kept as the letter says
    assert covariates.days_between("2016-01", "2016-03-01") is None  # a month is no day
    assert covariates.days_between(None, "2016-03-01") is None
    assert covariates.days_between("2016-02-30", "2016-03-01") is None
    dates = {
        "date_of_injury": "2015-01-01",
        "ur_denial_date": "2015-01-11",
        "application_received": "2015-02-10",
        "decision_date": "2015-03-12",
    }
    assert covariates.intervals(dates) == {
        "days_injury_to_ur": 10,
        "days_ur_to_application": 30,
        "days_application_to_decision": 30,
    }


def date(start, value, role="injury", section="clinical_case_summary", **flags):
    return {
        "label": "DATE",
        "start_char": start,
        "normalized": value,
        "role": role,
        "section": section,
        **flags,
    }


def test_injury_date_from_the_header_or_else_the_summary():
    ents = [
        date(50, "2012-03-14"),
        date(10, "2011-05-01", negated=True),  # not a fact
        date(20, "2010-05", role="injury"),  # a month only
        date(30, "2009-01-01", role="visit"),
        date(40, "2008-01-01", section="decisions"),
        date(60, "2013-01-01"),  # a later one: the first counts
    ]
    assert covariates.injury_date({}, ents) == {
        "date_of_injury": "2012-03-14",
        "date_of_injury_source": "summary",
    }
    assert covariates.injury_date({"date_of_injury": "2001-01-01"}, ents) == {
        "date_of_injury": "2001-01-01",
        "date_of_injury_source": "header",
    }
    assert covariates.injury_date({}, ents[1:5]) == {
        "date_of_injury": None,
        "date_of_injury_source": None,
    }


def test_reviewer_key_is_stable_order_free_and_not_a_name():
    a = covariates.reviewer_key(
        covariates.board_text(["Physical Medicine & Rehabilitation", "Pain Medicine"]),
        ["California", "Nevada"],
    )
    b = covariates.reviewer_key(
        covariates.board_text(["pain medicine", "Physical  Medicine and Rehabilitation"]),
        ["Nevada", "California"],
    )
    c = covariates.reviewer_key(covariates.board_text(["Pain Medicine"]), ["California"])
    assert a == b != c
    assert a.startswith("rv-") and len(a) == 13
    assert covariates.reviewer_key("", []) is None
    assert covariates.reviewer_key(None, [""]) is None


def pain(start, value, qualifier=None, section="clinical_case_summary", **flags):
    return {
        "label": "PAIN_SCORE",
        "start_char": start,
        "normalized": value,
        "qualifier": qualifier,
        "section": section,
        **flags,
    }


def test_pain_per_letter():
    ents = [
        pain(10, "8"),
        pain(20, "6-7", "with_medication"),  # a range counts at its upper end
        pain(30, "9", "without_medication"),
        pain(40, "10", "at_worst"),
        pain(50, "5", "at_best"),
        pain(60, "2", hypothetical=True),  # a goal, not a score
        pain(70, "1", negated=True),
        pain(80, "3", section="decisions"),  # the rationale restates or quotes: skipped
        pain(90, "8"),  # a repeat of the first mention
    ]
    assert covariates.letter_pain(ents) == {
        "pain_max": 10.0,
        "pain_latest": 8.0,
        "pain_with_medication": 7.0,
        "pain_without_medication": 9.0,
    }
    # the latest plain score in text order, whatever the list order
    assert covariates.letter_pain([pain(20, "4"), pain(10, "7.5")])["pain_latest"] == 4.0
    # no score in the summary: every section counts
    only_rationale = covariates.letter_pain([pain(5, "6-8", section="decisions")])
    assert only_rationale == {
        "pain_max": 8.0,
        "pain_latest": 8.0,
        "pain_with_medication": None,
        "pain_without_medication": None,
    }
    assert set(covariates.letter_pain([pain(1, "", None)]).values()) == {None}
    assert covariates.pain_bounds("6-8") == (6.0, 8.0)
    assert covariates.pain_bounds("12") is None


SUMMARY_HEAD = "The expert reviewer wrote this summary after reading the whole case file:"
SYNTHETIC_SUMMARY = """
The patient is a 44 year old male carpenter injured on 2/3/2011 when a ladder slipped.
On 1/5/2014 he rated his pain 8/10. At a visit on 6/1/2014 his pain was 6-7/10 with
medications and 9/10 without medications. He walks with a cane.

"""


def synthetic_2014_letter() -> str:
    """The synthetic 2014-15 sample (no header block) with a case summary of our own."""
    text = read_sample("sample_2014_seed_style.txt")
    head, rest = text.split(SUMMARY_HEAD, 1)
    tail = rest[rest.index("IMR ISSUES") :]
    return head + SUMMARY_HEAD + "\n" + SYNTHETIC_SUMMARY + tail


def test_documents_row_of_a_letter_without_a_header(nlp):
    doc = nlp(synthetic_2014_letter())
    row = imr_extract.to_frames([doc])["documents"].iloc[0]
    assert row.date_of_injury == pd.Timestamp("2011-02-03")
    assert row.date_of_injury_source == "summary"
    assert pd.isna(row.days_injury_to_ur)  # no UR date without a header
    assert (row.pain_max, row.pain_latest) == (9.0, 7.0)
    assert (row.pain_with_medication, row.pain_without_medication) == (7.0, 9.0)
    assert row.reviewer_key.startswith("rv-")


def test_documents_row_of_a_letter_with_a_header(nlp):
    doc = nlp(read_sample("CM16-9900001.txt"))
    row = imr_extract.to_frames([doc])["documents"].iloc[0]
    assert row.date_of_injury_source == "header"
    want = (row.ur_denial_date - row.date_of_injury).days
    assert row.days_injury_to_ur == want
    assert row.days_ur_to_application == (row.application_received - row.ur_denial_date).days
    assert row.days_application_to_decision == (row.decision_date - row.application_received).days


def test_a_warning_with_a_semicolon_stays_one_list_item():
    from imr_extract.export import join_items

    joined = join_items(["decoded as UTF-16; bytes replaced", "other"])
    assert joined.split(";") == ["decoded as UTF-16, bytes replaced", "other"]


# ------------------------------------------------------------------ the data dictionary


def test_columns_csv_covers_every_output_column_with_its_type():
    assert columns.problems() == []
    for table, cols in TABLES.items():
        described = columns.dictionary()[table]
        assert list(described) == cols  # TABLES order, whatever the file order
        for name, c in described.items():
            assert c.type == {"Int64": "integer", "Float64": "number", "boolean": "boolean"}.get(
                column_dtype(name), "string"
            ), (table, name)
            assert c.description, (table, name)


def test_problems_catch_a_missing_column_and_a_wrong_type(monkeypatch):
    monkeypatch.setitem(columns.TABLES, "reasons", [*TABLES["reasons"], "new_column"])
    assert columns.problems() == ["reasons.new_column is not in columns.csv"]
    monkeypatch.undo()
    monkeypatch.setattr(columns, "column_dtype", lambda c: "Int64" if c == "reason" else "string")
    assert any("reasons.reason" in p and "integer" in p for p in columns.problems())


def test_columns_csv_keeps_its_header():
    header = (ROOT / "pipeline/imr_extract/resources/columns.csv").read_text().splitlines()[0]
    assert header == "table,column,type,list,description,values"


def test_readme_column_tables_are_generated_from_columns_csv():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert columns.sync_readme(readme) == readme, "run `make readme`"
    for table in TABLES:
        block = readme.split(columns.README_MARK.format(table=table, edge="start"))[1]
        assert block.split(columns.README_MARK.format(table=table, edge="end"))[0].strip()


def test_readme_check_fails_when_a_description_changes(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert columns.main([str(readme), "--check"]) == 0
    first = columns.dictionary()["reasons"]["evidence"]
    changed = [
        columns.Column(**{**c.__dict__, "description": "CHANGED"}) if c == first else c
        for c in columns._rows()
    ]
    monkeypatch.setattr(columns, "_rows", lambda: tuple(changed))
    assert columns.main([str(readme), "--check"]) == 1
    assert columns.main([str(readme)]) == 0
    assert "| evidence | CHANGED |" in readme.read_text(encoding="utf-8")


def test_closed_sets_hold_what_the_rules_can_give():
    from imr_extract.rules import packaged_rules

    enum = {
        t: {n: set(c.values) for n, c in cols.items()} for t, cols in columns.dictionary().items()
    }
    assert {r["item_type"] for r in packaged_rules("procedures.csv")} <= enum["entities"][
        "item_type"
    ]
    assert {r["code"] for r in packaged_rules("reason_codes.csv")} == enum["reasons"]["reason"]
    roles = {r["role"] for r in packaged_rules("date_roles.jsonl")}
    assert roles <= enum["entities"]["role"]
    qualifiers = {r["qualifier"] for r in packaged_rules("pain_qualifiers.jsonl")}
    assert qualifiers == enum["entities"]["qualifier"]


def test_list_flags_follow_the_columns_csv():
    assert "warnings" in columns.list_columns("documents")
    assert {"ingredients", "strength", "reasons", "maximus_pages"} <= set(
        columns.list_columns("decisions")
    )
    assert {"pages", "sections", "section_key"} <= set(columns.list_columns("citations"))
    assert "section" not in columns.list_columns("citations")
    assert "section" in columns.category_columns("entities")
    assert "section" not in columns.category_columns("citations")


# ------------------------------------------------------------------ runs: Parquet, CSV, datapackage


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from imr_extract.runner import run

    base = tmp_path_factory.mktemp("tables")
    for fmt in ("csv", "parquet", "both"):
        run([SAMPLES], base / fmt, fmt=fmt, progress=False)
    return base


def test_parquet_holds_arrow_lists_and_the_csv_keeps_strings(runs):
    import pyarrow as pa
    import pyarrow.parquet as pq

    for table in TABLES:
        schema = pq.read_schema(runs / "both" / f"{table}.parquet")
        for name in TABLES[table]:
            is_list = pa.types.is_list(schema.field(name).type)
            assert is_list == (name in columns.list_columns(table)), (table, name)
    csv = pd.read_csv(runs / "both" / "decisions.csv", dtype=str)
    assert csv.ingredients.dropna().str.contains(";").any()
    # a plain pandas reader gets lists too (not a dtype it cannot read)
    plain = pd.read_parquet(runs / "both" / "decisions.parquet")
    compound = plain.ingredients[plain.ingredients.map(len) > 1].iloc[0]
    assert all(isinstance(x, str) for x in compound)


def test_load_run_and_to_frames_give_the_same_tables(runs, nlp):
    from_csv = imr_extract.load_run(runs / "csv")
    from_parquet = imr_extract.load_run(runs / "parquet")
    sources = imr_extract.read_corpus([SAMPLES])
    frames = imr_extract.to_frames(imr_extract.pipe_documents(nlp, sources))
    for table in TABLES:
        a, b, c = from_csv[table], from_parquet[table], frames[table]
        assert list(a.columns) == list(c.columns) == TABLES[table]
        assert a.dtypes.to_dict() == b.dtypes.to_dict() == c.dtypes.to_dict(), table
        pd.testing.assert_frame_equal(a, b)
        skip = ["path", "text_file"]  # where the run found and wrote the letter
        pd.testing.assert_frame_equal(
            a.drop(columns=skip, errors="ignore"), c.drop(columns=skip, errors="ignore")
        )
    decisions = from_parquet["decisions"]
    for name in columns.list_columns("decisions"):
        assert str(decisions[name].dtype) == "list<item: string>[pyarrow]", name
    assert isinstance(from_parquet["entities"].section.dtype, pd.CategoricalDtype)
    assert from_parquet["citations"].section.dtype == "string"
    assert isinstance(from_parquet["decisions"].outcome.dtype, pd.CategoricalDtype)
    assert from_parquet["documents"].pain_max.dtype == "Float64"
    assert from_parquet["documents"].days_injury_to_ur.dtype == "Int64"


def test_a_table_without_a_list_column_loads_it_as_empty_lists():
    df = pd.DataFrame({"doc_id": ["a"], "status": ["ok"]})  # e.g. a run of an older version
    out = columns.loaded("documents", df)
    assert list(out.columns) == TABLES["documents"]
    assert out.warnings.tolist() == [[]]
    assert str(out.warnings.dtype) == "list<item: string>[pyarrow]"
    assert pd.isna(out.pain_max.iloc[0])


def test_explode_gives_one_row_per_element(runs):
    decisions = imr_extract.load_run(runs / "parquet")["decisions"]
    long = imr_extract.explode(decisions, "ingredients")
    n = decisions.ingredients.list.len().clip(lower=1).sum()
    assert len(long) == n
    assert long.ingredients.dtype == "string"
    every = {x for items in decisions.ingredients for x in items}
    assert set(long.ingredients.dropna()) == every and len(every) > 1
    assert long.doc_id.tolist()[: len(decisions)] != [] and long.index.is_monotonic_increasing
    raw = pd.DataFrame({"k": [1, 2, 3], "v": ["a;b", "", None]})
    assert imr_extract.explode(raw, "v").v.tolist()[:2] == ["a", "b"]
    assert len(imr_extract.explode(raw, "v")) == 4  # an empty list keeps its row


def test_every_run_writes_its_datapackage(runs):
    for fmt, suffixes in (("csv", ["csv"]), ("parquet", ["parquet"]), ("both", ["csv", "parquet"])):
        manifest = json.loads((runs / fmt / "manifest.json").read_text())
        assert "datapackage.json" in manifest["table_files"]
        package = json.loads((runs / fmt / "datapackage.json").read_text())
        paths = [r["path"] for r in package["resources"]]
        assert paths == [f"{t}.{s}" for t in TABLES for s in suffixes]
        names = [r["name"] for r in package["resources"]]
        assert len(set(names)) == len(names)
        assert all(r["name"] == r["name"].lower() for r in package["resources"])


def test_datapackage_schema_describes_every_column(runs):
    package = json.loads((runs / "both" / "datapackage.json").read_text())
    assert package["$schema"].startswith("https://datapackage.org/profiles/2.")
    for resource in package["resources"]:
        table = resource["path"].split(".")[0]
        schema = resource["schema"]
        assert schema["missingValues"] == [""]
        fields = {f["name"]: f for f in schema["fields"]}
        assert list(fields) == TABLES[table]  # a column missing from the schema fails here
        for name, field in fields.items():
            c = columns.dictionary()[table][name]
            assert field["description"] == c.description
            if c.is_list:
                assert field["type"] == "list" and field["itemType"] == "string"
                assert field.get("delimiter") == (";" if resource["format"] == "csv" else None)
            else:
                assert field["type"] == c.type
            assert field.get("constraints", {}).get("enum", []) == list(c.values)


def test_csv_values_keep_to_the_datapackage(runs):
    """Every value of a closed set in the sample run is one of the schema's enum values, and
    every number column parses as its type: the schema describes what the run wrote."""
    package = json.loads((runs / "csv" / "datapackage.json").read_text())
    for resource in package["resources"]:
        df = pd.read_csv(runs / "csv" / resource["path"], dtype=str, keep_default_na=False)
        for field in resource["schema"]["fields"]:
            values = set(df[field["name"]]) - {""}
            if "enum" in field.get("constraints", {}):
                assert values <= set(field["constraints"]["enum"]), (resource["name"], field)
            if field["type"] == "integer":
                assert all(v.lstrip("-").isdigit() for v in values), field["name"]
            if field["type"] == "number":
                assert all(float(v) == float(v) for v in values), field["name"]


def test_an_old_run_without_a_datapackage_still_loads(runs, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(runs / "csv", old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["table_files"]["datapackage.json"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    (old / "datapackage.json").unlink()
    assert len(imr_extract.load_run(old)["documents"]) == 3


def test_pain_and_summary_injury_date_against_the_dev_gold(corpus):
    """documents.csv's pain per letter and summary injury date agree with the same rules run
    on the gold entities (annotations/entities.jsonl, dev split; `make eval` prints them)."""
    from imr_extract.evaluate_entities import evaluate_entities

    _, checks = evaluate_entities(
        ROOT / "annotations" / "entities.jsonl", corpus, ROOT / "annotations" / "decisions.jsonl"
    )
    rate = {name: sum(v) / len(v) for name, v in checks["dev"].items() if v}
    assert rate["pain_max (letter)"] >= 0.9
    assert rate["pain_latest (letter)"] >= 0.95
    assert rate["injury date from summary (letter)"] == 1.0
    assert len(checks["dev"]["pain_max (letter)"]) >= 35


def test_frictionless_validates_the_csv_resources(runs):
    """frictionless-py (a dev dependency) finds every CSV table of a run valid against its
    datapackage.json: types, list columns, enums, missing values. Each resource is validated
    on its own: validating the package as a whole fetches its `$schema` profile from the web."""
    import frictionless

    package = frictionless.Package(str(runs / "csv" / "datapackage.json"))
    assert sorted(r.name for r in package.resources) == sorted(TABLES)
    for resource in package.resources:
        report = frictionless.validate(resource)
        assert report.valid, report.flatten(["fieldName", "note"])[:5]
