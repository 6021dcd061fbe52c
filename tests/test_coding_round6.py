"""Issue 14, sixth round (0.9.0): what a decision's body part is read from, synthetic text only."""

from __future__ import annotations

from conftest import one_decision_letter

LETTER = one_decision_letter(
    "{summary}",
    "Tramadol 50mg #60: Upheld",
    "Opioids",
    "The documentation does not show functional improvement with prior use. The request is "
    "not medically necessary.",
)


def _decision(nlp, summary: str):
    from imr_extract.api import to_frames

    return to_frames([nlp(LETTER.format(summary=summary))])["decisions"].iloc[0]


def test_a_stated_diagnosis_to_rule_out_counts_for_the_part_not_the_links(nlp):
    summary = (
        "Diagnoses include left femoral neck fracture; r/o lumbar radiculopathy; and r/o left "
        "knee internal derangement."
    )
    decision = _decision(nlp, summary)
    assert decision["body_part_source"] == "summary"
    assert decision["body_part_code"] == "90"  # hip, low back and knee: several regions
    linked = decision["diagnoses"]
    assert list(linked) == ["left femoral neck fracture"]  # the present one only


def test_a_suspected_diagnosis_outside_the_stated_ones_does_not_count(nlp):
    summary = (
        "Diagnoses include left femoral neck fracture. The provider wants to rule out lumbar "
        "radiculopathy."
    )
    decision = _decision(nlp, summary)
    assert decision["body_part_code"] == "51"  # the hip alone
