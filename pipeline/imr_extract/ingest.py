"""Reading letters from disk: text or PDF in, normalised text or a clear error out.

Nothing here raises for a bad document or a bad input: `read_document` returns a
`SourceDocument` whose `error` says what is wrong, and `scan_inputs` lists every input it could
not use with the reason, so a corpus run records each of them and goes on.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from imr_extract.normalize.text import normalize_text
from imr_extract.rules import packaged_rules

SUFFIXES = (".txt", ".pdf")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # a real letter is under 200 kB; 10 MB is far past any

DOC_ID_WARNING = "file name is not valid UTF-8: doc_id uses U+FFFD for the undecodable bytes"
PATH_WARNING = "folder name is not valid UTF-8: path uses U+FFFD for the undecodable bytes"
EXCLUDED = "inside an excluded folder (the output)"

# UTF-32 first: the UTF-32-LE mark (FF FE 00 00) begins with the UTF-16-LE one (FF FE).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


@dataclass
class SourceDocument:
    doc_id: str
    path: str
    text: str = ""
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    sha1: str = ""
    n_pages: int | None = None

    @property
    def ok(self) -> bool:
        return not self.error

    def __iter__(self):
        """`for doc_id, text in read_corpus(...)`: a document in error has an empty text."""
        return iter((self.doc_id, self.text))


@dataclass
class InputScan:
    """What `scan_inputs` found: the files to read, and every input it could not use."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


# ---- names ----------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """`text` with the bytes Python could not decode (lone surrogates) as U+FFFD.

    Python gives a file name whose bytes are not UTF-8 as a str with surrogate escapes; such a
    str cannot be written to UTF-8 (the Parquet writer raises), so it never leaves this module.
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def path_text(path: str | Path) -> str:
    """The path as text that can be written anywhere: undecodable bytes become U+FFFD."""
    return clean_text(str(path))


def doc_id_of(path: str | Path) -> tuple[str, list[str]]:
    """The doc_id (the file name without its suffix) and a warning if it had to be repaired."""
    stem = Path(path).stem
    doc_id = clean_text(stem)
    return doc_id, ([DOC_ID_WARNING] if doc_id != stem else [])


# ---- finding inputs -------------------------------------------------------------------------


def _real(path: Path) -> Path:
    """The resolved path; unlike Path.resolve() in Python 3.11, never raises on a link loop."""
    return Path(os.path.realpath(path))


def _kind_name(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "folder"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return name
    return "special file"


def _classify(path: Path) -> tuple[str, str]:
    """("file" | "folder" | "skip", reason). Follows symbolic links; opens nothing, since
    opening a FIFO blocks until someone writes to it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "skip", "dangling symbolic link" if path.is_symlink() else "input does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "skip", "symbolic link loop"
        return "skip", f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return "folder", ""
    if stat.S_ISREG(mode):
        return "file", ""
    return "skip", f"not a regular file ({_kind_name(mode)})"


def _is_excluded(real: Path, exclude: list[Path]) -> bool:
    return any(real == folder or real.is_relative_to(folder) for folder in exclude)


def _walk(
    folder: Path,
    ancestors: frozenset[Path],
    visited: set[Path],
    exclude: list[Path],
    scan: InputScan,
) -> None:
    """Add the letters under `folder` to `scan`, following symbolic links.

    A folder whose resolved path is one of its own ancestors is a loop (recorded); one already
    walked through another path adds nothing new (its files are found once, not recorded).
    Files named with another suffix or none (notes.docx, LICENSE) are not letters and are
    passed over; a broken entry without a suffix is recorded, since it may have been a folder.
    """
    real = _real(folder)
    if real in ancestors:
        scan.skipped.append((folder, "symbolic link loop"))
        return
    if real in visited or _is_excluded(real, exclude):
        return
    visited.add(real)
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError as exc:
        scan.skipped.append((folder, f"cannot read folder: {exc.strerror or exc}"))
        return
    for name in names:
        path = folder / name
        kind, reason = _classify(path)
        if kind == "folder":
            _walk(path, ancestors | {real}, visited, exclude, scan)
        elif path.suffix.lower() in SUFFIXES:
            if kind == "file":
                scan.files.append(path)
            else:
                scan.skipped.append((path, reason))
        elif kind == "skip" and not path.suffix:  # a broken link may have been a folder
            scan.skipped.append((path, reason))


def scan_inputs(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> InputScan:
    """Files named, plus .txt/.pdf files under folders named (recursive, following symbolic
    links), in path order with no file twice; and every input that cannot be used, with why.

    `exclude`: folders never walked into (the run's output, so its texts/ are not read back as
    letters), compared by resolved path. Named inputs that are not regular files (FIFO, socket,
    device) are skipped, never opened.
    """
    excluded = [_real(Path(p)) for p in exclude]
    visited: set[Path] = set()
    scan = InputScan()
    for p in map(Path, paths):
        kind, reason = _classify(p)
        if kind == "file":
            scan.files.append(p)
        elif kind == "skip":
            scan.skipped.append((p, reason))
        elif _is_excluded(_real(p), excluded):
            scan.skipped.append((p, EXCLUDED))
        else:
            under = InputScan()
            _walk(p, frozenset(), visited, excluded, under)
            scan.files.extend(sorted(under.files))
            scan.skipped.extend(under.skipped)
    scan.files = _unique(scan.files, key=_real)
    scan.skipped = _unique(scan.skipped, key=lambda item: os.path.abspath(item[0]))
    return scan


def _unique(items: list, key) -> list:
    seen: set = set()
    unique = []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            unique.append(item)
    return unique


def find_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """The files of `scan_inputs(paths)`; inputs that cannot be used are left out silently."""
    return scan_inputs(paths).files


def skipped_document(path: str | Path, reason: str) -> SourceDocument:
    """The SourceDocument (in error) for an input `scan_inputs` skipped, so it gets its row."""
    doc_id, warnings = doc_id_of(path)
    return SourceDocument(doc_id=doc_id, path=path_text(path), error=reason, warnings=warnings)


# ---- reading --------------------------------------------------------------------------------


def _sha1_of(fh: BinaryIO) -> str:
    """SHA-1 of the rest of an open file, a block at a time: a huge file is never in memory."""
    digest = hashlib.sha1()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _open_nonblocking(path: Path) -> BinaryIO:
    """Open for reading with O_NONBLOCK: a FIFO swapped in after our check cannot block us
    (regular files ignore the flag)."""
    return open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NONBLOCK))


def file_sha1(path: str | Path) -> str:
    """SHA-1 of a regular file, streamed; "" when it cannot be read or is not a regular file
    (never opened then: a FIFO would block)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return ""
        with _open_nonblocking(Path(path)) as fh:
            return _sha1_of(fh)
    except OSError:
        return ""


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > 0.05 * len(sample)


def _unicode_bom(data: bytes) -> tuple[bytes, str, str] | None:
    """(mark, codec, name) when the data starts with a UTF-32 or UTF-16 byte order mark."""
    return next((bom for bom in _BOMS if data.startswith(bom[0])), None)


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """UTF-16/32 when a byte order mark says so; else UTF-8 (with or without BOM); anything else
    is read as Windows-1252. Every guess other than UTF-8 comes with a warning."""
    bom = _unicode_bom(data)
    if bom:
        mark, codec, name = bom
        warning = f"decoded as {name} (byte order mark)"
        try:
            return data[len(mark) :].decode(codec), [warning]
        except UnicodeDecodeError:
            text = data[len(mark) :].decode(codec, "replace")
            return text, [f"{warning}, undecodable bytes replaced by U+FFFD"]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        warning = f"not valid UTF-8 (byte {exc.start}); read as Windows-1252"
        try:
            return data.decode("cp1252"), [warning]
        except UnicodeDecodeError:
            return data.decode("latin-1"), [warning.replace("Windows-1252", "Latin-1")]


def pdf_text(data: bytes) -> tuple[str, int]:
    """Text of a PDF in reading order, pages separated by form feeds (pypdfium2: see README)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\f".join(pages), len(pages)
    finally:
        pdf.close()


def _cut_after_eof(data: bytes) -> bytes | None:
    """The data up to the last %%EOF (and its line end); None when nothing follows it."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        return None
    end += len(b"%%EOF")
    for newline in (b"\r\n", b"\n", b"\r"):
        if data.startswith(newline, end):
            end += len(newline)
            break
    return data[:end] if end < len(data) else None


def read_pdf(data: bytes) -> tuple[str, int, list[str]]:
    """(text, pages, warnings). Bytes after the last %%EOF (a mail footer, a half-written
    update) can make PDFium reject a sound file; if so, retry without them and say so.
    Raises PDFium's error when the file is broken either way."""
    try:
        text, n_pages = pdf_text(data)
        return text, n_pages, []
    except Exception:  # pdfium raises its own error types for every kind of damage
        cut = _cut_after_eof(data)
        if cut is None:
            raise
        try:
            text, n_pages = pdf_text(cut)
        except Exception:
            pass
        else:
            return (
                text,
                n_pages,
                [f"recovered PDF: ignored {len(data) - len(cut)} bytes after %%EOF"],
            )
        raise


def _pdf_error(exc: Exception) -> str:
    message = str(exc)
    if "password" in message.lower():
        return "PDF is encrypted (password required); cannot read its text"
    return f"cannot read PDF (broken or truncated): {message}"


def page_furniture() -> list[dict]:
    """The package's page furniture rules (resources/page_furniture.jsonl), which
    `read_document` strips when it is given none: read once by each process that reads
    letters (a run's workers, its reader, the bench), so that all read alike."""
    return packaged_rules("page_furniture.jsonl")


def read_document(
    path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, furniture: list[dict] | None = None
) -> SourceDocument:
    """The letter at `path`, read and normalised; never raises. Whatever goes wrong, expected
    or not, is one line in `error`, and `doc_id`, `path` and `warnings` are clean UTF-8 text."""
    path = Path(path)
    doc_id, warnings = doc_id_of(path)
    doc = SourceDocument(doc_id=doc_id, path=path_text(path), warnings=warnings)
    if doc.path != str(path) and not warnings:
        doc.warnings.append(PATH_WARNING)
    try:
        _read_into(doc, path, max_bytes, furniture)
    except Exception as exc:  # a bug or an unforeseen file costs one row, never the run
        doc.text = ""
        doc.error = f"cannot read file: {type(exc).__name__}: {exc}"
    doc.error = " ".join(clean_text(doc.error).split())
    return doc


def _read_into(
    doc: SourceDocument, path: Path, max_bytes: int, furniture: list[dict] | None
) -> None:
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):  # refused unopened: opening a FIFO blocks
            doc.error = f"not a regular file ({_kind_name(mode)})"
            return
        with _open_nonblocking(path) as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                doc.error = f"not a regular file ({_kind_name(info.st_mode)})"
                return
            if info.st_size > max_bytes:  # hashed all the same, so --resume can skip it
                doc.sha1 = _sha1_of(fh)
                doc.error = f"file too large: {info.st_size} bytes (limit {max_bytes} bytes)"
                return
            data = fh.read()
    except OSError as exc:
        doc.error = f"cannot read file: {exc.strerror or exc}"
        return
    doc.sha1 = hashlib.sha1(data).hexdigest()
    if not data.strip():
        doc.error = "empty file"
        return
    if data[:5] == b"%PDF-" or path.suffix.lower() == ".pdf":
        if data[:5] != b"%PDF-":
            doc.error = "not a PDF: the file has a .pdf name but no PDF signature"
            return
        try:
            raw, doc.n_pages, warnings = read_pdf(data)
        except Exception as exc:
            doc.error = _pdf_error(exc)
            return
        doc.warnings += warnings
        if not raw.strip():
            doc.error = "PDF has no text layer (a scanned image?); OCR is not supported"
            return
    else:
        if not _unicode_bom(data) and _looks_binary(data):
            doc.error = "binary content, not text"
            return
        raw, warnings = decode_text(data)
        doc.warnings += warnings
    if furniture is None:
        furniture = page_furniture()
    doc.text = normalize_text(raw, furniture)
    if not doc.text:
        doc.error = "empty file (whitespace only)"


def read_documents(paths: Iterable[str | Path], **kwargs) -> Iterator[SourceDocument]:
    """Every letter under `paths`, then one document in error for each input that could not
    be used (see `scan_inputs`)."""
    furniture = kwargs.pop("furniture", None) or page_furniture()
    scan = scan_inputs(paths)
    for path in scan.files:
        yield read_document(path, furniture=furniture, **kwargs)
    for path, reason in scan.skipped:
        yield skipped_document(path, reason)
