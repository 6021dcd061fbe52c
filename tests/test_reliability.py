"""Runs that can be trusted: nothing lost or mixed under killed workers and main processes,
torn journals, full disks, stale outputs, concurrent runs and odd file names; one-line errors.

Tests that kill real processes run them under a timeout, so a hang fails instead of blocking."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from imr_extract import load_run
from imr_extract import store as store_module
from imr_extract.cli import main
from imr_extract.runner import MISSING, UsageError, run
from imr_extract.store import RunLockedError, RunNotFinishedError, RunStore

from conftest import FIXTURES, ROOT, SAMPLES, copy_samples

TABLES = ("documents", "decisions", "citations", "entities")
CLI = [sys.executable, "-m", "imr_extract.cli", "run"]


@pytest.fixture
def letters(tmp_path):
    """40 synthetic letters (copies of the samples under new names)."""
    return copy_samples(tmp_path / "letters", 40)


@pytest.fixture
def heavy_letters(tmp_path):
    """40 synthetic letters long enough (a case summary of ~40 paragraphs) that a run is still
    going when a test kills or interrupts it, however fast the machine."""
    folder = tmp_path / "heavy"
    folder.mkdir()
    text = (SAMPLES / "CM16-9900001.txt").read_text()
    head, rest = text.split("IMR ISSUES, DECISIONS AND RATIONALES", 1)
    summary = head.split("including all medical records:\n", 1)[1]
    letter = head + summary * 40 + "IMR ISSUES, DECISIONS AND RATIONALES" + rest
    for i in range(40):
        (folder / f"heavy-{i:03d}.txt").write_text(letter)
    return folder


def csv_bytes(out: Path) -> dict[str, bytes]:
    return {t: (out / f"{t}.csv").read_bytes() for t in TABLES}


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_journal(out: Path, lines: int, proc, timeout: float = 120) -> None:
    journal = out / "journal.jsonl"
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= lines:
            return
        time.sleep(0.02)
    pytest.fail("the run did not get going")


# --- killed workers, orphans, concurrent runs -------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_worker_is_replaced_and_nothing_is_lost(heavy_letters, tmp_path):
    letters = heavy_letters
    fresh = tmp_path / "fresh"
    run([letters], fresh, progress=False)
    out = tmp_path / "out"
    args = [str(letters), "--out", str(out), "--quiet", "--n-process", "2", "--batch-size", "1"]
    proc = subprocess.Popen(CLI + args, stderr=subprocess.PIPE, text=True)
    wait_for_journal(out, 3, proc)
    workers = children(proc.pid)
    assert workers, "no worker processes"
    os.kill(workers[0], signal.SIGKILL)
    try:
        proc.wait(timeout=240)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the run hung after one of its workers was killed")
    assert proc.returncode == 0, proc.stderr.read()
    assert csv_bytes(out) == csv_bytes(fresh)


def test_a_document_that_kills_its_worker_becomes_an_error_row(letters, tmp_path):
    """A letter that kills any worker that reads it (out of memory, say): its batch is redone,
    then split, and only that letter ends as an error; the run does not hang."""
    shutil.copy(SAMPLES / "CM16-9900001.txt", letters / "poison.txt")
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        import imr_extract.batch as batch
        from imr_extract.runner import run
        real = batch.process_file
        def process_file(path, keep_doc=False):
            if path.name == "poison.txt":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(path, keep_doc)
        batch.process_file = process_file
        result = run([{str(letters)!r}], {str(out)!r}, n_process=2, batch_size=4, progress=False)
        print(result.manifest["counts"]["documents"])
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=240
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the run hung on a document that kills its worker")
    assert done.returncode == 0, done.stderr
    docs = pd.read_csv(out / "documents.csv")
    assert len(docs) == 41 and docs.doc_id.is_unique
    poison = docs[docs.doc_id == "poison"].iloc[0]
    assert poison.status == "error" and "worker process died" in poison.error
    assert (docs[docs.doc_id != "poison"].status == "ok").all()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_run_and_attempts_never_share_parts(heavy_letters, tmp_path):
    letters = heavy_letters
    out = tmp_path / "out"
    args = [str(letters), "--out", str(out), "--quiet", "--n-process", "2", "--batch-size", "1"]
    proc = subprocess.Popen(CLI + args)
    wait_for_journal(out, 3, proc)
    workers = children(proc.pid)
    assert workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(alive(w) for w in workers), "workers outlived the run"
    first = {e["part"] for e in RunStore(out).entries().values()}

    result = run([letters], out, progress=False, resume=True, batch_size=7)
    second = {e["part"] for e in RunStore(out).entries().values()} - first
    assert {p.split("-")[0] for p in first}.isdisjoint({p.split("-")[0] for p in second})
    assert result.manifest["counts"]["documents"] == 40
    assert len(pd.read_csv(out / "documents.csv")) == 40


def test_a_second_run_on_the_same_folder_is_refused(letters, tmp_path, capsys):
    out = tmp_path / "out"
    run([letters], out, progress=False)
    holder = RunStore(out)
    holder.lock()  # another process's run, as far as the lock is concerned
    try:
        with pytest.raises(RunLockedError):
            run([letters], out, progress=False, resume=True)
        assert main(["run", str(letters), "--out", str(out), "--resume", "--quiet"]) == 2
        assert "another imr-extract run is writing to" in capsys.readouterr().err
    finally:
        holder.unlock()
    assert run([letters], out, progress=False, resume=True).n_ok == 40


def test_counts_come_from_the_tables_and_a_disagreement_is_said(letters, tmp_path, capsys):
    out = tmp_path / "out"
    run([letters], out, progress=False, batch_size=40)
    part = next((out / "parts" / "decisions").glob("*.jsonl"))
    lines = part.read_text().splitlines(keepends=True)
    part.write_text("".join(lines[1:]))  # a part that lost a row behind our back
    part.with_suffix(".csv").unlink()  # and its CSV lines: the merge must read the JSON lines
    code = main(["run", str(letters), "--out", str(out), "--resume", "--quiet"])
    assert code == 1
    assert "the tables disagree with the journal: decisions table has" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["decisions"] == len(pd.read_csv(out / "decisions.csv"))
    assert manifest["problems"]


def test_parts_csv_rows_are_copied_only_when_whole(letters, tmp_path):
    """The merge copies a part's CSV lines as the worker wrote them; a file of another size
    than the journal says (torn, truncated) or a missing one is replaced by the part's JSON
    lines, and the tables are the same bytes as a run whose CSVs come from frames."""
    out, both = tmp_path / "out", tmp_path / "both"
    run([letters], out, progress=False, batch_size=8)
    run([letters], both, progress=False, batch_size=8, fmt="both")  # CSVs from the frames
    clean = csv_bytes(out)
    assert clean == csv_bytes(both)
    fragments = sorted((out / "parts" / "entities").glob("*.csv"))
    assert len(fragments) == 5 and all(f.stat().st_size for f in fragments)
    fragments[0].write_bytes(fragments[0].read_bytes()[:-10])  # torn
    fragments[1].unlink()  # lost
    (out / "manifest.json").unlink()
    run([letters], out, progress=False, resume=True)
    assert csv_bytes(out) == clean


# --- journal, disk full, stale outputs, vanished inputs -----------------------------------


def test_a_torn_journal_line_loses_no_document(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False, batch_size=8)
    journal = out / "journal.jsonl"
    text = journal.read_text()
    journal.write_text(text[: len(text) - 40])  # power lost in the middle of the last line
    (out / "manifest.json").unlink()
    run([letters], out, progress=False, resume=True)
    run([letters], out, progress=False, resume=True)  # and once more on the healed journal
    docs = pd.read_csv(out / "documents.csv")
    assert len(docs) == 40 and docs.doc_id.is_unique and (docs.status == "ok").all()


def test_disk_full_keeps_the_last_tables_whole_and_says_which_disk(
    letters, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    run([letters], out, progress=False)
    before = csv_bytes(out)
    manifest = (out / "manifest.json").read_bytes()
    shutil.copy(SAMPLES / "CM16-9900001.txt", letters / "new-letter.txt")
    written = []
    real = store_module._write_csv_header

    def header(path, columns):
        written.append(path)
        if len(written) > 3:  # the disk fills up in the middle of the tables
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, columns)

    monkeypatch.setattr(store_module, "_write_csv_header", header)
    code = main(["run", str(letters), "--out", str(out), "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "no space left on the disk of /" in err and "--resume" in err
    assert csv_bytes(out) == before and (out / "manifest.json").read_bytes() == manifest
    assert not [p for p in out.iterdir() if p.name.startswith(".imr-tmp-")]
    monkeypatch.setattr(store_module, "_write_csv_header", real)
    assert run([letters], out, progress=False, resume=True).manifest["counts"]["documents"] == 41


def test_resume_removes_temporaries_left_by_a_kill(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False)
    leftovers = [
        out / ".entities.csv.k2j4x9",
        out / ".imr-tmp-0a1b2c3d4e5f",
        out / "parts" / "documents" / ".imr-tmp-0a1b2c3d4e60",
        out / "texts" / ".letter-001.txt.q8w7e6",
    ]
    for path in leftovers:
        path.write_text("half")
    run([letters], out, progress=False, resume=True)
    assert not any(p.exists() for p in leftovers)


def test_outputs_of_another_format_are_removed_and_readers_see_only_this_run(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False, fmt="both")
    shutil.copy(SAMPLES / "CM16-9900001.txt", letters / "new-letter.txt")
    run([letters], out, progress=False, fmt="csv", resume=True)
    assert not list(out.glob("*.parquet"))
    assert len(load_run(out)["documents"]) == 41


def test_a_reader_never_mixes_tables_of_two_runs(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False)
    (out / "documents.csv").write_text((out / "documents.csv").read_text() + "\n")
    with pytest.raises(RunNotFinishedError, match="finish it with --resume"):
        load_run(out)
    (out / "manifest.json").unlink()
    with pytest.raises(RunNotFinishedError, match="no manifest.json"):
        load_run(out)


def test_an_input_deleted_before_resume_keeps_an_error_row(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False)
    (letters / "letter-003.txt").unlink()
    run([letters], out, progress=False, resume=True)
    docs = pd.read_csv(out / "documents.csv")
    assert len(docs) == 40
    row = docs[docs.doc_id == "letter-003"].iloc[0]
    assert row.status == "error" and row.error == MISSING
    assert "letter-003" not in set(pd.read_csv(out / "decisions.csv").doc_id)
    assert not (out / "texts" / "letter-003.txt").exists()


# --- odd names, odd folders --------------------------------------------------------------


def test_a_file_name_of_250_bytes_is_read_and_kept_whole(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    stem = "CM16-" + "x" * 245
    shutil.copy(SAMPLES / "CM16-9900001.txt", folder / f"{stem}.txt")
    out = tmp_path / "out"
    result = run([folder], out, progress=False)
    assert result.n_ok == 1
    docs = pd.read_csv(out / "documents.csv")
    assert docs.doc_id.iloc[0] == stem
    assert len(docs.text_file.iloc[0].encode()) < 255
    assert len((out / "texts" / docs.text_file.iloc[0]).read_text()) == docs.n_chars.iloc[0]
    run([folder], out, progress=False, resume=True)  # and a resume too


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses such names")
def test_a_file_name_that_is_not_utf8_gets_a_doc_id_and_a_warning(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsencode(folder) + b"/CM16-caf\xe9.txt"
    with open(name, "wb") as fh:
        fh.write((SAMPLES / "CM16-9900001.txt").read_bytes())
    out = tmp_path / "out"
    result = run([folder], out, progress=False, fmt="both")
    assert result.n_ok == 1
    docs = load_run(out)["documents"]
    assert docs.doc_id.iloc[0] == "CM16-caf\ufffd"
    assert "not valid UTF-8" in docs.warnings.iloc[0][0]  # a list column


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIFOs and links")
def test_inputs_that_cannot_be_read_each_get_an_error_row_and_nothing_hangs(letters, tmp_path):
    (letters / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(letters / "pipe.txt")
    out = tmp_path / "out"
    script = (
        f"from imr_extract.runner import run; run([{str(letters)!r}], {str(out)!r}, progress=False)"
    )
    try:
        subprocess.run([sys.executable, "-c", script], check=True, timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("the run hung on a FIFO")
    docs = pd.read_csv(out / "documents.csv").set_index("doc_id")
    assert len(docs) == 42
    assert docs.loc["gone", "error"] == "dangling symbolic link"
    assert docs.loc["pipe", "error"].startswith("not a regular file (FIFO)")


def test_an_out_folder_inside_the_inputs_is_never_read(letters, tmp_path):
    out = letters / "run"
    run([letters], out, progress=False)
    result = run([letters], out, progress=False, resume=True)
    assert result.manifest["counts"]["documents"] == 40
    assert result.manifest["counts"]["error"] == 0


def test_rows_keep_input_order_whatever_the_batches(letters, tmp_path):
    big = letters / "letter-010-big.txt"  # too large: an error row in the middle of the order
    big.write_text((SAMPLES / "CM16-9900001.txt").read_text() * 3)
    a = run([letters], tmp_path / "a", progress=False, max_bytes=5_000, batch_size=64)
    b = tmp_path / "b"
    run([letters], b, progress=False, max_bytes=5_000, batch_size=3)
    (letters / "letter-002.txt").write_text((letters / "letter-002.txt").read_text() + " ")
    again = run([letters], b, progress=False, max_bytes=5_000, batch_size=5, resume=True)
    docs = pd.read_csv(b / "documents.csv")
    assert docs.doc_id.tolist() == [p.stem for p in sorted(letters.iterdir())]
    assert docs.doc_id.tolist() == pd.read_csv(a.out_dir / "documents.csv").doc_id.tolist()
    assert docs.set_index("doc_id").loc["letter-010-big", "error"].startswith("file too large")
    # the too-large letter has its SHA-1, so a resume does not redo it
    assert again.manifest["counts"]["processed_this_run"] == 1


# --- errors of a letter, permissions, spreadsheets ---------------------------------------


def test_a_letter_in_error_has_rows_only_in_documents(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FIXTURES / "not_a_letter.txt", folder / "not_a_letter.txt")
    (folder / "drugs.txt").write_text(
        "Patient takes Norco 10/325mg #120 and Ibuprofen 800 mg for low back pain.\n"
    )
    out = tmp_path / "out"
    run([folder], out, progress=False)
    assert (pd.read_csv(out / "documents.csv").status == "error").all()
    for table in ("decisions", "citations", "entities"):
        assert pd.read_csv(out / f"{table}.csv").empty, table


def test_outputs_honour_the_umask(letters, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        run([letters], out, progress=False, fmt="both")
    finally:
        os.umask(old)
    files = [*out.glob("*.csv"), *out.glob("*.parquet"), out / "manifest.json"]
    files += [*(out / "parts" / "documents").iterdir(), *(out / "texts").iterdir()]
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}


def test_excel_safe_guards_formula_cells_only_when_asked(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    text = (SAMPLES / "CM16-9900001.txt").read_text()
    shutil.copy(SAMPLES / "CM16-9900001.txt", folder / "=HYPERLINK.txt")
    (folder / "plain.txt").write_text(text)
    run([folder], tmp_path / "plain", progress=False)
    main(["run", str(folder), "--out", str(tmp_path / "safe"), "--quiet", "--excel-safe"])
    plain = pd.read_csv(tmp_path / "plain" / "documents.csv")
    safe = pd.read_csv(tmp_path / "safe" / "documents.csv")
    assert "=HYPERLINK" in set(plain.doc_id) and "'=HYPERLINK" in set(safe.doc_id)
    assert (safe.n_words == plain.n_words).all()  # numbers untouched


def test_dask_and_local_give_the_same_rows_in_the_same_order(letters, tmp_path):
    pytest.importorskip("dask.distributed")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SAMPLES / "CM16-9900001.txt", other / "letter-001.txt")  # a duplicate doc_id
    local = tmp_path / "local"
    run([letters, other], local, progress=False, batch_size=16)
    dask = tmp_path / "dask"
    run([letters, other], dask, progress=False, batch_size=16, backend="dask", n_process=2)
    assert csv_bytes(local) == csv_bytes(dask)
    assert pd.read_csv(local / "documents.csv").status.tolist()[-1] == "error"


# --- one-line errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch-size", "0"], "--batch-size must be a whole number of at least 1"),
        (["--batch-size", "-5"], "--batch-size must be a whole number of at least 1"),
        (["--n-process", "0"], "--n-process must be a whole number of at least 1"),
    ],
)
def test_bad_settings_are_one_line_usage_errors(letters, tmp_path, capsys, args, message):
    code = main(["run", str(letters), "--out", str(tmp_path / "out"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == f"imr-extract: {message} (got {args[1]})"
    assert not (tmp_path / "out").exists()


def test_out_naming_a_file_is_a_usage_error(letters, tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x")
    assert main(["run", str(letters), "--out", str(target), "--quiet"]) == 2
    assert (
        capsys.readouterr().err.strip() == f"imr-extract: --out {target} is a file; name a folder"
    )
    with pytest.raises(UsageError):
        run([letters], target, progress=False)


def test_report_and_show_errors_are_one_line(letters, tmp_path, capsys):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "journal.jsonl").write_text("")
    cases = [
        (["report", str(tmp_path / "missing")], "does not exist"),
        (["report", str(out)], "holds no finished run (no manifest.json): finish it with --resume"),
        (["report", str(SAMPLES / "CM16-9900001.txt")], "is a file, not the --out folder"),
        (
            ["show", str(SAMPLES / "CM16-9900001.txt"), "--out", str(tmp_path / "no/x.html")],
            "does not exist",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals")
def test_ctrl_c_says_how_to_finish(heavy_letters, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        CLI + [str(heavy_letters), "--out", str(out), "--quiet", "--batch-size", "1"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    wait_for_journal(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "imr-extract: interrupted; run again with --resume"
    assert "Traceback" not in err


def test_an_unforeseen_failure_is_one_line_with_a_way_to_see_more(tmp_path, capsys, monkeypatch):
    import imr_extract.runner

    def boom(*args, **kwargs):
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(imr_extract.runner, "run", boom)
    assert main(["run", str(SAMPLES), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: synthetic failure" in err
    assert "IMR_EXTRACT_TRACEBACK=1" in err
    monkeypatch.setenv("IMR_EXTRACT_TRACEBACK", "1")
    with pytest.raises(RuntimeError):
        main(["run", str(SAMPLES), "--out", str(tmp_path / "out"), "--quiet"])
