"""Issue 14, sixth round (0.9.0): decision body parts, lesions, site-less injuries and sides.
Synthetic text only."""

from __future__ import annotations

import pytest

from conftest import one_decision_letter

LETTER = one_decision_letter(
    "{summary}",
    "Tramadol 50mg #60: Upheld",
    "Opioids",
    "The documentation does not show functional improvement with prior use. The request is "
    "not medically necessary.",
)


def _decision_of(nlp, text: str):
    from imr_extract.api import to_frames

    return to_frames([nlp(text)])["decisions"].iloc[0]


def _decision(nlp, summary: str):
    return _decision_of(nlp, LETTER.format(summary=summary))


def test_a_stated_diagnosis_to_rule_out_counts_for_the_part_not_the_links(nlp):
    summary = "Diagnoses: right hip fracture; r/o cervical radiculopathy; r/o right ankle sprain."
    decision = _decision(nlp, summary)
    assert decision["body_part_source"] == "summary"
    assert decision["body_part_code"] == "90"  # hip, neck and ankle: several regions
    linked = decision["diagnoses"]
    assert list(linked) == ["right hip fracture"]  # the present one only


def test_a_suspected_diagnosis_outside_the_stated_ones_does_not_count(nlp):
    summary = (
        "Diagnoses: right hip fracture. The physician wants to rule out cervical radiculopathy."
    )
    decision = _decision(nlp, summary)
    assert decision["body_part_code"] == "51"  # the hip alone


def _drug_letter(summary: str, rationale: str, item: str = "Naproxen 550mg #60: Upheld") -> str:
    return one_decision_letter(summary, item, "NSAIDs", rationale)


def test_a_rationale_that_only_quotes_guidelines_leaves_the_part_to_the_summary(nlp):
    """The rationale's part is that of the diagnoses it says this patient has; a guideline's
    words ("recommended for chronic low back pain") are not what it is about."""
    summary = "Diagnoses: cervical radiculopathy."
    quoted = (
        "MTUS supports NSAIDs for brief use in flares of chronic low back pain. "
        "The request is not medically necessary."
    )
    decision = _decision_of(nlp, _drug_letter(summary, quoted))
    assert decision["body_part_source"] == "summary"
    assert decision["body_part_code"] == "20"
    about = (
        "MTUS supports NSAIDs for brief use in flares of chronic low back pain. "
        "The patient has chronic low back pain without documented improvement. The request "
        "is not medically necessary."
    )
    decision = _decision_of(nlp, _drug_letter(summary, about))
    assert decision["body_part_source"] == "rationale"
    assert decision["body_part_code"] == "42"


def test_every_sleep_aid_of_the_hypnotic_class_is_a_sleep_aid(nlp):
    coder = nlp.get_pipe("imr_coding").coder
    for item in ("Sonata 10mg #30", "Belsomra 10mg #30", "Dicopanol 5mg/ml 150ml"):
        assert coder.code(item, default_part="")["body_part_code"] == "66", item


def test_agreement_of_two_readings_is_measured_before_adjudication(tmp_path):
    """items.jsonl holds the adjudicated code; the agreement of the two independent readings
    is that of the first reading (`first_reading`), not of the settled one."""
    import json

    from imr_extract.evaluate_codes import item_agreement

    def row(decision: dict) -> str:
        base = {"decision_index": 0, "item": "x", "laterality": "", "body_part_source": "summary"}
        return json.dumps(
            {"doc_id": "a", "source": "a.txt", "split": "dev", "decisions": [{**base, **decision}]}
        )

    first, second = tmp_path / "items.jsonl", tmp_path / "items_second.jsonl"
    settled = {"body_part_code": "43", "first_reading": {"body_part_code": "42"}}
    first.write_text(json.dumps({"_source": "synthetic"}) + "\n" + row(settled) + "\n")
    second.write_text(json.dumps({"_source": "synthetic"}) + "\n" + row({"body_part_code": "43"}))
    assert item_agreement(first, second)["dev"]["body part agreement"] == 0.0


def test_site_less_injuries_take_the_codes_of_their_tabular_inclusion_terms(nlp):
    coder = nlp.get_pipe("imr_coding").coder
    assert coder.code("contusion")["icd10cm"] == "T14.8"  # T14.8 includes "Contusion NOS"
    assert coder.code("abrasions")["icd10cm"] == "T14.8"  # and "Abrasion NOS"
    assert coder.code("injuries")["icd10cm"] == "T14.90"  # T14.90 includes "Injury NOS"
    assert coder.code("right knee contusion")["icd10cm"] == "S80.01"  # a site keeps its code
    # a site the rows lack, written beside it: no "unspecified region" code
    assert (
        coder.code("contusion", context="The sternum had a \x00contusion\x00.")["icd10cm"] is None
    )


def _rationale_diagnoses(nlp, item: str, rationale: str) -> dict[str, dict]:
    from imr_extract.api import to_frames

    text = one_decision_letter("Diagnoses: left hip strain.", item, "Hip and Pelvis", rationale)
    entities = to_frames([nlp(text)])["entities"]
    rows = entities[(entities["label"] == "DIAGNOSIS") & (entities["decision_part"] == "rationale")]
    return {r["text"]: r for r in rows.astype(object).to_dict("records")}


def test_a_site_less_lesion_in_the_rationale_of_a_named_part_is_of_that_part(nlp):
    rationale = (
        "Guidelines support this imaging for osteonecrosis, occult fracture or tumor, and "
        "not for complex regional pain syndrome. The request is not medically necessary."
    )
    found = _rationale_diagnoses(nlp, "MRI of the right hip: Upheld", rationale)
    for lesion in ("osteonecrosis", "fracture", "tumor"):
        assert found[lesion]["body_part_code"] == "51", lesion
        assert not isinstance(found[lesion]["laterality"], str)  # the item's side, not its own
    assert found["fracture"]["icd10cm"] == "T14.8"  # still coded by its own words
    assert found["complex regional pain syndrome"]["body_part_code"] == "65"  # not a lesion


def test_a_site_less_lesion_of_an_item_that_names_no_part_stays_unclassified(nlp):
    rationale = (
        "Guidelines recommend this drug only after fracture or tumor are excluded. The request "
        "is not medically necessary."
    )
    found = _rationale_diagnoses(nlp, "Tramadol 50mg #60: Upheld", rationale)
    assert found["fracture"]["body_part_code"] == "65"


@pytest.mark.parametrize(
    "context, side",
    [
        ("He has \x00radiculopathy\x00 on the right L5 root.", "right"),
        ("Closed \x00fracture of multiple ribs\x00 of left side.", "left"),
        ("There is \x00radiculopathy\x00 on the right and left.", ""),  # both: not one side
        ("\x00Low back pain\x00 radiating to the right leg.", ""),  # another part's side
    ],
)
def test_a_side_phrase_right_after_the_span_is_its_side(nlp, context, side):
    coder = nlp.get_pipe("imr_coding").coder
    text = context.split("\x00")[1]
    assert coder.code(text, context=context)["laterality"] == side


def test_anatomical_names_give_the_part_they_name(nlp):
    coder = nlp.get_pipe("imr_coding").coder
    for text in (
        "sprain of the tibial collateral ligament",
        "left fibular collateral ligament sprain",
        "posterior cruciate ligament tear",
    ):
        assert coder.code(text)["body_part_code"] == "53", text
    headache = coder.code("cervicogenic headache")  # a headache (10), not neck + head (90)
    assert (headache["body_part_code"], headache["icd10cm"]) == ("10", "G44.86")
    # in a list of a knee MRI's findings, the knee ligaments no longer add a lower leg (54)
    context = (
        "A left knee MRI showed \x00joint effusion\x00, a tibial collateral ligament strain and "
        "a fibular collateral ligament tear."
    )
    values = coder.code("joint effusion", context=context)
    assert (values["body_part_code"], values["laterality"]) == ("53", "left")


def test_a_summary_of_a_disc_among_its_areas_diagnoses_takes_the_part_most_name(nlp):
    most = "Diagnoses: lumbar sprain, lumbar radiculopathy and lumbar disc herniation."
    assert _decision(nlp, most)["body_part_code"] == "42"  # two of three are the low back
    even = "Diagnoses: lumbar radiculopathy and lumbar disc herniation."
    assert _decision(nlp, even)["body_part_code"] == "43"  # a tie: the disc, as before


def test_the_working_diagnosis_outranks_other_stated_diagnoses(nlp):
    summary = (
        "Carpal tunnel syndrome was diagnosed under another claim. Her current diagnosis is "
        "thoracic strain."
    )
    assert _decision(nlp, summary)["body_part_code"] == "41"  # not wrist + upper back (90)
