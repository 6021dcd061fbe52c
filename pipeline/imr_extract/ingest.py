"""Reading letters from disk: text or PDF in, normalised text or a clear error out.

Nothing here raises for a bad document: `read_document` returns a `SourceDocument` whose
`error` says what is wrong, so a corpus run records it and goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imr_extract.normalize.text import normalize_text
from imr_extract.rules import packaged_rules

SUFFIXES = (".txt", ".pdf")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # a real letter is under 200 kB; 10 MB is far past any


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


def find_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus .txt/.pdf files under folders named (recursive), sorted, no repeats."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(
                sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
            )
        else:
            found.append(p)
    seen: set[Path] = set()
    unique = []
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > 0.05 * len(sample)


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM); anything else is read as Windows-1252 with a warning."""
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


def _pdf_error(exc: Exception) -> str:
    message = str(exc)
    if "password" in message.lower():
        return "PDF is encrypted (password required); cannot read its text"
    return f"cannot read PDF (broken or truncated): {message}"


def read_document(
    path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, furniture: list[dict] | None = None
) -> SourceDocument:
    path = Path(path)
    doc = SourceDocument(doc_id=path.stem, path=str(path))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            doc.error = f"file too large: {size / 1e6:.1f} MB (limit {max_bytes / 1e6:.1f} MB)"
            return doc
        data = path.read_bytes()
    except OSError as exc:
        doc.error = f"cannot read file: {exc.strerror or exc}"
        return doc
    doc.sha1 = hashlib.sha1(data).hexdigest()
    if not data.strip():
        doc.error = "empty file"
        return doc
    if data[:5] == b"%PDF-" or path.suffix.lower() == ".pdf":
        if data[:5] != b"%PDF-":
            doc.error = "not a PDF: the file has a .pdf name but no PDF signature"
            return doc
        try:
            raw, doc.n_pages = pdf_text(data)
        except Exception as exc:  # pdfium raises its own error types for every kind of damage
            doc.error = _pdf_error(exc)
            return doc
        if not raw.strip():
            doc.error = "PDF has no text layer (a scanned image?); OCR is not supported"
            return doc
    else:
        if _looks_binary(data):
            doc.error = "binary content, not text"
            return doc
        raw, doc.warnings = decode_text(data)
    if furniture is None:
        furniture = packaged_rules("page_furniture.jsonl")
    doc.text = normalize_text(raw, furniture)
    if not doc.text:
        doc.error = "empty file (whitespace only)"
    return doc


def read_documents(paths: Iterable[str | Path], **kwargs) -> Iterator[SourceDocument]:
    furniture = kwargs.pop("furniture", None) or packaged_rules("page_furniture.jsonl")
    for path in find_inputs(paths):
        yield read_document(path, furniture=furniture, **kwargs)
