"""Streaming, resumable and distributed runs: kill a real run, resume it, compare."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from imr_extract.runner import RunExistsError, run
from imr_extract.store import RunStore

from conftest import copy_samples

TABLES = ("documents", "decisions", "citations", "entities")


@pytest.fixture
def letters(tmp_path):
    """60 synthetic letters (copies of the samples under new names)."""
    return copy_samples(tmp_path / "letters", 60)


def tables(out):
    return {t: pd.read_csv(out / f"{t}.csv") for t in TABLES}


def assert_same_rows(a, b):
    for t in TABLES:
        left = a[t].drop(columns=["path"], errors="ignore")
        right = b[t].drop(columns=["path"], errors="ignore")
        key = list(left.columns[:3])
        assert len(left) == len(right), t
        pd.testing.assert_frame_equal(
            left.sort_values(key).reset_index(drop=True),
            right.sort_values(key).reset_index(drop=True),
        )


def test_killed_run_resumes_without_duplicates_or_losses(letters, tmp_path):
    fresh = tmp_path / "fresh"
    run([letters], fresh, progress=False, batch_size=4)

    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "imr_extract.cli",
        "run",
        str(letters),
        "--out",
        str(out),
        "--quiet",
        "--batch-size",
        "4",
    ]
    proc = subprocess.Popen(cmd)
    journal = out / "journal.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if journal.exists() and len(journal.read_text().splitlines()) >= 8:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(RunStore(out).entries())
    assert 8 <= done_before < 60, "the run was not killed mid-way"

    with pytest.raises(RunExistsError):
        run([letters], out, progress=False)
    result = run([letters], out, progress=False, resume=True, batch_size=4)
    assert result.manifest["counts"]["processed_this_run"] == 60 - done_before
    assert result.manifest["counts"]["documents"] == 60
    assert_same_rows(tables(fresh), tables(out))
    assert tables(out)["documents"].doc_id.is_unique


def test_changed_file_is_redone_on_resume(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False, batch_size=16)
    target = letters / "letter-002.txt"
    target.write_text(target.read_text().replace("Norco 10/325mg #120", "Norco 5/325mg #30"))
    result = run([letters], out, progress=False, resume=True)
    assert result.manifest["counts"]["processed_this_run"] == 1
    decisions = tables(out)["decisions"]
    assert decisions[decisions.doc_id == "letter-002"]["item"].iloc[0] == "Norco 5/325mg #30"
    assert tables(out)["documents"].doc_id.is_unique


def test_batches_become_parts_and_journal_lines(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False, batch_size=16)
    assert len(list((out / "parts" / "documents").glob("*.jsonl"))) == 4
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert len(journal) == 60 and {e["status"] for e in journal} == {"ok"}


@pytest.mark.corpus
def test_dask_backend_gives_the_same_tables_as_local(corpus, tmp_path):
    pytest.importorskip("dask.distributed")
    local = run([corpus], tmp_path / "local", progress=False)
    dask = run([corpus], tmp_path / "dask", progress=False, backend="dask", n_process=2)
    assert dask.manifest["counts"] == local.manifest["counts"] | {"processed_this_run": 135}
    for t in TABLES:
        assert (tmp_path / "local" / f"{t}.csv").read_text() == (
            tmp_path / "dask" / f"{t}.csv"
        ).read_text()
