"""PROCEDURE accuracy against annotations/procedures.jsonl: precision/recall/F1 (exact and
overlap match, the matching of `evaluate_entities`), with the shipped rules and without the
PROCEDURE filters of entity_filters.jsonl (reviewer credentials, guideline titles), and how
many predicted PROCEDURE spans lie in the credentials or in a guideline's title either way.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from imr_extract.batch import init_worker, process_file, use_pipeline
from imr_extract.evaluate_entities import _prf, score_letter
from imr_extract.ingest import DEFAULT_MAX_BYTES
from imr_extract.rules import read_jsonl

MAX_BYTES = DEFAULT_MAX_BYTES  # the run's own limit
LABEL = "PROCEDURE"
# where a predicted procedure is not one, found from the text alone (not from the filters
# being measured): the letter's opening up to the case summary (the reviewer's credentials),
# a guideline citation paragraph, or a name followed by "Guidelines" / "Treatment <year>"
_CITATION = re.compile(r"Claims Administrator guideline:.*?(?=Decision rationale:)", re.S)
_TITLE_AFTER = re.compile(r"\s*(?:medical\s+)?(?:treatment\s+)?(?:guidelines?\b|\d{4}\b)", re.I)


def place(text: str, start: int, end: int) -> str | None:
    """'credentials', 'citation' (a guideline's title, chapter or section in the Claims
    Administrator / MAXIMUS guideline paragraph), 'title' (a name followed by "Guidelines" or
    "Treatment <year>" elsewhere) or None, for a span of the letter's text."""
    summary = text.find("CLINICAL CASE SUMMARY")
    if summary > 0 and start < summary:
        return "credentials"
    if any(m.start() <= start < m.end() for m in _CITATION.finditer(text)):
        return "citation"
    if _TITLE_AFTER.match(text, end):
        return "title"
    return None


def _without_procedure_filters(nlp):
    """`nlp` with the PROCEDURE rules of entity_filters.jsonl taken out: the rules as they
    were before issue 15 (the component's code does nothing without them)."""
    pipe = nlp.get_pipe("imr_entities")
    pipe.set_rules(
        [
            r
            for r in pipe.rules
            if not (
                r.get("label") == LABEL and any(k in r for k in ("after", "before", "in_section"))
            )
        ]
    )
    return nlp


def evaluate_procedures(gold_path, corpus, model=None, nlp=None):
    """{split: counts} (gold, predicted, exact, overlap, predicted_exact, predicted_overlap,
    and predicted spans `in credentials`, `in citation`, `in title`) for dev, test and all."""
    if nlp is None:
        init_worker(model, MAX_BYTES)
    else:
        use_pipeline(nlp, MAX_BYTES)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for gold in read_jsonl(gold_path):
        rows, text, _ = process_file(Path(corpus) / gold["source"])
        ents = {"entities": [{**p, "label": LABEL} for p in gold["procedures"]]}
        predicted = [e for e in rows["entities"] if e["label"] == LABEL]
        c, checks = score_letter(ents, predicted, text, [], labels={LABEL})
        invalid = checks["gold offsets valid"].count(False)
        for split in (gold["split"], "all"):
            for key, n in c[LABEL].items():
                counts[split][key] += n
            counts[split]["gold offsets invalid"] += invalid
            for p in predicted:
                where = place(text, p["start_char"], p["end_char"])
                if where:
                    counts[split][f"in {where}"] += 1
    return counts


def compare_filters(gold_path, corpus) -> dict[str, dict]:
    """{'before (no PROCEDURE filters)': counts, 'after (shipped)': counts}."""
    from imr_extract.api import build_pipeline

    before = evaluate_procedures(
        gold_path, corpus, nlp=_without_procedure_filters(build_pipeline())
    )
    after = evaluate_procedures(gold_path, corpus, nlp=build_pipeline())
    return {"before (no PROCEDURE filters)": before, "after (shipped)": after}


def print_procedures(results: dict[str, dict]) -> None:
    print("\n== PROCEDURE (annotations/procedures.jsonl)")
    print(
        f"{'rules':30}{'split':>6}{'gold':>6}{'pred':>6}   exact P / R / F1"
        f"        overlap P / R / F1     in credentials / citations / titles"
    )
    for name, counts in results.items():
        for split in [s for s in ("dev", "test", "all") if s in counts]:
            c = counts[split]
            exact = " / ".join(f"{x:.3f}" for x in _prf(c, "exact"))
            overlap = " / ".join(f"{x:.3f}" for x in _prf(c, "overlap"))
            places = f"{c['in credentials']:5d} / {c['in citation']:3d} / {c['in title']:d}"
            print(
                f"{name:30}{split:>6}{c['gold']:6d}{c['predicted']:6d}   {exact}"
                f"    {overlap}    {places}"
            )
            if c["gold offsets invalid"]:
                bad = c["gold offsets invalid"]
                print(f"  gold spans whose offsets do not match the text: {bad}")
