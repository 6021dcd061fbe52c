"""evaluate_links: the diagnoses linked to a decision and its primary, scored against a
hand-read gold (synthetic rows)."""

from __future__ import annotations

from collections import defaultdict

import pytest


def _entity(entity_id, start, end, code, decision_index=None, part=None, indexes=(), **flags):
    return {
        "entity_id": entity_id,
        "label": "DIAGNOSIS",
        "start_char": start,
        "end_char": end,
        "icd10cm": code,
        "decision_index": decision_index,
        "decision_part": part,
        "decision_indexes": ";".join(str(k) for k in indexes) or None,  # as in a table row
        "negated": flags.get("negated", False),
        "hypothetical": False,
        "family": False,
    }


def test_links_and_primary_are_scored_against_the_gold():
    from imr_extract.evaluate_links import score_letter, summary

    spans = [  # gold DIAGNOSIS spans: two in the summary, two in decision 0's block
        {"start": 10, "end": 20, "icd10cm": "M54.16"},
        {"start": 30, "end": 40, "icd10cm": "M25.561"},
        {"start": 110, "end": 120, "icd10cm": "M54.16"},
        {"start": 130, "end": 140, "icd10cm": "M19.90"},
    ]
    flags = {(130, 140): {"negated": True}}  # a negated block diagnosis is not linked
    gold = {
        "decisions": [
            {
                "decision_index": 0,
                "block_start": 100,
                "block_end": 200,
                "summary_links": [{"start": 10, "end": 20}],
                "primary": {"start": 110, "end": 120, "icd10cm": "M54.16"},
            },
            {
                "decision_index": 1,
                "block_start": 200,
                "block_end": 300,
                "summary_links": [],
                "primary": None,
            },
        ]
    }
    rows = {
        "entities": [
            _entity(1, 10, 20, "M54.16", indexes=[0]),
            _entity(2, 30, 40, "M25.561", indexes=[0]),  # linked, but not in the gold
            _entity(3, 110, 120, "M54.10", decision_index=0, part="rationale"),
            _entity(4, 130, 140, "M19.90", decision_index=0, part="rationale", negated=True),
        ],
        "decisions": [
            {"decision_index": 0, "primary_icd10cm": "M54.10"},
            {"decision_index": 1, "primary_icd10cm": None},
        ],
    }
    stats = defaultdict(int)
    score_letter(gold, spans, flags, rows, stats)
    result = summary(stats)
    assert result["linked diagnoses recall"] == (1.0, 2)
    assert result["linked diagnoses precision"] == (pytest.approx(2 / 3), 3)
    assert result["recall, summary diagnoses"] == (1.0, 1)
    # the primary's code differs from the gold's (a coding error), but it is the code the
    # pipeline gave that diagnosis: the link is right
    assert result["primary_icd10cm full code"] == (0.0, 1)
    assert result["primary_icd10cm category"] == (1.0, 1)
    assert result["primary = its diagnosis's code"] == (1.0, 1)
    assert result["no primary when the gold has none"] == (1.0, 1)
