"""Why each decision went the way it did: reason codes (resources/reason_codes.csv) read from
its `Decision rationale:`, each with the sentence that states it.

Rules are data (resources/reasons.jsonl): `target` rules find phrases in the rationale
("functional improvement", "urine drug screen", "exceeds the guideline"); medspaCy's ConText
with the `modifier` rules tells a negated phrase ("no documentation of functional
improvement") from an affirmed one; each target names the code it gives when negated,
affirmed or either, and for which outcome. `fallback` rules apply only to a decision that has
no code yet, and a `default` per outcome makes sure every decision has one.

Letters wrap lines inside sentences, so a space in a pattern (or between the words of a
modifier literal) matches any run of whitespace. `guideline` rules mark sentences that quote
or paraphrase a guideline ("The MTUS states ..."), as do long quotations, and `conclusion`
rules the closing sentence ("Therefore, the request is not medically necessary"): a target
with `"guideline": "skip"` (or `"conclusion": "skip"`) ignores hits there, and each code's
evidence is its first hit in the reviewer's own findings when it has one, else in guideline
text, else in the conclusion (guide rules 1 and 2); among the reviewer's findings, a sentence
that a `case` rule marks as speaking of this patient, their records or this request comes
before one that names none of them ("Imaging without red flags is of little value" yields to
"The patient has no red flags"); a `weak` target's hit yields to any other hit of its code.
A target's `unless` pattern drops a hit whose sentence matches it ("not recommended beyond
2 weeks" is a duration, not a verdict), `item` limits it to
decisions whose item matches (opioid monitoring for opioids), `case: require` to a sentence
about the patient (a guideline's time limit applied to them), and an `exclusive` target
counts only in a clause that no other (non-exclusive) code claims: the generic "there is no
documentation of ..." gives criteria_not_documented only where no specific code does.

Only rationale text is searched: targets in the lower-cased rationales (patterns lower-cased
too, which Python's regex engine runs about twice as fast as IGNORECASE), all of them in one
scan (`PatternSet`), and ConText's modifiers only in the sentences that hold a target
(`_sentence_context`); sentences come from the Doc's shared `Sentences`.
"""

import re
from pathlib import Path

import srsly
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text
from imr_extract.components.context import _quiet_medspacy
from imr_extract.components.decisions import DECISIONS_KEY, PARTS_KEY
from imr_extract.components.fast_context import _edges, run_context
from imr_extract.components.sentences import Sentences
from imr_extract.pattern_set import AnySearch, PatternSet
from imr_extract.rules import packaged_rules

REASONS_KEY = "imr_reasons"
PREFIXES_FILE = "target_prefixes.json"  # PatternSet's word prefixes of the target patterns
TARGETS_KEY = "imr_reason_targets"
REASON_CODES: list[str] = [row["code"] for row in packaged_rules("reason_codes.csv")]
_WORD = re.compile(r"[a-z]{4,}")
_NOT_NAMES = {
    "request", "requested", "post", "operative", "postoperative", "preoperative", "with", "right",
    "left", "associated", "surgical", "service", "services", "ancillary", "medical", "medically",
    "necessary", "intervention", "given", "documentation", "that", "this", "also", "determined",
    "supported", "certified", "indicated", "appropriate", "time", "therefore", "continued", "need",
}  # fmt: skip
_SURGERY_WORD = re.compile(r"\b(?:surg|operat|procedure)", re.I)
_SURGERY_ITEM = re.compile(
    r"arthroscop|arthroplast|fusion|repair|surgery|ectomy|otomy|plasty|decompression|release|"
    r"reconstruction|replacement|fixation|debridement|resection|implant",
    re.I,
)
_DEPENDENT_ITEM = re.compile(r"associated|assist|pre-?op|post-?op|clearance", re.I)
_CLAUSE = re.compile(
    r";|,?\s+(?:and|or|but)\s+(?=(?:there|no|not|nor|without|lack)\b)|,\s+(?=(?:nor|no)\b)|\s+nor\s+",
    re.I,
)
QUOTE_WORDS = 6
# evidence ranks of a sentence, best first: the reviewer's finding about this patient or request,
# a finding that names neither, quoted or paraphrased guideline text, the closing sentence
FINDING, PLAIN, GUIDELINE, CONCLUSION = 0, 1, 2, 3
_QUOTES = '"\u201c\u201d'
_QUOTE = re.compile(f"[{_QUOTES}]")


def _spaced(pattern: str) -> str:
    """The pattern with a space matching any whitespace (a run of it outside a character class)."""
    out, in_class, escaped = [], False, False
    for i, char in enumerate(pattern):
        if out and out[-1] == r"\s+" and char == "?" and pattern[i - 1] == " ":
            out[-1] = r"\s*"  # "under ?study": the space is optional
            continue
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == " ":
            out.append(r"\s" if in_class else r"\s+")
            continue
        out.append(char)
    return "".join(out)


def _lowered(pattern: str) -> str:
    """The pattern in lower case, its escapes (\\W, \\S, \\B, \\D) kept as written."""
    out, escaped = [], False
    for char in pattern:
        out.append(char if escaped else char.lower())
        escaped = not escaped and char == "\\"
    return "".join(out)


@Language.factory(
    "imr_reasons",
    default_config={"span_key": REASONS_KEY, "fast": True},
    assigns=["doc.spans"],
    requires=["doc.spans", "token.is_sent_start"],
)
def make_reasons(nlp: Language, name: str, span_key: str, fast: bool):
    return DecisionReasons(nlp, name, span_key, fast)


class DecisionReasons(RuleComponent):
    """`fast`: the targets are found in one scan of each rationale (pattern_set.py) and
    ConText pairs each modifier only with the targets in its scope (fast_context.py); False
    scans each target pattern on its own and runs medspaCy's own ConText call (the same
    matches and edges, slower)."""

    rules_file = "reasons.jsonl"

    def __init__(self, nlp, name, span_key: str = REASONS_KEY, fast: bool = True):
        super().__init__(nlp, name)
        self.span_key = span_key
        self.fast = fast
        self._known_prefixes: dict | None = None  # of the target patterns, saved beside the rules

    def to_disk(self, path, *, exclude=()) -> None:
        """The rules, and beside them the word prefixes of the target patterns (PREFIXES_FILE):
        loading then skips parsing the patterns again (`PatternSet`'s `known`)."""
        super().to_disk(path, exclude=exclude)
        if self.fast:
            prefixes = self._lower_targets.prefixes_by_key()
            srsly.write_json(Path(path) / PREFIXES_FILE, prefixes)

    def from_disk(self, path, *, exclude=()) -> "DecisionReasons":
        saved = Path(path) / PREFIXES_FILE
        self._known_prefixes = srsly.read_json(saved) if self.fast and saved.exists() else None
        try:
            return super().from_disk(path, exclude=exclude)
        finally:
            self._known_prefixes = None

    def compile(self) -> None:
        _quiet_medspacy()
        from medspacy.context import ConTextRule

        by_kind: dict[str, list[dict]] = {}
        for rule in self.rules:
            by_kind.setdefault(rule["kind"], []).append(rule)
        for rule in (
            by_kind.get("target", []) + by_kind.get("fallback", []) + by_kind.get("default", [])
        ):
            if rule["code"] not in REASON_CODES:
                raise ValueError(f"reasons.jsonl: unknown reason code {rule['code']!r}")
        self._target_rules = by_kind.get("target", [])
        self._case_targets = None  # with re.I, compiled on first need: `_targets_any_case`
        # the same patterns in lower case, for the lower-cased text: about twice as fast as re.I
        self._lower_targets = PatternSet(
            [re.compile(_lowered(_spaced(r["pattern"]))) for r in by_kind.get("target", [])],
            joint=self.fast,
            known=self._known_prefixes,
        )
        self._unless = [
            re.compile(_spaced(r["unless"]), re.I) if r.get("unless") else None
            for r in by_kind.get("target", [])
        ]
        self._fallbacks = [
            (re.compile(_spaced(r["pattern"]), re.I), r) for r in by_kind.get("fallback", [])
        ]
        self._items = [
            re.compile(_spaced(r["item"]), re.I) if r.get("item") else None
            for r in by_kind.get("target", [])
        ]
        # whether a sentence quotes a guideline, concludes, is about the case (AnySearch:
        # `pattern.search`, tried only where the patterns' start words start, when fast)
        self._guidelines, self._conclusions, self._case = (
            [
                AnySearch(re.compile(_spaced(r["pattern"]), re.I), self.fast)
                for r in by_kind.get(kind, [])
            ]
            for kind in ("guideline", "conclusion", "case")
        )
        self._defaults = {r["outcome"]: r["code"] for r in by_kind.get("default", [])}
        self._medspacy_context = None  # built on first need (`_context`)
        modifiers = [
            ConTextRule(
                r["literal"],
                r["category"],
                direction=r["direction"],
                **{k: r[k] for k in ("pattern", "max_scope") if k in r},
                **({} if "pattern" in r else self._literal_pattern(r["literal"])),
            )
            for r in by_kind.get("modifier", [])
        ]
        self._modifiers = modifiers
        # the same rules as token patterns, for matching sentence by sentence (`_sentence_context`);
        # not validated on every load (a quarter of this component's loading): the packaged
        # patterns are validated by tests/test_speed_startup.py
        self._modifier_matcher = Matcher(self.nlp.vocab, validate=False)
        self._modifier_rules = {}
        for number, rule in enumerate(modifiers):
            key = f"{self.name}_modifier_{number}"
            pattern = rule.pattern or [{"LOWER": rule.literal.lower()}]
            self._modifier_matcher.add(key, [pattern])
            self._modifier_rules[key] = rule

    @property
    def _targets_independent(self) -> bool:
        """No modifier limits how many targets it modifies (ConTextRule `max_targets`, which
        reasons.jsonl does not set): a target's modifiers do not depend on the other targets."""
        return all(rule.max_targets is None for rule in self._modifiers)

    @property
    def _context(self):
        """medspaCy's ConText with the modifier rules, for the plain path (`fast: false`) and
        the tests that compare the two: built on first need, which the fast path never has
        (a fifth of this component's loading)."""
        if self._medspacy_context is None:
            from medspacy.context import ConText

            self._medspacy_context = ConText(
                self.nlp,
                name=f"{self.name}_medspacy",
                rules=None,
                span_attrs={"NEGATED_EXISTENCE": {}},
                input_span_type="group",
                span_group_name=TARGETS_KEY,
            )
            self._medspacy_context.add(self._modifiers)
        return self._medspacy_context

    def _targets_any_case(self) -> PatternSet:
        """The target patterns with re.I, for the rare text whose lower case has other offsets.
        Compiled on first need: at start-up, a third of this component's compiling is saved."""
        if self._case_targets is None:
            self._case_targets = PatternSet(
                [re.compile(_spaced(r["pattern"]), re.I) for r in self._target_rules],
                joint=self.fast,
            )
        return self._case_targets

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        outcomes = {
            d._.imr_decision_index: d._.imr_outcome for d in doc.spans.get(DECISIONS_KEY, [])
        }
        items = {
            d._.imr_decision_index: d._.imr_item or "" for d in doc.spans.get(DECISIONS_KEY, [])
        }
        rationales = [p for p in doc.spans.get(PARTS_KEY, []) if p.label_ == "rationale"]
        if not rationales:
            doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=[])
            return doc
        sentences = Sentences.of_doc(doc)
        targets = []
        lower = text.lower()
        if len(lower) == len(text):  # no character whose lower case is longer: same offsets
            patterns, scanned = self._lower_targets, lower
        else:
            patterns, scanned = self._targets_any_case(), text
        for part in rationales:
            by_pattern = patterns.finditer(scanned, part.start_char, part.end_char)
            for number, hits in enumerate(by_pattern):
                for m in hits:
                    span = doc.char_span(m.start(), m.end(), str(number), alignment_mode="expand")
                    if span is not None:
                        span._.imr_decision_index = part._.imr_decision_index
                        targets.append(span)
        # fast: ConText reads only the hits of the rules that ask for their polarity (`when`);
        # with no max_targets on a modifier, a target's modifiers do not depend on the others
        polar = targets
        if self.fast and self._targets_independent:
            polar = [
                t for t in targets if self._target_rules[int(t.label_)].get("when", "any") != "any"
            ]
        doc.spans[TARGETS_KEY] = polar
        negated = set()
        if polar:
            edges = (
                self._sentence_context(doc, polar, sentences)
                if self.fast
                else run_context(self._context, doc, polar, fast=False)
            )
            negated = {
                (t.start, t.end, t.label_)
                for t, modifier in edges
                if modifier.category == "NEGATED_EXISTENCE"
            }
        quoted = {part._.imr_decision_index: self._quote_marks(text, part) for part in rationales}
        parts = {part._.imr_decision_index: part for part in rationales}
        kept = []  # (hit, rule, decision, its clause, rank of its sentence)
        ranks_of: dict[tuple[int, int], int] = {}  # a sentence's rank, quotations aside
        for t in sorted(targets, key=lambda s: s.start):
            number = int(t.label_)
            rule = self._target_rules[number]
            index = t._.imr_decision_index
            polarity = "negated" if (t.start, t.end, t.label_) in negated else "affirmed"
            if rule.get("when", "any") not in ("any", polarity):
                continue
            if rule.get("outcome", "any") not in ("any", outcomes.get(index)):
                continue
            item = self._items[number]
            if item is not None and not item.search(items.get(index, "")):
                continue
            sent = self._sentence(sentences, t, parts[index])
            unless = self._unless[number]
            if unless is not None and unless.search(text[sent[0] : sent[1]]):
                continue
            rank = self._rank(text, sent, t.start_char, quoted[index], ranks_of)
            if rule.get("case") == "require" and not self._about_case(text[sent[0] : sent[1]]):
                continue
            if rank == GUIDELINE and rule.get("guideline") == "skip":
                continue
            if rank == CONCLUSION and rule.get("conclusion") == "skip":
                continue
            kept.append((t, rule, index, _clause(text, sent, t.start_char), rank))
        claimed = {(index, cl) for _, rule, index, cl, _ in kept if not rule.get("exclusive")}
        found: dict[int, dict[str, Span]] = {}
        ranks: dict[tuple[int, str], tuple[int, int]] = {}
        for t, rule, index, clause, rank in kept:
            if rule.get("exclusive") and (index, clause) in claimed:
                continue
            key, score = (index, rule["code"]), (rank, 1 if rule.get("weak") else 0)
            if key not in ranks or score < ranks[key]:
                found.setdefault(index, {})[rule["code"]] = t
                ranks[key] = score
        spans = []
        for part in rationales:
            index = part._.imr_decision_index
            codes = found.get(index, {})
            if not codes:
                codes = self._fallback(
                    doc, text, part, outcomes.get(index), quoted[index], sentences
                )
            for code, hit in codes.items():
                span = self._evidence(doc, hit, part, sentences, code)
                span._.imr_decision_index = index
                if code == "depends_on_denied":
                    span._.imr_depends_on = _depends_on(span.text, index, items, outcomes)
                spans.append(span)
        order = {code: i for i, code in enumerate(REASON_CODES)}
        spans.sort(key=lambda s: (s._.imr_decision_index, order[s.label_]))
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=spans)
        del doc.spans[TARGETS_KEY]
        return doc

    def _sentence_context(self, doc: Doc, targets: list[Span], sentences: Sentences) -> list:
        """ConText's edges, its modifiers matched only in the sentences that hold a target: a
        modifier's scope never leaves its sentence, so the edges are those of ConText run on
        the whole letter (`fast: false`; tests/test_reasons.py compares the two), for the
        rationale sentences' share of the matching."""
        from medspacy.common.util import prune_overlapping_matches
        from medspacy.context.context_graph import ConTextGraph
        from medspacy.context.context_modifier import ConTextModifier

        matches = []
        for start, end in sorted({sentences.bounds(t) for t in targets}):
            span = doc[start:end]
            matches += [(m, start + a, start + b) for m, a, b in self._modifier_matcher(span)]
        graph = ConTextGraph()
        graph.targets = targets
        graph.modifiers = [
            ConTextModifier(self._modifier_rules[self.nlp.vocab.strings[m]], a, b, doc)
            for m, a, b in prune_overlapping_matches(matches)
        ]
        graph.update_scopes()
        return _edges(graph.modifiers, targets)

    def _fallback(
        self,
        doc: Doc,
        text: str,
        part: Span,
        outcome: str | None,
        quotes: list[tuple[int, int]],
        sentences: Sentences,
    ) -> dict[str, Span]:
        for pattern, rule in self._fallbacks:
            if rule.get("outcome", "any") not in ("any", outcome):
                continue
            best = None
            for m in pattern.finditer(text, part.start_char, part.end_char):
                hit = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                if hit is None:
                    continue
                rank = self._rank(text, self._sentence(sentences, hit, part), m.start(), quotes)
                if rank == GUIDELINE and rule.get("guideline") == "skip":
                    continue
                if best is None or rank < best[0]:
                    best = (rank, hit)
            if best is not None:
                return {rule["code"]: best[1]}
        code = self._defaults.get(outcome or "", "other")
        sents = [s for s in part.sents if s.text.strip()]  # not a trailing line break
        return {code: sents[-1] if sents else part}

    def _literal_pattern(self, literal: str) -> dict:
        """A several-word literal as a token pattern that lets line breaks sit between its words."""
        words = [t.lower_ for t in self.nlp.make_doc(literal) if not t.is_space]
        if len(words) < 2:
            return {}
        pattern: list[dict] = []
        for word in words:
            if pattern:
                pattern.append({"IS_SPACE": True, "OP": "*"})
            pattern.append({"LOWER": word})
        return {"pattern": pattern}

    @staticmethod
    def _sentence(sentences: Sentences, hit: Span, part: Span) -> tuple[int, int]:
        """The hit's sentence, clipped to the rationale (the first one starts with its label)."""
        start, end = sentences.of(hit)
        return max(start, part.start_char), min(end, part.end_char)

    @staticmethod
    def _quote_marks(text: str, part: Span) -> list[tuple[int, int]]:
        """The quotations in the rationale long enough to be quoted guideline text (a quoted
        word or phrase, "red flag", is not); none when the marks do not pair up."""
        marks = [m.start() for m in _QUOTE.finditer(text, part.start_char, part.end_char)]
        if len(marks) % 2:
            return []
        pairs = zip(marks[::2], marks[1::2], strict=True)
        return [(a, b) for a, b in pairs if len(text[a:b].split()) >= QUOTE_WORDS]

    def _rank(
        self,
        text: str,
        sent: tuple[int, int],
        at: int,
        quotes: list[tuple[int, int]],
        known: dict[tuple[int, int], int] | None = None,
    ) -> int:
        """How good the hit's sentence is as evidence: the reviewer's own statement (FINDING),
        quoted guideline text (GUIDELINE: inside a quotation, or a sentence that a `guideline`
        rule marks) or the conclusion ("Therefore the request is not medically necessary").
        `known` keeps the sentences' ranks (quotations aside) of one Doc, found once each."""
        if any(a < at < b for a, b in quotes):
            return GUIDELINE
        if known is None:
            return self._sentence_rank(text[sent[0] : sent[1]])
        if sent not in known:
            known[sent] = self._sentence_rank(text[sent[0] : sent[1]])
        return known[sent]

    def _sentence_rank(self, sentence: str) -> int:
        if any(g.found(sentence) for g in self._guidelines):
            return GUIDELINE
        if any(c.found(sentence) for c in self._conclusions):
            return CONCLUSION
        if self._case and not self._about_case(sentence):
            return PLAIN
        return FINDING

    def _about_case(self, sentence: str) -> bool:
        """Whether the sentence speaks of this patient, their records or this request."""
        return any(c.found(sentence) for c in self._case)

    @staticmethod
    def _evidence(doc: Doc, hit: Span, part: Span, sentences: Sentences, code: str) -> Span:
        """The sentence of the rationale that holds the hit (clipped to the rationale)."""
        sent = sentences.bounds(hit) if len(hit) else (hit.start, hit.end)
        start, end = max(sent[0], part.start), min(sent[1], part.end)
        while end > start + 1 and doc[end - 1].is_space:
            end -= 1
        return Span(doc, start, end, label=code)


def _clause(text: str, sent: tuple[int, int], at: int) -> tuple[int, int]:
    """The clause of the sentence that holds offset `at`: sentences join separate findings
    with "; ", ", and no ...", "nor ..." ("He has not documented an exam nor has there been a
    failure of conservative care", as in tests/test_reasons.py)."""
    start, end = sent
    for m in _CLAUSE.finditer(text, sent[0], sent[1]):
        if m.end() <= at:
            start = m.end()
        elif m.start() >= at:
            end = m.start()
            break
    return start, end


def _depends_on(
    evidence: str, index: int, items: dict[int, str], outcomes: dict[int, str | None]
) -> int | None:
    """The other decision whose item the evidence names (most shared words); else, when the
    evidence speaks of a surgery or procedure, the letter's upheld surgery."""
    words = set(_WORD.findall(evidence.lower())) - _NOT_NAMES
    best, best_score = None, 0
    for other, item in items.items():
        if other == index:
            continue
        score = len(words & (set(_WORD.findall(item.lower())) - _NOT_NAMES))
        if score > best_score:
            best, best_score = other, score
    if best is None and _SURGERY_WORD.search(evidence):
        for other, item in sorted(items.items()):
            if (
                other != index
                and outcomes.get(other) != "Overturned"
                and _SURGERY_ITEM.search(item)
            ):
                if not _DEPENDENT_ITEM.search(item):
                    return other
    return best
