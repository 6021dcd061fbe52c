"""The local backend's worker processes: forked from the run, fed one batch at a time.

`multiprocessing.Pool` waits forever when one of its workers is killed (the OOM killer,
kill -9). Here the run watches each worker's pipe and its process sentinel, so a death is
seen at once: the batch is redone on a fresh worker under a new part name; a batch that
kills a worker twice is split into single documents, and a document that kills a worker
twice becomes an error row. Workers die with the run (PR_SET_PDEATHSIG on Linux, and a check
of the parent between documents), so no orphan writes into `--out` after a kill.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from imr_extract.batch import process_batch, watch_parent
from imr_extract.orphans import die_with_parent

DIED = "worker process died while processing this document (killed, or out of memory)"


@dataclass
class Job:
    paths: list[str]
    part: str
    deaths: int = 0


class BatchFailed(Exception):
    """A batch raised in its worker (disk full, say): the run stops with that error."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _worker_main(conn, parent: int, common: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle
    die_with_parent(parent)
    watch_parent(parent)  # and stop between documents
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            conn.send(("done", process_batch(job.paths, job.part, *common)))
        except BaseException as exc:  # sent back whole, so the run can say what it was
            try:
                conn.send(("failed", exc))
            except Exception:
                conn.send(("failed", RuntimeError(f"{type(exc).__name__}: {exc}")))


class _Worker:
    def __init__(self, ctx, common: tuple) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, os.getpid(), common))
        self.process.daemon = True
        self.process.start()
        child.close()
        self.job: Job | None = None

    def stop(self, wait_s: float = 0) -> None:
        self.process.join(wait_s)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


def run_jobs(
    jobs: list[Job],
    n_process: int,
    common: tuple,
    on_done: Callable[[list[dict[str, Any]]], None],
    on_died: Callable[[Job], None],
    new_part: Callable[[], str],
) -> None:
    """Run `jobs` on `n_process` forked workers; `common` is process_batch's other arguments.
    `on_done` gets each batch's journal entries, `on_died` each single-document job that
    killed its worker twice; `new_part` names the part of a job that is redone."""
    method = "spawn" if sys.platform == "darwin" else "fork"
    ctx = mp.get_context(method)
    pending = deque(jobs)
    idle: list[_Worker] = []
    busy: list[_Worker] = []

    def dispatch() -> None:
        while pending and len(busy) < n_process:
            worker = idle.pop() if idle else _Worker(ctx, common)
            worker.job = pending.popleft()
            worker.conn.send(worker.job)
            busy.append(worker)

    try:
        while pending or busy:
            dispatch()
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            finished, failed = [], None
            for worker in [w for w in busy if w.conn in ready or w.process.sentinel in ready]:
                message = None
                if worker.conn.poll():
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):
                        message = None
                busy.remove(worker)
                if message is None:  # died without an answer
                    worker.stop()
                    _redo(worker.job, pending, on_died, new_part)
                elif message[0] == "failed":
                    failed = failed or message[1]
                else:
                    finished.append(message[1])
                    idle.append(worker)
            if failed is None:
                dispatch()  # the next batches first: workers do not wait on the journal's fsync
            for entries in finished:
                on_done(entries)
            if failed is not None:
                raise BatchFailed(failed)
    finally:
        for worker in idle:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in idle + busy:  # busy ones only after an error: stop them at once
            worker.stop(wait_s=2 if worker in idle else 0)


def _redo(job: Job, pending: deque, on_died, new_part) -> None:
    job.deaths += 1
    if job.deaths < 2:
        pending.appendleft(Job(job.paths, new_part(), job.deaths))
    elif len(job.paths) > 1:  # which document? one at a time, each with one more chance
        for path in reversed(job.paths):
            pending.appendleft(Job([path], new_part(), 1))
    else:
        on_died(job)
