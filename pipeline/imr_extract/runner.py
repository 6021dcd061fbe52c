"""A corpus run: files in, tables and a manifest out, one bad document never stopping the rest."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imr_extract.export import TABLES, doc_rows, error_rows, frame
from imr_extract.ingest import DEFAULT_MAX_BYTES, find_inputs, read_document
from imr_extract.rules import packaged_rules

FORMATS = ("csv", "parquet", "both")

_worker: dict[str, Any] = {}


@dataclass
class RunResult:
    out_dir: Path
    manifest: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def n_ok(self) -> int:
        return self.manifest["counts"]["ok"]


def _init_worker(model: str | None, max_bytes: int) -> None:
    from imr_extract.api import load

    _worker["nlp"] = load(model)
    _worker["max_bytes"] = max_bytes
    _worker["furniture"] = packaged_rules("page_furniture.jsonl")


def process_file(path: Path) -> tuple[dict[str, list[dict]], str, float]:
    """Rows for one file, its normalised text, and the seconds it took. Never raises."""
    started = time.perf_counter()
    source = read_document(path, max_bytes=_worker["max_bytes"], furniture=_worker["furniture"])
    if not source.ok:
        return error_rows(source, source.error), "", time.perf_counter() - started
    try:
        doc = _worker["nlp"](source.text)
        rows = doc_rows(doc, source)
    except Exception as exc:  # one broken letter must not end the run
        rows = error_rows(source, f"pipeline failed: {type(exc).__name__}: {exc}")
    return rows, source.text, time.perf_counter() - started


def atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename: never a half file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_tables(out_dir: Path, rows: dict[str, list[dict]], fmt: str) -> list[Path]:
    written = []
    for name in TABLES:
        table = frame(name, rows[name])
        if fmt in ("csv", "both"):
            path = out_dir / f"{name}.csv"
            atomic_write(path, lambda tmp, f=table: f.to_csv(tmp, index=False))
            written.append(path)
        if fmt in ("parquet", "both"):
            path = out_dir / f"{name}.parquet"
            atomic_write(path, lambda tmp, f=table: f.to_parquet(tmp, index=False))
            written.append(path)
    return written


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("imr-extract", "spacy", "pypdfium2", "pandas"):
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
) -> RunResult:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    texts_dir = out_dir / "texts"
    texts_dir.mkdir(parents=True, exist_ok=True)
    files = find_inputs(inputs)

    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    per_doc: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    unique, duplicates = [], []
    for path in files:
        (duplicates if path.stem in seen else unique).append(path)
        seen.setdefault(path.stem, str(path))

    results = _process_all(unique, n_process, model, max_bytes, progress)
    for table_rows, text, seconds in results:
        doc_row = table_rows["documents"][0]
        if text:
            atomic_write(
                texts_dir / f"{doc_row['doc_id']}.txt",
                lambda tmp, t=text: Path(tmp).write_text(t, encoding="utf-8"),
            )
        for name in TABLES:
            rows[name].extend(table_rows[name])
        per_doc.append(_manifest_entry(doc_row, seconds))
    for path in duplicates:
        from imr_extract.ingest import SourceDocument

        source = SourceDocument(doc_id=path.stem, path=str(path))
        msg = f"duplicate doc_id: {path.stem!r} is already taken by {seen[path.stem]}"
        table_rows = error_rows(source, msg)
        rows["documents"].extend(table_rows["documents"])
        per_doc.append(_manifest_entry(table_rows["documents"][0], 0.0))

    written = _write_tables(out_dir, rows, fmt)
    elapsed = time.perf_counter() - t0
    n_ok = sum(1 for d in per_doc if d["status"] == "ok")
    n_words = sum(r["n_words"] or 0 for r in rows["documents"])
    manifest = {
        "tool": "imr-extract",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 3),
        "inputs": [str(p) for p in inputs],
        "out_dir": str(out_dir),
        "n_process": n_process,
        "format": fmt,
        "model": model or "built-in rules",
        "versions": _versions(),
        "counts": {
            "documents": len(per_doc),
            "ok": n_ok,
            "error": len(per_doc) - n_ok,
            "decisions": len(rows["decisions"]),
            "words": n_words,
        },
        "words_per_second": round(n_words / elapsed, 1) if elapsed else None,
        "tables": [p.name for p in written],
        "documents": per_doc,
    }
    manifest_path = out_dir / "manifest.json"
    atomic_write(manifest_path, lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2)))
    return RunResult(out_dir=out_dir, manifest=manifest, files=[*written, manifest_path])


def _manifest_entry(doc_row: dict, seconds: float) -> dict[str, Any]:
    return {
        "doc_id": doc_row["doc_id"],
        "path": doc_row["path"],
        "status": doc_row["status"],
        "error": doc_row["error"] or "",
        "n_decisions": doc_row["n_decisions"],
        "seconds": round(seconds, 4),
    }


def _process_all(files: list[Path], n_process: int, model, max_bytes, progress: bool):
    from tqdm import tqdm

    bar = tqdm(total=len(files), unit="doc", disable=not progress, file=sys.stderr)
    if n_process <= 1 or len(files) < 2:
        _init_worker(model, max_bytes)
        for path in files:
            yield process_file(path)
            bar.update()
    else:
        ctx = mp.get_context("spawn" if sys.platform == "darwin" else "fork")
        with ctx.Pool(n_process, initializer=_init_worker, initargs=(model, max_bytes)) as pool:
            for result in pool.imap(process_file, files, chunksize=4):
                yield result
                bar.update()
    bar.close()
