import pytest

from imr_extract.ingest import find_inputs, read_document

from pdfgen import SAMPLE_PAGES, make_pdf


@pytest.fixture
def pdf_bytes():
    return make_pdf(SAMPLE_PAGES)


def test_reads_pdf_in_reading_order(tmp_path, pdf_bytes):
    path = tmp_path / "CM17-1.pdf"
    path.write_bytes(pdf_bytes)
    doc = read_document(path)
    assert doc.ok and doc.n_pages == 2
    assert doc.text.startswith("Case Number: CM17-9900002\nDate Assigned: 01/12/2017")
    # the page break mid-sentence becomes a plain line break
    assert "no recent drug\nscreen, so ongoing use" in doc.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"   \n\n  \t\n", "empty file"),
        (bytes(range(256)) * 4, "binary content"),
    ],
)
def test_bad_text_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    doc = read_document(path)
    assert not doc.ok and message in doc.error


def test_non_utf8_text_is_read_with_a_warning(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("CLINICAL CASE SUMMARY\nThe patient\x92s caf\xe9 job".encode("latin-1"))
    doc = read_document(path)
    assert doc.ok
    assert "patient\u2019s café" in doc.text
    assert any("not valid UTF-8" in w for w in doc.warnings)


def test_huge_file_is_refused(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"a" * 2048)
    doc = read_document(path, max_bytes=1024)
    assert not doc.ok and "file too large" in doc.error


def test_truncated_pdf(tmp_path, pdf_bytes):
    path = tmp_path / "cut.pdf"
    path.write_bytes(pdf_bytes[:300])
    doc = read_document(path)
    assert not doc.ok and "cannot read PDF" in doc.error


def test_encrypted_pdf(tmp_path, pdf_bytes):
    pypdf = pytest.importorskip("pypdf")
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    writer = pypdf.PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    doc = read_document(path)
    assert not doc.ok and "encrypted" in doc.error


def test_pdf_name_without_pdf_content(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("just text")
    doc = read_document(path)
    assert not doc.ok and "no PDF signature" in doc.error


def test_missing_file(tmp_path):
    doc = read_document(tmp_path / "nope.txt")
    assert not doc.ok and "cannot read file" in doc.error


def test_find_inputs_recurses_and_filters(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/one.txt", "a/b/two.PDF", "a/b/skip.docx", "three.txt"):
        (tmp_path / name).write_text("x")
    found = find_inputs([tmp_path / "a", tmp_path / "three.txt", tmp_path / "three.txt"])
    assert [p.name for p in found] == ["two.PDF", "one.txt", "three.txt"]  # path order
