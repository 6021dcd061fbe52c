"""imr_sentencizer (issue 17) gives the sentence starts of spaCy's Sentencizer, which it
replaces in the pipeline under the same pipe name."""

from __future__ import annotations

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
