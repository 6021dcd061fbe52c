"""Decisions of the layouts without an 'IMR ISSUES, DECISIONS AND RATIONALES' section: the 2013
letters and the "MEDICAL PROFESSIONAL REVIEW" letters (rules: resources/layout_decisions.jsonl).

Neither layout has been seen whole: what is read is what public descriptions state, and no
more. A 2013 letter states each decision as a numbered sentence ("1) MAXIMUS Federal Services,
Inc. has determined the request for X is not medically necessary and appropriate."), once near
the top and again under INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE; the text after a
sentence there, up to the next one or the next heading, is taken as that decision's rationale.
A professional-review letter gets a decision only where it writes such a sentence; its single
rationale and guideline sections belong to a decision only when there is exactly one.
Runs after `imr_decisions` and replaces its spans for these layouts only, so the reading of the
2014-17 letters is untouched (the 2013 heading is its own section, `decision_and_rationale`,
so `imr_decisions` never reads it). Missing pieces are said in `qa_flags`, never guessed.
"""

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text, section_body
from imr_extract.components.decisions import DECISIONS_KEY, PARTS_KEY
from imr_extract.components.layout import LAYOUT_2013, PROFESSIONAL_REVIEW
from imr_extract.components.sectionizer import HEADER_SECTION
from imr_extract.normalize.text import squash_with_offsets
from imr_extract.qa import add_qa_flag


@dataclass
class Determination:
    """One decision sentence; offsets are into the whole text."""

    item: str
    outcome: str
    start: int
    end: int
    item_start: int
    item_end: int


def find_determinations(
    text: str, start: int, end: int, pattern: re.Pattern, outcomes: list[tuple[re.Pattern, str]]
) -> list[Determination]:
    """Decision sentences in text[start:end], in text order. The sentence is matched on the
    squashed text (PDF lines wrap anywhere), so glued words ("notmedically") and wraps both
    read; a sentence whose phrase no outcome rule knows is not a decision."""
    flat, offsets = squash_with_offsets(text[start:end])
    found = []
    for m in pattern.finditer(flat):
        phrase = m.group("phrase")
        outcome = next((o for p, o in outcomes if p.fullmatch(phrase)), None)
        if outcome is None:
            continue
        found.append(
            Determination(
                item=m.group("item").strip(),
                outcome=outcome,
                start=start + offsets[m.start()],
                end=start + offsets[m.end() - 1] + 1,
                item_start=start + offsets[m.start("item")],
                item_end=start + offsets[m.end("item") - 1] + 1,
            )
        )
    return found


def same_list(a: list[Determination], b: list[Determination]) -> bool:
    """The two 2013 lists agree: same items (spaces ignored: PDF text glues words) and
    outcomes, in the same order."""

    def key(d: Determination) -> tuple[str, str]:
        return re.sub(r"\s+", "", d.item.lower()), d.outcome

    return [key(d) for d in a] == [key(d) for d in b]


def rationale_blocks(
    text: str, found: list[Determination], end: int
) -> list[tuple[int, int] | None]:
    """For each sentence, the text after it up to the next sentence (or `end`), stripped;
    None where nothing is written there."""
    blocks: list[tuple[int, int] | None] = []
    for d, nxt in zip(found, found[1:] + [None], strict=True):
        stop = nxt.start if nxt else end
        body = text[d.end : stop]
        b_start = d.end + (len(body) - len(body.lstrip()))
        b_end = d.end + len(body.rstrip())
        blocks.append((b_start, b_end) if b_end > b_start else None)
    return blocks


@Language.factory(
    "imr_layout_decisions",
    default_config={"span_key": DECISIONS_KEY, "parts_key": PARTS_KEY},
    assigns=["doc.spans", "doc._.imr_qa_flags"],
    requires=["doc._.imr_layout", "doc._.imr_section_bodies"],
)
def make_layout_decisions(nlp: Language, name: str, span_key: str, parts_key: str):
    return LayoutDecisions(nlp, name, span_key, parts_key)


class LayoutDecisions(RuleComponent):
    rules_file = "layout_decisions.jsonl"

    def __init__(self, nlp, name, span_key: str = DECISIONS_KEY, parts_key: str = PARTS_KEY):
        super().__init__(nlp, name)
        self.span_key = span_key
        self.parts_key = parts_key

    def compile(self) -> None:
        self._sentences: dict[str, re.Pattern] = {}
        self._outcomes: list[tuple[re.Pattern, str]] = []
        for rule in self.rules:
            if rule["kind"] == "determination":
                for layout in rule["layouts"]:
                    self._sentences[layout] = re.compile(rule["pattern"])
            elif rule["kind"] == "outcome":
                self._outcomes.append((re.compile(rule["pattern"]), rule["outcome"]))

    def _find(self, text: str, layout: str, bounds) -> list[Determination]:
        if not bounds or layout not in self._sentences:
            return []
        return find_determinations(text, *bounds, self._sentences[layout], self._outcomes)

    def read_2013(self, doc: Doc, text: str):
        """The list under the decision heading (with its rationale blocks), else the list at
        the top (without); a disagreement between the two is flagged."""
        under = section_body(doc, "decision_and_rationale")
        listed = self._find(text, LAYOUT_2013, under)
        top = self._find(text, LAYOUT_2013, section_body(doc, HEADER_SECTION))
        if listed and top and not same_list(listed, top):
            add_qa_flag(doc, "decision_lists_differ")
        if listed:
            blocks = rationale_blocks(text, listed, under[1])
            return listed, [{"rationale": b} if b else {} for b in blocks]
        return top, [{} for _ in top]

    def read_professional_review(self, doc: Doc, text: str):
        """Decisions only where a sentence states the outcome; the letter's one rationale and
        guideline sections go to its decision when there is exactly one, else to none (the
        guideline citations are still read, with no decision index)."""
        found = self._find(text, PROFESSIONAL_REVIEW, (0, len(text)))
        if not found:
            add_qa_flag(doc, "no_outcome_found")
        only = len(found) == 1
        parts: list[dict] = [{} for _ in found]
        rationale = section_body(doc, "rationale")
        if only and rationale and text[rationale[0] : rationale[1]].strip():
            parts[0]["rationale"] = rationale
        guidelines = section_body(doc, "guidelines")
        loose = []
        if guidelines and text[guidelines[0] : guidelines[1]].strip():
            if only:
                parts[0]["maximus_guideline"] = guidelines
            else:
                loose.append(("maximus_guideline", guidelines))
        return found, parts, loose

    def __call__(self, doc: Doc) -> Doc:
        layout = doc._.imr_layout
        text = doc_text(doc)
        loose: list = []
        if layout == LAYOUT_2013:
            found, parts = self.read_2013(doc, text)
        elif layout == PROFESSIONAL_REVIEW:
            found, parts, loose = self.read_professional_review(doc, text)
        else:
            return doc
        decisions, part_spans = [], []
        for index, (d, own) in enumerate(zip(found, parts, strict=True)):
            if "rationale" not in own:
                add_qa_flag(doc, "no_rationale_block")
            end = own["rationale"][1] if layout == LAYOUT_2013 and "rationale" in own else d.end
            span = doc.char_span(d.start, end, label=d.outcome, alignment_mode="expand")
            span._.imr_decision_index = index
            span._.imr_item = d.item
            span._.imr_outcome = d.outcome
            span._.imr_partial = False
            decisions.append(span)
            for label, bounds in [("item", (d.item_start, d.item_end)), *own.items()]:
                part_spans.append(_part(doc, label, bounds, index))
        part_spans += [_part(doc, label, bounds, None) for label, bounds in loose]
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=decisions)
        doc.spans[self.parts_key] = SpanGroup(
            doc, name=self.parts_key, spans=[p for p in part_spans if p is not None]
        )
        return doc


def _part(doc: Doc, label: str, bounds: tuple[int, int], index: int | None):
    part = doc.char_span(*bounds, label=label, alignment_mode="expand")
    if part is not None:
        part._.imr_decision_index = index
    return part
