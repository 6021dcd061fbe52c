"""The work of one batch, wherever it runs: this process, a local worker or a Dask worker.

A batch of files becomes one part (see `store.py`), its normalised texts and its journal
entries. The runner and the Dask backend both send batches here; neither imports the other.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from spacy.tokens import DocBin

from imr_extract.export import TABLES, doc_rows, error_rows
from imr_extract.ingest import page_furniture, read_document
from imr_extract.store import RunStore, atomic_write

MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; leave room for suffixes

_worker: dict[str, Any] = {}


def init_worker(model: str | None, max_bytes: int) -> None:
    """Load the pipeline once per process (a local worker, a Dask worker, or this one)."""
    if _worker.get("key") == (model, max_bytes):
        return
    from imr_extract.api import load

    use_pipeline(load(model), max_bytes)
    _worker["key"] = (model, max_bytes)


def use_pipeline(nlp, max_bytes: int) -> None:
    """Process this process's files with `nlp` (a pipeline built in memory, as the lexicon
    comparison of `make eval` does) until the next `init_worker` with a model."""
    _worker["nlp"] = nlp
    _worker["max_bytes"] = max_bytes
    _worker["furniture"] = page_furniture()
    _worker["key"] = ("in-memory", id(nlp))


def use_read_ahead(documents: dict) -> None:
    """Take these documents (path: (SourceDocument, seconds to read), see `read_ahead.py`) as
    read instead of reading their files; an empty dict to read every file again."""
    _worker["read_ahead"] = documents


def watch_parent(pid: int) -> None:
    """Make this worker stop between documents once process `pid` (the run) is gone."""
    _worker["parent"] = pid


def _check_parent() -> None:
    parent = _worker.get("parent")
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the run that sent this batch is dead: write nothing more


def process_file(path: Path, keep_doc: bool = False):
    """Rows for one file, its normalised text, and the seconds it took (and its Doc, with
    `keep_doc`). Never raises."""
    started = time.perf_counter()
    ahead = _worker.get("read_ahead") or {}
    source, read_seconds = ahead.pop(str(path), (None, 0.0))
    if source is None:
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
    result = (rows, source.text, read_seconds + time.perf_counter() - started)
    return (*result, doc) if keep_doc else result


_rows_seen: dict[str, Any] = {"key": None, "rows": {}}


def letter_rows(path: Path) -> dict[str, list[dict]]:
    """The table rows of one file, computed once per loaded pipeline: the evaluators of
    `make eval` score the same letters, and share one pass over them. Read-only rows."""
    if _rows_seen["key"] != _worker["key"]:
        _rows_seen.update(key=_worker["key"], rows={})
    rows = _rows_seen["rows"]
    if str(path) not in rows:
        rows[str(path)] = process_file(path)[0]
    return rows[str(path)]


def text_file_name(doc_id: str) -> str:
    """`DOC_ID.txt`, or for a doc_id too long for a file name its first bytes and a hash."""
    name = f"{doc_id}.txt"
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    head = doc_id.encode("utf-8")[: MAX_NAME_BYTES - 20].decode("utf-8", "ignore")
    return f"{head}-{hashlib.sha1(doc_id.encode('utf-8')).hexdigest()[:12]}.txt"


def journal_entry(doc_row: dict, part: str, seconds: float, row: int, key: str = "") -> dict:
    """What the journal keeps of a document: enough to resume, merge and count.
    `key` tells apart rows that share a doc_id (a duplicate, a skipped input)."""
    return {
        "key": key or doc_row["doc_id"],
        "doc_id": doc_row["doc_id"],
        "path": doc_row["path"],
        "sha1": doc_row["sha1"],
        "status": doc_row["status"],
        "error": doc_row["error"] or "",
        "n_decisions": doc_row["n_decisions"],
        "n_words": doc_row["n_words"] or 0,
        "seconds": round(seconds, 4),
        "part": part,
        "row": row,
        "tool": tool_version(),
    }


def tool_version() -> str:
    """The version that wrote a journal entry: a resume redoes documents of another version,
    whose parts may lack a table or a column of this one."""
    from imr_extract import __version__

    return __version__


def process_batch(
    paths: list[str],
    part: str,
    out_dir: str,
    model: str | None,
    max_bytes: int,
    docbin: bool = False,
) -> list[dict[str, Any]]:
    """Annotate a batch, write its normalised texts and its part; return its journal entries."""
    init_worker(model, max_bytes)
    store = RunStore(out_dir)
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    entries = []
    texts_dir = Path(out_dir) / "texts"
    texts_dir.mkdir(parents=True, exist_ok=True)
    docs = DocBin(store_user_data=True) if docbin else None
    for path in paths:
        _check_parent()
        table_rows, text, seconds, doc = process_file(Path(path), keep_doc=True)
        doc_row = table_rows["documents"][0]
        if docs is not None and doc is not None and doc_row["status"] == "ok":
            docs.add(doc)
        if text:
            name = text_file_name(doc_row["doc_id"])
            doc_row["text_file"] = name
            atomic_write(
                texts_dir / name,
                lambda tmp, t=text: Path(tmp).write_text(t, encoding="utf-8"),
                durable=False,
            )
        for name in TABLES:
            rows[name].extend(table_rows[name])
        entries.append(journal_entry(doc_row, part, seconds, row=len(entries)))
    _check_parent()
    return with_part(entries, store.write_part(part, rows, docs))


def with_part(entries: list[dict], written: dict) -> list[dict]:
    """The journal entries of one part, each told the part's size and what it wrote: the
    merge copies a part's CSV rows only when all its documents are taken, whole."""
    for entry in entries:
        entry["part_documents"] = len(entries)
        entry["part_tables"] = written
    return entries
