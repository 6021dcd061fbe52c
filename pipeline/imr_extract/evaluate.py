"""`make eval`: accuracy of decisions and header fields against annotations/decisions.jsonl.

Gold letters are split into `dev` (rules were tuned on them) and `test` (held out); both are
reported, and their union.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from imr_extract.normalize.text import squash
from imr_extract.rules import read_jsonl
from imr_extract.runner import _init_worker, process_file

HEADER_CHECKS = [
    "case_number",
    "date_assigned",
    "decision_date",
    "date_of_injury",
    "ur_denial_date",
    "application_received",
    "priority",
    "reviewer_specialties",
    "reviewer_license_states",
    "patient_age",
    "patient_sex",
]
DECISION_CHECKS = ["item", "outcome", "partial", "original_request"]
PART_CHECKS = {  # gold flag -> decisions.csv column that must be filled exactly when it is true
    "has_claims_administrator_guideline": "claims_administrator_guideline",
    "has_maximus_guideline": "maximus_guideline",
    "has_rationale": "rationale",
}


def _norm(value):
    if value is None or value == "" or value != value:  # NaN
        return None
    if isinstance(value, list):
        return ";".join(value) or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return squash(str(value))


def score_letter(gold: dict, rows: dict) -> dict[str, list[bool]]:
    """One boolean per check: True where the pipeline agrees with the gold."""
    doc = rows["documents"][0]
    found = rows["decisions"]
    results: dict[str, list[bool]] = defaultdict(list)
    results["status ok"].append(doc["status"] == "ok")
    results["decision count"].append(len(found) == len(gold["decisions"]))
    for field in HEADER_CHECKS:
        results[field].append(_norm(gold.get(field)) == _norm(doc.get(field)))
    for i, g in enumerate(gold["decisions"]):
        p = found[i] if i < len(found) else {}
        for field in DECISION_CHECKS:
            results[field].append(_norm(g.get(field)) == _norm(p.get(field)))
        for flag, column in PART_CHECKS.items():
            results[column].append(bool(g.get(flag)) == bool(p.get(column)))
    return results


def evaluate(gold_path: str | Path, corpus: str | Path, model: str | None = None):
    """{split: {check: (correct, total)}} plus the list of disagreements."""
    _init_worker(model, 10 * 1024 * 1024)
    totals: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    misses = []
    for gold in read_jsonl(gold_path):
        rows, _, _ = process_file(Path(corpus) / gold["source"])
        for check, outcomes in score_letter(gold, rows).items():
            for split in (gold["split"], "all"):
                totals[split][check][0] += sum(outcomes)
                totals[split][check][1] += len(outcomes)
            if not all(outcomes):
                misses.append((gold["doc_id"], check))
    return totals, misses


def main(gold_path: str, corpus: str, model: str | None = None) -> int:
    if not Path(corpus).is_dir():
        print(f"corpus not found at {corpus}")
        return 2
    totals, misses = evaluate(gold_path, corpus, model)
    splits = [s for s in ("dev", "test", "all") if s in totals]
    checks = list(totals["all"])
    print(f"{'check':26}" + "".join(f"{s:>22}" for s in splits))
    for check in checks:
        cells = []
        for split in splits:
            ok, n = totals[split][check]
            cells.append(f"{ok / n:8.1%} ({ok:3d}/{n:3d})" if n else f"{'-':>20}")
        print(f"{check:26}" + "".join(f"{c:>22}" for c in cells))
    if misses:
        print("\ndisagreements (doc_id: check):")
        for doc_id, check in misses:
            print(f"  {doc_id}: {check}")
    return 0
