"""Score the diagnoses linked to each decision (issue 14, item 4) against
annotations/decision_links.jsonl: for every decision its block (offsets), the CLINICAL CASE
SUMMARY diagnoses of the item's body part, and its primary diagnosis, read by hand.

A decision's gold links are the present (not negated, not hypothetical) gold DIAGNOSIS spans of
its block plus its summary links; the pipeline's are the present DIAGNOSIS entities of its block
(`decision_index`) plus the summary entities that name it in `decision_indexes`. Entities are
matched to gold spans by overlap, as in evaluate_codes. The primary is scored twice: the
decision's `primary_icd10cm` against the gold code of the gold primary (what a researcher reads),
and against the pipeline's own code of that diagnosis (the link alone, coding errors aside).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, letter_rows
from imr_extract.components.coding import BLOCK_PARTS  # the parts whose diagnoses it links
from imr_extract.evaluate_codes import MAX_BYTES, match, norm_code, ratio
from imr_extract.rules import read_jsonl


def _present(row: dict) -> bool:
    return not (row.get("negated") or row.get("hypothetical") or row.get("family"))


def predicted_links(entities: list[dict]) -> dict[int, set[int]]:
    """{decision_index: entity_ids} of the DIAGNOSIS entities the pipeline links to it."""
    links: dict[int, set[int]] = defaultdict(set)
    for e in entities:
        if e["label"] != "DIAGNOSIS" or not _present(e):
            continue
        index = e.get("decision_index")
        if index is not None and e.get("decision_part") in BLOCK_PARTS:
            links[index].add(e["entity_id"])
        for k in (e.get("decision_indexes") or "").split(";"):  # a table row: `;`-joined
            if k:
                links[int(k)].add(e["entity_id"])
    return links


def score_letter(gold: dict, spans: list[dict], flags: dict, rows: dict, stats: dict) -> None:
    """Add one letter's link and primary counts to `stats`. `spans`: the letter's gold
    DIAGNOSIS spans with their codes (diagnosis_codes.jsonl); `flags`: {(start, end): gold
    entity} with negated/hypothetical (entities.jsonl)."""
    entities = [e for e in rows["entities"] if e["label"] == "DIAGNOSIS"]
    matched = {(g["start"], g["end"]): p for g, p in match(spans, entities)}
    predicted = predicted_links(entities)
    decisions = {d["decision_index"]: d for d in rows["decisions"]}
    for d in gold["decisions"]:
        index = d["decision_index"]
        block = {
            (s["start"], s["end"])
            for s in spans
            if d["block_start"] <= s["start"] < d["block_end"]
            and _present(flags.get((s["start"], s["end"]), {}))
        }
        summary = {(s["start"], s["end"]) for s in d["summary_links"]}
        wanted = block | summary
        got = set(predicted.get(index, set()))
        for kind, keys in (("block", block), ("summary", summary - block)):
            for key in keys:
                p = matched.get(key)
                hit = p is not None and p["entity_id"] in got
                stats[f"{kind}_gold"] += 1
                stats[f"{kind}_found"] += hit
        found = {matched[k]["entity_id"] for k in wanted if matched.get(k) is not None}
        stats["predicted"] += len(got)
        stats["predicted_right"] += len(got & found)
        _score_primary(d.get("primary"), matched, decisions.get(index, {}), stats)


def _score_primary(primary: dict | None, matched: dict, decision: dict, stats: dict) -> None:
    got = norm_code(decision.get("primary_icd10cm"))
    if primary is None:
        stats["primary_none"] += 1
        stats["primary_none_ok"] += got is None
        return
    want = norm_code(primary.get("icd10cm"))
    if want is None:
        return  # a primary the gold leaves uncoded: nothing to compare the code with
    stats["primary_n"] += 1
    stats["primary_full_ok"] += got == want
    stats["primary_cat_ok"] += bool(got) and got[:3] == want[:3]
    p = matched.get((primary["start"], primary["end"]))
    own = norm_code(p["icd10cm"]) if p is not None else None
    if own is not None:
        stats["primary_link_n"] += 1
        stats["primary_link_ok"] += got == own


def summary(s: dict) -> dict[str, tuple[float | None, int]]:
    """{check: (value, n)} of one split's counts."""
    gold = s["block_gold"] + s["summary_gold"]
    found = s["block_found"] + s["summary_found"]
    precision, recall = ratio(s["predicted_right"], s["predicted"]), ratio(found, gold)
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None

    def scored(ok: str, n: str) -> tuple[float | None, int]:
        return ratio(s[ok], s[n]), s[n]

    return {
        "linked diagnoses precision": (precision, s["predicted"]),
        "linked diagnoses recall": (recall, gold),
        "linked diagnoses F1": (f1, gold),
        "recall, diagnoses of its block": scored("block_found", "block_gold"),
        "recall, summary diagnoses": scored("summary_found", "summary_gold"),
        "primary_icd10cm full code": scored("primary_full_ok", "primary_n"),
        "primary_icd10cm category": scored("primary_cat_ok", "primary_n"),
        "primary = its diagnosis's code": scored("primary_link_ok", "primary_link_n"),
        "no primary when the gold has none": scored("primary_none_ok", "primary_none"),
    }


def evaluate_links(links_path, codes_path, entities_path, corpus, model=None) -> dict[str, dict]:
    """{split: counts} for dev, test and all."""
    init_worker(model, MAX_BYTES)
    spans = {r["doc_id"]: r["diagnoses"] for r in read_jsonl(codes_path)}
    flags = {
        r["doc_id"]: {(e["start"], e["end"]): e for e in r["entities"] if e["label"] == "DIAGNOSIS"}
        for r in read_jsonl(entities_path)
    }
    stats: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for gold in read_jsonl(links_path):
        rows = letter_rows(Path(corpus) / gold["source"])
        for split in (gold["split"], "all"):
            score_letter(
                gold,
                spans.get(gold["doc_id"], []),
                flags.get(gold["doc_id"], {}),
                rows,
                stats[split],
            )
    return stats


def print_links(stats: dict[str, dict], title: str = "annotations/decision_links.jsonl") -> None:
    print(f"\n== diagnoses linked to decisions ({title})")
    splits = [s for s in ("dev", "test", "all") if s in stats]
    print(f"{'check':36}" + "".join(f"{s:>16}" for s in splits))
    scores = {split: summary(stats[split]) for split in splits}
    for name in scores[splits[0]] if splits else []:
        cells = []
        for split in splits:
            value, n = scores[split][name]
            cells.append(f"{value:6.3f} ({n:4d})" if value is not None else "-")
        print(f"{name:36}" + "".join(f"{c:>16}" for c in cells))
