"""The reader of a parallel run (read_ahead.py, issue 17): it reads the first letters while the
run imports spaCy and loads the pipeline. What it hands over is what `read_document` gives,
a run that uses it writes the same tables, and a reader that hangs, dies or outlives its run
costs nothing but time. No timed tests."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from imr_extract import read_ahead
from imr_extract.ingest import read_document
from imr_extract.read_ahead import ReadAhead, start_for_run
from imr_extract.runner import run

from conftest import SAMPLES, copy_samples

TABLES = ("documents", "decisions", "citations", "entities", "reasons")

pytestmark = pytest.mark.skipif(not read_ahead.worth_it(2, 2), reason="needs fork and two cores")


@pytest.fixture
def letters(tmp_path):
    """Synthetic letters (text and PDF) and inputs that give error rows."""
    folder = copy_samples(tmp_path / "letters", 9)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "latin1.txt").write_bytes((SAMPLES / "CM16-9900001.txt").read_bytes() + b"caf\xe9\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir())


def _tables(out: Path) -> dict[str, bytes]:
    return {t: (out / f"{t}.csv").read_bytes() for t in TABLES}


def test_the_reader_hands_over_what_read_document_gives(letters):
    paths = _files(letters)
    reader = ReadAhead(paths, max_bytes=10_000_000)
    assert reader.finished(60)
    read = reader.collect()
    assert list(read) == paths  # in run order
    for path in paths:
        document, seconds = read[path]
        assert document == read_document(path, max_bytes=10_000_000)
        assert seconds > 0
    assert {read[str(letters / n)][0].error != "" for n in ("empty.txt", "broken.pdf")} == {True}
    assert not reader.process.is_alive()


def test_a_run_with_the_reader_writes_the_same_tables(letters, tmp_path):
    plain = run([letters], tmp_path / "plain", progress=False, batch_size=4)
    assert plain.manifest["read_ahead"]["documents"] == 0  # one process: no reader
    reader = start_for_run([str(letters)], str(tmp_path / "ahead"), 2, 4, 10_000_000)
    assert reader is not None and reader.finished(60)
    ahead = run(
        [letters], tmp_path / "ahead", progress=False, batch_size=4, n_process=2, reader=reader
    )
    assert ahead.manifest["read_ahead"] == {
        "documents": 13,
        "pid": reader.process.pid,
    }  # every file, read before the workers started
    assert _tables(tmp_path / "ahead") == _tables(tmp_path / "plain")
    assert all(d["seconds"] > 0 for d in ahead.manifest["documents"])  # reading included
    assert not reader.process.is_alive()


def test_a_reader_stuck_in_a_file_is_ended_and_the_run_reads_that_file(
    letters, tmp_path, monkeypatch
):
    """A file the reader never finishes (a PDF that takes minutes, say): the run waits
    GRACE_SECONDS for it, ends the reader, and its workers read every file."""
    real = read_ahead.read_document

    def slow(path, **kwargs):
        if Path(path).name == "letter-003.txt":
            time.sleep(600)
        return real(path, **kwargs)

    monkeypatch.setattr(read_ahead, "read_document", slow)  # in the forked reader only
    reader = start_for_run([str(letters)], str(tmp_path / "out"), 2, 4, 10_000_000)
    assert not reader.finished(1.0)
    started = time.monotonic()
    result = run(
        [letters], tmp_path / "out", progress=False, batch_size=4, n_process=2, reader=reader
    )
    assert not reader.process.is_alive()
    assert time.monotonic() - started < 120
    assert (
        result.manifest["read_ahead"]["documents"] == 0
    )  # nothing handed over: all read by the workers
    assert result.manifest["counts"]["documents"] == 13
    plain = run([letters], tmp_path / "plain", progress=False, batch_size=4)
    assert _tables(tmp_path / "out") == _tables(tmp_path / "plain")
    assert plain.manifest["counts"]["ok"] == 10


def test_a_reader_that_dies_costs_nothing_but_time(letters, tmp_path):
    reader = start_for_run([str(letters)], str(tmp_path / "out"), 2, 4, 10_000_000)
    os.kill(reader.process.pid, signal.SIGKILL)
    result = run(
        [letters], tmp_path / "out", progress=False, batch_size=4, n_process=2, reader=reader
    )
    assert result.manifest["counts"]["documents"] == 13
    assert result.manifest["read_ahead"]["documents"] == 0


def test_a_run_that_fails_before_loading_ends_its_reader(letters, tmp_path):
    out = tmp_path / "out"
    run([letters], out, progress=False, batch_size=4)
    reader = start_for_run([str(letters)], str(out), 2, 4, 10_000_000)
    with pytest.raises(Exception, match="holds a previous run"):
        run([letters], out, progress=False, batch_size=4, n_process=2, reader=reader)
    assert not reader.process.is_alive()


def test_no_reader_where_it_cannot_help(letters, tmp_path):
    assert start_for_run([str(letters)], str(tmp_path / "o"), 1, 4, 10_000_000) is None
    assert start_for_run([str(letters)], str(tmp_path / "o"), 2, 64, 10_000_000) is None  # 1 batch
    assert not read_ahead.worth_it(2, 1) and not read_ahead.worth_it(1, 10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_cli_forks_its_reader_before_importing_spacy_and_it_dies_with_the_run(tmp_path):
    """The reader is forked before spaCy is imported (so it reads through the import), and a
    run killed while it loads leaves no reader behind."""
    from test_reliability import alive

    folder = copy_samples(tmp_path / "letters", 40)
    script = textwrap.dedent(
        f"""
        import json, os, sys, time
        from imr_extract import read_ahead
        real = read_ahead.ReadAhead.__init__
        def init(self, *args, **kwargs):
            real(self, *args, **kwargs)
            print(json.dumps([self.process.pid, "spacy" in sys.modules]), flush=True)
            time.sleep(600)  # killed here, while the reader is alive
        read_ahead.ReadAhead.__init__ = init
        from imr_extract.cli import main
        main(["run", {str(folder)!r}, "--out", {str(tmp_path / "out")!r}, "--quiet",
              "--n-process", "2", "--batch-size", "4"])
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        reader_pid, spacy_imported = json.loads(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait()
    assert spacy_imported is False
    deadline = time.time() + 10
    while time.time() < deadline and alive(reader_pid):
        time.sleep(0.05)
    assert not alive(reader_pid), "the reader outlived the run"


def test_a_resumed_run_starts_no_reader_from_the_cli(letters, tmp_path, monkeypatch):
    """A resumed run reads only what is left, which the scan cannot tell: no reader."""
    from imr_extract import cli

    asked = []
    monkeypatch.setattr(read_ahead, "start_for_run", lambda *args: asked.append(args))
    out = str(tmp_path / "out")
    args = ["run", str(letters), "--out", out, "--quiet", "--n-process", "2"]
    assert cli.main(args) == 0
    assert len(asked) == 1
    assert cli.main([*args, "--resume"]) == 0
    assert len(asked) == 1
