"""`imr-extract report OUT_DIR`: one self-contained HTML page of a run, for the researcher who
never opens Python: counts, outcome rates with 95% confidence intervals, outcomes by item type,
drug class and reviewer specialty, top drugs, top cited guideline sections, failed documents."""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from imr_extract.components.reasons import REASON_CODES

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 62em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #eee; width: 12em; height: 0.9em; position: relative; }
.bar span { background: #27ae60; display: block; height: 100%; }
.bar i { position: absolute; top: -2px; height: calc(100% + 4px); border-left: 2px solid #333;
         border-right: 2px solid #333; }
.note { color: #666; font-size: 0.9em; }
"""


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n."""
    if n == 0:
        return 0.0, 0.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_table(frame: pd.DataFrame, column: str, title: str, top: int = 15) -> str:
    """Overturned rate per value of `column`, with its confidence interval drawn as a bar."""
    if frame.empty or column not in frame:
        return ""
    groups = frame.groupby(column, observed=True)["outcome"]
    stats = (
        pd.DataFrame(
            {
                "n": groups.size(),
                "overturned": groups.apply(lambda s: int((s == "Overturned").sum())),
            }
        )
        .sort_values("n", ascending=False)
        .head(top)
    )
    rows = []
    for value, row in stats.iterrows():
        n, k = int(row["n"]), int(row["overturned"])
        low, high = wilson(k, n)
        rows.append(
            f"<tr><td>{html.escape(str(value))}</td><td class=n>{n}</td><td class=n>{k}</td>"
            f"<td class=n>{k / n:.0%}</td><td class=n>{low:.0%}&ndash;{high:.0%}</td>"
            f'<td><div class="bar"><span style="width:{k / n:.1%}"></span>'
            f'<i style="left:{low:.1%};width:{high - low:.1%}"></i></div></td></tr>'
        )
    return (
        f"<h2>{html.escape(title)}</h2><table><tr><th></th><th>decisions</th>"
        "<th>overturned</th><th>rate</th><th>95% CI</th><th></th></tr>" + "".join(rows) + "</table>"
    )


def count_table(frame: pd.DataFrame, row: str, column: str, title: str, order=None) -> str:
    """Counts of decisions by two variables (a reason code by item type, say)."""
    if frame.empty:
        return ""
    counts = pd.crosstab(frame[row].astype(str), frame[column].astype(str))
    if order is not None:
        counts = counts.reindex([o for o in order if o in counts.index])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in counts.columns)
    body = "".join(
        f"<tr><td>{html.escape(str(value))}</td>"
        + "".join(f"<td class=n>{int(n) or ''}</td>" for n in line)
        + "</tr>"
        for value, line in counts.iterrows()
    )
    return f"<h2>{html.escape(title)}</h2><table><tr><th></th>{head}</tr>{body}</table>"


def explode(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per element of a list column; rows with an empty list are left out."""
    from imr_extract.columns import explode as one_row_each

    out = one_row_each(frame, column)
    return out[out[column].notna() & (out[column] != "")]


def build_report(out_dir: str | Path) -> str:
    from imr_extract.api import load_run

    run = load_run(out_dir)
    docs, decisions, citations = run["documents"], run["decisions"], run["citations"]
    n_ok = int((docs["status"] == "ok").sum())
    n_err = len(docs) - n_ok
    k = int((decisions["outcome"] == "Overturned").sum())
    n = len(decisions)
    low, high = wilson(k, n)
    parts = [
        f"<h1>IMR decisions in {html.escape(str(out_dir))}</h1>",
        f"<p>{len(docs)} letters ({n_ok} read, {n_err} failed), {n} decisions: "
        f"{n - k} upheld, {k} overturned ({k / n if n else 0:.1%}, 95% CI {low:.1%}&ndash;"
        f"{high:.1%}).</p>"
        if n
        else "<p>No decisions.</p>",
        '<p class="note">Rates are the share of decisions overturned; intervals are Wilson '
        "95% intervals.</p>",
    ]
    parts.append(rate_table(decisions, "item_type", "Outcomes by item type"))
    by_reason = explode(decisions, "reasons")
    parts.append(rate_table(by_reason, "reasons", "Outcomes by reason code", top=20))
    parts.append(
        count_table(
            by_reason, "reasons", "item_type", "Reason codes by item type", order=REASON_CODES
        )
    )
    parts.append(
        rate_table(explode(decisions, "drug_class"), "drug_class", "Outcomes by drug class")
    )
    parts.append(
        rate_table(explode(decisions, "ingredients"), "ingredients", "Top drugs requested")
    )
    specialties = docs[["doc_id", "reviewer_specialties"]].merge(decisions, on="doc_id")
    parts.append(
        rate_table(
            explode(specialties, "reviewer_specialties"),
            "reviewer_specialties",
            "Outcomes by reviewer specialty",
        )
    )
    maximus = citations[citations["source"] == "maximus"].copy()
    if not maximus.empty:
        maximus["cited"] = (
            maximus["guideline"].astype(str)
            + " — "
            + maximus["section"].astype("string").fillna("(no section)")
        )
        cited = maximus.merge(
            decisions[["doc_id", "decision_index", "outcome"]], on=["doc_id", "decision_index"]
        )
        parts.append(rate_table(cited, "cited", "Guideline sections most cited by MAXIMUS"))
    failed = docs[docs["status"] != "ok"]
    if len(failed):
        rows = "".join(
            f"<tr><td>{html.escape(str(r.doc_id))}</td><td>{html.escape(str(r.error))}</td></tr>"
            for r in failed.itertuples()
        )
        parts.append(
            f"<h2>Documents that failed</h2><table><tr><th>document</th><th>why</th></tr>"
            f"{rows}</table>"
        )
    body = "\n".join(p for p in parts if p)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>IMR run report'
        f"</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def write_report(out_dir: str | Path, path: str | Path | None = None) -> Path:
    target = Path(path) if path else Path(out_dir) / "report.html"
    target.write_text(build_report(out_dir), encoding="utf-8")
    return target
