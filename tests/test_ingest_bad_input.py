"""Inputs that are hard to find or to read: odd file names, special files, symbolic links,
unreadable folders, UTF-16/32 text, oversized files, PDFs with junk after the end.

The module is imported whole (not `from ... import`) so each test fails on its own when a
function it needs is missing.
"""

import hashlib
import os
import threading
from pathlib import Path

import pytest

from imr_extract import ingest

from pdfgen import SAMPLE_PAGES, make_pdf

LETTER = (
    "CLINICAL CASE SUMMARY\nThe injured worker is a 50 year old man with low back pain.\n"
    "IMR ISSUES, DECISIONS AND RATIONALES\nPhysical therapy, six sessions: Upheld\n"
)


def _read_with_timeout(path: Path, seconds: float = 5.0):
    """read_document in a thread; a FIFO opened for reading would block it for ever."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(doc=ingest.read_document(path)))
    thread.start()
    thread.join(seconds)
    if thread.is_alive():  # unblock the reader (a writer that opens and closes) and fail
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(seconds)
        pytest.fail(f"read_document blocked on {path.name}")
    return result["doc"]


def _bytes_name(folder: Path, name: bytes, content: bytes) -> Path:
    raw = os.fsencode(folder) + b"/" + name
    try:
        fd = os.open(raw, os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    os.write(fd, content)
    os.close(fd)
    return Path(os.fsdecode(raw))


# 1. file names that are not UTF-8


def test_file_name_not_utf8(tmp_path):
    _bytes_name(tmp_path, b"CM17-\xff\xfe01.txt", LETTER.encode())
    [path] = ingest.find_inputs([tmp_path])
    doc = ingest.read_document(path)
    assert doc.ok
    assert doc.doc_id == "CM17-\ufffd\ufffd01"
    assert doc.path.endswith("CM17-\ufffd\ufffd01.txt")
    # what the Parquet writer does with every string: no surrogates left anywhere
    for text in (doc.doc_id, doc.path, *doc.warnings):
        text.encode("utf-8")
    assert ingest.DOC_ID_WARNING in doc.warnings


def test_folder_name_not_utf8(tmp_path):
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9"))
    try:
        folder.mkdir()
    except OSError:
        pytest.skip("this file system refuses file names that are not UTF-8")
    (folder / "CM17-1.txt").write_text(LETTER)
    doc = ingest.read_document(folder / "CM17-1.txt")
    assert doc.ok and doc.doc_id == "CM17-1"
    assert doc.path == f"{tmp_path}/caf\ufffd/CM17-1.txt"
    assert doc.warnings == [ingest.PATH_WARNING]


def test_doc_id_of_and_path_text():
    path = Path(os.fsdecode(b"/letters/caf\xe9/CM17-\xff.txt"))
    assert ingest.doc_id_of(path) == ("CM17-\ufffd", [ingest.DOC_ID_WARNING])
    assert ingest.path_text(path) == "/letters/caf\ufffd/CM17-\ufffd.txt"
    assert ingest.doc_id_of(Path("/letters/CM17-1.pdf")) == ("CM17-1", [])


# 2. finding inputs


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_skipped_and_never_opened(tmp_path):
    named = tmp_path / "named.txt"
    os.mkfifo(named)
    (tmp_path / "corpus").mkdir()
    inner = tmp_path / "corpus" / "inner.txt"
    os.mkfifo(inner)
    (tmp_path / "corpus" / "ok.txt").write_text(LETTER)
    scan = ingest.scan_inputs([named, tmp_path / "corpus"])
    assert scan.files == [tmp_path / "corpus" / "ok.txt"]
    assert scan.skipped == [
        (named, "not a regular file (FIFO)"),
        (inner, "not a regular file (FIFO)"),
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_read_document_refuses_fifo_without_opening(tmp_path):
    path = tmp_path / "named.txt"
    os.mkfifo(path)
    doc = _read_with_timeout(path)
    assert doc.error == "not a regular file (FIFO)" and not doc.sha1


def test_folder_given_to_read_document(tmp_path):
    doc = ingest.read_document(tmp_path)
    assert doc.error == "not a regular file (folder)"


def test_dangling_symlink(tmp_path):
    (tmp_path / "a.txt").write_text(LETTER)
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "old-drive").symlink_to(tmp_path / "unmounted")  # a folder, once
    (tmp_path / "gone.docx").symlink_to(tmp_path / "nowhere.docx")  # not a letter: ignored
    scan = ingest.scan_inputs([tmp_path, tmp_path / "missing.pdf"])
    assert scan.files == [tmp_path / "a.txt"]
    assert scan.skipped == [
        (tmp_path / "gone.txt", "dangling symbolic link"),
        (tmp_path / "old-drive", "dangling symbolic link"),
        (tmp_path / "missing.pdf", "input does not exist"),
    ]


def test_symlinked_folder_is_followed_once(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "a.txt").write_text(LETTER)
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "b.txt").write_text(LETTER)
    (tmp_path / "corpus" / "2017").symlink_to(tmp_path / "letters", target_is_directory=True)
    (tmp_path / "corpus" / "same.txt").symlink_to(tmp_path / "corpus" / "b.txt")
    scan = ingest.scan_inputs([tmp_path / "corpus", tmp_path / "letters"])
    assert scan.files == [tmp_path / "corpus" / "2017" / "a.txt", tmp_path / "corpus" / "b.txt"]
    assert scan.skipped == []


def test_symlink_loop(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(LETTER)
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    scan = ingest.scan_inputs([tmp_path])
    assert scan.files == [tmp_path / "sub" / "a.txt"]
    assert scan.skipped == [
        (tmp_path / "self.txt", "symbolic link loop"),
        (tmp_path / "sub" / "up", "symbolic link loop"),
    ]
    assert ingest.scan_inputs([tmp_path / "self.txt"]).skipped == [
        (tmp_path / "self.txt", "symbolic link loop")
    ]


def test_unreadable_folder(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text(LETTER)
    (tmp_path / "b.txt").write_text(LETTER)
    if os.geteuid() == 0:  # root reads anything: make the folder refuse as it would for a user
        real_scandir = os.scandir

        def scandir(path):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(ingest.os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        scan = ingest.scan_inputs([tmp_path])
    finally:
        locked.chmod(0o755)
    assert scan.files == [tmp_path / "b.txt"]
    assert scan.skipped == [(locked, "cannot read folder: Permission denied")]


def test_exclude_the_output_folder(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text(LETTER)
    (tmp_path / "out" / "texts").mkdir(parents=True)
    (tmp_path / "out" / "texts" / "a.txt").write_text(LETTER)
    (tmp_path / "back").symlink_to(tmp_path / "out" / "texts", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    scan = ingest.scan_inputs([tmp_path], exclude=[Path("out")])  # relative: compared resolved
    assert scan.files == [tmp_path / "a.txt"]
    assert scan.skipped == []
    scan = ingest.scan_inputs([tmp_path / "out" / "texts"], exclude=[tmp_path / "out"])
    assert scan.files == []
    assert scan.skipped == [(tmp_path / "out" / "texts", "inside an excluded folder (the output)")]


def test_read_documents_reports_skipped_inputs(tmp_path):
    (tmp_path / "a.txt").write_text(LETTER)
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    docs = list(ingest.read_documents([tmp_path]))
    assert [(d.doc_id, d.error) for d in docs] == [("a", ""), ("gone", "dangling symbolic link")]


# 3. UTF-16 and UTF-32 with a byte order mark


@pytest.mark.parametrize(
    ("codec", "name"),
    [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32"), ("utf-32-be", "UTF-32")],
)
def test_utf16_and_utf32_with_bom(tmp_path, codec, name):
    text = LETTER.replace("man", "man (café owner)")
    data = text.encode(codec)
    if not codec.endswith("-be"):
        assert data[:2] == b"\xff\xfe"  # Python writes the native (little-endian) order
    else:
        data = ("\ufeff" + text).encode(codec)
    path = tmp_path / "wide.txt"
    path.write_bytes(data)
    doc = ingest.read_document(path)
    assert doc.ok, doc.error
    assert "café owner" in doc.text
    assert doc.warnings == [f"decoded as {name} (byte order mark)"]


# 4 and 5. oversized files


@pytest.mark.parametrize(("size", "limit"), [(2048, 1024), (11534336, 11010048), (6000, 5000)])
def test_too_large_gives_exact_sizes_and_sha1(tmp_path, size, limit):
    content = (b"x" * 1023 + b"\n") * (size // 1024) + b"y" * (size % 1024)
    path = tmp_path / "huge.txt"
    path.write_bytes(content)
    doc = ingest.read_document(path, max_bytes=limit)
    assert doc.error == f"file too large: {size} bytes (limit {limit} bytes)"
    assert doc.sha1 == hashlib.sha1(content).hexdigest()
    assert ingest.file_sha1(path) == doc.sha1


# 6. PDFs with junk after the end


def test_pdf_with_junk_after_eof_is_recovered(tmp_path):
    clean = tmp_path / "clean.pdf"
    clean.write_bytes(make_pdf(SAMPLE_PAGES))
    junk = b"startxref\n1 0 obj\n<< /Type /Catalog >>\n"  # a half-written update
    path = tmp_path / "junk.pdf"
    path.write_bytes(make_pdf(SAMPLE_PAGES) + junk)
    doc = ingest.read_document(path)
    assert doc.ok, doc.error
    assert doc.text == ingest.read_document(clean).text
    assert doc.warnings == [f"recovered PDF: ignored {len(junk)} bytes after %%EOF"]


def test_broken_pdf_still_rejected(tmp_path):
    data = make_pdf(SAMPLE_PAGES)
    path = tmp_path / "broken.pdf"
    path.write_bytes(data[:400] + b"\n%%EOF\nstartxref\n1 0 obj\n")
    doc = ingest.read_document(path)
    assert doc.error.startswith("cannot read PDF (broken or truncated)")


# 7. never raises


def test_unexpected_error_becomes_one_line(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(ingest, "normalize_text", boom)
    path = tmp_path / "a.txt"
    path.write_text(LETTER)
    doc = ingest.read_document(path)
    assert doc.error == "cannot read file: RuntimeError: boom second line"
    assert doc.text == "" and doc.sha1
