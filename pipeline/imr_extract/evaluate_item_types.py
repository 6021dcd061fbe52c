"""Score decisions.csv `item_type` against annotations/items.jsonl.

Accuracy per split, the share of decisions typed `other` (predicted and gold), and the misses
as a confusion list (gold → predicted, with the first characters of the item). The taxonomy
comes from resources/item_types.csv, the same file the component reads; a gold value outside
it is reported, never scored as right.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, letter_rows
from imr_extract.ingest import DEFAULT_MAX_BYTES
from imr_extract.normalize.item_types import ITEM_TYPES, OTHER
from imr_extract.rules import read_jsonl

MAX_BYTES = DEFAULT_MAX_BYTES  # the run's own limit


def _empty() -> dict:
    return {"decisions": 0, "right": 0, "other": 0, "gold_other": 0, "misses": [], "unknown": 0}


def score_letter(gold: dict, rows: dict, stats: dict) -> None:
    """Add one letter's decisions to `stats`; `rows` are its table rows (decisions used)."""
    predicted = {d["decision_index"]: d for d in rows["decisions"]}
    for g in gold["decisions"]:
        if not g.get("item_type"):
            continue
        mine = predicted.get(g["decision_index"], {}).get("item_type")
        stats["decisions"] += 1
        stats["right"] += mine == g["item_type"]
        stats["other"] += mine == OTHER
        stats["gold_other"] += g["item_type"] == OTHER
        stats["unknown"] += g["item_type"] not in ITEM_TYPES
        if mine != g["item_type"]:
            item = (g.get("item") or predicted.get(g["decision_index"], {}).get("item") or "")[:60]
            stats["misses"].append(
                (gold["doc_id"], g["decision_index"], g["item_type"], mine, item)
            )


def evaluate_item_types(gold_path, corpus, model=None) -> dict[str, dict]:
    """{split: stats} for dev, test and all."""
    init_worker(model, MAX_BYTES)
    stats: dict[str, dict] = defaultdict(_empty)
    for gold in read_jsonl(gold_path):
        rows = letter_rows(Path(corpus) / gold["source"])
        for split in (gold["split"], "all"):
            score_letter(gold, rows, stats[split])
    return stats


def summary(stats: dict) -> dict[str, float]:
    n = stats["decisions"] or 1
    return {
        "accuracy": stats["right"] / n,
        "other": stats["other"] / n,
        "gold_other": stats["gold_other"] / n,
    }


def print_item_types(stats: dict[str, dict], show_misses: tuple[str, ...] = ("dev",)) -> None:
    """The table, then the confusion list of the splits named in `show_misses` (dev only by
    default: the test split's errors are not looked at while rules are written)."""
    print("\n== decision item_type (annotations/items.jsonl)")
    splits = [s for s in ("dev", "test", "all") if s in stats]
    print(f"{'':26}" + "".join(f"{s:>12}" for s in splits))
    for name in ("accuracy", "other", "gold_other"):
        values = [summary(stats[s])[name] for s in splits]
        print(f"{name:26}" + "".join(f"{v:>12.3f}" for v in values))
    for name in ("decisions", "unknown"):
        print(f"{name:26}" + "".join(f"{stats[s][name]:>12}" for s in splits))
    for split in (s for s in show_misses if s in stats):
        pairs = Counter((gold, mine) for _, _, gold, mine, _ in stats[split]["misses"])
        print(f"-- {split} confusion (gold → predicted: count)")
        for (gold, mine), count in pairs.most_common():
            print(f"   {gold} → {mine}: {count}")
        for doc_id, index, gold, mine, item in stats[split]["misses"]:
            print(f"   {doc_id}#{index}: {gold} → {mine}  {item}")
