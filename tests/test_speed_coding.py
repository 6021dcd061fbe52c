"""imr_reasons and imr_coding find each Doc's sentences once (`Sentences`) instead of walking
the tokens for every span's `span.sent`: the same sentences and the same span sentences
(issue 17)."""

import spacy

from imr_extract.components.sentences import Sentences
from imr_extract.ingest import read_document

from conftest import SAMPLES


def _same(doc) -> None:
    sentences = Sentences(doc)
    assert sentences.starts == [s.start for s in doc.sents]
    assert sentences.chars == [(s.start_char, s.end_char) for s in doc.sents]
    spans = list(doc.ents) + [doc[i : i + 3] for i in range(0, len(doc) - 3, 7)]
    for span in spans:  # a span across a sentence break: the sentence of its first token
        assert sentences.of(span) == (span.sent.start_char, span.sent.end_char)
        assert sentences.sentence_text(span) == span.sent.text
        assert sentences.bounds(span) == (span.sent.start, span.sent.end)
    cached = Sentences.of_doc(doc)  # found once, then read back from user_data
    assert Sentences.of_doc(doc).chars == cached.chars == sentences.chars
    assert Sentences.of_doc(doc).starts == sentences.starts


def test_sentences_are_spacys_on_the_samples(nlp):
    for path in sorted(SAMPLES.iterdir()):
        _same(nlp(read_document(path).text))


def test_sentences_of_small_docs():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    for text in ["", "One", "One. Two three.", "A. B. C? D!\n\nE", "  lead. trail  "]:
        _same(nlp(text))
    assert Sentences(nlp("")).chars == []
