"""Abbreviations and their long forms ("rotator cuff repair (RCR)"), by scispaCy's algorithm.

Plain offsets go to `doc._.imr_abbreviations`; `imr_entities` tags every occurrence of a short
form with the label and value of its long form.
"""

# imported here (1 ms), not on the first letter, so that forked workers share it
from scispacy.abbreviation import filter_matches, find_abbreviation
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc


@Language.factory("imr_abbreviations", assigns=["doc._.imr_abbreviations"])
def make_abbreviations(nlp: Language, name: str):
    return Abbreviations(nlp, name)


class Abbreviations:
    """scispaCy's algorithm (Schwartz & Hearst: `filter_matches`, `find_abbreviation`) on the
    parenthesised short forms; its AbbreviationDetector component is not used because it keeps
    Spans in the Doc and a matcher that grows with every letter."""

    def __init__(self, nlp: Language, name: str) -> None:
        from imr_extract.extensions import register_extensions

        register_extensions()
        self.name = name
        self._matcher = Matcher(nlp.vocab)
        self._matcher.add("parenthesis", [[{"ORTH": "("}, {"OP": "+"}, {"ORTH": ")"}]])

    def __call__(self, doc: Doc) -> Doc:
        inside = [(m, start + 1, end - 1) for m, start, end in self._matcher(doc)]
        found, seen = [], set()
        for long_candidate, short_candidate in filter_matches(inside, doc):
            short, long = find_abbreviation(long_candidate, short_candidate)
            if long is None or short.text in seen:
                continue
            seen.add(short.text)
            found.append([short.start_char, short.end_char, long.start_char, long.end_char])
        doc._.imr_abbreviations = found
        return doc
