"""imr_sentencizer (issue 17) gives the sentence starts of spaCy's Sentencizer, which it
replaces in the pipeline under the same pipe name."""

from __future__ import annotations

import numpy
import pytest
from spacy.attrs import SENT_START

from imr_extract.components.sentencizer import FastSentencizer

from conftest import SAMPLES, read_sample

EDGES = [
    "",
    "a",
    ". . .",
    "Hi. there! ok?? yes...no. (a.) b",
    "!!",
    "x.\n\ny",
    "\u3002a\u3002b",
    "Dr. Smith saw him. He said: 'no.' Then left",
    "1. Norco 10/325mg #180: Upheld. 2. MRI: Overturned",
]


def _pair(nlp, punct_chars=None, overwrite=False):
    plain = nlp.create_pipe(
        "sentencizer", config={"punct_chars": punct_chars, "overwrite": overwrite}
    )
    fast = FastSentencizer("fast", punct_chars=punct_chars, overwrite=overwrite)
    return plain, fast


@pytest.mark.parametrize("punct_chars", [None, [".", ";", "\n\n"]])
def test_same_sentence_starts_as_spacys(nlp, punct_chars):
    plain, fast = _pair(nlp, punct_chars)
    texts = [read_sample(p.name) for p in sorted(SAMPLES.iterdir())] + EDGES
    for text in texts:
        a, b = nlp.make_doc(text), nlp.make_doc(text)
        plain(a), fast(b)
        assert b.to_array([SENT_START]).tolist() == a.to_array([SENT_START]).tolist(), text
        assert fast.predict([b]) == plain.predict([a])


@pytest.mark.parametrize("overwrite", [False, True])
def test_marks_set_before_are_kept_unless_overwrite(nlp, overwrite):
    plain, fast = _pair(nlp, overwrite=overwrite)
    a, b = nlp.make_doc("One two. Three four. Five"), nlp.make_doc("One two. Three four. Five")
    for doc in (a, b):
        doc[1].is_sent_start = True
        doc[4].is_sent_start = False
    plain(a), fast(b)
    assert b.to_array([SENT_START]).tolist() == a.to_array([SENT_START]).tolist()


def test_the_pipeline_uses_it_under_spacys_pipe_name(nlp, tmp_path):
    assert isinstance(nlp.get_pipe("sentencizer"), FastSentencizer)
    nlp.get_pipe("sentencizer").to_disk(tmp_path / "s")
    loaded = FastSentencizer("s").from_disk(tmp_path / "s")
    assert loaded.punct_chars == nlp.get_pipe("sentencizer").punct_chars


@pytest.mark.corpus
def test_same_sentence_starts_on_the_corpus(nlp, corpus):
    from imr_extract.ingest import read_document

    plain, fast = _pair(nlp)
    for path in sorted(corpus.rglob("*.pdf"))[::5]:
        text = read_document(path).text
        a, b = nlp.make_doc(text), nlp.make_doc(text)
        plain(a), fast(b)
        assert b.to_array([SENT_START]).tolist() == a.to_array([SENT_START]).tolist(), path.name


def test_in_sorted_is_numpy_isin_on_sorted_ids():
    """The binary search the sentencizer and ConText's fast path use gives numpy.isin's
    answer: ids below, between and above the sorted ones, 64-bit ids, none sorted at all."""
    from imr_extract.components.base import in_sorted

    ids = numpy.array([0, 5, 7, 9, 2**63 + 3, 2**64 - 1, 12], dtype=numpy.uint64)
    for sorted_ids in ([], [7], [5, 9, 2**63 + 3], [0, 12, 2**64 - 1]):
        wanted = numpy.array(sorted_ids, dtype=numpy.uint64)
        assert in_sorted(wanted, ids).tolist() == numpy.isin(ids, wanted).tolist()
