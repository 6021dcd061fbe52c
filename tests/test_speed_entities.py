"""Issue 17: imr_entities writes its values straight into doc.user_data (span_setter) and finds
each entity's section, decision and part by bisect (_Regions); the export slices span texts
from the letter's text (letter_text). Each must give what the plain way gives."""

from __future__ import annotations

import random

import spacy
from spacy.tokens import Span

from imr_extract.components.entities import _Regions
from imr_extract.export import letter_text, span_text
from imr_extract.extensions import SPAN_EXTENSIONS, span_getter, span_setter
from imr_extract.ingest import SourceDocument


def test_span_setter_writes_what_setattr_writes():
    nlp = spacy.blank("en")
    doc, twin = nlp("Norco 10 mg for low back pain"), nlp("Norco 10 mg for low back pain")
    put = span_setter(doc)
    for i, name in enumerate(SPAN_EXTENSIONS):
        value = [i] if i % 3 == 0 else f"v{i}"
        put(Span(doc, i % 5, i % 5 + 2), name, value)
        setattr(Span(twin, i % 5, i % 5 + 2)._, name, value)
    assert doc.user_data == twin.user_data
    assert Span(doc, 0, 2)._.imr_medication_status == Span(twin, 0, 2)._.imr_medication_status
    get = span_getter(doc)
    for span in [Span(doc, i, j) for i in range(5) for j in range(i + 1, 7)]:
        for name in SPAN_EXTENSIONS:  # written ones and defaults alike
            assert get(span, name) == getattr(span._, name), (span, name)


def test_span_setter_leaves_an_extension_with_a_setter_to_spacy():
    calls = []
    Span.set_extension(
        "imr_medication_status", getter=lambda s: None, setter=lambda s, v: calls.append(v),
        force=True,
    )  # fmt: skip
    from imr_extract import extensions

    extensions._PLAIN.clear()
    try:
        doc = spacy.blank("en")("one two")
        span_setter(doc)(Span(doc, 0, 1), "imr_medication_status", "taking")
        assert calls == ["taking"] and not doc.user_data
        assert span_getter(doc)(Span(doc, 0, 1), "imr_medication_status") is None  # its getter
    finally:
        Span.set_extension("imr_medication_status", default=None, force=True)
        extensions._PLAIN.clear()


def test_regions_find_what_a_linear_search_finds():
    rng = random.Random(3)
    for _ in range(300):
        regions, at = [], 0
        for n in range(rng.randint(0, 8)):
            at += rng.randint(0, 5)
            length = rng.randint(0, 9)
            regions.append((at, at + length, n))
            at += length if rng.random() < 0.8 else -rng.randint(0, length)  # some overlap
        if rng.random() < 0.2:
            rng.shuffle(regions)
        found = _Regions(regions)
        for offset in range(-2, at + 12):
            want = next((n for s, e, n in regions if s <= offset < e), None)
            assert found.at(offset) == want


def test_letter_text_is_the_docs_text():
    nlp = spacy.blank("en")
    text = "Norco 10/325mg #180:  Upheld \n"
    doc = nlp(text)
    assert letter_text(doc, SourceDocument(doc_id="a", path="", text=text)) == doc.text
    for other in ("", text + "x", "N" + text[1:-2] + "  ", "Other text of the same length!"):
        assert letter_text(doc, SourceDocument(doc_id="a", path="", text=other)) == doc.text
    assert all(span_text(doc.text, span) == span.text for span in [doc[0:3], doc[2:5], doc[4:]])
    assert letter_text(nlp(""), SourceDocument(doc_id="a", path="", text="")) == ""


def test_parentheses_found_as_the_matcher_finds_them(nlp):
    """imr_abbreviations' fast path finds the parentheses that scispaCy's filter_matches keeps,
    in the order of the Matcher it replaces (nested, empty, long and unclosed ones too)."""
    from imr_extract.components.abbreviations import MAX_INSIDE, _parenthesised
    from imr_extract.ingest import read_document

    from conftest import SAMPLES

    abbreviations = nlp.get_pipe("imr_abbreviations")
    texts = [read_document(p).text for p in sorted(SAMPLES.iterdir())]
    texts += [
        "rotator cuff repair (RCR) and (a (b) c) then () or ((x)) and (1 2 3 4 5 6 7 8 9) (",
        ") (( ) (a) (b) (c d e f g h i j) (k)",
        "",
        "(",
    ]
    kept = 0
    for text in texts:
        doc = nlp.make_doc(text)
        matcher = [
            (0, start + 1, end - 1)
            for _, start, end in abbreviations._matcher(doc)
            if end - start - 2 <= MAX_INSIDE
        ]
        assert _parenthesised(doc, abbreviations._open, abbreviations._close) == matcher
        kept += len(matcher)
    assert kept > 20


def _squash_with_offsets_by_character(text: str) -> tuple[str, list[int]]:
    """The character loop squash_with_offsets was before issue 17 (the reference)."""
    out: list[str] = []
    offsets: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            offsets.append(i - 1)
            pending_space = False
        out.append(ch)
        offsets.append(i)
    offsets.append(offsets[-1] + 1 if offsets else 0)
    return "".join(out), offsets


def test_squash_with_offsets_is_the_character_loop():
    from imr_extract.normalize.text import squash, squash_with_offsets

    from conftest import SAMPLES, read_sample

    rng = random.Random(11)
    alphabet = ["a", "B", "7", ".", " ", " ", "\n", "\t", "\u00a0", "\u2003", "\u3000", "\x1c", "é"]
    texts = ["", " ", "\n\n", "a", " a ", "a  b\n\nc \t"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(2000)
    ]
    texts += [read_sample(p.name) for p in sorted(SAMPLES.iterdir())]
    for text in texts:
        assert squash_with_offsets(text) == _squash_with_offsets_by_character(text)
        assert squash_with_offsets(text)[0] == squash(text)
