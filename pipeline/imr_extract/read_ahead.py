"""Reading the first letters of a parallel run while its pipeline loads, on another core.

With `--n-process N` (N >= 2) the run loads the pipeline once, before it forks its workers
(forked workers share its pages): for those 0.3-0.4 s one core works and the others wait.
`ReadAhead` forks a reader that meanwhile reads the letters in run order (PDF text, decoding,
normalising: about a quarter of the work of a letter) and hands the run what it has read once
the pipeline is loaded; the workers, forked after, take those documents as read
(`batch.use_read_ahead`). Both read with `ingest.read_document`, so the tables are the same
bytes either way. A reader that dies, or is still inside one file when the run asks (a slow
PDF: the run waits `GRACE_SECONDS` at most), costs only what it had not handed over: the
workers read those files themselves. The reader dies with the run and writes nothing.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from pathlib import Path

from imr_extract.ingest import (
    InputScan,
    SourceDocument,
    page_furniture,
    read_document,
    scan_inputs,
)
from imr_extract.orphans import die_with_parent

GRACE_SECONDS = 0.5  # the longest the run waits for the reader's next document
MAX_CHARS = 10_000_000  # read no more text than this ahead (about 1,500 letters)

ReadDocuments = dict[str, tuple[SourceDocument, float]]  # path: (document, seconds to read)


def worth_it(n_process: int, n_jobs: int) -> bool:
    """A reader only helps a run that forks workers, on a machine with a core to spare."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return n_process >= 2 and n_jobs >= 2 and (cores or 1) >= 2 and _can_fork()


def _can_fork() -> bool:
    return sys.platform != "darwin" and "fork" in mp.get_all_start_methods()  # as workers.py


def start_for_run(
    inputs: list[str], out_dir: str, n_process: int, batch_size: int, max_bytes: int
) -> ReadAhead | None:
    """A reader of the files a new run of `inputs` will read (the CLI's, started before spaCy
    is imported), or None where it would not help; `ReadAhead.scan` saves the run a second
    walk of the folders."""
    if n_process < 2 or batch_size < 1:
        return None
    try:
        scan = scan_inputs(inputs, exclude=[Path(out_dir)])
        if not worth_it(n_process, -(-len(scan.files) // batch_size)):
            return None
        return ReadAhead([str(p) for p in scan.files], max_bytes, scan)
    except Exception:  # a help only: the run walks the inputs again and says what is wrong
        return None


class ReadAhead:
    """A forked reader of `paths` (in that order) until `collect()` is called."""

    def __init__(self, paths: list[str], max_bytes: int, scan: InputScan | None = None) -> None:
        self.scan = scan
        ctx = mp.get_context("fork")
        self._stop = ctx.Event()
        self._conn, child = ctx.Pipe(duplex=False)
        args = (paths, max_bytes, child, self._stop, os.getpid())
        self.process = ctx.Process(target=_read, args=args, daemon=True)
        self.process.start()
        child.close()

    def finished(self, timeout: float) -> bool:
        """Whether the reader has read every file (it hands them over only then, or when
        stopped), waiting up to `timeout` seconds."""
        return self._conn.poll(timeout)

    def collect(self) -> ReadDocuments:
        """Stop the reader; the documents it had read, by path."""
        self._stop.set()
        read: ReadDocuments = {}
        try:
            while self._conn.poll(GRACE_SECONDS):
                item = self._conn.recv()
                if item is None:  # all handed over
                    break
                path, document, seconds = item
                read[path] = (document, seconds)
        except (EOFError, OSError):  # the reader died: keep what came before
            pass
        finally:
            self.close(wait_s=0.05)
        return read

    def close(self, wait_s: float = 0) -> None:
        """End the reader (if still inside a file) and its pipe; again does nothing."""
        if self._conn.closed:
            return
        self._stop.set()
        self.process.join(wait_s)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self._conn.close()


def _read(paths: list[str], max_bytes: int, conn, stop, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle
    die_with_parent(parent)
    furniture = page_furniture()
    read, chars = [], 0
    for path in paths:
        if stop.is_set() or chars > MAX_CHARS:
            break
        started = time.perf_counter()
        document = read_document(path, max_bytes=max_bytes, furniture=furniture)
        read.append((str(Path(path)), document, time.perf_counter() - started))
        chars += len(document.text)
    for item in read:  # the run takes them once its pipeline is loaded
        conn.send(item)
    conn.send(None)
    conn.close()
