"""`imr-extract run` end to end: the output contract, bad input, atomic writes, parallelism."""

import json
import shutil

import pandas as pd
import pytest

from imr_extract.cli import main
from imr_extract.export import (
    CITATION_COLUMNS,
    DECISION_COLUMNS,
    DOCUMENT_COLUMNS,
    ENTITY_COLUMNS,
)

from conftest import FIXTURES, SAMPLES
from pdfgen import SAMPLE_PAGES, make_pdf


@pytest.fixture
def mixed_inputs(tmp_path):
    """The samples plus one file of every kind of bad input."""
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder)
    bad = folder / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "garbage.txt").write_bytes(bytes(range(256)) * 8)
    (bad / "cp1252.txt").write_bytes(
        (SAMPLES / "CM16-9900001.txt").read_text().replace("clinical", "clínical").encode("cp1252")
    )
    (bad / "truncated.pdf").write_bytes(make_pdf(SAMPLE_PAGES)[:400])
    (bad / "huge.txt").write_bytes(b"word " * 5_000_000)
    shutil.copy(FIXTURES / "not_a_letter.txt", bad / "not_a_letter.txt")
    truncated_letter = (SAMPLES / "CM16-9900001.txt").read_text().split("IMR ISSUES")[0]
    (bad / "no_decisions.txt").write_text(truncated_letter)
    return folder


def run_cli(args, capsys):
    code = main(["run", *args, "--quiet"])
    return code, capsys.readouterr()


def test_run_writes_the_contract_and_reports_bad_input(mixed_inputs, tmp_path, capsys):
    out = tmp_path / "out"
    code, printed = run_cli(
        [str(mixed_inputs), "--out", str(out), "--max-bytes", "1000000"], capsys
    )
    assert code == 0
    assert str(out / "documents.csv") in printed.out
    docs = pd.read_csv(out / "documents.csv")
    decisions = pd.read_csv(out / "decisions.csv")
    assert list(docs.columns) == DOCUMENT_COLUMNS
    assert list(decisions.columns) == DECISION_COLUMNS
    citations = pd.read_csv(out / "citations.csv")
    assert list(citations.columns) == CITATION_COLUMNS
    seed_cites = citations[citations.doc_id == "sample_2014_seed_style"]
    assert seed_cites.pages.iloc[0] == ";".join(str(p) for p in range(74, 97))
    seed = decisions[decisions.doc_id == "sample_2014_seed_style"].iloc[0]
    assert (seed.maximus_guideline_family, seed.maximus_sections, seed.maximus_pages) == (
        "MTUS",
        "Opioids",
        "76;77;78;79;80;91",
    )
    entities = pd.read_csv(out / "entities.csv")
    assert list(entities.columns) == ENTITY_COLUMNS
    first = decisions[decisions.doc_id == "CM16-9900001"].iloc[0]
    assert (first.item_type, first.ingredients, first.drug_class, first.strength) == (
        "pharmaceutical",
        "flurbiprofen;baclofen;lidocaine",
        "topical NSAID;muscle relaxant;topical analgesic",
        "20 %;5 %;4 %",
    )
    assert (first.quantity, first.quantity_unit) == (180, "g")
    seed_flexeril = decisions[decisions.doc_id == "sample_2014_seed_style"].iloc[1]
    assert (seed_flexeril.refills, seed_flexeril.brand) == (2, "Flexeril")
    injection = decisions[decisions.doc_id == "sample_2014_seed_style"].iloc[2]
    assert injection.item_type == "injection"
    norco = entities[(entities.doc_id == "sample_2014_seed_style") & (entities.text == "Norco")]
    assert norco.iloc[0].normalized == "hydrocodone;acetaminophen"
    strength = entities[
        (entities.doc_id == "sample_2014_seed_style") & (entities.label == "STRENGTH")
    ]
    related = entities[
        (entities.doc_id == "sample_2014_seed_style")
        & (entities.entity_id == strength.iloc[0].related_entity_id)
    ]
    assert (strength.iloc[0].text, related.iloc[0].text) == ("10/325mg", "Norco")
    status = dict(zip(docs.doc_id, docs.status, strict=True))
    errors = dict(zip(docs.doc_id, docs.error, strict=True))
    assert status == {
        "CM16-9900001": "ok",
        "CM17-9900002": "ok",
        "sample_2014_seed_style": "ok",
        "cp1252": "ok",
        "empty": "error",
        "garbage": "error",
        "truncated": "error",
        "huge": "error",
        "not_a_letter": "error",
        "no_decisions": "error",
    }
    assert errors["empty"] == "empty file"
    assert errors["garbage"] == "binary content, not text"
    assert errors["truncated"].startswith("cannot read PDF")
    assert errors["huge"].startswith("file too large")
    assert errors["not_a_letter"].startswith("not an IMR final determination letter")
    assert "no 'IMR ISSUES" in errors["no_decisions"]
    layouts = dict(zip(docs.doc_id, docs.layout.fillna(""), strict=True))
    assert {k: layouts[k] for k in ("CM17-9900002", "sample_2014_seed_style", "no_decisions")} == {
        "CM17-9900002": "2016-17",
        "sample_2014_seed_style": "2014-15",
        "no_decisions": "2016-17",
    }
    assert (layouts["not_a_letter"], layouts["empty"], layouts["truncated"]) == ("unknown", "", "")
    cp = docs.set_index("doc_id").loc["cp1252"]
    assert "not valid UTF-8" in cp.warnings and cp.n_decisions == 4
    # the ok documents are complete: no document is lost because of its neighbours
    assert decisions.groupby("doc_id").size().to_dict() == {
        "CM16-9900001": 4,
        "CM17-9900002": 2,
        "cp1252": 4,
        "sample_2014_seed_style": 3,
    }
    row = docs.set_index("doc_id").loc["CM17-9900002"]
    assert (row.case_number, row.decision_date, row.n_upheld, row.n_overturned) == (
        "CM17-9900002",
        "2017-02-06",
        1,
        1,
    )
    assert row.reviewer_specialties == "Anesthesiology;Pain Management"
    # offsets point into the stored normalised text
    text = (out / "texts" / "CM16-9900001.txt").read_text()
    first = decisions[decisions.doc_id == "CM16-9900001"].iloc[0]
    assert text[first.start_char : first.end_char].startswith("Flurbiprofen 20%, Baclofen 5%")
    assert text[first.start_char : first.end_char].endswith("medically necessary.")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {
        "documents": 10,
        "ok": 4,
        "error": 6,
        "decisions": 13,
        "words": manifest["counts"]["words"],
        "processed_this_run": 10,
    }
    assert {d["doc_id"]: d["status"] for d in manifest["documents"]} == status
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".imr-extract.lock"]


def test_run_exits_non_zero_when_nothing_succeeds(tmp_path, capsys):
    out = tmp_path / "out"
    code, printed = run_cli([str(FIXTURES / "not_a_letter.txt"), "--out", str(out)], capsys)
    assert code == 1
    assert "not an IMR final determination letter" in printed.err
    assert (out / "documents.csv").exists()


def test_duplicate_doc_ids_are_reported_not_overwritten(tmp_path, capsys):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(SAMPLES / "CM16-9900001.txt", tmp_path / sub / "CM16-9900001.txt")
    code, _ = run_cli(
        [str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "o")], capsys
    )
    docs = pd.read_csv(tmp_path / "o" / "documents.csv")
    assert code == 0 and list(docs.status) == ["ok", "error"]
    assert "duplicate doc_id" in docs.error.iloc[1]


def test_parquet_matches_csv(tmp_path, capsys):
    out = tmp_path / "out"
    code, _ = run_cli([str(SAMPLES), "--out", str(out), "--format", "both"], capsys)
    assert code == 0
    for table in ("documents", "decisions", "citations", "entities"):
        from_csv = pd.read_csv(out / f"{table}.csv")
        from_parquet = pd.read_parquet(out / f"{table}.parquet")
        assert list(from_parquet.columns) == list(from_csv.columns)
        assert len(from_parquet) == len(from_csv)
    assert (
        pd.read_parquet(out / "decisions.parquet").partial.tolist()
        == pd.read_csv(out / "decisions.csv").partial.tolist()
    )


def test_two_processes_give_the_same_tables(mixed_inputs, tmp_path, capsys):
    outs = []
    for n in ("1", "2"):
        out = tmp_path / f"out{n}"
        run_cli(
            [str(mixed_inputs), "--out", str(out), "--n-process", n, "--max-bytes", "1000000"],
            capsys,
        )
        outs.append(out)
    for table in ("documents.csv", "decisions.csv", "citations.csv", "entities.csv"):
        assert (outs[0] / table).read_text() == (outs[1] / table).read_text()
