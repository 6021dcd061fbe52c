"""Regular-expression rules (resources/entity_patterns.jsonl): doses, dates, pain scores, ICD codes.

Candidates go to `doc.spans["imr_patterns"]`, kb_id_ naming the rule; `imr_entities` decides.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text

SPAN_KEY = "imr_patterns"


@Language.factory("imr_patterns", default_config={"span_key": SPAN_KEY}, assigns=["doc.spans"])
def make_patterns(nlp: Language, name: str, span_key: str):
    return PatternMatcher(nlp, name, span_key)


class PatternMatcher(RuleComponent):
    rules_file = "entity_patterns.jsonl"

    def __init__(self, nlp, name, span_key: str = SPAN_KEY):
        super().__init__(nlp, name)
        self.span_key = span_key

    def compile(self) -> None:
        self._requires = {
            r["name"]: re.compile("|".join(re.escape(w) for w in r["requires"]))
            for r in self.rules
            if r.get("requires")
        }
        self._compiled = [
            (r, re.compile(r["pattern"], 0 if r.get("case") else re.IGNORECASE)) for r in self.rules
        ]
        self.by_name = {r["name"]: r for r in self.rules}

    def match(self, text: str) -> list[tuple[int, int, dict]]:
        """All matches of all rules; a rule with `requires` (lowercase strings) runs only on a
        text that contains one of them, which skips most rules on most letters."""
        lowered = text.lower()
        found = []
        for rule, pattern in self._compiled:
            needed = self._requires.get(rule["name"])
            if needed is not None and not needed.search(lowered):
                continue
            found.extend((m.start(), m.end(), rule) for m in pattern.finditer(text))
        return found

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for start, end, rule in self.match(doc_text(doc)):
            span = doc.char_span(
                start, end, label=rule["label"], kb_id=rule["name"], alignment_mode="expand"
            )
            if span is not None:  # inside a token ("10mg/1ml" is one): the whole token
                spans.append(span)
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=spans)
        return doc
