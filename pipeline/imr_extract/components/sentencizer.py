"""spaCy's rule-based Sentencizer, reading the Doc's arrays instead of its tokens.

spaCy's `Sentencizer.predict` builds a Token object for every token of a letter (3.7; a
twentieth of the pipeline, issue 17). This one finds the same sentence starts from the token
texts' ids and their IS_PUNCT flags with numpy, and writes the same SENT_START values through
`Doc.from_array`; the settings (punct_chars, overwrite), scoring and serialisation are spaCy's.
tests/test_speed_sentencizer.py compares the two.
"""

import numpy
from spacy.attrs import IS_PUNCT, ORTH, SENT_START
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from imr_extract.components.base import in_sorted


@Language.factory(
    "imr_sentencizer",
    assigns=["token.is_sent_start", "doc.sents"],
    default_config={
        "punct_chars": None,
        "overwrite": False,
        "scorer": {"@scorers": "spacy.senter_scorer.v1"},
    },
)
def make_sentencizer(nlp: Language, name: str, punct_chars, overwrite: bool, scorer):
    return FastSentencizer(name, punct_chars=punct_chars, overwrite=overwrite, scorer=scorer)


class FastSentencizer(Sentencizer):
    def predict(self, docs):
        return [self._starts(doc) for doc in docs]

    def _starts(self, doc: Doc) -> list[bool]:
        """spaCy's loop: a token after a sentence-final mark (`punct_chars`) that is neither
        punctuation nor such a mark starts a sentence; so does the first token. The loop's
        `seen_period` is set by a mark and cleared only where a sentence starts, so a token
        that could start one does exactly when a mark stands between it and the previous such
        token: found here with a running count of the marks."""
        if not len(doc):
            return []
        orth, is_punct = doc.to_array([ORTH, IS_PUNCT]).T
        mark = in_sorted(self._mark_ids(doc), orth)  # numpy.isin: 2% of a run
        could = numpy.flatnonzero(~mark & (is_punct == 0))
        marks_so_far = numpy.cumsum(mark)[could]  # the marks up to each such token
        before = numpy.diff(marks_so_far, prepend=0)  # ...since the previous one
        guesses = numpy.zeros(len(doc), dtype=bool)
        guesses[0] = True
        guesses[could[before > 0]] = True
        return guesses.tolist()

    def _mark_ids(self, doc: Doc) -> numpy.ndarray:
        """The string ids of `punct_chars` (a token's text is one of them when its ORTH id
        is, as spaCy's Matcher compares ORTH), sorted, found once per set of marks."""
        key = frozenset(self.punct_chars)
        if getattr(self, "_marks", (None,))[0] != key:
            ids = sorted(doc.vocab.strings.add(c) for c in key)
            self._marks = (key, numpy.array(ids, dtype=numpy.uint64))
        return self._marks[1]

    def set_annotations(self, docs, batch_tag_ids) -> None:
        if isinstance(docs, Doc):
            docs = [docs]
        for doc, tags in zip(docs, batch_tag_ids, strict=True):
            if not len(tags):
                continue
            current = doc.to_array([SENT_START]).astype(numpy.int64)
            guessed = numpy.where(numpy.array(tags, dtype=bool), 1, -1)
            keep = (current != 0) & (not self.overwrite)
            doc.from_array([SENT_START], numpy.where(keep, current, guessed).astype(numpy.uint64))
