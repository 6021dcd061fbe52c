"""Score the decision reason codes against annotations/reasons.jsonl.

Per code precision/recall/F1 over (decision, code) pairs, micro and macro F1, coverage (the
share of decisions with a code other than `other`), the share with `other`, decisions left
without a code, and evidence: the share of matched (decision, code) pairs whose predicted
sentence overlaps the gold evidence. The code list comes from resources/reason_codes.csv,
the same file the component reads.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, letter_rows
from imr_extract.components.reasons import REASON_CODES
from imr_extract.evaluate_codes import cohen_kappa, paired_decisions
from imr_extract.ingest import DEFAULT_MAX_BYTES
from imr_extract.rules import read_jsonl

MAX_BYTES = DEFAULT_MAX_BYTES  # the run's own limit


def _empty() -> dict:
    return {
        "pairs": defaultdict(lambda: [0, 0, 0]),  # code -> [true positive, predicted, gold]
        "decisions": 0,
        "covered": 0,
        "other": 0,
        "uncoded": 0,
        "evidence": [0, 0],  # [overlapping, matched pairs]
        "depends": [0, 0],  # [right index, gold pairs that name one]
    }


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two (start, end) character spans share a character."""
    return a[0] < b[1] and b[0] < a[1]


def score_letter(gold: dict, rows: dict, stats: dict) -> None:
    predicted = defaultdict(dict)
    for r in rows["reasons"]:
        predicted[r["decision_index"]][r["reason"]] = (r["start_char"], r["end_char"])
    depends = {d["decision_index"]: d["depends_on_decision_index"] for d in rows["decisions"]}
    for g in gold["decisions"]:
        index = g["decision_index"]
        mine = predicted.get(index, {})
        stats["decisions"] += 1
        stats["covered"] += any(code != "other" for code in mine)
        stats["other"] += "other" in mine
        stats["uncoded"] += not mine
        theirs = {r["code"]: (r["start_char"], r["end_char"]) for r in g["reasons"]}
        for code in REASON_CODES:
            counts = stats["pairs"][code]
            counts[0] += code in mine and code in theirs
            counts[1] += code in mine
            counts[2] += code in theirs
            if code in mine and code in theirs:
                stats["evidence"][0] += _overlap(mine[code], theirs[code])
                stats["evidence"][1] += 1
        if g.get("depends_on_decision_index") is not None:
            stats["depends"][0] += depends.get(index) == g["depends_on_decision_index"]
            stats["depends"][1] += 1


def evaluate_reasons(gold_path, corpus, model=None) -> dict[str, dict]:
    """{split: stats} for dev, test and all."""
    init_worker(model, MAX_BYTES)
    stats = defaultdict(_empty)
    for gold in read_jsonl(gold_path):
        rows = letter_rows(Path(corpus) / gold["source"])
        for split in (gold["split"], "all"):
            score_letter(gold, rows, stats[split])
    return stats


def _prf(tp: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = tp / predicted if predicted else 0.0
    r = tp / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def summary(stats: dict) -> dict[str, float]:
    """Micro and macro F1 (macro over codes with gold instances), coverage and the rest."""
    pairs = stats["pairs"]
    tp, pred, gold = (sum(v[i] for v in pairs.values()) for i in range(3))
    macro = [_prf(*pairs[c])[2] for c in REASON_CODES if pairs[c][2]]
    n = stats["decisions"] or 1
    return {
        "micro_f1": _prf(tp, pred, gold)[2],
        "macro_f1": sum(macro) / len(macro) if macro else 0.0,
        "coverage": stats["covered"] / n,
        "other": stats["other"] / n,
        "uncoded": stats["uncoded"],
        "evidence_overlap": stats["evidence"][0] / (stats["evidence"][1] or 1),
        "depends_on_index": stats["depends"][0] / (stats["depends"][1] or 1),
    }


def compare_model(gold_path, corpus, model=None) -> dict[str, dict]:
    """The rules alone against rules + the dev-chosen candidate of `imr_reason_model` (each
    code's `candidate` setup in reason_model.jsonl): {split: {"rules", "combined"}} of
    train_reasons.tally counts, and the setups. Dev is cross-validated over letters (each
    dev letter scored by a model trained on the other folds, with make train's settings);
    test is scored by the model trained on all of dev, as make train trains it."""
    from imr_extract import train_reasons as tr
    from imr_extract.api import load

    nlp = load(model)
    letters = tr.collect(gold_path, corpus, splits=("dev", "test"), nlp=nlp)
    pipe = nlp.get_pipe("imr_reason_model") if "imr_reason_model" in nlp.pipe_names else None
    candidate = tr.candidate_setup(pipe.rules) if pipe is not None else {}
    dev = [letter for letter in letters if letter["split"] == "dev"]
    test = [letter for letter in letters if letter["split"] == "test"]
    if dev and test:
        tr.score(tr.fit(dev), test)
    if dev:
        tr.cross_validate(dev)
    out: dict[str, dict] = {}
    for split, chosen in (("dev", dev), ("test", test)):
        if chosen:
            out[split] = {
                "rules": tr.tally(chosen, tr.predictions(chosen, None)),
                "combined": tr.tally(chosen, tr.predictions(chosen, candidate)),
            }
    out["candidate"] = candidate
    out["shipped"] = pipe.setup if pipe is not None else {}
    return out


def _setups(setup: dict) -> str:
    return ", ".join(f"{c} {v['mode']} >= {v['threshold']}" for c, v in setup.items()) or "none"


def print_comparison(compared: dict[str, dict]) -> None:
    from imr_extract.train_reasons import f1
    from imr_extract.train_reasons import summary as tally_summary

    print("\n== reason codes: the rules alone vs rules + imr_reason_model (make train)")
    print("dev: cross-validated over letters (5 folds); test: the model trained on all of dev")
    print(f"candidate (chosen on dev): {_setups(compared.get('candidate', {}))}")
    print(f"shipped (candidates that won on test): {_setups(compared.get('shipped', {}))}")
    splits = [s for s in ("dev", "test") if s in compared]
    head = "".join(f"{s + ' rules':>22}{s + ' candidate':>22}" for s in splits)
    print(f"{'code (P / R / F1)':26}{head}")
    for code in REASON_CODES:
        cells = []
        for split in splits:
            for name in ("rules", "combined"):
                tp, pred, gold = compared[split][name]["pairs"][code]
                p, r = (tp / pred if pred else 0.0), (tp / gold if gold else 0.0)
                cells.append(f"{p:.2f} / {r:.2f} / {f1(tp, pred, gold):.2f}")
        print(f"{code:26}" + "".join(f"{c:>22}" for c in cells))
    for key in ("micro_f1", "macro_f1", "evidence_overlap", "coverage", "other"):
        values = [
            tally_summary(compared[s][name])[key] for s in splits for name in ("rules", "combined")
        ]
        print(f"{key:26}" + "".join(f"{v:>22.3f}" for v in values))


def print_reasons(stats: dict[str, dict], title: str = "") -> None:
    print(f"\n== {title or 'decision reason codes (annotations/reasons.jsonl)'}")
    print("as shipped (rules + imr_reason_model's kept codes; their dev figures are in-sample)")
    splits = [s for s in ("dev", "test", "all") if s in stats]
    print(f"{'code':26}" + "".join(f"{s + ' P / R / F1 (n)':>30}" for s in splits))
    for code in REASON_CODES:
        cells = []
        for split in splits:
            tp, pred, gold = stats[split]["pairs"][code]
            p, r, f = _prf(tp, pred, gold)
            cells.append(f"{p:.2f} / {r:.2f} / {f:.2f} ({gold:3d})")
        print(f"{code:26}" + "".join(f"{c:>30}" for c in cells))
    for name in ("micro_f1", "macro_f1", "coverage", "other", "evidence_overlap"):
        values = [summary(stats[s])[name] for s in splits]
        print(f"{name:26}" + "".join(f"{v:>30.3f}" for v in values))
    decisions = [stats[s]["decisions"] for s in splits]
    print(f"{'decisions':26}" + "".join(f"{v:>30}" for v in decisions))
    uncoded = [summary(stats[s])["uncoded"] for s in splits]
    print(f"{'decisions without a code':26}" + "".join(f"{v:>30}" for v in uncoded))
    depends = [f"{stats[s]['depends'][0]}/{stats[s]['depends'][1]}" for s in splits]
    print(f"{'depends_on index right':26}" + "".join(f"{v:>30}" for v in depends))


# -- agreement of two annotations ------------------------------------------------------------


def _second_readings(first_path, second_path=None) -> dict[str, list[tuple[dict, dict]]]:
    """{split: [(first decision, second decision)]}: the `second_coder` codes written inside the
    first file (codes only), and the decisions of a second file coded independently (codes and
    evidence), matched by doc_id and decision_index."""
    rows = list(read_jsonl(first_path))
    pairs: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for row in rows:
        for d in row["decisions"]:
            if d.get("second_coder") is not None:
                second = {"reasons": [{"code": c} for c in d["second_coder"]]}
                pairs[row["split"]].append((d, second))
    if second_path and Path(second_path).exists():
        for split, found in paired_decisions(rows, second_path).items():
            pairs[split].extend(found)
    return pairs


def agreement(first_path, second_path=None) -> dict[str, dict]:
    """{split: {"decisions", "identical", "kappa": {code: kappa}, "evidence"}}: the second
    annotation against the first (the gold as it stands, adjudicated where it was). kappa is
    Cohen's, on whether a decision has the code (None where neither annotation uses it);
    evidence is the share of shared codes whose two spans overlap, over the pairs where both
    give offsets."""
    out = {}
    for split, pairs in _second_readings(first_path, second_path).items():
        sets = [
            ({r["code"] for r in a["reasons"]}, {r["code"] for r in b["reasons"]}) for a, b in pairs
        ]
        kappa = {}
        for code in REASON_CODES:
            labels = [(code in a, code in b) for a, b in sets]
            kappa[code] = cohen_kappa(labels) if any(x or y for x, y in labels) else None
        overlap = [0, 0]
        for a, b in pairs:
            spans = {r["code"]: r for r in a["reasons"] if "start_char" in r}
            for r in b["reasons"]:
                other = spans.get(r["code"])
                if other is not None and "start_char" in r:
                    overlap[0] += _overlap(
                        (r["start_char"], r["end_char"]), (other["start_char"], other["end_char"])
                    )
                    overlap[1] += 1
        out[split] = {
            "decisions": len(pairs),
            "identical": sum(a == b for a, b in sets),
            "kappa": kappa,
            "evidence": overlap[0] / overlap[1] if overlap[1] else None,
        }
    return out


def print_agreement(result: dict[str, dict]) -> None:
    print("\n== reason codes: a second, independent annotation against the gold")
    print("Cohen's kappa per code; test: the second_coder codes against the adjudicated gold")
    splits = [s for s in ("dev", "test") if s in result]
    print(f"{'check':26}" + "".join(f"{s:>12}" for s in splits))
    for code in REASON_CODES:
        cells = [result[s]["kappa"][code] for s in splits]
        print(f"{code:26}" + "".join(f"{'-' if v is None else f'{v:.2f}':>12}" for v in cells))
    for name in ("decisions", "identical"):
        print(f"{name:26}" + "".join(f"{result[s][name]:>12}" for s in splits))
    cells = [result[s]["evidence"] for s in splits]
    print(
        f"{'evidence overlap':26}"
        + "".join(f"{'-' if v is None else f'{v:.3f}':>12}" for v in cells)
    )
