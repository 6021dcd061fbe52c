"""Abbreviations and their long forms ("rotator cuff repair (RCR)"), by scispaCy's algorithm.

Plain offsets go to `doc._.imr_abbreviations`; `imr_entities` tags every occurrence of a short
form with the label and value of its long form.
"""

# imported here (1 ms), not on the first letter, so that forked workers share it
from scispacy.abbreviation import filter_matches, find_abbreviation
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc


@Language.factory(
    "imr_abbreviations", default_config={"fast": True}, assigns=["doc._.imr_abbreviations"]
)
def make_abbreviations(nlp: Language, name: str, fast: bool):
    return Abbreviations(nlp, name, fast)


class Abbreviations:
    """scispaCy's algorithm (Schwartz & Hearst: `filter_matches`, `find_abbreviation`) on the
    parenthesised short forms; its AbbreviationDetector component is not used because it keeps
    Spans in the Doc and a matcher that grows with every letter."""

    def __init__(self, nlp: Language, name: str, fast: bool = True) -> None:
        from imr_extract.extensions import register_extensions

        register_extensions()
        self.name = name
        self.fast = fast
        self._open, self._close = nlp.vocab.strings.add("("), nlp.vocab.strings.add(")")
        self._matcher = Matcher(nlp.vocab)
        self._matcher.add("parenthesis", [[{"ORTH": "("}, {"OP": "+"}, {"ORTH": ")"}]])

    def __call__(self, doc: Doc) -> Doc:
        if self.fast:
            inside = _parenthesised(doc, self._open, self._close)
        else:
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


MAX_INSIDE = 8  # scispaCy's filter_matches skips a parenthesis holding more tokens


def _parenthesised(doc: Doc, open_id: int, close_id: int) -> list[tuple[int, int, int]]:
    """(match id, inside start, inside end) of the matches of `( + )` that `filter_matches`
    keeps, in the Matcher's order (by end, then the latest start first). The Matcher's open
    wildcard pairs every "(" with every later ")" of the letter, and `filter_matches` then
    drops all but those holding at most MAX_INSIDE tokens: found here directly, a quarter of
    the time (issue 17; `fast: false` runs the Matcher; tests/test_speed_entities.py
    compares)."""
    orth = doc.to_array(ORTH).tolist() if len(doc) else []
    found, opens = [], []  # opens: the "(" seen so far, the latest first
    for j, o in enumerate(orth):
        if o == close_id:
            for i in opens:
                if j - i - 1 > MAX_INSIDE:
                    break
                if i < j - 1:
                    found.append((0, i + 1, j))
        if o == open_id:
            opens.insert(0, j)
    return found
