"""Abbreviations and their long forms ("rotator cuff repair (RCR)"), by scispaCy's detector.

Plain offsets go to `doc._.imr_abbreviations`; `imr_entities` tags the short forms with the
label and value of their long form. scispaCy's own `doc._.abbreviations` (Spans, which do not
serialise) is emptied.
"""

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc


@Language.factory("imr_abbreviations", assigns=["doc._.imr_abbreviations"])
def make_abbreviations(nlp: Language, name: str):
    return Abbreviations(nlp, name)


class Abbreviations:
    def __init__(self, nlp: Language, name: str) -> None:
        from scispacy.abbreviation import AbbreviationDetector

        from imr_extract.extensions import register_extensions

        register_extensions()
        self.name = name
        self._detector = AbbreviationDetector(nlp)

    def __call__(self, doc: Doc) -> Doc:
        self._detector(doc)
        # scispaCy's matcher keeps what each letter added to it even after removing the
        # patterns: start every letter with a fresh one, or memory grows with the corpus
        self._detector.global_matcher = Matcher(doc.vocab)
        found = []
        for short in doc._.abbreviations:
            long = short._.long_form
            found.append([short.start_char, short.end_char, long.start_char, long.end_char])
        doc._.abbreviations = []
        doc._.imr_abbreviations = found
        return doc
