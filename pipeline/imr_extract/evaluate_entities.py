"""Entity accuracy against annotations/entities.jsonl: precision/recall/F1 per label (exact and
overlap match), normalised values, context attributes and decision linking."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, process_file, use_pipeline
from imr_extract.ingest import DEFAULT_MAX_BYTES
from imr_extract.rules import read_jsonl

# the labels of the annotation guide; PROCEDURE, FORM and DAY_SUPPLY are not annotated
ANNOTATED_LABELS = {
    "MEDICATION",
    "STRENGTH",
    "QUANTITY",
    "REFILLS",
    "FREQUENCY",
    "DATE",
    "PAIN_SCORE",
    "DIAGNOSIS",
}
NORMALIZED_LABELS = ("MEDICATION", "STRENGTH", "QUANTITY", "REFILLS", "DATE", "PAIN_SCORE")
CONTEXT_LABELS = ("MEDICATION", "DIAGNOSIS")
CONTEXT_ATTRS = ("negated", "historical", "hypothetical")


def _overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end_char"] and b["start_char"] < a["end"]


def _same_value(label: str, gold, predicted) -> bool:
    if gold is None:
        return True  # the annotator left no value: nothing to check
    g, p = str(gold).lower().strip(), str(predicted or "").lower().strip()
    if label == "MEDICATION":
        return set(g.split(";")) == set(p.split(";"))
    return " ".join(g.split()) == " ".join(p.split())


def gold_decision_starts(text: str, decisions: list[dict]) -> list[int]:
    """Where each gold decision's item starts, found in the text independently of the pipeline."""
    starts, pos = [], max(text.find("IMR ISSUES"), 0)
    for d in decisions:
        anchor = (
            d["original_request"] if d.get("partial") and d.get("original_request") else d["item"]
        )
        pattern = r"\s+".join(re.escape(w) for w in anchor.split())
        m = re.compile(pattern).search(text, pos)
        if not m:
            return []
        starts.append(m.start())
        pos = m.end()
    return starts


def score_letter(
    gold: dict, predicted: list[dict], text: str, decision_starts: list[int], labels=None
):
    """Counts per label and checks for one letter; `labels`: those scored (the guide's by
    default; `evaluate_procedures` passes PROCEDURE)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    checks: dict[str, list[bool]] = defaultdict(list)
    gold_ents = gold["entities"]
    preds = [p for p in predicted if p["label"] in (labels or ANNOTATED_LABELS)]
    for g in gold_ents:
        if text[g["start"] : g["end"]] != g["text"]:
            checks["gold offsets valid"].append(False)
            continue
        checks["gold offsets valid"].append(True)
        same = [p for p in preds if p["label"] == g["label"]]
        exact = next(
            (p for p in same if p["start_char"] == g["start"] and p["end_char"] == g["end"]), None
        )
        overlap = exact or next((p for p in same if _overlaps(g, p)), None)
        counts[g["label"]]["gold"] += 1
        counts[g["label"]]["exact"] += bool(exact)
        counts[g["label"]]["overlap"] += bool(overlap)
        if overlap is None:
            continue
        if g["label"] in NORMALIZED_LABELS and g.get("normalized") is not None:
            checks[f"{g['label']} value"].append(
                _same_value(g["label"], g["normalized"], overlap["normalized"])
            )
        if g["label"] in CONTEXT_LABELS:
            for attr in CONTEXT_ATTRS:
                checks[f"{attr} ({g['label']})"].append(bool(g.get(attr)) == bool(overlap[attr]))
        if g["label"] == "DATE" and "role" in g:
            checks["DATE role"].append((g["role"] or None) == (overlap["role"] or None))
        if g["label"] == "PAIN_SCORE":
            checks["PAIN_SCORE qualifier"].append(
                (g.get("qualifier") or None) == (overlap["qualifier"] or None)
            )
        if decision_starts and g["start"] >= decision_starts[0]:
            want = max(i for i, s in enumerate(decision_starts) if s <= g["start"])
            checks["decision linking"].append(overlap["decision_index"] == want)
    for p in preds:
        counts[p["label"]]["predicted"] += 1
        counts[p["label"]]["predicted_exact"] += any(
            g["label"] == p["label"] and g["start"] == p["start_char"] and g["end"] == p["end_char"]
            for g in gold_ents
        )
        counts[p["label"]]["predicted_overlap"] += any(
            g["label"] == p["label"] and _overlaps(g, p) for g in gold_ents
        )
    return counts, checks


def _in_section(bodies: dict[str, list[int]], start: int) -> str | None:
    return next((name for name, (s, e) in bodies.items() if s <= start < e), None)


def score_letter_covariates(gold: dict, doc_row: dict, doc) -> dict[str, bool]:
    """documents.csv's pain per letter and summary injury date against the same rules run on
    the gold entities (placed in the letter's sections), for letters where either side has a
    value: a check of the entities that feed them, not of the rules themselves."""
    from imr_extract import covariates

    bodies = doc._.imr_section_bodies or {}
    ents = [
        {**g, "start_char": g["start"], "section": _in_section(bodies, g["start"])}
        for g in gold["entities"]
    ]
    results = {}
    for col, value in covariates.letter_pain(ents).items():
        if value is not None or doc_row[col] is not None:
            results[f"{col} (letter)"] = value == doc_row[col]
    if doc_row.get("date_of_injury_source") != "header":
        gold_date = covariates.summary_injury_date(ents)
        if gold_date or doc_row.get("date_of_injury"):
            results["injury date from summary (letter)"] = gold_date == doc_row["date_of_injury"]
    return results


MAX_BYTES = DEFAULT_MAX_BYTES  # the run's own limit

# the drug lexicons compared by `make eval`: what each brings to MEDICATION
LEXICON_VARIANTS = {
    "base dictionary only": {"base_drug_lexicon": True, "wc_supplement": False},
    "WC supplement only": {"base_drug_lexicon": False, "wc_supplement": True},
    "both (shipped)": {"base_drug_lexicon": True, "wc_supplement": True},
}


def evaluate_entities(gold_path, corpus, decisions_path, model=None, nlp=None):
    """Counts and checks per split; `nlp` (a pipeline in memory) instead of `model`."""
    if nlp is None:
        init_worker(model, MAX_BYTES)
    else:
        use_pipeline(nlp, MAX_BYTES)
    decisions = {g["doc_id"]: g["decisions"] for g in read_jsonl(decisions_path)}
    counts = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    checks = defaultdict(lambda: defaultdict(list))
    for gold in read_jsonl(gold_path):
        rows, text, _, doc = process_file(Path(corpus) / gold["source"], keep_doc=True)
        starts = gold_decision_starts(text, decisions.get(gold["doc_id"], []))
        c, k = score_letter(gold, rows["entities"], text, starts)
        if doc is not None:
            for name, outcome in score_letter_covariates(gold, rows["documents"][0], doc).items():
                k[name].append(outcome)
        for split in (gold["split"], "all"):
            for label, values in c.items():
                for key, n in values.items():
                    counts[split][label][key] += n
            for name, outcomes in k.items():
                checks[split][name].extend(outcomes)
    return counts, checks


def compare_lexicons(gold_path, corpus, decisions_path, shipped=None) -> dict[str, dict]:
    """MEDICATION accuracy per split with the base dictionary, the supplement, and both.
    `shipped`: what `evaluate_entities` already gave for the packaged pipeline (both
    lexicons), so that run is not done a second time."""
    from imr_extract.api import build_pipeline

    results = {}
    for name, settings in LEXICON_VARIANTS.items():
        if shipped is not None and all(settings.values()):
            counts, checks = shipped
        else:
            nlp = build_pipeline({"imr_lexicon": settings})
            counts, checks = evaluate_entities(gold_path, corpus, decisions_path, nlp=nlp)
        results[name] = {
            split: (counts[split]["MEDICATION"], checks[split]["MEDICATION value"])
            for split in counts
        }
    return results


def print_lexicon_comparison(results: dict[str, dict]) -> None:
    print("\n== MEDICATION by drug lexicon (exact match; value = ingredients)")
    print(f"{'lexicon':24}{'split':>6}{'gold':>6}{'pred':>6}    P / R / F1            value")
    for name, by_split in results.items():
        for split in [s for s in ("dev", "test", "all") if s in by_split]:
            c, values = by_split[split]
            p, r, f = _prf(c, "exact")
            value = f"{sum(values) / len(values):.1%}" if values else "-"
            print(
                f"{name:24}{split:>6}{c['gold']:6d}{c['predicted']:6d}"
                f"    {p:.3f} / {r:.3f} / {f:.3f}   {value:>6}"
            )


def _prf(c: dict[str, int], kind: str) -> tuple[float, float, float]:
    recall = c[kind] / c["gold"] if c["gold"] else 0.0
    precision = c[f"predicted_{kind}"] / c["predicted"] if c["predicted"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def print_report(counts, checks) -> None:
    for split in [s for s in ("dev", "test", "all") if s in counts]:
        print(f"\n== entities, {split} split")
        print(f"{'label':12}{'gold':>6}{'pred':>6}   exact P / R / F1        overlap P / R / F1")
        for label in sorted(counts[split]):
            c = counts[split][label]
            if not c["gold"]:
                continue
            ex, ov = _prf(c, "exact"), _prf(c, "overlap")
            exact = " / ".join(f"{x:.3f}" for x in ex)
            overlap = " / ".join(f"{x:.3f}" for x in ov)
            print(f"{label:12}{c['gold']:6d}{c['predicted']:6d}   {exact}    {overlap}")
        for name, outcomes in sorted(checks[split].items()):
            if outcomes:
                ok, n = sum(outcomes), len(outcomes)
                print(f"  {name:32} {ok / n:7.1%} ({ok}/{n})")
