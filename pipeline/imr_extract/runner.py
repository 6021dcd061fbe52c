"""A corpus run: files in, tables and a manifest out, streaming, parallel and resumable.

Documents go through in batches; each batch becomes one part (see `store.py`) and its journal
lines. Memory does not grow with the corpus, a killed run resumes where it stopped
(`resume=True`), and one bad document never stops the rest.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import platform
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spacy.tokens import DocBin

from imr_extract.export import TABLES, doc_rows, error_rows
from imr_extract.ingest import DEFAULT_MAX_BYTES, SourceDocument, find_inputs, read_document
from imr_extract.rules import packaged_rules
from imr_extract.store import RunStore, atomic_write

FORMATS = ("csv", "parquet", "both", "docbin")  # docbin: CSV tables plus the spaCy Docs
BACKENDS = ("local", "dask")
DEFAULT_BATCH_SIZE = 64

_worker: dict[str, Any] = {}


class RunExistsError(Exception):
    """The output folder holds a previous run and resume was not asked for."""


@dataclass
class RunResult:
    out_dir: Path
    manifest: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def n_ok(self) -> int:
        return self.manifest["counts"]["ok"]


def _init_worker(model: str | None, max_bytes: int) -> None:
    """Load the pipeline once per process (a local worker, a Dask worker, or this one)."""
    if _worker.get("key") == (model, max_bytes):
        return
    from imr_extract.api import load

    use_pipeline(load(model), max_bytes)
    _worker["key"] = (model, max_bytes)


def use_pipeline(nlp, max_bytes: int) -> None:
    """Process this process's files with `nlp` (a pipeline built in memory, as the lexicon
    comparison of `make eval` does) until the next `_init_worker` with a model."""
    _worker["nlp"] = nlp
    _worker["max_bytes"] = max_bytes
    _worker["furniture"] = packaged_rules("page_furniture.jsonl")
    _worker["key"] = ("in-memory", id(nlp))


def process_file(path: Path, keep_doc: bool = False):
    """Rows for one file, its normalised text, and the seconds it took (and its Doc, with
    `keep_doc`). Never raises."""
    started = time.perf_counter()
    source = read_document(path, max_bytes=_worker["max_bytes"], furniture=_worker["furniture"])
    doc = None
    if not source.ok:
        rows = error_rows(source, source.error)
    else:
        try:
            doc = _worker["nlp"](source.text)
            doc.user_data["doc_id"] = source.doc_id
            rows = doc_rows(doc, source)
        except Exception as exc:  # one broken letter must not end the run
            doc = None
            rows = error_rows(source, f"pipeline failed: {type(exc).__name__}: {exc}")
    result = (rows, source.text, time.perf_counter() - started)
    return (*result, doc) if keep_doc else result


def journal_entry(doc_row: dict, part: str, seconds: float) -> dict[str, Any]:
    return {
        "doc_id": doc_row["doc_id"],
        "path": doc_row["path"],
        "sha1": doc_row["sha1"],
        "status": doc_row["status"],
        "error": doc_row["error"] or "",
        "n_decisions": doc_row["n_decisions"],
        "n_words": doc_row["n_words"] or 0,
        "seconds": round(seconds, 4),
        "part": part,
    }


def process_batch(
    paths: list[Path],
    part: str,
    out_dir: str,
    model: str | None,
    max_bytes: int,
    docbin: bool = False,
) -> list[dict[str, Any]]:
    """Annotate a batch, write its normalised texts and its part; return its journal entries.
    Runs wherever the batch is sent: this process, a local worker or a Dask worker."""
    _init_worker(model, max_bytes)
    store = RunStore(out_dir)
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    entries = []
    texts_dir = Path(out_dir) / "texts"
    texts_dir.mkdir(parents=True, exist_ok=True)
    docs = DocBin(store_user_data=True) if docbin else None
    for path in paths:
        table_rows, text, seconds, doc = process_file(Path(path), keep_doc=True)
        if docs is not None and doc is not None:
            docs.add(doc)
        doc_row = table_rows["documents"][0]
        if text:
            atomic_write(
                texts_dir / f"{doc_row['doc_id']}.txt",
                lambda tmp, t=text: Path(tmp).write_text(t, encoding="utf-8"),
                durable=False,
            )
        for name in TABLES:
            rows[name].extend(table_rows[name])
        entries.append(journal_entry(doc_row, part, seconds))
    store.write_part(part, rows, docs)
    return entries


def _process_batch_args(args) -> list[dict[str, Any]]:
    return process_batch(*args)


def file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _run_local(todo, store, n_process, model, max_bytes, batch_size, bar, docbin) -> None:
    first = int(store.next_part("b")[1:])
    jobs = [
        ([str(p) for p in batch], f"b{first + k:06d}", str(store.out_dir), model, max_bytes, docbin)
        for k, batch in enumerate(batches(todo, batch_size))
    ]
    if n_process <= 1 or len(jobs) < 2:
        results: Iterable = map(_process_batch_args, jobs)
        for entries in results:
            store.record(entries)
            bar.update(len(entries))
        return
    # with fork, the workers share the pipeline that run() loaded in this process
    method = "spawn" if sys.platform == "darwin" else "fork"
    with mp.get_context(method).Pool(n_process) as pool:
        for entries in pool.imap(_process_batch_args, jobs):
            store.record(entries)
            bar.update(len(entries))


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
) -> RunResult:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}")
    inputs = [str(p) for p in inputs]
    out_dir = Path(out_dir)
    store = RunStore(out_dir)
    if store.exists() and not resume:
        raise RunExistsError(
            f"{out_dir} holds a previous run: use --resume to finish it, or another --out"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()

    files = find_inputs(inputs)
    owners: dict[str, Path] = {}
    unique, duplicates = [], []
    for path in files:
        (duplicates if path.stem in owners else unique).append(path)
        owners.setdefault(path.stem, path)
    done = store.entries() if resume else {}
    todo = [p for p in unique if not _is_done(done.get(p.stem), p)]

    from tqdm import tqdm

    timings = {"loading": 0.0}
    if todo and backend == "local":
        t = time.perf_counter()
        _init_worker(model, max_bytes)
        timings["loading"] = time.perf_counter() - t
    t = time.perf_counter()
    bar = tqdm(total=len(todo), unit="doc", disable=not progress, file=sys.stderr)
    if backend == "dask":
        from imr_extract.dask_backend import run_dask

        run_dask(
            todo, store, scheduler, n_process, model, max_bytes, batch_size, bar, fmt == "docbin"
        )
    else:
        _run_local(todo, store, n_process, model, max_bytes, batch_size, bar, fmt == "docbin")
    bar.close()
    timings["processing"] = time.perf_counter() - t
    _record_duplicates(duplicates, owners, store)

    t = time.perf_counter()
    planned = {p.stem for p in unique} | {f"{p.stem}#duplicate:{p}" for p in duplicates}
    latest = {k: v for k, v in store.entries().items() if k in planned}
    written = store.merge(fmt, only=set(latest))
    timings["merging"] = time.perf_counter() - t
    settings = {
        "inputs": inputs,
        "out_dir": str(out_dir),
        "backend": backend,
        "n_process": n_process,
        "format": fmt,
        "model": model or "built-in rules",
    }
    return _finish(out_dir, latest, written, started_at, t0, len(todo), timings, settings)


def _is_done(entry: dict | None, path: Path) -> bool:
    """Already in the journal, from this very file with these very bytes."""
    return bool(entry) and entry["path"] == str(path) and entry["sha1"] == file_sha1(path)


def _record_duplicates(duplicates: list[Path], owners: dict[str, Path], store: RunStore) -> None:
    if not duplicates:
        return
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    entries = []
    part = store.next_part("d")
    for path in duplicates:
        source = SourceDocument(doc_id=path.stem, path=str(path), sha1=file_sha1(path))
        message = f"duplicate doc_id: {path.stem!r} is already taken by {owners[path.stem]}"
        table_rows = error_rows(source, message)
        rows["documents"].extend(table_rows["documents"])
        # the duplicate's journal key must not replace the owner's entry
        entry = journal_entry(table_rows["documents"][0], part, 0.0)
        entry["doc_id"] = f"{path.stem}#duplicate:{path}"
        entries.append(entry)
    store.write_part(part, rows)
    store.record(entries)


def _finish(out_dir, latest, written, started_at, t0, n_processed, timings, settings) -> RunResult:
    elapsed = time.perf_counter() - t0
    documents = [
        {key: e[key] for key in ("doc_id", "path", "status", "error", "n_decisions", "seconds")}
        | {"doc_id": e["doc_id"].split("#duplicate:")[0]}
        for e in latest.values()
    ]
    n_ok = sum(1 for d in documents if d["status"] == "ok")
    n_words = sum(e.get("n_words", 0) for e in latest.values())
    decisions = sum(d["n_decisions"] or 0 for d in documents)
    manifest = {
        "tool": "imr-extract",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 3),
        "timings": {name: round(seconds, 3) for name, seconds in timings.items()},
        **settings,
        "versions": _versions(),
        "counts": {
            "documents": len(documents),
            "ok": n_ok,
            "error": len(documents) - n_ok,
            "decisions": decisions,
            "words": n_words,
            "processed_this_run": n_processed,
        },
        "words_per_second": round(n_words / elapsed, 1) if elapsed and n_processed else None,
        "tables": [p.name for p in written],
        "documents": documents,
    }
    path = out_dir / "manifest.json"
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2)))
    return RunResult(out_dir=out_dir, manifest=manifest, files=[*written, path])
