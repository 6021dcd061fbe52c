"""`imr-extract show LETTER`: one letter as an HTML page, the way an annotator checks work.

Entities are coloured by label (displaCy); each decision is a box headed by its item and its
Upheld/Overturned outcome. The page is self-contained (no script, no external file).
"""

from __future__ import annotations

import html
from pathlib import Path

from spacy import displacy
from spacy.tokens import Doc

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
"""


def _render(doc: Doc, start: int, end: int) -> str:
    """displaCy's entity markup of doc.text[start:end] (labels only, no lexicon keys)."""
    ents = [
        {"start": e.start_char - start, "end": e.end_char - start, "label": e.label_}
        for e in doc.ents
        if start <= e.start_char and e.end_char <= end
    ]
    data = {"text": doc.text[start:end], "ents": ents, "title": None}
    return displacy.render(
        data, style="ent", manual=True, options={"colors": COLORS}, page=False, jupyter=False
    )


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
        f"<td>{d._.imr_outcome}</td><td>{'partial' if d._.imr_partial else ''}</td></tr>"
        for d in decisions
    )
    legend = "".join(f'<span style="background:{c}">{label}</span>' for label, c in COLORS.items())
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="legend">{legend}</p>']
    parts.append(
        '<table class="summary"><tr><th>#</th><th>item</th><th>outcome</th><th></th></tr>'
        f"{rows}</table>"
    )
    start = decisions[0].start_char if decisions else len(doc.text)
    parts.append("<h2>Letter</h2>" + _render(doc, 0, start))
    for i, d in enumerate(decisions):
        end = decisions[i + 1].start_char if i + 1 < len(decisions) else len(doc.text)
        outcome = (d._.imr_outcome or "").lower()
        parts.append(
            f'<section class="decision {outcome}"><h3>Decision {d._.imr_decision_index}: '
            f"{html.escape(d._.imr_item or '')} &mdash; {d._.imr_outcome}</h3>"
            f"{_reasons(doc, d._.imr_decision_index)}{_render(doc, d.start_char, end)}</section>"
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
