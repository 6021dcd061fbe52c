"""`make eval`: accuracy against the gold annotations: decisions and header fields
(annotations/decisions.jsonl) and guideline citations (annotations/citations.jsonl).

Gold letters are split into `dev` (rules were tuned on them) and `test` (held out); both are
reported, and their union.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, letter_rows
from imr_extract.components.header import HEADER_FIELDS
from imr_extract.normalize.text import squash
from imr_extract.rules import read_jsonl

HEADER_CHECKS = [
    *HEADER_FIELDS,
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
        value = doc.get(field)
        if field == "date_of_injury" and doc.get("date_of_injury_source") != "header":
            value = None  # the gold is the header's; a case summary's date is checked elsewhere
        results[field].append(_norm(gold.get(field)) == _norm(value))
    for i, g in enumerate(gold["decisions"]):
        p = found[i] if i < len(found) else {}
        for field in DECISION_CHECKS:
            results[field].append(_norm(g.get(field)) == _norm(p.get(field)))
        for flag, column in PART_CHECKS.items():
            results[column].append(bool(g.get(flag)) == bool(p.get(column)))
    return results


CITATION_CHECKS = ["guideline_family", "guideline", "edition", "chapter", "section", "pages"]
GOLD_CITATION_KEYS = {"guideline_family": "family"}


def _loose(value) -> str:
    """Case and punctuation do not count when comparing titles and sections."""
    return "".join(ch for ch in str(_norm(value) or "").lower() if ch.isalnum())


def _pages(value) -> list[int]:
    if isinstance(value, list):
        return value
    return [int(p) for p in str(_norm(value) or "").split(";") if p]


def score_citations(gold_rows: list[dict], predicted: list[dict]) -> dict[str, list[bool]]:
    """Citations compared in order within each (decision, source)."""
    results: dict[str, list[bool]] = defaultdict(list)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in predicted:
        groups[(row["decision_index"], row["source"])].append(row)
    gold_groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in gold_rows:
        gold_groups[(row["decision_index"], row["source"])].append(row)
    for key, golds in gold_groups.items():
        preds = groups.get(key, [])
        results["citations per guideline"].append(len(preds) == len(golds))
        for i, g in enumerate(golds):
            p = preds[i] if i < len(preds) else {}
            for check in CITATION_CHECKS:
                want, got = g.get(GOLD_CITATION_KEYS.get(check, check)), p.get(check)
                if check == "pages":
                    results[check].append(_pages(want) == _pages(got))
                else:
                    results[check].append(_loose(want) == _loose(got))
    return results


def _add(totals, misses, split: str, doc_id: str, results: dict[str, list[bool]]) -> None:
    for check, outcomes in results.items():
        for name in (split, "all"):
            totals[name][check][0] += sum(outcomes)
            totals[name][check][1] += len(outcomes)
        if not all(outcomes):
            misses.append((doc_id, check))


def evaluate(
    gold_path: str | Path,
    corpus: str | Path,
    model: str | None = None,
    citations_path: str | Path | None = None,
):
    """({split: {check: [correct, total]}}, disagreements) for decisions and header fields,
    and the same pair for citations when `citations_path` is given."""
    init_worker(model, 10 * 1024 * 1024)

    def table():
        return defaultdict(lambda: defaultdict(lambda: [0, 0]))

    totals, misses, cite_totals, cite_misses = table(), [], table(), []
    gold_citations: dict[str, list[dict]] = defaultdict(list)
    if citations_path and Path(citations_path).exists():
        for row in read_jsonl(citations_path):
            gold_citations[row["doc_id"]].append(row)
    for gold in read_jsonl(gold_path):
        rows = letter_rows(Path(corpus) / gold["source"])
        _add(totals, misses, gold["split"], gold["doc_id"], score_letter(gold, rows))
        if gold["doc_id"] in gold_citations:
            results = score_citations(gold_citations[gold["doc_id"]], rows["citations"])
            _add(cite_totals, cite_misses, gold["split"], gold["doc_id"], results)
    return (totals, misses), (cite_totals, cite_misses)


def print_table(title: str, totals, misses) -> None:
    print(f"\n== {title}")
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
        print("disagreements (doc_id: check):")
        for doc_id, check in misses:
            print(f"  {doc_id}: {check}")


def main(
    gold_path: str,
    corpus: str,
    model: str | None = None,
    citations_path: str | None = None,
    entities_path: str | None = None,
    compare_lexicon: bool = False,
    reasons_path: str | None = None,
    codes_path: str | None = None,
    items_path: str | None = None,
    second_codes_path: str | None = None,
    procedures_path: str | None = None,
    reasons_second_path: str | None = None,
    items_second_path: str | None = None,
    links_path: str | None = None,
) -> int:
    if not Path(corpus).is_dir():
        print(f"corpus not found at {corpus}")
        return 2
    decisions, citations = evaluate(gold_path, corpus, model, citations_path)
    print_table("decisions and header fields (annotations/decisions.jsonl)", *decisions)
    if citations[0]:
        print_table("guideline citations (annotations/citations.jsonl)", *citations)
    if reasons_path and Path(reasons_path).exists():
        from imr_extract.evaluate_reasons import (
            compare_model,
            evaluate_reasons,
            print_comparison,
            print_reasons,
        )

        print_reasons(evaluate_reasons(reasons_path, corpus, model))
        print_comparison(compare_model(reasons_path, corpus, model))
        from imr_extract.evaluate_reasons import agreement, print_agreement

        print_agreement(agreement(reasons_path, reasons_second_path))
        if reasons_second_path and Path(reasons_second_path).exists():
            print_reasons(
                evaluate_reasons(reasons_second_path, corpus, model),
                title=f"decision reason codes against the second annotation, {reasons_second_path}",
            )
    if items_path and Path(items_path).exists():
        from imr_extract.evaluate_mme import evaluate_mme, print_mme

        print_mme(*evaluate_mme(items_path, corpus, model))
        from imr_extract.evaluate_item_types import evaluate_item_types, print_item_types

        print_item_types(evaluate_item_types(items_path, corpus, model))
    if any(path and Path(path).exists() for path in (codes_path, items_path)):
        from imr_extract.evaluate_codes import evaluate_codes, print_codes

        second = (
            items_second_path if items_second_path and Path(items_second_path).exists() else None
        )
        print_codes(evaluate_codes(codes_path, items_path, corpus, model, second))
    if codes_path and second_codes_path and Path(second_codes_path).exists():
        from imr_extract.evaluate_codes import agreement, print_agreement

        print_agreement(agreement(codes_path, second_codes_path))
    if items_path and items_second_path and Path(items_second_path).exists():
        from imr_extract.evaluate_codes import item_agreement, print_item_agreement

        print_item_agreement(item_agreement(items_path, items_second_path))
    if links_path and Path(links_path).exists() and codes_path and entities_path:
        from imr_extract.evaluate_links import evaluate_links, print_links

        print_links(evaluate_links(links_path, codes_path, entities_path, corpus, model))
    if procedures_path and Path(procedures_path).exists():
        from imr_extract.evaluate_procedures import compare_filters, print_procedures

        print_procedures(compare_filters(procedures_path, corpus))
    if entities_path and Path(entities_path).exists():
        from imr_extract.evaluate_entities import (
            compare_lexicons,
            evaluate_entities,
            print_lexicon_comparison,
            print_report,
        )

        entities = evaluate_entities(entities_path, corpus, gold_path, model)
        print_report(*entities)
        if compare_lexicon:
            shipped = entities if model is None else None  # the packaged rules: both lexicons
            print_lexicon_comparison(compare_lexicons(entities_path, corpus, gold_path, shipped))
    return 0
