"""The Doc's sentences (its SENT_START marks, as `doc.sents`) as token and character bounds,
found once per Doc and shared by the components after the sentencizer (`imr_reasons`,
`imr_coding`): `Span.sent` walks the tokens again for every span it is asked about (issue 17:
a third of `imr_coding`'s time, a fifth of `imr_reasons`'). tests/test_speed_coding.py
compares them with spaCy's."""

from __future__ import annotations

from bisect import bisect_right

import numpy
from spacy.attrs import IDX, LENGTH, SENT_START
from spacy.tokens import Doc

from imr_extract.components.base import doc_text

SENTENCES_CACHE = "imr_sentences_cache"


class Sentences:
    """`of(span)` is the (start_char, end_char) of `span.sent`, the sentence of the span's first
    token (spaCy 3.7); `bounds(span)` its (start, end) tokens."""

    def __init__(self, doc: Doc) -> None:
        self.text = doc_text(doc)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.chars: list[tuple[int, int]] = []
        if not len(doc):
            return
        array = doc.to_array([SENT_START, IDX, LENGTH]).astype(numpy.int64)
        # as doc.sents: the first token, and every token whose sent_start is 1
        starts = numpy.flatnonzero(array[:, 0] == 1)
        if not len(starts) or starts[0] != 0:
            starts = numpy.concatenate(([0], starts))
        last = numpy.append(starts[1:], len(doc)) - 1  # each sentence's last token
        self.starts = starts.tolist()
        self.ends = (last + 1).tolist()
        self.chars = list(
            zip(array[starts, 1].tolist(), (array[last, 1] + array[last, 2]).tolist(), strict=True)
        )

    @classmethod
    def of_doc(cls, doc: Doc) -> Sentences:
        """The Doc's sentences, found on the first call and kept in `doc.user_data` (as plain
        lists, which a DocBin can store) until `imr_coding`, the last component, drops them."""
        found = doc.user_data.get(SENTENCES_CACHE)
        if found is not None:
            sentences = cls.__new__(cls)
            sentences.text = doc_text(doc)
            sentences.starts, sentences.ends, sentences.chars = found
            return sentences
        sentences = cls(doc)
        doc.user_data[SENTENCES_CACHE] = (sentences.starts, sentences.ends, sentences.chars)
        return sentences

    def index(self, token: int) -> int:
        return bisect_right(self.starts, token) - 1

    def of(self, span) -> tuple[int, int]:
        return self.chars[self.index(span.start)]

    def bounds(self, span) -> tuple[int, int]:
        k = self.index(span.start)
        return self.starts[k], self.ends[k]

    def sentence_text(self, span) -> str:
        start, end = self.of(span)
        return self.text[start:end]
