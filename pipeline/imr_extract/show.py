"""`imr-extract show LETTER`: one letter as an HTML page, the way an annotator checks work.

Entities are coloured by label (displaCy's colours and markup); hovering one shows its label,
normalised value, context flags and date role. Guideline citations are outlined. Each decision
is a box headed by its item and its Upheld/Overturned outcome. Lines that the PDF wrapped are
joined into paragraphs: the page is rendered from the letter's own text and offsets, a wrapped
line break shown as a space, so every mark covers exactly its entity's characters. The page is
self-contained (no script, no external file).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from spacy.tokens import Doc, Span

from imr_extract.components.citations import CITATIONS_KEY
from imr_extract.components.decisions import DECISIONS_KEY
from imr_extract.components.reasons import REASONS_KEY
from imr_extract.rules import packaged_rules

REASON_MEANINGS = {r["code"]: r["definition"] for r in packaged_rules("reason_codes.csv")}

COLORS = {
    "MEDICATION": "#f4a6a6",
    "STRENGTH": "#f9d29b",
    "QUANTITY": "#f9e79b",
    "REFILLS": "#e6f59b",
    "FREQUENCY": "#c6f59b",
    "FORM": "#d9d9d9",
    "DAY_SUPPLY": "#e0c6f5",
    "DIAGNOSIS": "#9bd3f9",
    "DATE": "#b7f5e1",
    "PAIN_SCORE": "#f59bd9",
    "PROCEDURE": "#c3c6f9",
}

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 70em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table.summary { border-collapse: collapse; margin: 1em 0; }
table.summary td, table.summary th { border: 1px solid #ccc; padding: 0.3em 0.6em;
                                     text-align: left; }
section.decision { border: 3px solid #999; border-radius: 6px; margin: 1.5em 0;
                   padding: 0 1em 1em; }
section.decision.upheld { border-color: #c0392b; }
section.decision.overturned { border-color: #27ae60; }
section.decision h3 { margin: 0 -1em 0.5em; padding: 0.4em 1em; color: white; }
section.decision.upheld h3 { background: #c0392b; }
section.decision.overturned h3 { background: #27ae60; }
.legend span { display: inline-block; padding: 0.1em 0.5em; margin: 0.1em; border-radius: 3px; }
.entities { line-height: 2.3 !important; }
.why { margin: 0.5em 0 1em; padding: 0.3em 0.8em; background: #fafafa;
       border-left: 4px solid #999; }
.why mark { background: #fff3a8; padding: 0.05em 0.2em; }
.why b { font-family: monospace; cursor: help; }
table.summary td.outcome { color: white; font-weight: bold; }
table.summary td.outcome.upheld { background: #c0392b; }
table.summary td.outcome.overturned { background: #27ae60; }
.entities { direction: ltr; }
.entities mark { cursor: help; }
.citation { outline: 2px dashed #8e44ad; outline-offset: 1px; background: #f5eefa; }
.legend .citation { outline-offset: -2px; }
"""

#: displaCy's entity markup (spacy.displacy.templates.TPL_ENT), with a hover title.
MARK = (
    '<mark class="entity" style="background: {bg}; padding: 0.45em 0.6em; margin: 0 0.25em; '
    'line-height: 1; border-radius: 0.35em;" title="{title}">{text}<span style="font-size: '
    "0.8em; font-weight: bold; line-height: 1; border-radius: 0.35em; vertical-align: middle; "
    'margin-left: 0.5rem">{label}</span></mark>'
)
CONTEXT_FLAGS = ("negated", "historical", "hypothetical", "uncertain", "family")
#: A line that starts a new paragraph even after a full line: a heading in capitals, or a
#: field label ("Decision rationale:", "MAXIMUS guideline:").
NEW_PARAGRAPH = re.compile(r"[^a-z]*[A-Z]{2}[^a-z]*|[A-Z][A-Za-z]*(?: [A-Za-z]+){0,3}:.*")
#: A line at least this share of the letter's usual line width was wrapped by the PDF.
WRAPPED_SHARE = 0.75


def wrapped_line_breaks(text: str) -> set[int]:
    """Offsets of the newlines in `text` that only wrap a paragraph (the PDF's line width ran
    out): the line before is nearly full and the next one does not start a heading or a
    field. A pure function of the text, so it applies to any slice by its offsets."""
    lines, starts, pos = text.split("\n"), [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    if len(lengths) < 3:
        return set()
    width = lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))]
    if width < 40:
        return set()
    wrapped = set()
    for i in range(len(lines) - 1):
        line, following = lines[i].rstrip(), lines[i + 1].strip()
        if (
            following
            and len(line) >= WRAPPED_SHARE * width
            and not NEW_PARAGRAPH.fullmatch(following)
        ):
            wrapped.add(starts[i] + len(lines[i]))
    return wrapped


def entity_title(ent: Span) -> str:
    """What hovering an entity says: label, normalised value, context flags, date role."""
    parts = [ent.label_]
    if ent._.imr_normalized not in (None, ""):
        parts.append(f"normalised: {ent._.imr_normalized}")
    flags = [flag for flag in CONTEXT_FLAGS if getattr(ent._, f"imr_{flag}")]
    if ent._.imr_medication_status:
        flags.append(ent._.imr_medication_status)
    if ent._.imr_qualifier:
        flags.append(ent._.imr_qualifier)
    parts.append(f"context: {', '.join(flags) if flags else 'none'}")
    if ent.label_ == "DATE":
        parts.append(f"date role: {ent._.imr_role or 'none'}")
    return " | ".join(parts)


def citation_title(span: Span) -> str:
    fields = span._.imr_citation or {}
    words = [fields.get("source"), fields.get("guideline"), fields.get("guideline_section")]
    return "citation: " + " | ".join(str(w) for w in words if w)


def _render(doc: Doc, start: int, end: int, wrapped: set[int] | None = None) -> str:
    """doc.text[start:end] with its entities marked the way displaCy marks them (plus a hover
    title) and its citations outlined. Newlines in `wrapped` render as spaces, the others as
    line breaks; characters are never added or dropped, so marks sit on the entity offsets."""
    wrapped = wrapped_line_breaks(doc.text) if wrapped is None else wrapped
    ents = [e for e in doc.ents if start <= e.start_char and e.end_char <= end]
    cites = []
    for c in sorted(doc.spans.get(CITATIONS_KEY, []), key=lambda c: c.start_char):
        c_start, c_end = max(c.start_char, start), min(c.end_char, end)
        if c_start >= c_end:
            continue
        for e in ents:  # a citation edge inside an entity moves out to the entity's edge
            if e.start_char < c_start < e.end_char:
                c_start = e.start_char
            if e.start_char < c_end < e.end_char:
                c_end = e.end_char
        if cites and c_start <= cites[-1][1]:
            cites[-1] = (cites[-1][0], max(cites[-1][1], c_end), cites[-1][2])
        else:
            cites.append((c_start, c_end, citation_title(c)))
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for c_start, c_end, title in cites:
        opens.setdefault(c_start, []).append(
            f'<span class="citation" title="{html.escape(title)}">'
        )
        closes.setdefault(c_end, []).insert(0, "</span>")
    for e in ents:
        head, _, tail = MARK.partition("{text}")
        opens.setdefault(e.start_char, []).append(
            head.format(bg=COLORS.get(e.label_, "#ddd"), title=html.escape(entity_title(e)))
        )
        closes.setdefault(e.end_char, []).insert(0, tail.format(label=html.escape(e.label_)))
    out = []
    for i in range(start, end + 1):
        out.extend(closes.get(i, []))  # an entity closes before the citation around it
        if i == end:
            break
        out.extend(opens.get(i, []))  # a citation opens before the entity inside it
        char = doc.text[i]
        if char == "\n":
            out.append(" " if i in wrapped else "<br>")
        else:
            out.append(html.escape(char))
    return f'<div class="entities" style="line-height: 2.5">{"".join(out)}</div>'


def _reasons(doc: Doc, index: int) -> str:
    """The decision's reason codes, each with its evidence highlighted; the code's meaning,
    and the code itself on the evidence, show on hover."""
    items = [
        f'<li><b title="{html.escape(REASON_MEANINGS.get(r.label_, ""))}">'
        f'{html.escape(r.label_)}</b>: <mark title="{html.escape(r.label_)}">'
        f"{html.escape(' '.join(r.text.split()))}</mark></li>"
        for r in doc.spans.get(REASONS_KEY, [])
        if r._.imr_decision_index == index
    ]
    return f'<div class="why">Why (reason codes):<ul>{"".join(items)}</ul></div>' if items else ""


def render_letter(doc: Doc, title: str) -> str:
    """The HTML page of one annotated letter."""
    decisions = list(doc.spans.get(DECISIONS_KEY, []))
    rows = "".join(
        f"<tr><td>{d._.imr_decision_index}</td><td>{html.escape(d._.imr_item or '')}</td>"
        f'<td class="outcome {(d._.imr_outcome or "").lower()}">{d._.imr_outcome}</td>'
        f"<td>{'partial' if d._.imr_partial else ''}</td></tr>"
        for d in decisions
    )
    legend = "".join(f'<span style="background:{c}">{label}</span>' for label, c in COLORS.items())
    legend += '<span class="citation">guideline citation</span> (hover a mark for its details)'
    wrapped = wrapped_line_breaks(doc.text)
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="legend">{legend}</p>']
    parts.append(
        '<table class="summary"><tr><th>#</th><th>item</th><th>outcome</th><th>partial</th></tr>'
        f"{rows}</table>"
    )
    start = decisions[0].start_char if decisions else len(doc.text)
    parts.append("<h2>Letter</h2>" + _render(doc, 0, start, wrapped))
    for i, d in enumerate(decisions):
        end = decisions[i + 1].start_char if i + 1 < len(decisions) else len(doc.text)
        outcome = (d._.imr_outcome or "").lower()
        parts.append(
            f'<section class="decision {outcome}"><h3>Decision {d._.imr_decision_index}: '
            f"{html.escape(d._.imr_item or '')} &mdash; {d._.imr_outcome}</h3>"
            f"{_reasons(doc, d._.imr_decision_index)}"
            f"{_render(doc, d.start_char, end, wrapped)}</section>"
        )
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def show(letter: str | Path, out: str | Path | None = None, model: str | None = None) -> Path:
    """Annotate one letter and write its page; returns the page's path. A letter that a run
    would report as an error raises ValueError with the same one-line reason."""
    from imr_extract.api import load
    from imr_extract.export import letter_error
    from imr_extract.ingest import read_document

    source = read_document(letter)
    if not source.ok:
        raise ValueError(f"{letter}: {source.error}")
    doc = load(model)(source.text)
    error = letter_error(doc)
    if error:
        raise ValueError(f"{letter}: {error}")
    path = Path(out) if out else Path(f"{source.doc_id}.html")
    path.write_text(render_letter(doc, source.doc_id), encoding="utf-8")
    return path
