"""Where a run keeps its work: parts and a journal, so a killed run can resume; and how the
final tables are published, as one set.

Every batch of documents is written as one file of JSON lines per table under `parts/TABLE/`
(atomically: temporary file, then rename), with its rows also as the CSV lines the final table
will hold (not fsync'ed: the journal keeps their size, and the merge reads the JSON lines when
the CSV lines are not whole), then recorded in `journal.jsonl` (one line per document,
appended and fsync'ed). A document counts as done once its journal line is there.
A part whose journal lines never got written (a kill in between) is ignored, and a document
seen twice (redone after a kill, or because its file changed) counts once, its latest entry.
Part names are unique to the attempt that wrote them, so no attempt overwrites another's.

At the end the journal decides which rows of which parts make the tables. They are written
under temporary names first; only when all are written is the old manifest removed, the
tables renamed into place and the new manifest written. A reader that finds no manifest, or
tables whose sizes are not the manifest's, is looking at an unfinished run (`load_run` says
so): tables of two runs are never read as one.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import re
import secrets
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imr_extract.export import TABLES, frame, typed
from imr_extract.part_files import csv_lines, json_lines, read_rows

DATAPACKAGE = "datapackage.json"

JOURNAL = "journal.jsonl"
MANIFEST = "manifest.json"
LOCK = ".imr-extract.lock"
TMP_PREFIX = ".imr-tmp-"
# temporary names of imr-extract 0.2 (mkstemp after the final name): removed like ours
_OLD_TMP = re.compile(
    r"^\.(?:(?:documents|decisions|citations|entities)\.(?:csv|parquet)|manifest\.json|journal\.jsonl)\.\w+$"
)
EXCEL_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class RunLockedError(Exception):
    """Another imr-extract process is writing to the same output folder."""


def atomic_write(path: Path, write, durable: bool = True) -> None:
    """Write through a temporary file in the same folder, then rename: never a half file.
    The temporary name is short (any final name fits), and the file is created with the
    permissions the umask gives (0644 under 022), so other users and workers can read it.
    `durable` also fsyncs before the rename (tables, parts); the per-letter texts skip it,
    since they can be rebuilt from their source."""
    tmp = new_temp(path.parent)
    try:
        write(str(tmp))
        if durable:
            _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def new_temp(folder: Path) -> Path:
    """An empty file with a fresh temporary name in `folder`, mode 0666 less the umask."""
    while True:
        tmp = Path(folder) / f"{TMP_PREFIX}{secrets.token_hex(6)}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def new_attempt() -> str:
    """A name for this attempt at a run; its parts are named after it."""
    return secrets.token_hex(4)


@dataclass
class Merged:
    """The final tables, written under temporary names and not yet published."""

    temps: dict[str, Path] = field(default_factory=dict)  # final file name -> temporary file
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows
    status: dict[str, int] = field(default_factory=dict)  # documents: status -> rows

    def discard(self) -> None:
        for tmp in self.temps.values():
            tmp.unlink(missing_ok=True)


class RunStore:
    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.parts_dir = self.out_dir / "parts"
        self.journal_path = self.out_dir / JOURNAL
        self._lock_fd: int | None = None

    def exists(self) -> bool:
        return self.journal_path.exists()

    def lock(self) -> None:
        """Hold the folder for this process (and the workers it forks) until it exits:
        a second run or resume on the same folder is refused instead of mixing its parts."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.out_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError(
                f"another imr-extract run is writing to {self.out_dir} (or its workers are "
                "still stopping); wait for it to end, then try again"
            ) from None
        os.truncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def remove_temporaries(self) -> list[Path]:
        """Leftovers of a process killed mid-write (parts, texts, tables); call under lock."""
        removed = [
            p
            for p in self._files(self.out_dir)
            if p.name.startswith(TMP_PREFIX) or _OLD_TMP.match(p.name)
        ]
        inner = [self.out_dir / "texts", *(self._files(self.parts_dir, folders=True))]
        removed += [p for folder in inner for p in self._files(folder) if p.name.startswith(".")]
        for path in removed:  # nothing of ours inside texts/ and parts/ starts with a dot
            path.unlink(missing_ok=True)
        return removed

    @staticmethod
    def _files(folder: Path, folders: bool = False) -> list[Path]:
        if not folder.is_dir():
            return []
        return [p for p in folder.iterdir() if p.is_dir() == folders]

    def entries(self) -> dict[str, dict[str, Any]]:
        """The latest journal entry of each document, by key (a torn line is skipped)."""
        latest: dict[str, dict[str, Any]] = {}
        if not self.journal_path.exists():
            return latest
        with open(self.journal_path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                key = entry.get("key") or entry["doc_id"]
                latest.pop(key, None)  # re-insert: keeps the latest order
                latest[key] = entry
        return latest

    def write_part(self, part: str, rows: dict[str, list[dict]], docs=None) -> dict:
        """The rows of each table as JSON lines (and the batch's Docs as a DocBin, when given),
        and as the CSV lines the final table will hold (part_files.py: no pandas). Returns
        {table: [rows, bytes of the CSV lines]}: the journal keeps it, so that the merge copies
        those bytes only when the file is whole (it is not fsync'ed: the JSON lines are the
        durable copy)."""
        if docs is not None:
            folder = self.parts_dir / "docbin"
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / f"{part}.spacy", lambda tmp: docs.to_disk(tmp))
        written = {}
        for table in TABLES:
            folder = self.parts_dir / table
            folder.mkdir(parents=True, exist_ok=True)
            table_rows = rows.get(table, [])
            values = json_lines(table_rows).encode("utf-8")
            atomic_write(folder / f"{part}.jsonl", lambda tmp, v=values: Path(tmp).write_bytes(v))
            body = csv_lines(table, table_rows).encode("utf-8")
            atomic_write(
                folder / f"{part}.csv", lambda tmp, b=body: Path(tmp).write_bytes(b), False
            )
            written[table] = [len(table_rows), len(body)]
        return written

    def record(self, entries: Iterable[dict[str, Any]]) -> None:
        """Append journal lines in one write, then fsync: the batch is now done. A torn last
        line (power lost mid-write) is ended first, so the new lines stay whole."""
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        if not text:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with open(self.journal_path, "a+b") as fh:
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    text = "\n" + text
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())

    def docs(self, vocab) -> Iterator:
        """The Docs of a `--format docbin` run, each document once (its latest part)."""
        from spacy.tokens import DocBin

        part_of = {
            e["doc_id"]: e["part"] for key, e in self.entries().items() if key == e["doc_id"]
        }
        for path in sorted((self.parts_dir / "docbin").glob("*.spacy")):
            if path.stem not in part_of.values():
                continue
            for doc in DocBin().from_disk(path).get_docs(vocab):
                if part_of.get(doc.user_data.get("doc_id")) == path.stem:
                    yield doc

    def _ordered_rows(self, table: str, entries: list[dict], csv_rows: bool = False) -> Iterator:
        """The rows of `table` for `entries`, in their order, reading each part once where
        consecutive entries share it (the usual case) and a few parts kept in memory. With
        `csv_rows`, a part whose entries are all its documents, in order, comes as the bytes
        of its CSV rows and their count (`whole_part_csv`) where that file is whole."""
        runs: list[tuple[str, list[dict]]] = []
        for e in entries:
            if runs and runs[-1][0] == e["part"]:
                runs[-1][1].append(e)
            else:
                runs.append((e["part"], [e]))
        cache: OrderedDict[str, Any] = OrderedDict()
        for part, group in runs:
            if csv_rows:
                whole = self.whole_part_csv(table, part, group)
                if whole is not None:
                    yield whole
                    continue
            if part not in cache:
                cache[part] = frame(table, read_rows(self.parts_dir / table / f"{part}.jsonl"))
                if len(cache) > 4:
                    cache.popitem(last=False)
            df = cache[part]
            if table == "documents" and all("row" in e for e in group):
                selected = df.iloc[[e["row"] for e in group]]
            else:  # only usable letters have rows here, one doc_id each per part
                ok = {e["doc_id"] for e in group if e["status"] == "ok"}
                selected = df[df["doc_id"].isin(ok)]
            yield typed(table, selected.reset_index(drop=True))

    def whole_part_csv(self, table: str, part: str, group: list[dict]) -> tuple | None:
        """(CSV bytes, rows, documents' statuses) of the part's rows of `table`, when `group`
        (the entries of one part, in table order) is every document of the part in its own
        order and the file has the size the journal recorded; else None (then the JSON lines
        are read instead)."""
        written = group[0].get("part_tables")
        if not written or table not in written:
            return None
        if any(e.get("part_tables") != written for e in group):
            return None
        if [e.get("row") for e in group] != list(range(group[0].get("part_documents", -1))):
            return None
        try:
            data = (self.parts_dir / table / f"{part}.csv").read_bytes()
        except OSError:
            return None
        n_rows, n_bytes = written[table]
        if len(data) != n_bytes:
            return None
        return data, n_rows, Counter(e["status"] for e in group) if table == "documents" else {}

    def merge(self, entries: list[dict], fmt: str, excel_safe: bool = False) -> Merged:
        """Write the final tables of `entries` (in that order) under temporary names, and the
        `datapackage.json` that describes them; each part is read once, whichever formats it
        goes to. Parquet tables hold list columns as Arrow lists, the CSVs as `;` strings."""
        from imr_extract import __version__
        from imr_extract.columns import arrow_schema, arrow_table, datapackage_json

        merged = Merged()
        try:
            for table in TABLES:
                csv_tmp, parquet = None, None
                if fmt in ("csv", "both", "docbin"):
                    csv_tmp = merged.temps[f"{table}.csv"] = new_temp(self.out_dir)
                    _write_csv_header(csv_tmp, TABLES[table])
                if fmt in ("parquet", "both"):
                    import pyarrow.parquet as pq

                    parquet_tmp = merged.temps[f"{table}.parquet"] = new_temp(self.out_dir)
                    schema = arrow_schema(table)
                    parquet = pq.ParquetWriter(parquet_tmp, schema)
                    parquet.write_table(arrow_table(table, frame(table, [])).cast(schema))
                merged.rows[table] = 0
                # parts' CSV rows copied as written, unless a frame is needed for the output
                csv_rows = parquet is None and not excel_safe
                try:
                    for df in self._ordered_rows(table, entries, csv_rows):
                        if isinstance(df, tuple):
                            data, n_rows, statuses = df
                            with open(csv_tmp, "ab") as fh:
                                fh.write(data)
                            merged.rows[table] += n_rows
                            for status, n in statuses.items():
                                merged.status[status] = merged.status.get(status, 0) + n
                            continue
                        merged.rows[table] += len(df)
                        self._count(merged, table, df)
                        if csv_tmp is not None:
                            out = excel_safe_frame(df) if excel_safe else df
                            out.to_csv(csv_tmp, mode="a", header=False, index=False)
                        if parquet is not None:
                            parquet.write_table(arrow_table(table, df).cast(schema))
                finally:
                    if parquet is not None:
                        parquet.close()
                for name in (f"{table}.csv", f"{table}.parquet"):
                    if name in merged.temps:
                        _fsync(merged.temps[name])
            package = merged.temps[DATAPACKAGE] = new_temp(self.out_dir)
            package.write_text(datapackage_json(list(merged.temps), __version__), encoding="utf-8")
            _fsync(package)
        except BaseException:
            merged.discard()
            raise
        return merged

    @staticmethod
    def _count(merged: Merged, table: str, df) -> None:
        if table == "documents":
            for status, n in df["status"].value_counts().items():
                merged.status[status] = merged.status.get(status, 0) + int(n)

    def publish(self, merged: Merged, manifest: dict[str, Any]) -> list[Path]:
        """Put the merged tables in place as one set, with the manifest that describes them;
        outputs of another format left by an earlier attempt are removed."""
        manifest["table_files"] = {
            name: {"bytes": tmp.stat().st_size} for name, tmp in merged.temps.items()
        }
        manifest_tmp = new_temp(self.out_dir)
        try:
            manifest_tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
            _fsync(manifest_tmp)
        except BaseException:
            manifest_tmp.unlink(missing_ok=True)
            merged.discard()
            raise
        (self.out_dir / MANIFEST).unlink(missing_ok=True)  # from here on: an unfinished run
        written = []
        for name, tmp in merged.temps.items():
            os.replace(tmp, self.out_dir / name)
            written.append(self.out_dir / name)
        for table in TABLES:
            for suffix in (".csv", ".parquet"):
                if f"{table}{suffix}" not in merged.temps:
                    (self.out_dir / f"{table}{suffix}").unlink(missing_ok=True)
        os.replace(manifest_tmp, self.out_dir / MANIFEST)
        _fsync_dir(self.out_dir)
        return written


def _write_csv_header(path: Path, columns: list[str]) -> None:
    """The header line, as `DataFrame.to_csv` writes it (csv quoting, "\n"), without
    building an empty frame of the table (a tenth of a second at start-up, five tables)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow(columns)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def excel_safe_frame(df):
    """Text cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR first)
    get a leading apostrophe (`--excel-safe`); numbers and the default output are untouched."""
    df = df.copy()
    for col in df.columns:
        if str(df[col].dtype) == "string":
            risky = df[col].str.startswith(EXCEL_TRIGGERS).fillna(False).astype(bool)
            df.loc[risky, col] = "'" + df.loc[risky, col]
    return df


class RunNotFinishedError(ValueError):
    """The folder holds no finished run: no manifest, or tables that are not its tables."""


def finished_tables(out_dir: str | Path) -> dict[str, Path]:
    """The table files of a finished run, checked against its manifest: {file name: path}."""
    out = Path(out_dir)
    if not out.exists():
        raise RunNotFinishedError(f"{out} does not exist")
    if not out.is_dir():
        raise RunNotFinishedError(f"{out} is a file, not the --out folder of a run")
    path = out / MANIFEST
    if not path.exists():
        hint = "finish it with --resume" if (out / JOURNAL).exists() else "is it a run folder?"
        raise RunNotFinishedError(f"{out} holds no finished run (no {MANIFEST}): {hint}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunNotFinishedError(f"{path} cannot be read: {exc}") from None
    files = manifest.get("table_files")
    if files is None:  # a run of imr-extract 0.2: the tables it listed
        files = {name: None for name in manifest.get("tables", [])}
    found = {}
    for name, meta in files.items():
        table = out / name
        if not table.exists() or (meta and table.stat().st_size != meta["bytes"]):
            raise RunNotFinishedError(
                f"{table} is not the table {MANIFEST} describes (a run was stopped while "
                "publishing?): finish it with --resume"
            )
        found[name] = table
    return found
