r"""Regular-expression rules (resources/entity_patterns.jsonl): doses, dates, pain scores, ICD.

Candidates go to `doc.spans["imr_patterns"]`, kb_id_ naming the rule; `imr_entities` decides.

Speed: a rule may carry a `fast_pattern` beside its `pattern`, the same matches written so that
Python's regex engine can skip ahead. The engine jumps to candidates only when a pattern starts
with a literal or a character class it can test without case folding; a leading `\b` or
lookbehind, or a cased letter under IGNORECASE, makes it try a full match at every position
(12.5% of end-to-end time, issue 17). The fast form consumes the first character first, from a
case-sensitive class holding every character that can start a match (with the IGNORECASE folds
ſ→s, Kelvin sign→k, ı/İ→i), and checks the boundary and that character after it with lookbehinds:
`\b(?:one|two)` becomes `(?-i:[OoTt])(?<!\w.)(?:(?<=o)ne|(?<=t)wo)`, `(?<![\w.])\d+` becomes
`\d(?<![\w.]\d)\d*`. `pattern` stays the readable definition; tests/test_speed_patterns.py
checks that both give the same (start, end, groups) on the corpus and on generated strings.
Since 0.10.3 the rules are matched together, where their matches can start
(`pattern_set.RuleScan`: the readable patterns, tried at the digits in one scan and where their
start words occur); `fast_pattern` scans the few rules RuleScan cannot read that way.
`fast=False` uses `pattern` only, each rule on its own.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text
from imr_extract.pattern_set import RuleScan

SPAN_KEY = "imr_patterns"


@Language.factory(
    "imr_patterns", default_config={"span_key": SPAN_KEY, "fast": True}, assigns=["doc.spans"]
)
def make_patterns(nlp: Language, name: str, span_key: str, fast: bool):
    return PatternMatcher(nlp, name, span_key, fast)


class PatternMatcher(RuleComponent):
    rules_file = "entity_patterns.jsonl"

    def __init__(self, nlp, name, span_key: str = SPAN_KEY, fast: bool = True):
        super().__init__(nlp, name)
        self.span_key = span_key
        self.fast = fast

    def compile(self) -> None:
        # a rule's `requires`: lowercase strings, one of which the lower-cased text must hold
        self._requires = {r["name"]: tuple(r["requires"]) for r in self.rules if r.get("requires")}
        key = "fast_pattern" if self.fast else "pattern"
        self._compiled = [(r, re.compile(r.get(key, r["pattern"]), _flags(r))) for r in self.rules]
        self.by_name = {r["name"]: r for r in self.rules}
        # the rules matched where their matches can start (pattern_set.RuleScan); the
        # fast_pattern scans a rule that cannot be matched that way
        self._scan = (
            RuleScan(
                [re.compile(r["pattern"], _flags(r)) for r in self.rules],
                [p for _, p in self._compiled],
            )
            if self.fast
            else None
        )

    def match(self, text: str) -> list[tuple[int, int, dict]]:
        """All matches of all rules; a rule with `requires` (lowercase strings) runs only on a
        text that contains one of them, which skips most rules on most letters."""
        lowered = text.lower()

        def wanted(rule: dict) -> bool:
            needed = self._requires.get(rule["name"])
            return needed is None or any(word in lowered for word in needed)

        if self._scan is None:
            return [
                (m.start(), m.end(), rule)
                for rule, pattern in self._compiled
                if wanted(rule)
                for m in pattern.finditer(text)
            ]
        # a rule scanned on its own is scanned only if the text holds one of its strings; the
        # others are found where they can start, and their strings looked for only if they
        # matched (a rule without matches has none either way)
        alone = self._scan.alone
        todo = [i for i, (r, _) in enumerate(self._compiled) if i not in alone or wanted(r)]
        spans = self._scan.spans(text, todo, lowered)
        return [
            (start, end, rule)
            for i, (rule, _) in enumerate(self._compiled)
            if spans[i] and (i in alone or wanted(rule))
            for start, end in spans[i]
        ]

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


def _flags(rule: dict) -> int:
    return 0 if rule.get("case") else re.IGNORECASE
