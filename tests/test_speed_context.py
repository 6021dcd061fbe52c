"""Issue 17: ConText pairs each modifier only with the targets in its scope (fast_context.py),
and the entity rows read their values from doc.user_data. Both must give exactly what the
plain path gives: medspaCy's own ConText call, and `ent._` for every value."""

from __future__ import annotations

import pytest
from spacy.tokens import Doc, Span

from imr_extract import export
from imr_extract.components import context as context_module
from imr_extract.components import fast_context, reasons
from imr_extract.components.base import TEXT_CACHE
from imr_extract.ingest import read_document

from conftest import SAMPLES, read_sample

SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".txt", ".pdf"))


def _edge_keys(edges) -> list[tuple]:
    return [
        (t.start, t.end, t.label_, m.modifier_span, m.scope_span, m.category, m.rule.literal)
        for t, m in edges
    ]


def _modifiers(doc: Doc) -> dict:
    """What ConText leaves on the targets: Span._.modifiers, as comparable keys."""
    return {
        key: [(m.modifier_span, m.scope_span, m.category) for m in value]
        for key, value in doc.user_data.items()
        if isinstance(key, tuple) and len(key) > 1 and key[1] == "modifiers"
    }


def _foreign(key) -> bool:
    return isinstance(key, tuple) and len(key) > 1 and not str(key[1]).startswith("imr_")


def _twin(doc: Doc) -> Doc:
    """A copy of the Doc; an earlier ConText's graph holds Spans, which do not deep-copy: the
    two share it."""
    medspacy_keys = [k for k in doc.user_data if k not in _modifiers(doc) and _foreign(k)]
    foreign = {key: doc.user_data.pop(key) for key in [*_modifiers(doc), *medspacy_keys]}
    twin = doc.copy()
    doc.user_data.update(foreign)
    twin.user_data.update(foreign)
    return twin


class CheckedRun:
    """Stands in for `run_context`: runs medspaCy's own call on a copy of the Doc, then the
    fast pairing on the Doc, and records both edge lists and the modifiers they leave."""

    def __init__(self):
        self.calls, self.edges = 0, 0
        self.original = fast_context.run_context

    def __call__(self, context, doc, targets, fast=True):
        twin = _twin(doc)
        plain = self.original(context, twin, None, fast=False)
        edges = self.original(context, doc, targets, fast=True)
        assert _edge_keys(edges) == _edge_keys(plain)
        assert _modifiers(doc) == _modifiers(twin)
        self.calls += 1
        self.edges += len(edges)
        return edges


def _texts(corpus=None, n=10) -> list[str]:
    texts = [read_sample(name) for name in SAMPLE_NAMES]
    if corpus is not None:
        paths = sorted(corpus.rglob("*.pdf"))
        sources = map(read_document, paths[:: max(1, len(paths) // n)][:n])  # spread out
        texts += [source.text for source in sources if source.ok]
    return texts


def _check_edges(nlp, texts, monkeypatch) -> CheckedRun:
    checked = CheckedRun()
    monkeypatch.setattr(context_module, "run_context", checked)
    monkeypatch.setattr(reasons, "run_context", checked)
    sentence_context = reasons.DecisionReasons._sentence_context

    def checked_sentences(self, doc, targets, sentences):
        """imr_reasons matches modifiers only in the targets' sentences: the same edges as
        medspaCy's own call on the whole letter."""
        plain = checked.original(self._context, _twin(doc), None, fast=False)
        edges = sentence_context(self, doc, targets, sentences)
        assert sorted(_edge_keys(edges)) == sorted(_edge_keys(plain))
        checked.calls += 1
        checked.edges += len(edges)
        return edges

    monkeypatch.setattr(reasons.DecisionReasons, "_sentence_context", checked_sentences)
    for text in texts:
        nlp(text)
    return checked


def test_fast_edges_are_medspacys_on_the_samples(nlp, monkeypatch):
    checked = _check_edges(nlp, _texts(), monkeypatch)
    assert checked.calls >= len(SAMPLE_NAMES)  # imr_context on every letter, imr_reasons too
    assert checked.edges > 0


@pytest.mark.corpus
def test_fast_edges_are_medspacys_on_the_corpus(nlp, corpus, monkeypatch):
    checked = _check_edges(nlp, _texts(corpus)[len(SAMPLE_NAMES) :], monkeypatch)
    assert checked.edges > 50


def test_fast_edges_with_every_pairing_rule(nlp):
    """Unsorted, nested and duplicate targets; max_targets, max_scope, terminating types,
    allowed and excluded types, pseudo and terminate rules, neighbouring modifiers of one
    category: the edges come out as medspaCy's own ConText call makes them."""
    from medspacy.context import ConText, ConTextRule

    text = (
        "No history of asthma, diabetes, or gout but has cancer. "
        "Patient denies pain or fever and family history of stroke. "
        "Not medically necessary for asthma. Possible fracture versus sprain with no pain. "
        "Mother had diabetes. Gout is ruled out. Family history of stroke with no cancer."
    )
    doc = nlp.make_doc(text)
    for i, token in enumerate(doc):
        token.is_sent_start = i == 0 or doc[i - 1].text == "."
    words = ["asthma", "diabetes", "gout", "cancer", "pain", "fever", "stroke", "fracture"]
    words += ["sprain"]
    labels = {"asthma": "A", "cancer": "A", "stroke": "A", "sprain": "A", "gout": "A"}
    spans = [
        Span(doc, t.i, t.i + 1, label=labels.get(t.lower_, "B")) for t in doc if t.lower_ in words
    ]
    spans += [Span(doc, spans[0].start - 2, spans[0].end, label="A"), spans[1]]  # nested, twice
    doc.spans["targets"] = spans[::-1]  # not in document order
    rules = [
        ConTextRule("no history of", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("no", "NEGATED_EXISTENCE", direction="FORWARD", max_targets=1),
        ConTextRule("denies", "NEGATED_EXISTENCE", direction="FORWARD", max_scope=3),
        ConTextRule("family history", "FAMILY", direction="FORWARD", allowed_types={"A"}),
        ConTextRule("mother", "FAMILY", direction="FORWARD", excluded_types={"A"}),
        ConTextRule("possible", "POSSIBLE_EXISTENCE", direction="BIDIRECTIONAL", max_scope=4),
        ConTextRule(
            "is ruled out",
            "NEGATED_EXISTENCE",
            direction="BACKWARD",
            pattern=[{"LOWER": "is"}, {"LOWER": "ruled"}, {"LOWER": "out"}],
        ),
        ConTextRule("versus", "POSSIBLE_EXISTENCE", direction="BIDIRECTIONAL", max_targets=2),
        ConTextRule("not medically necessary", "DECISION", direction="PSEUDO"),
        ConTextRule("but", "CONJ", direction="TERMINATE"),
    ]
    found = []
    for kwargs in ({}, {"terminating_types": {"FAMILY": ["NEGATED_EXISTENCE"]}}):
        context = ConText(
            nlp, name="test_context", rules=None, span_attrs=None, input_span_type="group",
            span_group_name="targets", **kwargs,
        )  # fmt: skip
        context.add(rules)
        plain, fast = doc.copy(), doc.copy()
        want = fast_context.run_context(context, plain, None, fast=False)
        got = fast_context.run_context(context, fast, list(fast.spans["targets"]))
        assert _edge_keys(got) == _edge_keys(want)
        assert _modifiers(fast) == _modifiers(plain)
        assert len(want) >= 8
        found.append(_edge_keys(want))
    assert found[0] != found[1]  # the terminating type ends the family history's scope
    assert not fast_context.run_context(context, doc.copy(), [])


def test_user_data_key_of_a_span_attribute(nlp):
    """The fast entity rows read spaCy's key of a Span extension value directly."""
    doc = nlp.make_doc("Norco 10 mg")
    assert doc.user_data.pop(TEXT_CACHE) == doc.text  # the tokenizer's copy of the text
    span = Span(doc, 0, 1, label="MEDICATION")
    span._.imr_negated = True
    assert doc.user_data == {("._.", "imr_negated", 0, 5): True}
    assert Span(doc, 0, 2)._.imr_negated is False  # absent: the default, nothing written
    assert len(doc.user_data) == 1
    assert export._user_data_reader(doc) is not export._underscore_values  # no fallback


def _rows(nlp, texts, fast_rows: bool) -> list[dict]:
    from imr_extract.ingest import SourceDocument

    export.FAST_ENTITY_ROWS = fast_rows
    try:
        return [
            export.doc_rows(nlp(text), SourceDocument(doc_id=str(i), path="", text=text))
            for i, text in enumerate(texts)
        ]
    finally:
        export.FAST_ENTITY_ROWS = True


@pytest.fixture(scope="module")
def plain_nlp():
    from imr_extract.api import build_pipeline

    return build_pipeline(
        {
            "imr_context": {"fast": False},
            "imr_reasons": {"fast": False},
            "imr_abbreviations": {"fast": False},
        }
    )


def test_fast_and_plain_rows_on_the_samples(nlp, plain_nlp):
    assert nlp.get_pipe("imr_context").fast and nlp.get_pipe("imr_reasons").fast
    assert (
        nlp.get_pipe("imr_abbreviations").fast and not plain_nlp.get_pipe("imr_abbreviations").fast
    )
    texts = _texts()
    assert _rows(nlp, texts, True) == _rows(plain_nlp, texts, False)


@pytest.mark.corpus
def test_fast_and_plain_rows_on_the_corpus(nlp, plain_nlp, corpus):
    texts = _texts(corpus)[len(SAMPLE_NAMES) :]
    fast, plain = _rows(nlp, texts, True), _rows(plain_nlp, texts, False)
    assert sum(len(r["entities"]) for r in fast) > 100
    assert fast == plain


def _token_matcher_and_docs(nlp, texts):
    from spacy.matcher import Matcher

    matcher = Matcher(nlp.vocab)
    matcher.add(
        "wild",
        [[{"LOWER": {"IN": ["no", "failed"]}}, {"OP": "*", "IS_SENT_START": False},
          {"LOWER": "findings"}, {"LOWER": {"IN": ["of", "with"]}}]],
    )  # fmt: skip
    matcher.add("short", [[{"LOWER": "no"}, {"LOWER": "clear", "OP": "?"}, {"LOWER": "sign"}]])
    matcher.add("plus", [[{"LOWER": "no"}, {"OP": "+", "IS_SENT_START": False}, {"LOWER": "x"}]])
    matcher.add("neg", [[{"LOWER": "lack"}, {"LOWER": "of", "OP": "!"}, {"LOWER": "data"}]])
    space = {"IS_SPACE": True, "OP": "?"}  # a line break between two words, as imr_context's
    # "without" and "in" start no other pattern: the second word alone opens their windows
    wrapped = [{"LOWER": "without"}, space, {"LOWER": "findings"}, space, {"LOWER": "of"}]
    matcher.add("wrapped", [wrapped])
    matcher.add(
        "two_breaks", [[{"LOWER": "in"}, space, space, {"LOWER": {"IN": ["case", "lieu"]}}]]
    )
    return matcher, [nlp(text) for text in texts]


def test_token_patterns_matched_from_their_first_words(nlp):
    """`_token_matches` finds what the Matcher finds on the whole Doc: wildcards that stop at
    a sentence start, a pattern of the same first word that reaches further, the last token."""
    texts = [read_sample(name) for name in SAMPLE_NAMES] + [
        "No sign. No clear sign of findings of it. No x y x. Failed. Findings of disease.",
        "no findings with no findings of no sign no x x x failed x findings with",
        "Lack data. lack of data. Lack the data. no",
        "No\n\nfindings of. no findings.",
        "without\nfindings\nof it; without \n findings of; in\ncase; in \n case; in\n\ncase",
        "In lieu. in\n \ncase. Without\n\n\nfindings of. without findings\n of. in",
    ]
    matcher, docs = _token_matcher_and_docs(nlp, texts)
    plans = fast_context._plans(matcher)
    assert plans is not None
    assert {second[0] for _, _, second in plans if second} == {1, 2}  # words after line breaks
    found, wrapped = 0, 0
    for doc in docs:
        want = sorted(matcher(doc), key=lambda m: (m[1], m[2], m[0]))
        got = sorted(fast_context._token_matches(matcher, doc), key=lambda m: (m[1], m[2], m[0]))
        assert got == want
        found += len(want)
        wrapped += sum(doc[a:b].text != " ".join(doc[a:b].text.split()) for _, a, b in want)
    assert found > 15 and wrapped >= 4  # matches across line breaks too


def test_plans_are_read_again_when_the_patterns_change(nlp):
    """`_cached_plans` keeps a matcher's plans until a pattern is added or removed."""
    from spacy.matcher import Matcher

    class Owner:
        pass

    owner, matcher = Owner(), Matcher(nlp.vocab)
    matcher.add("a", [[{"LOWER": "no"}, {"LOWER": "sign"}]])
    first = fast_context._cached_plans(owner, matcher)
    assert fast_context._cached_plans(owner, matcher) is first  # read once
    matcher.add("a", [[{"LOWER": "lack"}, {"LOWER": "of"}]])  # a second pattern, same key
    second = fast_context._cached_plans(owner, matcher)
    assert len(second) == 2 and second == fast_context._plans(matcher)
    matcher.add("b", [[{"LOWER": "no"}, {"OP": "*"}]])  # one that does not fit
    assert fast_context._cached_plans(owner, matcher) is None
    matcher.remove("b")
    assert fast_context._cached_plans(owner, matcher) == second


def test_token_patterns_that_do_not_fit_are_matched_on_the_whole_doc(nlp):
    from spacy.matcher import Matcher

    for pattern in (
        [{"LOWER": "no"}, {"OP": "*"}, {"LOWER": "x"}],  # a wildcard that may cross sentences
        [{"LOWER": "no", "OP": "?"}, {"LOWER": "x"}],  # an optional first token
        [{"ORTH": "No"}, {"LOWER": "x"}],  # not LOWER
        [{"LOWER": "no"}, {"LOWER": "x", "OP": "{1,3}"}],  # a quantifier
    ):
        matcher = Matcher(nlp.vocab)
        matcher.add("p", [pattern])
        assert fast_context._plans(matcher) is None
        doc = nlp("No x. No y x x. no. x")
        assert fast_context._token_matches(matcher, doc) == matcher(doc)


def test_scopes_updated_sentence_by_sentence_are_medspacys(nlp):
    """`_update_scopes` leaves every modifier with the scope medspaCy's own loop gives."""
    from medspacy.context.context_graph import ConTextGraph
    from medspacy.context.context_modifier import ConTextModifier

    context = nlp.get_pipe("imr_context")._context
    matcher = context._ConText__matcher
    checked = 0
    for text in [read_sample(name) for name in SAMPLE_NAMES]:
        doc = nlp(text)
        scopes = []
        for sentence_by_sentence in (False, True):
            graph = ConTextGraph()
            graph.modifiers = [
                ConTextModifier(matcher.rule_map[nlp.vocab[k].text], s, e, doc)
                for k, s, e in matcher(doc)
            ]
            if sentence_by_sentence:
                fast_context._update_scopes(graph, doc)
            else:
                graph.update_scopes()
            scopes.append([(m.modifier_span, m.scope_span) for m in graph.modifiers])
        assert scopes[0] == scopes[1]
        checked += len(scopes[0])
    assert checked > 10


def test_shipped_context_patterns_are_matched_from_their_first_words(nlp):
    """The shipped ConText token patterns fit `_token_matches` (else the whole letter is
    matched: slower, not wrong) and give the Matcher's matches on the samples."""
    medspacy_matcher = nlp.get_pipe("imr_context")._context._ConText__matcher
    token_matcher = medspacy_matcher._MedspacyMatcher__matcher
    assert medspacy_matcher._prune and len(token_matcher)
    assert fast_context._plans(token_matcher) is not None
    for text in [read_sample(name) for name in SAMPLE_NAMES]:
        doc = nlp(text)
        want = sorted(token_matcher(doc), key=lambda m: (m[1], m[2], m[0]))
        got = fast_context._token_matches(token_matcher, doc)
        assert sorted(got, key=lambda m: (m[1], m[2], m[0])) == want


def test_reasons_read_polarity_only_where_a_rule_asks_and_targets_are_independent(nlp):
    """imr_reasons' fast path gives ConText only the hits of `when` rules, which is exact while
    no modifier rule limits its targets (`max_targets`); a rule that does turns it off."""
    from imr_extract.rules import packaged_rules

    component = nlp.get_pipe("imr_reasons")
    assert component._targets_independent
    rules = packaged_rules("reasons.jsonl")
    assert any(r.get("when", "any") != "any" for r in rules if r["kind"] == "target")
    assert any(r.get("when", "any") == "any" for r in rules if r["kind"] == "target")
    other = reasons.DecisionReasons(nlp, "imr_reasons_limited")
    other.set_rules(rules)
    assert other._targets_independent
    other._modifiers[0].max_targets = 1
    assert not other._targets_independent
