"""Which published layout a letter has (rules: resources/layouts.jsonl).

IMR letters were published in several layouts over the years. Each is told apart by a few
fixed strings (its headings, its header labels, its title), so a layout is a list of regex
signatures, kept as data. The layout decides which section headings apply (`imr_sectionizer`)
and how the decisions are read (`imr_layout_decisions`), and tells an IMR letter whose layout
we do not know ("unrecognised IMR letter layout") from a text that is not an IMR letter at all.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_extract.components.base import RuleComponent, doc_text

UNKNOWN = "unknown"
LAYOUT_2013 = "2013"
PROFESSIONAL_REVIEW = "professional-review"


@Language.factory("imr_layout", assigns=["doc._.imr_layout", "doc._.imr_mentions_imr"])
def make_layout(nlp: Language, name: str):
    return LayoutDetector(nlp, name)


Signature = tuple[re.Pattern, int | None]


def detect_layout(text: str, layouts: list[tuple[str, list[Signature]]]) -> str:
    """The first layout (in rule order) all of whose signatures match, else `unknown`."""
    for layout, signatures in layouts:
        if all(_matches(text, s) for s in signatures):
            return layout
    return UNKNOWN


def mentions_imr(text: str, mentions: list[Signature]) -> bool:
    """True when the text names what every IMR letter names (Independent Medical Review,
    MAXIMUS): then a text of no known layout is an IMR letter we cannot read, not junk."""
    return bool(mentions) and all(_matches(text, s) for s in mentions)


def _matches(text: str, signature: Signature) -> bool:
    pattern, within = signature
    return pattern.search(text if within is None else text[:within]) is not None


class LayoutDetector(RuleComponent):
    rules_file = "layouts.jsonl"

    def compile(self) -> None:
        self._layouts: list[tuple[str, list[Signature]]] = []
        self._mentions: list[Signature] = []
        by_layout: dict[str, list[Signature]] = {}
        for rule in self.rules:
            signature = (re.compile(rule["pattern"]), rule.get("within"))
            if rule["kind"] == "imr_mention":
                self._mentions.append(signature)
            elif rule["kind"] == "signature":
                if rule["layout"] not in by_layout:
                    by_layout[rule["layout"]] = []
                    self._layouts.append((rule["layout"], by_layout[rule["layout"]]))
                by_layout[rule["layout"]].append(signature)

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        doc._.imr_layout = detect_layout(text, self._layouts)
        doc._.imr_mentions_imr = mentions_imr(text, self._mentions)
        return doc
