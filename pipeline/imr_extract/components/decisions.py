"""One decision per disputed item: item text, outcome, partial approval, and the spans of its
Claims Administrator guideline, MAXIMUS guideline and Decision rationale.

Rules (outcome words and the outcome line's shape, part labels, partial-approval sentences) are
in resources/decisions.jsonl. The algorithm is `find_decisions`, a plain function over text, and
`check_decisions` says (as qa_flags codes) where the section's shape suggests a miss or a cut;
the component only writes spans and flags.
"""

import re
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from imr_extract.components.base import RuleComponent, doc_text, section_body
from imr_extract.normalize.text import squash_with_offsets
from imr_extract.pattern_set import folds_plainly
from imr_extract.qa import add_qa_flag

DECISIONS_KEY = "imr_decisions"
PARTS_KEY = "imr_decision_parts"
MAX_ITEM_LINES = 5  # the longest wrapped item seen spans 3 lines
MAX_PARTIAL_LINES = 8
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
# qa_flags codes raised here (each one listed in resources/qa_flags.csv)
ORPHAN_OUTCOME_LINE = "orphan_outcome_line"
REPEATED_PART_LABEL = "repeated_part_label"
MISSING_RATIONALE = "missing_rationale"
TRUNCATED_RATIONALE = "truncated_rationale"
QA_CODES = (ORPHAN_OUTCOME_LINE, REPEATED_PART_LABEL, MISSING_RATIONALE, TRUNCATED_RATIONALE)


@dataclass
class Decision:
    index: int
    start: int  # first character of the item block (original request included)
    end: int  # end of the last part (rationale), before the next item
    item: str
    item_end: int
    outcome: str
    partial: bool = False
    original_request: str | None = None
    authorized: str | None = None
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    # item (for a partial approval: the remaining portion), original_request, authorized
    item_parts: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class DecisionRules:
    same_line: re.Pattern
    alone: re.Pattern
    item_close: re.Pattern  # the end of an item line whose outcome is alone on the next line
    outcome_word: re.Pattern  # a capitalised outcome word ending a line (the orphan check)
    intro: re.Pattern
    parts: re.Pattern  # one named group per part label
    part_labels: re.Pattern  # the same labels without groups, which the engine can skip to
    partial_start: re.Pattern
    partial_forms: list[re.Pattern]
    # speed (issue 17): a line that holds none of these cannot match `same_line` or `alone`
    # (lower-cased outcome values, IGNORECASE: checked where `folds_plainly`), nor
    # `outcome_word` (the outcome values as written); most lines are skipped so
    outcomes_lower: tuple[str, ...]
    outcomes_written: tuple[str, ...]

    @classmethod
    def from_rules(cls, rules: list[dict]) -> "DecisionRules":
        by_kind: dict[str, list[dict]] = {}
        for rule in rules:
            by_kind.setdefault(rule["kind"], []).append(rule)
        values = [r["value"] for r in by_kind["outcome"]]
        outcomes = "|".join(re.escape(v) for v in values)
        as_written = tuple(w for v in values for w in (v, v.upper()))
        written = "|".join(re.escape(w) for w in as_written)
        sp, sep, trail = (
            "(?:" + "|".join(r["pattern"] for r in by_kind[kind]) + ")"
            for kind in ("outcome_space", "outcome_separator", "outcome_trailer")
        )
        return cls(
            same_line=re.compile(
                rf"^(?P<item>.*\S(?<!{sp})){sp}*{sep}{sp}*(?P<outcome>{outcomes}){trail}$", re.I
            ),
            alone=re.compile(rf"^{sp}*(?P<outcome>{outcomes}){trail}$", re.I),
            item_close=re.compile(rf"{sp}*{sep}{sp}*$"),
            outcome_word=re.compile(rf"(?<!\w)(?:{written}){trail}$"),
            intro=re.compile("|".join(r["pattern"] for r in by_kind["intro"])),
            parts=re.compile("|".join(f"(?P<{r['name']}>{r['pattern']})" for r in by_kind["part"])),
            part_labels=re.compile("|".join(f"(?:{r['pattern']})" for r in by_kind["part"])),
            partial_start=re.compile("|".join(r["pattern"] for r in by_kind["partial_start"])),
            partial_forms=[re.compile(r["pattern"], re.S) for r in by_kind["partial"]],
            outcomes_lower=tuple(v.lower() for v in values),
            outcomes_written=as_written,
        )


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        out.append((pos, stop))
        pos = stop + 1
    return out


def _outcome_at(text: str, lines, i: int, rules: DecisionRules):
    """(outcome, item_last_line, item_end_char) when line i closes an item, else None."""
    ls, le = lines[i]
    line = text[ls:le]
    if folds_plainly(line):
        lowered = line.lower()
        if not any(v in lowered for v in rules.outcomes_lower):
            return None  # no outcome value: neither pattern can match
    if rules.parts.match(line):
        return None
    m = rules.same_line.match(line)
    if m:
        return m.group("outcome").capitalize(), i, ls + m.end("item")
    m = rules.alone.match(line)
    if m and i > 0:
        ps, pe = lines[i - 1]
        prev = text[ps:pe]
        close = rules.item_close.search(prev)
        if close and close.start() > 0 and not rules.parts.match(prev):
            return m.group("outcome").capitalize(), i - 1, ps + close.start()
    return None


def _is_boundary(line: str, rules: DecisionRules) -> bool:
    return (
        not line.strip()
        or bool(_SENTENCE_END.search(line))
        or bool(rules.intro.search(line))
        or bool(rules.parts.match(line))
    )


def _item_first_line(text, lines, last: int, floor: int, rules: DecisionRules) -> int:
    """Walk back from an item's last line to the line where it starts."""
    first = last
    while first - 1 >= floor and last - first + 1 < MAX_ITEM_LINES:
        ps, pe = lines[first - 1]
        if _is_boundary(text[ps:pe], rules):
            break
        first -= 1
    block = text[lines[first][0] : lines[last][1]]
    if "original request" in block and not rules.partial_start.search(block):
        # A partial approval: its opening sentence ("X was the original request.") ends a line.
        probe = first
        while probe - 1 >= floor and last - probe + 1 < MAX_PARTIAL_LINES:
            probe -= 1
            ps, pe = lines[probe]
            line = text[ps:pe]
            if not line.strip() or rules.intro.search(line) or rules.parts.match(line):
                break
            if rules.partial_start.search(line):
                return probe
    return first


def _partial_start_in_line(text: str, start: int, item_end: int, rules: DecisionRules) -> int:
    """A partial approval may open mid-line, after the end of the previous rationale."""
    m = rules.partial_start.search(text, start, item_end)
    if not m:
        return start
    line_end = text.find("\n", start)
    head = text[start : min(m.start(), line_end if line_end >= 0 else m.start())]
    cut = [s.end() for s in re.finditer(r"[.!?]\s+(?=[A-Z0-9])", head)]
    return start + cut[-1] if cut else start


def _parse_item(raw: str, base: int, rules: DecisionRules):
    """(item, partial, original request, authorized, {part: (start, end)}) of an item block.
    For a partial approval the item part is the remaining portion only."""
    text, offsets = squash_with_offsets(raw)
    for form in rules.partial_forms:
        m = form.match(text)
        if m:
            spans = {
                name: (base + offsets[m.start(group)], base + offsets[m.end(group) - 1] + 1)
                for name, group in (
                    ("item", "item"),
                    ("original_request", "original"),
                    ("authorized", "authorized"),
                )
            }
            return m.group("item"), True, m.group("original"), m.group("authorized"), spans
    return text, False, None, None, {}


def find_decisions(text: str, start: int, end: int, rules: DecisionRules) -> list[Decision]:
    """Decisions of the section text[start:end], in letter order."""
    lines = _lines(text, start, end)
    closes = []  # (outcome line, outcome, item last line, item end char)
    for i in range(len(lines)):
        hit = _outcome_at(text, lines, i, rules)
        if hit:
            closes.append((i, *hit))
    decisions: list[Decision] = []
    floor = 0
    for outcome_line, outcome, last, item_end in closes:
        first = _item_first_line(text, lines, last, floor, rules)
        item_start = _partial_start_in_line(text, lines[first][0], item_end, rules)
        raw = text[item_start:item_end]
        item, partial, original, authorized, spans = _parse_item(raw, item_start, rules)
        decisions.append(
            Decision(
                index=len(decisions),
                start=item_start,
                end=lines[outcome_line][1],
                item=item,
                item_end=item_end,
                outcome=outcome,
                partial=partial,
                original_request=original,
                authorized=authorized,
                item_parts=spans or {"item": (item_start, item_end)},
            )
        )
        floor = outcome_line + 1
    for d, block_end in zip(decisions, _block_ends(decisions, end), strict=True):
        _find_parts(text, d, block_end, rules)
    return decisions


def _block_ends(decisions: list[Decision], end: int) -> list[int]:
    """Where each decision's block stops: at the next item, the last one at the section end."""
    return [d.start for d in decisions[1:]] + [end] if decisions else []


def _part_labels(text: str, start: int, end: int, rules: DecisionRules) -> list[re.Match]:
    """`rules.parts.finditer(text, start, end)`: the same matches, found by `part_labels`
    (a pattern that starts with named groups is tried at every position; the labels alone let
    the engine skip to their first letters: 4x faster) and named by `parts` where they start."""
    return [
        rules.parts.match(text, m.start(), end)
        for m in rules.part_labels.finditer(text, start, end)
    ]


def _find_parts(text: str, decision: Decision, block_end: int, rules: DecisionRules) -> None:
    labels = _part_labels(text, decision.end, block_end, rules)
    stops = [m.start() for m in labels[1:]] + [block_end] if labels else []
    for m, stop in zip(labels, stops, strict=True):
        name = m.lastgroup
        body = text[m.end() : stop]
        b_start = m.end() + (len(body) - len(body.lstrip()))
        b_end = m.end() + len(body.rstrip())
        if name not in decision.parts and b_end > b_start:
            decision.parts[name] = (b_start, b_end)
    if decision.parts:
        decision.end = max(e for _, e in decision.parts.values())


def check_decisions(
    text: str, start: int, end: int, decisions: list[Decision], rules: DecisionRules
) -> list[str]:
    """qa_flags codes for the section text[start:end] whose `decisions` were found: shapes that
    say a decision was missed, two were run together, or the letter was cut. Nothing is dropped."""
    codes = []
    lines = _lines(text, start, end)
    for i, (ls, le) in enumerate(lines):
        line = text[ls:le]
        if (
            any(w in line for w in rules.outcomes_written)
            and rules.outcome_word.search(line)
            and not _outcome_at(text, lines, i, rules)
        ):
            codes.append(ORPHAN_OUTCOME_LINE)
            break
    for d, block_end in zip(decisions, _block_ends(decisions, end), strict=True):
        labels = [m.lastgroup for m in _part_labels(text, d.item_end, block_end, rules)]
        if len(labels) != len(set(labels)):
            codes.append(REPEATED_PART_LABEL)
        if "rationale" not in d.parts:
            codes.append(MISSING_RATIONALE)
    if decisions and "rationale" in decisions[-1].parts:
        s, e = decisions[-1].parts["rationale"]
        if not text[e:end].strip() and not _SENTENCE_END.search(text[s:e]):
            codes.append(TRUNCATED_RATIONALE)  # the text ends mid-sentence: a cut letter
    return list(dict.fromkeys(codes))


@Language.factory(
    "imr_decisions",
    default_config={"span_key": DECISIONS_KEY, "parts_key": PARTS_KEY},
    assigns=["doc.spans"],
    requires=["doc._.imr_section_bodies"],
)
def make_decisions(nlp: Language, name: str, span_key: str, parts_key: str):
    return DecisionSplitter(nlp, name, span_key, parts_key)


class DecisionSplitter(RuleComponent):
    rules_file = "decisions.jsonl"

    def __init__(self, nlp, name, span_key: str = DECISIONS_KEY, parts_key: str = PARTS_KEY):
        super().__init__(nlp, name)
        self.span_key = span_key
        self.parts_key = parts_key

    def compile(self) -> None:
        self._rules = DecisionRules.from_rules(self.rules)

    def __call__(self, doc: Doc) -> Doc:
        found, bounds, text = [], section_body(doc, "decisions"), doc_text(doc)
        if bounds:
            found = find_decisions(text, *bounds, self._rules)
            for code in check_decisions(text, *bounds, found, self._rules):
                add_qa_flag(doc, code)
        decisions, parts = [], []
        for d in found:
            span = doc.char_span(d.start, d.end, label=d.outcome, alignment_mode="expand")
            span._.imr_decision_index = d.index
            span._.imr_item = d.item
            span._.imr_outcome = d.outcome
            span._.imr_partial = d.partial
            span._.imr_original_request = d.original_request
            span._.imr_authorized = d.authorized
            decisions.append(span)
            for label, (s, e) in [*d.item_parts.items(), *d.parts.items()]:
                part = doc.char_span(s, e, label=label, alignment_mode="expand")
                part._.imr_decision_index = d.index
                parts.append(part)
        doc.spans[self.span_key] = SpanGroup(doc, name=self.span_key, spans=decisions)
        doc.spans[self.parts_key] = SpanGroup(doc, name=self.parts_key, spans=parts)
        return doc
