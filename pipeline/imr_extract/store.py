"""Where a run keeps its work: parts and a journal, so a killed run can resume.

Every batch of documents is written as one Parquet file per table under `parts/TABLE/`
(atomically: temporary file, then rename), then recorded in `journal.jsonl` (one line per
document, appended and fsync'ed). A document counts as done once its journal line is there.
A part whose journal lines never got written (a kill in between) is ignored, and a document
seen twice (redone after a kill, or because its file changed) counts once, its latest entry.
At the end the journal decides which rows of which parts make the merged tables.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from imr_extract.export import TABLES, frame, typed

JOURNAL = "journal.jsonl"


def atomic_write(path: Path, write, durable: bool = True) -> None:
    """Write through a temporary file in the same folder, then rename: never a half file.
    `durable` also fsyncs before the rename (tables, parts); the per-letter texts skip it,
    since they can be rebuilt from their source."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        if durable:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class RunStore:
    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.parts_dir = self.out_dir / "parts"
        self.journal_path = self.out_dir / JOURNAL

    def exists(self) -> bool:
        return self.journal_path.exists()

    def entries(self) -> dict[str, dict[str, Any]]:
        """The latest journal entry of each document (a torn last line is skipped)."""
        latest: dict[str, dict[str, Any]] = {}
        if not self.journal_path.exists():
            return latest
        with open(self.journal_path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                latest.pop(entry["doc_id"], None)  # re-insert: keeps the latest order
                latest[entry["doc_id"]] = entry
        return latest

    def next_part(self, prefix: str) -> str:
        used = [p.stem for p in (self.parts_dir / "documents").glob(f"{prefix}*.parquet")]
        numbers = [int(name[len(prefix) :]) for name in used if name[len(prefix) :].isdigit()]
        return f"{prefix}{max(numbers, default=-1) + 1:06d}"

    def write_part(self, part: str, rows: dict[str, list[dict]], docs=None) -> None:
        """One Parquet file per table (and the batch's Docs as a DocBin, when given)."""
        if docs is not None:
            folder = self.parts_dir / "docbin"
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / f"{part}.spacy", lambda tmp: docs.to_disk(tmp))
        for table in TABLES:
            folder = self.parts_dir / table
            folder.mkdir(parents=True, exist_ok=True)
            df = frame(table, rows.get(table, []))
            atomic_write(
                folder / f"{part}.parquet", lambda tmp, d=df: d.to_parquet(tmp, index=False)
            )

    def record(self, entries: Iterable[dict[str, Any]]) -> None:
        """Append journal lines in one write, then fsync: the batch is now done."""
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        if not text:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.journal_path, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    def docs(self, vocab) -> Iterator:
        """The Docs of a `--format docbin` run, each document once (its latest part)."""
        from spacy.tokens import DocBin

        latest = self.entries()
        for path in sorted((self.parts_dir / "docbin").glob("*.spacy")):
            for doc in DocBin().from_disk(path).get_docs(vocab):
                entry = latest.get(doc.user_data.get("doc_id"))
                if entry is not None and entry["part"] == path.stem:
                    yield doc

    def _assigned_rows(self, table: str, latest: dict[str, dict]) -> Iterator:
        """The part frames of `table`, each filtered to the documents the journal assigns it."""
        import pandas as pd

        by_part: dict[str, set[str]] = {}
        for doc_id, entry in latest.items():
            by_part.setdefault(entry["part"], set()).add(doc_id.split("#duplicate:")[0])
        for part in sorted(by_part):
            path = self.parts_dir / table / f"{part}.parquet"
            df = pd.read_parquet(path)
            yield typed(table, df[df["doc_id"].isin(by_part[part])].reset_index(drop=True))

    def merge(self, fmt: str, only: set[str] | None = None) -> list[Path]:
        """Write the final tables from the parts, one part in memory at a time; `only` keeps
        the documents of this run's inputs."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        latest = {k: v for k, v in self.entries().items() if only is None or k in only}
        written = []
        for table in TABLES:
            if fmt in ("csv", "both", "docbin"):
                path = self.out_dir / f"{table}.csv"

                def write_csv(tmp, table=table):
                    frame(table, []).to_csv(tmp, index=False)
                    for df in self._assigned_rows(table, latest):
                        df.to_csv(tmp, mode="a", header=False, index=False)

                atomic_write(path, write_csv)
                written.append(path)
            if fmt in ("parquet", "both"):
                path = self.out_dir / f"{table}.parquet"
                schema = pa.Schema.from_pandas(frame(table, []), preserve_index=False)

                def write_parquet(tmp, table=table, schema=schema):
                    with pq.ParquetWriter(tmp, schema) as writer:
                        writer.write_table(
                            pa.Table.from_pandas(
                                frame(table, []), schema=schema, preserve_index=False
                            )
                        )
                        for df in self._assigned_rows(table, latest):
                            writer.write_table(
                                pa.Table.from_pandas(df, schema=schema, preserve_index=False)
                            )

                atomic_write(path, write_parquet)
                written.append(path)
        return written
