"""Score MME per day against the gold of annotations/items.jsonl (issue 15).

The gold gives, per decision, `mme_per_day` (a number where the item states an opioid's
strength and a sig, by the CDC convention: the most the sig allows) and `mme_note` (why an
opioid item has none). Printed per split: gold decisions with an MME, how many of them the tool
gives one for, how many agree within 0.5 MME, MMEs the tool gives where the gold has none, and
gold opioid decisions without MME (a note) that the tool also leaves without MME.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, letter_rows
from imr_extract.ingest import DEFAULT_MAX_BYTES
from imr_extract.rules import read_jsonl

MAX_BYTES = DEFAULT_MAX_BYTES  # the run's own limit
TOLERANCE = 0.5  # MME per day
COUNTS = ("gold_mme", "given", "agree", "extra", "gold_note", "note_kept_empty")


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN is missing


def score_letter(gold: dict, rows: dict, stats: dict) -> list[str]:
    """Add one letter's counts to `stats`; return its disagreements, for the misses list."""
    mine = {d["decision_index"]: _number(d.get("mme_per_day")) for d in rows["decisions"]}
    misses = []
    for g in gold["decisions"]:
        index = g["decision_index"]
        theirs, predicted = _number(g.get("mme_per_day")), mine.get(index)
        if theirs is not None:
            stats["gold_mme"] += 1
            stats["given"] += predicted is not None
            ok = predicted is not None and abs(predicted - theirs) <= TOLERANCE
            stats["agree"] += ok
            if not ok:
                misses.append(f"{gold['doc_id']} #{index}: gold {theirs:g}, tool {predicted}")
        else:
            if predicted is not None:
                stats["extra"] += 1
                misses.append(f"{gold['doc_id']} #{index}: gold none, tool {predicted:g}")
            if g.get("mme_note"):
                stats["gold_note"] += 1
                stats["note_kept_empty"] += predicted is None
    return misses


def evaluate_mme(items_path, corpus, model=None) -> tuple[dict[str, dict], list[str]]:
    """({split: counts} for dev, test and all, disagreements)."""
    init_worker(model, MAX_BYTES)
    stats: dict[str, dict] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    misses = []
    for gold in read_jsonl(items_path):
        if "decisions" not in gold:
            continue
        rows = letter_rows(Path(corpus) / gold["source"])
        for split in (gold.get("split", "dev"), "all"):
            found = score_letter(gold, rows, stats[split])
        misses += [f"[{gold.get('split', 'dev')}] {m}" for m in found]
    return dict(stats), misses


def print_mme(stats: dict[str, dict], misses: list[str] | None = None) -> None:
    print("\n== MME per day (annotations/items.jsonl)")
    splits = [s for s in ("dev", "test", "all") if s in stats]
    print(f"{'':44}" + "".join(f"{s:>10}" for s in splits))
    labels = {
        "gold_mme": "gold opioid decisions with MME",
        "given": "  the tool gives an MME",
        "agree": f"  agree (within {TOLERANCE:g} MME)",
        "extra": "tool MME where the gold has none",
        "gold_note": "gold opioid decisions without MME (note)",
        "note_kept_empty": "  the tool gives none either",
    }
    for key, label in labels.items():
        print(f"{label:44}" + "".join(f"{stats[s][key]:>10}" for s in splits))
    for line in misses or []:
        print(f"  miss {line}")
