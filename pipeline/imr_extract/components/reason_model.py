"""A trained sentence classifier over the rationales, combined with the reason rules per code.

`imr_reasons` (the rules) codes each decision first. This component then scores every sentence
of the decision's `Decision rationale:` with one logistic regression per reason code (features:
the sentence's lower-cased words and word pairs, the decision's outcome, the sentence's place in
the rationale); a decision's score for a code is that of its best sentence, which is also the
code's evidence. How the two are combined is set per code, chosen on the dev split by
cross-validation over letters (`imr_extract.train_reasons`, `make train`):

- `rules`: the rules alone (the model is not used for that code);
- `union`: the rules' code, plus the model's where its score reaches the threshold;
- `filter`: the rules' code, kept only where the model's score reaches the threshold;
- `model`: the model alone, at the threshold.

A decision left without any code keeps what the rules gave it. The weights are data
(resources/reason_model.jsonl, written by `make train` from the dev gold, committed, and saved
with the pipeline like a rule file); only rationale sentences are scored, and scoring is a
dictionary lookup per word, so it adds little to the pipeline's time.
"""

import math
import re
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text
from imr_extract.components.decisions import DECISIONS_KEY, PARTS_KEY
from imr_extract.components.reasons import REASON_CODES, REASONS_KEY, _depends_on

MODES = ("rules", "union", "filter", "model")
_TOKEN = re.compile(r"[a-z]+|\d+|[,.;:()]")
_NEGATION = frozenset({"no", "not", "without", "lack", "lacks", "none", "nor", "neither", "absent"})
NEGATION_WORDS = 6  # how far a negation reaches (words, never past punctuation)
_ORDER = {code: i for i, code in enumerate(REASON_CODES)}


def sentence_features(text: str, outcome: str | None, position: str) -> list[str]:
    """The features of one rationale sentence: its words and adjacent word pairs (lower case,
    numbers as "0"), the words a negation ("no", "not", "without", ...) reaches, the decision's
    outcome, and `position` (first, last, middle, only)."""
    features = set()
    words, scope = [], 0
    for token in _TOKEN.findall(text.lower()):
        if not token[0].isalnum():
            scope = 0
            continue
        word = "0" if token[0].isdigit() else token
        words.append(word)
        if word in _NEGATION:
            scope = NEGATION_WORDS
        elif scope:
            features.add(f"n:{word}")
            scope -= 1
    features.update(f"w:{w}" for w in words)
    features.update(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    features.add(f"o:{outcome or 'none'}")
    features.add(f"p:{position}")
    features.add("bias")
    return sorted(features)


def rationale_sentences(doc: Doc) -> dict[int, list[tuple[int, int]]]:
    """{decision_index: [(start_char, end_char)]}: the sentences of each decision's rationale,
    clipped to it, without trailing whitespace (as `imr_reasons` cuts its evidence)."""
    out: dict[int, list[tuple[int, int]]] = {}
    text = doc_text(doc)
    for part in doc.spans.get(PARTS_KEY, []):
        if part.label_ != "rationale":
            continue
        sentences = out.setdefault(part._.imr_decision_index, [])
        for sent in part.sents:
            start = max(sent.start_char, part.start_char)
            end = min(sent.end_char, part.end_char)
            while end > start and text[end - 1].isspace():
                end -= 1
            if text[start:end].strip():
                sentences.append((start, end))
    return out


def positions(n: int) -> list[str]:
    if n == 1:
        return ["only"]
    return ["first"] + ["middle"] * (n - 2) + ["last"] if n else []


def decision_scores(
    weights: dict[str, dict[str, float]],
    biases: dict[str, float],
    sentence_texts: list[str],
    outcome: str | None,
) -> dict[str, tuple[float, int]]:
    """{code: (score, index of the best sentence)} for one decision: the highest sentence
    probability of each code the model has weights for."""
    feats = [
        sentence_features(t, outcome, p)
        for t, p in zip(sentence_texts, positions(len(sentence_texts)), strict=True)
    ]
    out = {}
    for code, table in weights.items():
        best, at = -1.0, -1
        for i, fs in enumerate(feats):
            z = biases[code] + sum(table.get(f, 0.0) for f in fs)
            p = 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0
            if p > best:
                best, at = p, i
        if at >= 0:
            out[code] = (best, at)
    return out


def combine(
    rules: dict[str, tuple[int, int]],
    scores: dict[str, tuple[float, int]],
    sentences: list[tuple[int, int]],
    setup: dict[str, dict[str, Any]],
) -> dict[str, tuple[int, int]]:
    """The codes of one decision, {code: evidence (start, end)}, from the rules' codes and the
    model's scores, by each code's `mode` and `threshold` in `setup` (codes absent: rules)."""
    out: dict[str, tuple[int, int]] = {}
    for code in REASON_CODES:
        rule = rules.get(code)
        cfg = setup.get(code)
        mode = cfg["mode"] if cfg and code in scores else "rules"
        if mode == "rules":
            if rule is not None:
                out[code] = rule
            continue
        score, at = scores[code]
        hit = score >= cfg["threshold"]
        if mode == "union" and (rule is not None or hit):
            out[code] = rule if rule is not None else sentences[at]
        elif mode == "filter" and rule is not None and hit:
            out[code] = rule
        elif mode == "model" and hit:
            out[code] = rule if rule is not None else sentences[at]
    return out or dict(rules)


@Language.factory(
    "imr_reason_model",
    default_config={"span_key": REASONS_KEY},
    assigns=["doc.spans"],
    requires=["doc.spans", "token.is_sent_start"],
)
def make_reason_model(nlp: Language, name: str, span_key: str):
    return ReasonModel(nlp, name, span_key)


class ReasonModel(RuleComponent):
    """Weights and the per-code setup are kept as rules: one `setup` line per code the model
    is used for (mode, threshold, bias, weights), saved with the pipeline."""

    rules_file = "reason_model.jsonl"

    def __init__(self, nlp, name, span_key: str = REASONS_KEY):
        super().__init__(nlp, name)
        self.span_key = span_key

    def compile(self) -> None:
        self.setup: dict[str, dict[str, Any]] = {}
        self.weights: dict[str, dict[str, float]] = {}
        self.biases: dict[str, float] = {}
        for rule in self.rules:
            if rule.get("kind") != "code":
                continue
            code = rule["code"]
            if code not in REASON_CODES:
                raise ValueError(f"reason_model.jsonl: unknown reason code {code!r}")
            if rule["mode"] not in MODES:
                raise ValueError(f"reason_model.jsonl: unknown mode {rule['mode']!r}")
            if rule["mode"] == "rules":
                continue
            self.setup[code] = {"mode": rule["mode"], "threshold": rule["threshold"]}
            self.weights[code] = dict(rule["weights"])
            self.biases[code] = rule["bias"]

    def __call__(self, doc: Doc) -> Doc:
        if not self.setup:
            return doc
        text = doc_text(doc)
        decisions = {d._.imr_decision_index: d for d in doc.spans.get(DECISIONS_KEY, [])}
        outcomes = {i: d._.imr_outcome for i, d in decisions.items()}
        items = {i: d._.imr_item or "" for i, d in decisions.items()}
        rule_spans: dict[int, dict[str, Span]] = {}
        for span in doc.spans.get(self.span_key, []):
            rule_spans.setdefault(span._.imr_decision_index, {})[span.label_] = span
        spans = []
        for index, sentences in rationale_sentences(doc).items():
            mine = rule_spans.pop(index, {})
            if not sentences:
                spans.extend(mine.values())
                continue
            texts = [text[a:b] for a, b in sentences]
            scores = decision_scores(self.weights, self.biases, texts, outcomes.get(index))
            rules = {code: (s.start_char, s.end_char) for code, s in mine.items()}
            for code, (start, end) in combine(rules, scores, sentences, self.setup).items():
                if code in mine and rules[code] == (start, end):
                    spans.append(mine[code])
                    continue
                span = doc.char_span(start, end, label=code, alignment_mode="expand")
                if span is None:  # pragma: no cover - sentence offsets are token edges
                    continue
                span._.imr_decision_index = index
                if code == "depends_on_denied":
                    span._.imr_depends_on = _depends_on(span.text, index, items, outcomes)
                spans.append(span)
        for mine in rule_spans.values():  # a decision without rationale sentences
            spans.extend(mine.values())
        spans.sort(key=lambda s: (s._.imr_decision_index, _ORDER[s.label_]))
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=spans)
        return doc
