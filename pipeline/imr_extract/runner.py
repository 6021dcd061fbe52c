"""A corpus run: files in, tables and a manifest out, streaming, parallel and resumable.

Documents go through in batches; each batch becomes one part (see `store.py`) and its journal
lines. Memory does not grow with the corpus, a killed run resumes where it stopped
(`resume=True`), and one bad document never stops the rest. Rows come out in input order
(the order of the inputs given, each folder's files sorted), whatever the batches, the
backend or the attempts: then skipped inputs, then inputs that disappeared since an earlier
attempt. One run at a time holds the output folder.
"""

from __future__ import annotations

import gc
import platform
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imr_extract.batch import (
    init_worker,
    journal_entry,
    process_batch,
    text_file_name,
    tool_version,
    use_read_ahead,
    with_part,
)
from imr_extract.components.lexicon import gc_paused
from imr_extract.export import TABLES, error_rows
from imr_extract.ingest import (
    DEFAULT_MAX_BYTES,
    InputScan,
    SourceDocument,
    doc_id_of,
    file_sha1,
    path_text,
    scan_inputs,
)
from imr_extract.read_ahead import ReadAhead, worth_it
from imr_extract.store import RunStore, new_attempt

FORMATS = ("csv", "parquet", "both", "docbin")  # docbin: CSV tables plus the spaCy Docs
BACKENDS = ("local", "dask")
DEFAULT_BATCH_SIZE = 64
MISSING = "input file no longer exists (it was read by an earlier attempt of this run)"


class RunExistsError(Exception):
    """The output folder holds a previous run and resume was not asked for."""


class UsageError(ValueError):
    """A setting that cannot work (a batch size of 0, --out naming a file)."""


@dataclass
class RunResult:
    out_dir: Path
    manifest: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def n_ok(self) -> int:
        return self.manifest["counts"]["ok"]

    @property
    def problems(self) -> list[str]:
        return self.manifest.get("problems", [])


@dataclass
class Planned:
    """One row of documents.csv to be: a file to read, or an input that gives only an error."""

    key: str  # journal key: the doc_id, or doc_id#kind:path for rows that share a doc_id
    doc_id: str
    path: Path | None
    error: str = ""
    warnings: list[str] = field(default_factory=list)


def batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (
        "imr-extract",
        "spacy",
        "medspacy",
        "scispacy",
        "pypdfium2",
        "pandas",
        "drug-named-entity-recognition",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _check_settings(fmt, backend, n_process, batch_size, max_bytes, out_dir: Path) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    if backend not in BACKENDS:
        raise UsageError(f"--backend must be one of {', '.join(BACKENDS)}")
    for name, value in (("--n-process", n_process), ("--batch-size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise UsageError(f"{name} must be a whole number of at least 1 (got {value})")
    if not isinstance(max_bytes, int) or max_bytes < 1:
        raise UsageError(f"--max-bytes must be a whole number of at least 1 (got {max_bytes})")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file; name a folder")


def run(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    n_process: int = 1,
    fmt: str = "csv",
    model: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: bool = True,
    resume: bool = False,
    backend: str = "local",
    scheduler: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    excel_safe: bool = False,
    reader: ReadAhead | None = None,
) -> RunResult:
    """Annotate every letter under `inputs` into the tables of `out_dir` (see the README).
    `reader`: one started for this run by `read_ahead.start_for_run` (the CLI's); it is
    ended here whatever happens."""
    try:
        out_dir = Path(out_dir)
        _check_settings(fmt, backend, n_process, batch_size, max_bytes, out_dir)
        store = RunStore(out_dir)
        if store.exists() and not resume:
            raise RunExistsError(
                f"{out_dir} holds a previous run: use --resume to finish it, or another --out"
            )
        store.lock()
        try:
            if store.exists() and not resume:  # another run started it while we waited
                raise RunExistsError(
                    f"{out_dir} holds a previous run: use --resume, or another --out"
                )
            store.remove_temporaries()
            settings = {
                "inputs": [str(p) for p in inputs],
                "out_dir": str(out_dir),
                "backend": backend,
                "n_process": n_process,
                "batch_size": batch_size,
                "format": fmt,
                "excel_safe": excel_safe,
                "model": model or "built-in rules",
            }
            return _run(store, settings, model, max_bytes, progress, resume, scheduler, reader)
        finally:
            store.unlock()
    finally:
        if reader is not None:
            reader.close()


def plan_inputs(inputs: list[str], out_dir: Path, scan: InputScan | None = None) -> list[Planned]:
    """Every input as a row to be, in input order: files (a second file with a doc_id already
    taken is an error row), then the inputs skipped when the folders were walked (`scan`,
    when they were walked already)."""
    scan = scan or scan_inputs(inputs, exclude=[out_dir])
    plan, owners = [], {}
    for path in scan.files:
        doc_id, warnings = doc_id_of(path)
        if doc_id in owners:
            error = f"duplicate doc_id: {doc_id!r} is already taken by {path_text(owners[doc_id])}"
            key = f"{doc_id}#duplicate:{path_text(path)}"
            plan.append(Planned(key, doc_id, path, error, warnings))
        else:
            owners[doc_id] = path
            plan.append(Planned(doc_id, doc_id, path, "", warnings))
    for path, reason in scan.skipped:
        doc_id, warnings = doc_id_of(path)
        plan.append(Planned(f"{doc_id}#skipped:{path_text(path)}", doc_id, path, reason, warnings))
    return plan


def _missing_inputs(done: dict[str, dict], plan: list[Planned], inputs: list[str]) -> list[Planned]:
    """Documents an earlier attempt read from under these inputs whose file is gone now."""
    planned = {p.key for p in plan}
    roots = [str(Path(p)) for p in inputs]
    missing = []
    for key, entry in done.items():
        if key != entry["doc_id"] or key in planned:
            continue
        path = entry["path"]
        under = any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
        if under and not Path(path).exists():
            missing.append(Planned(f"{key}#missing:{path}", key, Path(path), MISSING))
    return missing


def _run(store, settings, model, max_bytes, progress, resume, scheduler, reader) -> RunResult:
    out_dir = store.out_dir
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    done = store.entries() if resume else {}
    plan = plan_inputs(settings["inputs"], out_dir, reader.scan if reader and not resume else None)
    plan += _missing_inputs(done, plan, settings["inputs"])
    attempt = new_attempt()
    todo = [p.path for p in plan if not p.error and not _is_done(done.get(p.key), p.path)]

    from tqdm import tqdm

    parts = (f"{attempt}-{k:06d}" for k in range(10**9))
    jobs = [
        ([str(p) for p in batch], next(parts)) for batch in batches(todo, settings["batch_size"])
    ]
    timings = {"loading": 0.0}
    read_ahead = {}
    if todo and settings["backend"] == "local":
        t = time.perf_counter()
        if reader is None and worth_it(settings["n_process"], len(jobs)):
            reader = ReadAhead([str(p) for p in todo], max_bytes)
        try:
            with gc_paused():
                init_worker(model, max_bytes)
                if not gc.get_freeze_count():
                    # The pipeline lives as long as the process: no collection needs to scan
                    # its ~300,000 objects again (a quarter of a second on one letter), and
                    # forked workers keep its pages shared. Once per process, so garbage
                    # cannot pile up.
                    gc.freeze()
        finally:
            if reader is not None:
                read_ahead = reader.collect()
        timings["loading"] = time.perf_counter() - t
    t = time.perf_counter()
    bar = tqdm(total=len(todo), unit="doc", disable=not progress, file=sys.stderr)
    common = (str(out_dir.resolve()), model, max_bytes, settings["format"] == "docbin")
    use_read_ahead(read_ahead)  # the workers forked from now on take these as read
    try:
        if settings["backend"] == "dask":
            from imr_extract.dask_backend import run_dask

            run_dask(jobs, common, store, scheduler, settings["n_process"], bar)
        else:
            _run_local(jobs, common, store, settings["n_process"], bar, lambda: next(parts))
    finally:
        use_read_ahead({})
        bar.close()
    _record_errors([p for p in plan if p.error], store, next(parts))
    for p in plan:
        if p.error == MISSING:  # its text would point nowhere now
            (out_dir / "texts" / text_file_name(p.doc_id)).unlink(missing_ok=True)
    timings["processing"] = time.perf_counter() - t

    t = time.perf_counter()
    latest = store.entries()
    entries = [latest[p.key] for p in plan if p.key in latest]
    problems = [f"no journal entry for {p.key}" for p in plan if p.key not in latest]
    merged = store.merge(entries, settings["format"], excel_safe=settings["excel_safe"])
    timings["merging"] = time.perf_counter() - t
    problems += _disagreements(entries, merged)
    manifest = _manifest(entries, merged, started_at, t0, len(todo), timings, settings)
    # the documents read while the pipeline loaded, and by which process (see read_ahead.py)
    manifest["read_ahead"] = {
        "documents": len(read_ahead),
        "pid": reader.process.pid if reader is not None else None,
    }
    if problems:
        manifest["problems"] = problems
    written = store.publish(merged, manifest)
    return RunResult(
        out_dir=out_dir, manifest=manifest, files=[*written, out_dir / "manifest.json"]
    )


def _run_local(jobs, common, store, n_process, bar, new_part) -> None:
    def done(entries):
        store.record(entries)
        bar.update(len(entries))

    if n_process <= 1 or len(jobs) < 2:
        for paths, part in jobs:
            done(process_batch(paths, part, *common))
        return
    from imr_extract.workers import DIED, Job, run_jobs

    def died(job):
        path = Path(job.paths[0])
        doc_id, warnings = doc_id_of(path)
        _record_errors([Planned(doc_id, doc_id, path, DIED, warnings)], store, job.part)
        bar.update(1)

    run_jobs([Job(p, part) for p, part in jobs], n_process, common, done, died, new_part)


def _is_done(entry: dict | None, path: Path) -> bool:
    """Already in the journal, from this very file with these very bytes, by this version."""
    return (
        bool(entry)
        and entry.get("tool") == tool_version()
        and entry["path"] == path_text(path)
        and bool(entry["sha1"])
        and entry["sha1"] == file_sha1(path)
    )


def _record_errors(planned: list[Planned], store: RunStore, part: str) -> None:
    """Error rows for inputs that are not read (duplicates, skipped, missing, fatal)."""
    if not planned:
        return
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    entries = []
    for p in planned:
        exists = p.path is not None and p.path.is_file()
        source = SourceDocument(
            doc_id=p.doc_id,
            path=path_text(p.path) if p.path else "",
            sha1=file_sha1(p.path) if exists else "",
            warnings=p.warnings,
        )
        row = error_rows(source, p.error)["documents"][0]
        rows["documents"].append(row)
        entries.append(journal_entry(row, part, 0.0, row=len(entries), key=p.key))
    store.record(with_part(entries, store.write_part(part, rows)))


def _disagreements(entries: list[dict], merged) -> list[str]:
    """Counts from the merged tables against the journal: they must agree."""
    problems = []
    if merged.rows["documents"] != len(entries):
        problems.append(
            f"documents table has {merged.rows['documents']} rows, the journal {len(entries)}"
        )
    expected = sum(e["n_decisions"] or 0 for e in entries if e["status"] == "ok")
    if merged.rows["decisions"] != expected:
        problems.append(
            f"decisions table has {merged.rows['decisions']} rows, the journal {expected}"
        )
    n_ok = sum(1 for e in entries if e["status"] == "ok")
    if merged.status.get("ok", 0) != n_ok:
        problems.append(f"documents table has {merged.status.get('ok', 0)} ok, the journal {n_ok}")
    return problems


def _manifest(entries, merged, started_at, t0, n_processed, timings, settings) -> dict:
    elapsed = time.perf_counter() - t0
    documents = [
        {key: e[key] for key in ("doc_id", "path", "status", "error", "n_decisions", "seconds")}
        for e in entries
    ]
    n_words = sum(e.get("n_words", 0) for e in entries)
    n_ok = merged.status.get("ok", 0)
    return {
        "tool": "imr-extract",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 3),
        "timings": {name: round(seconds, 3) for name, seconds in timings.items()},
        **settings,
        "versions": _versions(),
        "counts": {  # from the merged tables
            "documents": merged.rows["documents"],
            "ok": n_ok,
            "error": merged.rows["documents"] - n_ok,
            "decisions": merged.rows["decisions"],
            "words": n_words,
            "processed_this_run": n_processed,
        },
        "words_per_second": round(n_words / elapsed, 1) if elapsed and n_processed else None,
        "tables": [f"{t}.csv" for t in TABLES if settings["format"] != "parquet"]
        + [f"{t}.parquet" for t in TABLES if settings["format"] in ("parquet", "both")],
        "documents": documents,
    }
