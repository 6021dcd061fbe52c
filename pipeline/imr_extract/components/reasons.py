"""Why each decision went the way it did: reason codes (resources/reason_codes.csv) read from
its `Decision rationale:`, each with the sentence that states it.

Rules are data (resources/reasons.jsonl): `target` rules find phrases in the rationale
("functional improvement", "urine drug screen", "exceeds the guideline"); medspaCy's ConText
with the `modifier` rules tells a negated phrase ("no documentation of functional
improvement") from an affirmed one; each target names the code it gives when negated,
affirmed or either, and for which outcome. `fallback` rules apply only to a decision that has
no code yet, and a `default` per outcome makes sure every decision has one.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text
from imr_extract.components.context import _quiet_medspacy
from imr_extract.components.decisions import DECISIONS_KEY, PARTS_KEY
from imr_extract.rules import packaged_rules

REASONS_KEY = "imr_reasons"
TARGETS_KEY = "imr_reason_targets"
REASON_CODES: list[str] = [row["code"] for row in packaged_rules("reason_codes.csv")]
_WORD = re.compile(r"[a-z]{4,}")
_NOT_NAMES = {"request", "requested", "post", "operative", "postoperative", "with", "right", "left"}


@Language.factory(
    "imr_reasons",
    default_config={"span_key": REASONS_KEY},
    assigns=["doc.spans"],
    requires=["doc.spans", "token.is_sent_start"],
)
def make_reasons(nlp: Language, name: str, span_key: str):
    return DecisionReasons(nlp, name, span_key)


class DecisionReasons(RuleComponent):
    rules_file = "reasons.jsonl"

    def __init__(self, nlp, name, span_key: str = REASONS_KEY):
        super().__init__(nlp, name)
        self.span_key = span_key

    def compile(self) -> None:
        _quiet_medspacy()
        from medspacy.context import ConText, ConTextRule

        by_kind: dict[str, list[dict]] = {}
        for rule in self.rules:
            by_kind.setdefault(rule["kind"], []).append(rule)
        for rule in (
            by_kind.get("target", []) + by_kind.get("fallback", []) + by_kind.get("default", [])
        ):
            if rule["code"] not in REASON_CODES:
                raise ValueError(f"reasons.jsonl: unknown reason code {rule['code']!r}")
        self._targets = [(re.compile(r["pattern"], re.I), r) for r in by_kind.get("target", [])]
        self._fallbacks = [(re.compile(r["pattern"], re.I), r) for r in by_kind.get("fallback", [])]
        self._defaults = {r["outcome"]: r["code"] for r in by_kind.get("default", [])}
        self._context = ConText(
            self.nlp,
            name=f"{self.name}_medspacy",
            rules=None,
            span_attrs={"NEGATED_EXISTENCE": {}},
            input_span_type="group",
            span_group_name=TARGETS_KEY,
        )
        self._context.add(
            [
                ConTextRule(
                    r["literal"],
                    r["category"],
                    direction=r["direction"],
                    **{k: r[k] for k in ("pattern", "max_scope") if k in r},
                )
                for r in by_kind.get("modifier", [])
            ]
        )

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        outcomes = {
            d._.imr_decision_index: d._.imr_outcome for d in doc.spans.get(DECISIONS_KEY, [])
        }
        items = {
            d._.imr_decision_index: d._.imr_item or "" for d in doc.spans.get(DECISIONS_KEY, [])
        }
        rationales = [p for p in doc.spans.get(PARTS_KEY, []) if p.label_ == "rationale"]
        targets = []
        for part in rationales:
            for number, (pattern, _) in enumerate(self._targets):
                for m in pattern.finditer(text, part.start_char, part.end_char):
                    span = doc.char_span(m.start(), m.end(), str(number), alignment_mode="expand")
                    if span is not None:
                        span._.imr_decision_index = part._.imr_decision_index
                        targets.append(span)
        doc.spans[TARGETS_KEY] = targets
        negated = set()
        if targets:
            self._context(doc)
            negated = {
                (t.start, t.end, t.label_)
                for t, modifier in doc._.context_graph.edges
                if modifier.category == "NEGATED_EXISTENCE"
            }
        found: dict[int, dict[str, Span]] = {}
        for t in sorted(targets, key=lambda s: s.start):
            rule = self._targets[int(t.label_)][1]
            index = t._.imr_decision_index
            polarity = "negated" if (t.start, t.end, t.label_) in negated else "affirmed"
            if rule.get("when", "any") not in ("any", polarity):
                continue
            if rule.get("outcome", "any") not in ("any", outcomes.get(index)):
                continue
            found.setdefault(index, {}).setdefault(rule["code"], t)
        spans = []
        for part in rationales:
            index = part._.imr_decision_index
            codes = found.get(index, {})
            if not codes:
                codes = self._fallback(doc, text, part, outcomes.get(index))
            for code, hit in codes.items():
                span = self._evidence(doc, hit, part, code)
                span._.imr_decision_index = index
                if code == "depends_on_denied":
                    span._.imr_depends_on = _depends_on(span.text, index, items)
                spans.append(span)
        order = {code: i for i, code in enumerate(REASON_CODES)}
        spans.sort(key=lambda s: (s._.imr_decision_index, order[s.label_]))
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=spans)
        del doc.spans[TARGETS_KEY]
        return doc

    def _fallback(self, doc: Doc, text: str, part: Span, outcome: str | None) -> dict[str, Span]:
        for pattern, rule in self._fallbacks:
            if rule.get("outcome", "any") not in ("any", outcome):
                continue
            m = pattern.search(text, part.start_char, part.end_char)
            if m:
                return {rule["code"]: doc.char_span(m.start(), m.end(), alignment_mode="expand")}
        code = self._defaults.get(outcome or "", "other")
        last = list(part.sents)[-1] if len(part) else part
        return {code: last}

    @staticmethod
    def _evidence(doc: Doc, hit: Span, part: Span, code: str) -> Span:
        """The sentence of the rationale that holds the hit (clipped to the rationale)."""
        sent = hit.sent if len(hit) else hit
        start, end = max(sent.start, part.start), min(sent.end, part.end)
        while end > start + 1 and doc[end - 1].is_space:
            end -= 1
        return Span(doc, start, end, label=code)


def _depends_on(evidence: str, index: int, items: dict[int, str]) -> int | None:
    """The other decision whose item the evidence names (most shared words), if any."""
    words = set(_WORD.findall(evidence.lower())) - _NOT_NAMES
    best, best_score = None, 0
    for other, item in items.items():
        if other == index:
            continue
        score = len(words & (set(_WORD.findall(item.lower())) - _NOT_NAMES))
        if score > best_score:
            best, best_score = other, score
    return best
