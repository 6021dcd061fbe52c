"""medspaCy's ConText, pairing each modifier only with the targets inside its scope.

`ConTextGraph.apply_modifiers` (medspaCy 1.3.1, pinned) calls `modifier.modifies(target)` for
every target × modifier pair of a letter: 218k calls on our 135 letters, a third of ConText's
time (issue 17; medspaCy's own speed thread is medspacy/medspacy#70). A modifier can only
modify a target that overlaps its scope, so the modifiers are matched and their scopes set
first (as medspaCy does, below), then each modifier is offered only the targets near its scope
(a bisect over the targets sorted by start), with medspaCy's own `modifies`, `modify` and
`reduce_targets`: 2.9k calls. The graph's edges, the targets' `modifiers` and the span
attributes come out as medspaCy's `ConText.__call__` makes them; tests/test_speed_context.py
compares the two. Where medspaCy matches and sets the scopes itself (the fallback below), it
is called on no targets; a later medspaCy that matches only in the targets' sentences
(`match_target_sents_only`, medspacy/medspacy#314 and #328) would then find no modifiers:
that test fails then.

Matching and scopes are medspaCy's too, with two shortcuts that leave them unchanged (issue
17): the token patterns are matched only from the tokens their first word can be (and, for a
pattern whose second word follows across optional line breaks, where that word follows), each
up to the furthest token it could reach (`_token_matches`: a wildcard that may not cross a
sentence start ends at the next one; overlapping windows are one), and `update_scopes`
compares only modifiers of the same sentence (`_update_scopes`: a modifier's scope stays inside
its sentence, and `limit_scope` changes nothing for two scopes in different sentences). Both
fall back to medspaCy's own call where their conditions do not hold. They read ConText's
matcher by its private names (`_ConText__matcher`, `_MedspacyMatcher__matcher`: medspaCy 1.3.1,
pinned); the tests compare them with medspaCy's own matching and `update_scopes`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import numpy
from spacy.attrs import IS_SPACE, LOWER, SENT_START
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span

from imr_extract.components.base import in_sorted
from imr_extract.components.sentences import Sentences

NO_TARGETS = "imr_context_no_targets"  # a Doc attribute that is always empty
if not Doc.has_extension(NO_TARGETS):
    Doc.set_extension(NO_TARGETS, default=())


def run_context(context, doc: Doc, targets: Sequence[Span], fast: bool = True) -> list:
    """Run medspaCy `context` (a ConText) on `targets` (doc.ents, or its span group) and
    return the graph's edges, [(target, modifier)], in medspaCy's order."""
    if not fast or context.prune_on_target_overlap:  # that pruning needs every target
        context(doc)
        return doc._.context_graph.edges
    matcher = getattr(context, "_ConText__matcher", None)
    if matcher is None or context.max_scope is not None or not doc.has_annotation("SENT_START"):
        context(doc, targets=NO_TARGETS)  # matching and scopes: medspaCy's own
        graph = doc._.context_graph
    else:  # what ConText.__call__ does, with the shortcuts of the module's docstring
        from medspacy.context.context_graph import ConTextGraph
        from medspacy.context.context_modifier import ConTextModifier

        graph = ConTextGraph(prune_on_modifier_overlap=context.prune_on_target_overlap)
        graph.modifiers = [
            ConTextModifier(matcher.rule_map[context.nlp.vocab[key].text], start, end, doc)
            for key, start, end in _matches(matcher, doc)
        ]
        _update_scopes(graph, doc)
        doc._.context_graph = graph
    graph.targets = targets
    graph.edges = _edges(graph.modifiers, targets)
    # what ConText.__call__ does with the edges
    for target, modifier in graph.edges:
        target._.modifiers += (modifier,)
    if context.context_attributes_mapping:
        context.set_context_attributes(graph.edges)
    return graph.edges


def _edges(modifiers: list, targets: Sequence[Span]) -> list:
    """`ConTextGraph.apply_modifiers` without its pruning, offering each modifier only the
    targets that may overlap its scope. medspaCy's loop runs targets outer, modifiers inner,
    so each modifier sees its targets in their given order: we keep that order."""
    edges: list = []
    if not targets:
        return edges
    order = sorted(range(len(targets)), key=lambda i: targets[i].start)
    starts = [targets[i].start for i in order]
    longest = max(t.end - t.start for t in targets)
    for modifier in modifiers:
        if modifier.direction not in ("TERMINATE", "PSEUDO"):  # `modifies` says no to these
            # `modifies` (medspaCy's tuple_overlaps) needs a target that starts in
            # [scope start, scope end) or ends in (scope start, scope end]
            scope_start, scope_end = modifier.scope_span
            first = bisect_left(starts, scope_start - longest)
            for i in sorted(order[first : bisect_right(starts, scope_end)]):
                if modifier.modifies(targets[i]):
                    modifier.modify(targets[i])
        modifier.reduce_targets()
        edges.extend((target, modifier) for target in modifier._targets)
    return edges


def _matches(matcher, doc: Doc) -> list[tuple[int, int, int]]:
    """`matcher(doc)` of a medspaCy MedspacyMatcher, its token patterns matched by
    `_token_matches` when it prunes (and so sorts) its matches."""
    token_matcher = matcher._MedspacyMatcher__matcher
    if not matcher._prune:
        return matcher(doc)
    matches = _token_matches(token_matcher, doc, _cached_plans(matcher, token_matcher))
    matches += matcher._MedspacyMatcher__phrase_matcher(doc)
    matches += matcher._MedspacyMatcher__regex_matcher(doc)
    if matcher._prune:
        from medspacy.common.util import prune_overlapping_matches

        matches = prune_overlapping_matches(matches)
    return matches


def _cached_plans(owner, token_matcher):
    """`_plans(token_matcher)`, kept on `owner` (a Python object) until the matcher's
    patterns change: reading them for every letter was a sixth of ConText's time."""
    signature = tuple(
        (key, id(patterns), len(patterns)) for key, patterns in token_matcher._patterns.items()
    )
    cached = owner.__dict__.get("_imr_plans")
    if cached is None or cached[0] != signature:
        cached = (signature, _plans(token_matcher))
        owner.__dict__["_imr_plans"] = cached
    return cached[1]


UNBOUNDED = {"*", "+"}


def _token_matches(token_matcher, doc: Doc, plans=False) -> list[tuple[int, int, int]]:
    """`token_matcher(doc)`, matched only from the tokens that can start a match, each window
    reaching the furthest token a match from there can reach (windows that overlap are
    matched as one). It needs patterns that start with one word (LOWER: a word or IN words),
    whose other tokens are single, optional (?) or negated (!: one other token), or a
    wildcard (*, +) that may not take a sentence start (IS_SENT_START: false), and no
    callbacks; else the whole Doc is matched. A pattern whose second word follows its first
    with only optional whitespace tokens between ("in case of" across a line break) opens a
    window only where that word is there ("in", "not" and "has" opened 3 in 5 windows).
    `plans`: `_plans(token_matcher)` if known. The matches are those of the whole Doc; only
    the order of matches with the same start and end may differ (medspaCy's pruning sorts
    them by start and end)."""
    if plans is False:
        plans = _plans(token_matcher)
    if plans is None or not len(doc):
        return token_matcher(doc) if len(token_matcher) else []
    array = doc.to_array([LOWER, SENT_START, IS_SPACE])
    n = len(doc)
    by_word: dict[int, list] = {}  # each first word's patterns: (specs, second)
    for words, specs, second in plans:
        for word in words:
            by_word.setdefault(word, []).append((specs, second))
    # the tokens whose word starts a pattern
    first_ids = numpy.array(sorted(by_word), dtype=numpy.uint64)
    firsts = numpy.flatnonzero(in_sorted(first_ids, array[:, 0])).tolist()
    if not firsts:
        return []
    lower, space = array[:, 0].tolist(), array[:, 2].tolist()
    # the sentence starts: a wildcard from token `end` stops at the first one at or after it
    starts = numpy.flatnonzero(array[:, 1] == 1).tolist()
    windows: list[list[int]] = []  # [start, end): every match lies inside one
    for first in firsts:
        reach = -1  # the furthest end of a match of any pattern from `first`
        for specs, second in by_word[lower[first]]:
            if second is not None:  # its second word, after at most `gap` whitespace tokens
                gap, second_words = second
                j = first + 1
                while j < n and space[j] and j - first <= gap:
                    j += 1
                if j == n or lower[j] not in second_words:
                    continue
            end = first + 1
            for spec in specs:
                if spec in UNBOUNDED:
                    k = bisect_left(starts, end)
                    end = starts[k] if k < len(starts) else n
                else:
                    end += spec
            reach = max(reach, end)
        if reach < 0:
            continue  # no pattern can match from here
        reach = min(reach, n)
        if windows and first < windows[-1][1]:  # overlaps the last window: one window
            windows[-1][1] = max(windows[-1][1], reach)
        else:
            windows.append([first, reach])
    # a match starts at a first word and ends by its reach, so a window holds all matches
    # that start in it, and no others
    found = []
    for start, end in windows:
        found += [(k, start + a, start + b) for k, a, b in token_matcher(doc[start:end])]
    return found


OPTIONAL_SPACE = {"IS_SPACE": True, "OP": "?"}


def _lower_words(spec: dict) -> list[str] | None:
    """The words of a LOWER token spec (a word, or IN words); None for any other spec."""
    if set(spec) != {"LOWER"}:
        return None
    words = spec["LOWER"]
    if isinstance(words, dict):
        if set(words) != {"IN"}:
            return None
        words = words["IN"]
    else:
        words = [words]
    return list(words) if all(isinstance(w, str) for w in words) else None


def _plans(token_matcher):
    """For each token pattern: (the hashes of the words it starts with, how far each of its
    other tokens can reach: 1 or UNBOUNDED, and its second word: (the most whitespace tokens
    before it, the hashes of its words), or None when it is not a word after optional
    whitespace tokens only), or None when a pattern does not fit (see `_token_matches`)."""
    plans = []
    for key in list(token_matcher._patterns):
        on_match, patterns = token_matcher.get(key)
        if on_match is not None:
            return None
        for pattern in patterns:
            first, *rest = pattern
            words = _lower_words(first)
            if words is None:
                return None
            specs = []
            for spec in rest:
                op = spec.get("OP")
                if op in UNBOUNDED:
                    if spec.get("IS_SENT_START") is not False:
                        return None
                    specs.append(op)
                elif op in (None, "1", "?", "!"):  # "!": one token that is not the spec
                    specs.append(1)
                else:
                    return None
            gap = 0
            while gap < len(rest) and rest[gap] == OPTIONAL_SPACE:
                gap += 1
            seconds = _lower_words(rest[gap]) if gap < len(rest) else None
            second = None
            if seconds and all(w and not w.isspace() and w == w.strip() for w in seconds):
                second = (gap, {get_string_id(w) for w in seconds})  # a word, never whitespace
            plans.append(({get_string_id(w) for w in words}, specs, second))
    return plans


def _update_scopes(graph, doc: Doc) -> None:
    """`graph.update_scopes()`, comparing only the modifiers of one sentence: two modifiers of
    different sentences have scopes in different sentences, which `limit_scope` leaves as they
    are. A modifier that ends past its sentence (its scope may then leave it) sends all of
    them to medspaCy's own loop."""
    from medspacy.context.context_graph import ConTextGraph

    bounds = Sentences.of_doc(doc)
    sentences: dict[int, list] = {}
    for modifier in graph.modifiers:
        start, end = modifier.modifier_span
        k = bounds.index(start)
        if end > bounds.ends[k]:
            graph.update_scopes()
            return
        sentences.setdefault(k, []).append(modifier)
    for modifiers in sentences.values():
        ConTextGraph(modifiers=modifiers).update_scopes()
