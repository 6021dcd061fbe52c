"""medspaCy's ConText, pairing each modifier only with the targets inside its scope.

`ConTextGraph.apply_modifiers` (medspaCy 1.3.1, pinned) calls `modifier.modifies(target)` for
every target × modifier pair of a letter: 218k calls on our 135 letters, a third of ConText's
time (issue 17; medspaCy's own speed thread is medspacy/medspacy#70). A modifier can only
modify a target that overlaps its scope, so we let medspaCy match the modifiers and set their
scopes on no targets, then offer each modifier only the targets near its scope (a bisect over
the targets sorted by start) and keep medspaCy's own `modifies`, `modify` and
`reduce_targets`: 2.9k calls. The graph's edges, the targets' `modifiers` and the span
attributes come out as medspaCy's `ConText.__call__` makes them; tests/test_speed_context.py
compares the two. A later medspaCy that matches only in the targets' sentences
(`match_target_sents_only`, medspacy/medspacy#314 and #328) would find no modifiers with no
targets: that test fails then.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from spacy.tokens import Doc, Span

NO_TARGETS = "imr_context_no_targets"  # a Doc attribute that is always empty
if not Doc.has_extension(NO_TARGETS):
    Doc.set_extension(NO_TARGETS, default=())


def run_context(context, doc: Doc, targets: Sequence[Span], fast: bool = True) -> list:
    """Run medspaCy `context` (a ConText) on `targets` (doc.ents, or its span group) and
    return the graph's edges, [(target, modifier)], in medspaCy's order."""
    if not fast or context.prune_on_target_overlap:  # that pruning needs every target
        context(doc)
        return doc._.context_graph.edges
    context(doc, targets=NO_TARGETS)  # matching and scopes: medspaCy's own
    graph = doc._.context_graph
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
