"""`imr-extract report OUT_DIR`: one self-contained HTML page of a run, for the researcher who
never opens Python: what was run (date, version, inputs), counts, outcome rates with 95%
intervals clustered by letter (see `imr_extract.stats`), outcomes by item type, reason, drug
class, drug, reviewer specialty, body part and ICD-10-CM category, the guideline sections most
cited, and the documents that failed."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from imr_extract.components.reasons import REASON_CODES
from imr_extract.stats import (
    METHOD,
    MIN_DECISIONS,
    body_part_groups,
    clustered_interval,
    explode_values,
    icd_category_groups,
    letter_icc,
    outcome_rates,
    wilson,
)

__all__ = ["build_report", "render_report", "write_report", "rate_table", "count_table", "wilson"]

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 62em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.small td { color: #aaa; }
.bar { background: #eee; width: 12em; height: 0.9em; position: relative; }
.bar span { background: #27ae60; display: block; height: 100%; }
.bar i { position: absolute; top: -2px; height: calc(100% + 4px); border-left: 2px solid #333;
         border-right: 2px solid #333; }
.key { display: inline-block; vertical-align: middle; width: 6em; }
.note { color: #666; font-size: 0.9em; }
dl.run { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; }
dl.run dt { color: #666; } dl.run dd { margin: 0; }
"""

#: Under each rate table: what the bar and its tick mean.
LEGEND = (
    '<p class="note legend"><span class="bar key"><span style="width:30%"></span>'
    '<i style="left:18%;width:27%"></i></span> bar: share overturned; tick: its 95% interval '
    "(clustered by letter). Grey rows have fewer than {min_n} decisions: counts only, no bar."
    "</p>"
)

#: How many ICD-10-CM categories the report lists.
ICD_TOP = 15


def rate_table(
    frame: pd.DataFrame, column: str, title: str, top: int = 15, icc: float | None = None
) -> str:
    """Overturned rate per value of `column`, with its clustered 95% interval drawn as a tick
    on the bar; groups under MIN_DECISIONS decisions are greyed and get no bar."""
    if frame.empty or column not in frame:
        return ""
    stats = outcome_rates(frame, column, icc=icc, top=top)
    if stats.empty:
        return ""
    rows = []
    for value, row in stats.iterrows():
        n, k, low, high = int(row["n"]), int(row["overturned"]), row["low"], row["high"]
        bar = (
            ""
            if row["small"]
            else f'<div class="bar"><span style="width:{k / n:.1%}"></span>'
            f'<i style="left:{low:.1%};width:{high - low:.1%}"></i></div>'
        )
        rows.append(
            f"<tr{' class=small' if row['small'] else ''}><td>{html.escape(str(value))}</td>"
            f"<td class=n>{n}</td><td class=n>{int(row['letters'])}</td><td class=n>{k}</td>"
            f"<td class=n>{k / n:.0%}</td><td class=n>{low:.0%}&ndash;{high:.0%}</td>"
            f"<td>{bar}</td></tr>"
        )
    return (
        f"<h2>{html.escape(title)}</h2><table><tr><th></th><th>decisions</th><th>letters</th>"
        "<th>overturned</th><th>rate</th><th>95% CI</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
        + LEGEND.format(min_n=MIN_DECISIONS)
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
    """One row per value of a list column (`;`-joined strings or real lists)."""
    return explode_values(frame, column)


def read_manifest(out_dir: str | Path) -> dict:
    from imr_extract.store import MANIFEST

    try:
        return json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_summary(manifest: dict) -> str:
    """What was run: when, by which version, on which inputs, with what counts."""
    counts = manifest.get("counts", {})
    versions = manifest.get("versions", {})
    rows = [
        ("run finished", manifest.get("finished_at") or manifest.get("started_at") or "unknown"),
        ("tool version", f"imr-extract {versions.get('imr-extract', 'unknown')}"),
        ("model", manifest.get("model", "")),
        ("inputs", ", ".join(str(i) for i in manifest.get("inputs", []))),
        (
            "input counts",
            f"{counts.get('documents', '?')} documents: {counts.get('ok', '?')} read, "
            f"{counts.get('error', '?')} failed; {counts.get('decisions', '?')} decisions; "
            f"{counts.get('words', '?')} words",
        ),
    ]
    return (
        '<dl class="run">'
        + "".join(f"<dt>{k}</dt><dd>{html.escape(str(v))}</dd>" for k, v in rows if v)
        + "</dl>"
    )


def build_report(out_dir: str | Path) -> str:
    """The report page of the finished run in `out_dir`."""
    from imr_extract.api import load_run

    return render_report(load_run(out_dir), read_manifest(out_dir), str(out_dir))


def render_report(tables: dict[str, pd.DataFrame], manifest: dict, title: str) -> str:
    """The report page of a run's tables (as `load_run` gives them) and its manifest. A
    section whose columns the run lacks (a run of an older version) is left out."""
    docs, decisions, citations = tables["documents"], tables["decisions"], tables["citations"]
    n_ok = int((docs["status"] == "ok").sum())
    n_err = len(docs) - n_ok
    overturned = decisions["outcome"].astype(str) == "Overturned"
    k, n = int(overturned.sum()), len(decisions)
    icc = letter_icc(overturned, decisions["doc_id"]) if n else 0.0
    low, high, _ = clustered_interval(overturned, decisions["doc_id"], icc) if n else (0, 0, 1)
    parts = [
        f"<h1>IMR decisions in {html.escape(title)}</h1>",
        run_summary(manifest),
        f"<p>{len(docs)} letters ({n_ok} read, {n_err} failed), {n} decisions: "
        f"{n - k} upheld, {k} overturned ({k / n if n else 0:.1%}, 95% CI {low:.1%}&ndash;"
        f"{high:.1%}); {decisions['doc_id'][overturned].nunique()} letters hold the "
        "overturns.</p>"
        if n
        else "<p>No decisions.</p>",
        f'<p class="note">Rates are the share of decisions overturned. Decisions of one letter '
        f"are not independent (intra-letter correlation of overturning: {icc:.2f}), so the "
        f"intervals are {METHOD}. Groups with fewer than {MIN_DECISIONS} decisions are greyed "
        "and drawn without a bar.</p>",
    ]
    parts.append(rate_table(decisions, "item_type", "Outcomes by item type", icc=icc))
    by_reason = explode(decisions, "reasons")
    parts.append(rate_table(by_reason, "reasons", "Outcomes by reason code", top=20, icc=icc))
    parts.append(
        count_table(
            by_reason, "reasons", "item_type", "Reason codes by item type", order=REASON_CODES
        )
    )
    parts.append(
        rate_table(
            explode(decisions, "drug_class"), "drug_class", "Outcomes by drug class", icc=icc
        )
    )
    parts.append(
        rate_table(explode(decisions, "ingredients"), "ingredients", "Top drugs requested", icc=icc)
    )
    by_part = body_part_groups(decisions)
    if by_part is not None:
        parts.append(
            rate_table(by_part, "body_part_group", "Outcomes by body part (WCIO)", icc=icc)
        )
    by_icd = icd_category_groups(decisions)
    if by_icd is not None:
        parts.append(
            rate_table(
                by_icd,
                "icd10cm_category_group",
                f"Outcomes by ICD-10-CM category of the primary diagnosis (top {ICD_TOP})",
                top=ICD_TOP,
                icc=icc,
            )
        )
    specialties = docs[["doc_id", "reviewer_specialties"]].merge(decisions, on="doc_id")
    parts.append(
        rate_table(
            explode(specialties, "reviewer_specialties"),
            "reviewer_specialties",
            "Outcomes by reviewer specialty",
            icc=icc,
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
        parts.append(
            rate_table(cited, "cited", "Guideline sections most cited by MAXIMUS", icc=icc)
        )
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
