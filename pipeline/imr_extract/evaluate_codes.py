"""Score the coded clinical context (issue 14) against annotations/diagnosis_codes.jsonl
(body part, laterality, spinal levels and ICD-10-CM of gold DIAGNOSIS spans) and
annotations/items.jsonl (body part and laterality of each decision); report the agreement of
a second coder (annotations/diagnosis_codes_second.jsonl) with the first, and of a second,
independent reading of every decision's body part (annotations/items_second.jsonl) with the
first and with the pipeline.

Predicted DIAGNOSIS entities are matched to gold spans by overlap (the most overlapping one).
Diagnosis figures are over the matched gold spans (the share matched is printed); ICD-10-CM
accuracy is over the matched spans the gold codes, precision over the codes the pipeline gave
on matched spans (a code where the gold has none counts as wrong). Codes compare with the
dot ("M54.16"); gold written without it ("M5416") is accepted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, letter_rows
from imr_extract.ingest import DEFAULT_MAX_BYTES
from imr_extract.rules import read_jsonl

MAX_BYTES = DEFAULT_MAX_BYTES  # the run's own limit
TARGETS = {  # issue 14, on the test split
    "decision body part": 0.95,
    "diagnosis body part": 0.93,
    "laterality": 0.97,
    "ICD-10-CM category": 0.90,
    "ICD-10-CM full code": 0.80,
    "uncoded (share)": 0.10,
    "code precision": 0.92,
}


def norm_code(code) -> str | None:
    """'m5416', 'M54.16 ' -> 'M54.16'; empty -> None."""
    if code is None:
        return None
    code = str(code).strip().upper().replace(".", "")
    if not code:
        return None
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def norm_part(code) -> str | None:
    if code is None or str(code).strip() == "":
        return None
    return str(code).strip()


def norm_side(side) -> str:
    return (side or "").strip().lower()


def norm_levels(levels) -> str:
    if isinstance(levels, str):
        levels = levels.split(";")
    return ";".join(sorted(lv.strip().upper() for lv in levels or [] if lv.strip()))


def _empty() -> dict:
    return defaultdict(int)


def match(gold_spans: list[dict], predicted: list[dict]) -> list[tuple[dict, dict | None]]:
    """Each gold span with the predicted DIAGNOSIS row that overlaps it most (or None)."""
    pairs = []
    for g in gold_spans:
        best, best_overlap = None, 0
        for p in predicted:
            overlap = min(g["end"], p["end_char"]) - max(g["start"], p["start_char"])
            if overlap > best_overlap:
                best, best_overlap = p, overlap
        pairs.append((g, best))
    return pairs


def score_diagnoses(gold: dict, rows: dict, stats: dict) -> None:
    predicted = [e for e in rows["entities"] if e["label"] == "DIAGNOSIS"]
    for g, p in match(gold["diagnoses"], predicted):
        stats["diagnoses"] += 1
        if p is None:
            continue
        stats["matched"] += 1
        if norm_part(g.get("body_part_code")) is not None:
            stats["bp_n"] += 1
            stats["bp_ok"] += norm_part(g["body_part_code"]) == norm_part(p["body_part_code"])
        stats["lat_n"] += 1
        stats["lat_ok"] += norm_side(g.get("laterality")) == norm_side(p["laterality"])
        if g.get("spinal_levels") is not None:
            stats["lev_n"] += 1
            stats["lev_ok"] += norm_levels(g["spinal_levels"]) == norm_levels(p["spinal_levels"])
        want, got = norm_code(g.get("icd10cm")), norm_code(p["icd10cm"])
        if want:
            stats["icd_n"] += 1
            stats["icd_uncoded"] += got is None
            stats["icd_cat_ok"] += bool(got) and got[:3] == want[:3]
            stats["icd_full_ok"] += got == want
        if got:
            stats["given"] += 1
            stats["given_full_ok"] += got == want
            stats["given_cat_ok"] += bool(want) and got[:3] == want[:3]


def score_decisions(gold: dict, rows: dict, stats: dict) -> None:
    predicted = {d["decision_index"]: d for d in rows["decisions"]}
    for g in gold["decisions"]:
        if norm_part(g.get("body_part_code")) is None:
            continue
        p = predicted.get(g["decision_index"], {})
        stats["dec_n"] += 1
        stats["dec_ok"] += norm_part(g["body_part_code"]) == norm_part(p.get("body_part_code"))
        stats["dec_lat_ok"] += norm_side(g.get("laterality")) == norm_side(p.get("laterality"))
        if g.get("body_part_source"):
            stats["dec_src_n"] += 1
            stats["dec_src_ok"] += g["body_part_source"] == p.get("body_part_source")


def ratio(a: int, b: int) -> float | None:
    """a / b, or None when b is 0 (nothing to score)."""
    return a / b if b else None


# each check: its name, the count of right answers and the count they are out of
CHECKS = (
    ("decision body part", "dec_ok", "dec_n"),
    ("decision laterality", "dec_lat_ok", "dec_n"),
    ("decision body_part_source", "dec_src_ok", "dec_src_n"),
    ("diagnosis spans matched", "matched", "diagnoses"),
    ("diagnosis body part", "bp_ok", "bp_n"),
    ("laterality", "lat_ok", "lat_n"),
    ("spinal levels", "lev_ok", "lev_n"),
    ("ICD-10-CM category", "icd_cat_ok", "icd_n"),
    ("ICD-10-CM full code", "icd_full_ok", "icd_n"),
    ("uncoded (share)", "icd_uncoded", "icd_n"),
    ("code precision", "given_full_ok", "given"),
    ("code precision (category)", "given_cat_ok", "given"),
)


def summary(stats: dict) -> dict[str, float | None]:
    return {name: ratio(stats[ok], stats[n]) for name, ok, n in CHECKS}


def counts(stats: dict) -> dict[str, int]:
    return {name: stats[n] for name, _, n in CHECKS}


SECOND = " second reading"  # the stats key suffix of the pipeline against items_second


def evaluate_codes(
    codes_path, items_path, corpus, model=None, items_second_path=None
) -> dict[str, dict]:
    """{split: stats} for dev, test and all, from whichever of the gold files exist; the
    decisions against the second reading of the items under "dev second reading" etc."""
    init_worker(model, MAX_BYTES)
    golds: dict[str, dict] = {}
    paths = (("codes", codes_path), ("items", items_path), ("second", items_second_path))
    for kind, path in paths:
        if path and Path(path).exists():
            for row in read_jsonl(path):
                golds.setdefault(row["doc_id"], {"source": row["source"], "split": row["split"]})
                golds[row["doc_id"]][kind] = row
    stats: dict[str, dict] = defaultdict(_empty)
    for gold in golds.values():
        rows = letter_rows(Path(corpus) / gold["source"])
        for split in (gold["split"], "all"):
            if "codes" in gold:
                score_diagnoses(gold["codes"], rows, stats[split])
            if "items" in gold:
                score_decisions(gold["items"], rows, stats[split])
            if "second" in gold:
                score_decisions(gold["second"], rows, stats[split + SECOND])
    return stats


def print_codes(stats: dict[str, dict]) -> None:
    print("\n== coded clinical context (annotations/diagnosis_codes.jsonl, items.jsonl)")
    splits = [s for s in ("dev", "test", "all") if s in stats]
    _print_rows(stats, splits, list(summary(stats[splits[0]])) if splits else [])
    second = [s + SECOND for s in splits if s + SECOND in stats]
    if second:
        print("\n== decisions against the second reading of their body part (items_second.jsonl)")
        _print_rows(stats, second, [n for n in summary(stats[second[0]]) if "decision" in n])


def _print_rows(stats: dict[str, dict], splits: list[str], names: list[str]) -> None:
    heads = [s.replace(SECOND, "") for s in splits]
    print(f"{'check':28}" + "".join(f"{s:>18}" for s in heads) + f"{'test target':>14}")
    values = {split: summary(stats[split]) for split in splits}
    ns = {split: counts(stats[split]) for split in splits}
    for name in names:
        cells = []
        for split in splits:
            value, n = values[split][name], ns[split][name]
            cells.append(f"{value:6.3f} ({n:4d})" if value is not None else "-")
        target = TARGETS.get(name)
        mark = (
            ""
            if target is None
            else (f"<= {target:.2f}" if "uncoded" in name else f">= {target:.2f}")
        )
        print(f"{name:28}" + "".join(f"{c:>18}" for c in cells) + f"{mark:>14}")


# -- agreement of two coders ----------------------------------------------------------------


def cohen_kappa(pairs: list[tuple]) -> float | None:
    """Cohen's kappa of two raters' labels, pairs [(a, b), ...]."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def agreement(first_path, second_path) -> dict[str, float | int | None]:
    """Percent agreement (and kappa for body part and laterality) on the spans both coded."""
    spans = {}
    for row in read_jsonl(first_path):
        for d in row["diagnoses"]:
            spans[(row["doc_id"], d["start"], d["end"])] = d
    pairs = []
    for row in read_jsonl(second_path):
        for d in row["diagnoses"]:
            other = spans.get((row["doc_id"], d["start"], d["end"]))
            if other is not None:
                pairs.append((other, d))
    body = [
        (norm_part(a.get("body_part_code")), norm_part(b.get("body_part_code"))) for a, b in pairs
    ]
    side = [(norm_side(a.get("laterality")), norm_side(b.get("laterality"))) for a, b in pairs]
    codes = [(norm_code(a.get("icd10cm")), norm_code(b.get("icd10cm"))) for a, b in pairs]
    n = len(pairs)
    return {
        "shared spans": n,
        "body part agreement": ratio(sum(a == b for a, b in body), n),
        "body part kappa": cohen_kappa(body),
        "laterality agreement": ratio(sum(a == b for a, b in side), n),
        "laterality kappa": cohen_kappa(side),
        "ICD-10-CM category agreement": ratio(
            sum((a or "")[:3] == (b or "")[:3] for a, b in codes), n
        ),
        "ICD-10-CM full code agreement": ratio(sum(a == b for a, b in codes), n),
    }


def print_agreement(result: dict) -> None:
    print("\n== second coder (annotations/diagnosis_codes_second.jsonl) vs the first")
    for name, value in result.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:32}{shown:>10}")


def paired_decisions(first_rows, second_path) -> dict[str, list[tuple[dict, dict]]]:
    """{split: [(first decision, second decision)]}: the decisions of a second, independent
    reading (`second_path`) with those of the first (its rows), matched by doc_id and
    decision_index; the split is the first reading's."""
    first = {
        (row["doc_id"], d["decision_index"]): (row["split"], d)
        for row in first_rows
        for d in row["decisions"]
    }
    pairs: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for row in read_jsonl(second_path):
        for d in row["decisions"]:
            found = first.get((row["doc_id"], d["decision_index"]))
            if found is not None:
                pairs[found[0]].append((found[1], d))
    return pairs


def item_agreement(first_path, second_path) -> dict[str, dict[str, float | int | None]]:
    """{split: agreement} of two readings of every decision's body part, laterality and
    body_part_source (items.jsonl and items_second.jsonl), with Cohen's kappa; before
    adjudication (an adjudicated decision keeps the first reading in `first_reading`)."""
    pairs = paired_decisions(read_jsonl(first_path), second_path)
    pairs = {
        split: [({**a, **a.get("first_reading", {})}, b) for a, b in both]
        for split, both in pairs.items()
    }
    pairs["all"] = [pair for split in ("dev", "test") for pair in pairs.get(split, [])]
    result = {}
    for split in [s for s in ("dev", "test", "all") if s in pairs]:
        both = pairs[split]
        body = [
            (norm_part(a.get("body_part_code")), norm_part(b.get("body_part_code")))
            for a, b in both
        ]
        side = [(norm_side(a.get("laterality")), norm_side(b.get("laterality"))) for a, b in both]
        source = [(a.get("body_part_source"), b.get("body_part_source")) for a, b in both]
        n = len(both)
        result[split] = {
            "decisions": n,
            "body part agreement": ratio(sum(a == b for a, b in body), n),
            "body part kappa": cohen_kappa(body),
            "laterality agreement": ratio(sum(a == b for a, b in side), n),
            "laterality kappa": cohen_kappa(side),
            "body_part_source agreement": ratio(sum(a == b for a, b in source), n),
        }
    return result


def print_item_agreement(result: dict[str, dict]) -> None:
    print("\n== second reading of the decisions' body parts (items_second.jsonl) vs the first")
    splits = list(result)
    print(f"{'':32}" + "".join(f"{s:>10}" for s in splits))
    for name in result[splits[0]] if splits else []:
        cells = []
        for split in splits:
            value = result[split][name]
            cells.append(f"{value:.3f}" if isinstance(value, float) else str(value))
        print(f"{name:32}" + "".join(f"{c:>10}" for c in cells))
