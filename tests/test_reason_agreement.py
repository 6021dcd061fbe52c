"""The agreement of two reason-code annotations that make eval prints (kappa per code)."""

import json

from imr_extract.evaluate_reasons import agreement


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _decision(index, *codes, second=None):
    d = {
        "decision_index": index,
        "reasons": [{"code": c, "start_char": 10 * i, "end_char": 10 * i + 5} for i, c in codes],
    }
    if second is not None:
        d["second_coder"] = second
    return d


def test_agreement_counts_kappa_identical_sets_and_evidence_overlap(tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    _write(
        first,
        [
            {"_source": "header"},
            {
                "doc_id": "a",
                "split": "dev",
                "decisions": [
                    _decision(0, (1, "not_recommended")),
                    _decision(1, (2, "exceeds_guideline"), (3, "weaning")),
                    _decision(2, (4, "criteria_met")),
                    _decision(3, (5, "not_recommended")),
                ],
            },
            {
                "doc_id": "b",
                "split": "test",
                "decisions": [
                    _decision(0, (1, "criteria_met"), second=["criteria_met"]),
                    _decision(1, (1, "other"), second=["criteria_not_documented"]),
                ],
            },
        ],
    )
    _write(
        second,
        [
            {
                "doc_id": "a",
                "split": "dev",
                "decisions": [
                    _decision(0, (1, "not_recommended")),  # same code, same span
                    _decision(1, (2, "exceeds_guideline")),  # weaning missed
                    _decision(2, (9, "criteria_met")),  # same code, other span
                    _decision(3, (5, "not_recommended")),
                    _decision(7, (5, "other")),  # no such decision in the first: ignored
                ],
            }
        ],
    )
    result = agreement(first, second)
    dev, test = result["dev"], result["test"]
    assert dev["decisions"] == 4 and dev["identical"] == 3
    assert dev["kappa"]["not_recommended"] == 1.0
    assert dev["kappa"]["weaning"] == 0.0  # one says it once, the other never
    assert dev["kappa"]["opioid_monitoring"] is None
    assert dev["evidence"] == 3 / 4
    assert test["decisions"] == 2 and test["identical"] == 1 and test["evidence"] is None
    assert test["kappa"]["criteria_met"] == 1.0
    assert "dev" not in agreement(first)  # without the second file only test has pairs
