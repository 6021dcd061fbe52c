"""Issue 14, fifth round (0.8.0): a decision whose item and rationale name no part takes the
part of the diagnoses the case summary states ("Diagnoses: ..."), not of every complaint;
a condition written beside a site its map rows lack takes the code of its own words.
Synthetic text only."""

from __future__ import annotations

import pytest

from conftest import one_decision_letter

LETTER = one_decision_letter(
    "{summary}",
    "Eight physical therapy sessions: Upheld",
    "Physical Medicine",
    "Guidelines allow for fading of treatment frequency plus active\nself-directed home "
    "physical medicine. The request is not medically necessary.",
)


def _frames(nlp, summary: str):
    from imr_extract.api import to_frames

    return to_frames([nlp(LETTER.format(summary=summary))])


def test_a_summary_part_comes_from_the_stated_diagnoses_not_every_complaint(nlp):
    summary = (
        "She complains of neck pain, right shoulder pain and low back pain. "
        "Diagnoses: lumbar disc displacement."
    )
    decision = _frames(nlp, summary)["decisions"].iloc[0]
    assert decision["body_part_source"] == "summary"
    assert decision["body_part_code"] == "43"  # a lumbar disc, not 90 for all the complaints


def test_a_summary_without_stated_diagnoses_still_takes_all_its_parts(nlp):
    summary = "She complains of neck pain, right shoulder pain and low back pain."
    decision = _frames(nlp, summary)["decisions"].iloc[0]
    assert decision["body_part_source"] == "summary"
    assert decision["body_part_code"] == "90"


def test_a_condition_beside_a_site_its_rows_lack_takes_its_own_code(nlp):

    coder = nlp.get_pipe("imr_coding").coder  # the coder the pipeline uses
    values = coder.code("radiculopathy", context="The right wrist exam showed radiculopathy.")
    assert values["body_part_code"] == "34"
    assert values["icd10cm"] == "M54.10"
    # a fracture of a bone the map has no row for stays uncoded, never T14.8 "unspecified"
    bone = coder.code("fracture", context="X-rays of the sternum showed a fracture.")
    assert bone["body_part_code"] == "44" and bone["icd10cm"] is None
    # a site the rows have keeps its own code
    lumbar = coder.code("radiculopathy", context="MRI of the lumbar spine; radiculopathy.")
    assert lumbar["icd10cm"] == "M54.16"


def _diagnoses(nlp, summary: str) -> dict[str, dict]:
    entities = _frames(nlp, summary)["entities"]
    rows = entities[entities["label"] == "DIAGNOSIS"].astype(object).to_dict("records")
    return {r["text"].replace("\n", " "): r for r in rows}


def test_named_kinds_of_a_condition_are_one_span_with_their_own_code(nlp):
    summary = (
        "Diagnoses: migraine headaches, post concussion syndrome, febrile seizures, basilar "
        "skull fracture, CRPS II and lumbago with sciatica. She also has left median "
        "neuropathy. MRI of the lumbar spine showed thecal sac narrowing at L4-5. She reports "
        "right buttock pain."
    )
    found = _diagnoses(nlp, summary)
    expected = {
        "migraine headaches": "G43.909",
        "post concussion syndrome": "F07.81",
        "febrile seizures": "R56.00",
        "basilar skull fracture": "S02.109",
        "CRPS II": "G56.40",
        "lumbago with sciatica": "M54.40",
        "left median neuropathy": "G56.12",
        "thecal sac narrowing": "M48.061",
        "right buttock pain": "M79.18",
    }
    for text, code in expected.items():
        assert text in found, (text, sorted(found))
        assert found[text]["icd10cm"] == code, (text, found[text]["icd10cm"])


def test_brain_heart_and_lung_conditions_take_their_wcio_part(nlp):
    coder = nlp.get_pipe("imr_coding").coder
    assert coder.code("post-traumatic amnesia")["body_part_code"] == "12"
    assert coder.code("tachycardia")["body_part_code"] == "49"
    assert coder.code("pneumothorax")["body_part_code"] == "60"


def test_a_gi_drug_is_91_from_what_its_rationale_weighs(nlp):
    from imr_extract.api import to_frames

    letter = LETTER.format(summary="Diagnoses: lumbar sprain.").replace(
        "Eight physical therapy sessions: Upheld", "Omeprazole 20mg #60: Upheld"
    )
    decision = to_frames([nlp(letter)])["decisions"].iloc[0]
    assert decision["body_part_code"] == "91"
    assert decision["body_part_source"] == "rationale"  # as the annotation guide has it


def test_a_thickness_tear_at_the_shoulder_is_a_rotator_cuff_tear(nlp):
    coder = nlp.get_pipe("imr_coding").coder
    full = coder.code("full thickness tear", context="Shoulder MRI: full thickness tear.")
    assert full["icd10cm"] == "M75.120"
    partial = coder.code("right shoulder partial-thickness tear")
    assert partial["icd10cm"] == "M75.111"
    assert coder.code("full thickness tear")["icd10cm"] is None  # no site: no guess


def test_agreement_of_two_readings_of_the_decisions_by_split(tmp_path, capsys):
    import json

    from imr_extract.evaluate_codes import item_agreement, print_item_agreement

    def write(path, rows):
        lines = [json.dumps({"_source": "synthetic"})]
        for doc_id, split, decisions in rows:
            lines.append(
                json.dumps(
                    {
                        "doc_id": doc_id,
                        "source": f"{doc_id}.txt",
                        "split": split,
                        "decisions": [
                            {
                                "decision_index": i,
                                "item": "x",
                                "body_part_code": part,
                                "laterality": side,
                                "body_part_source": source,
                            }
                            for i, (part, side, source) in enumerate(decisions)
                        ],
                    }
                )
            )
        path.write_text("\n".join(lines) + "\n")

    first, second = tmp_path / "items.jsonl", tmp_path / "items_second.jsonl"
    write(
        first,
        [
            ("a", "dev", [("42", "", "item"), ("53", "right", "item")]),
            ("b", "test", [("20", "", "summary"), ("91", "", "rationale")]),
        ],
    )
    write(
        second,
        [
            ("a", "dev", [("42", "", "item"), ("53", "", "item")]),
            ("b", "test", [("90", "", "summary"), ("91", "", "rationale")]),
        ],
    )
    result = item_agreement(first, second)
    assert result["dev"]["decisions"] == 2 and result["all"]["decisions"] == 4
    assert result["dev"]["body part agreement"] == 1.0
    assert result["dev"]["laterality agreement"] == 0.5
    assert result["test"]["body part agreement"] == 0.5
    assert result["all"]["body part agreement"] == 0.75
    assert result["all"]["body_part_source agreement"] == 1.0
    print_item_agreement(result)
    printed = capsys.readouterr().out
    assert "items_second.jsonl" in printed
    assert "body part agreement                  1.000     0.500     0.750" in printed


@pytest.mark.parametrize(
    "text, code",
    [
        ("gout", "M10.9"),
        ("hyperlipidemia", "E78.5"),
        ("obstructive sleep apnea", "G47.33"),
        ("tarsal tunnel syndrome", "G57.50"),
        ("Morton's neuroma", "G57.60"),
        ("whiplash injury", "S13.4"),
        ("rheumatoid arthritis", "M06.9"),
        ("type 2 diabetes mellitus", "E11.9"),
        ("trochanteric bursitis", "M70.60"),
        ("achilles tendinitis", "M76.60"),
        ("cervicogenic headache", "G44.86"),
        ("COPD", "J44.9"),
        ("coccydynia", "M53.3"),
        ("rupture of the ACL", "S83.519"),
    ],
)
def test_conditions_the_map_codes_are_found_as_one_span(nlp, text, code):
    found = _diagnoses(nlp, f"Diagnoses: {text}.")
    assert text in found, sorted(found)
    assert found[text]["icd10cm"] == code


def _naproxen(nlp, rationale: str):
    from imr_extract.api import to_frames

    letter = (
        LETTER.format(summary="Diagnoses: lumbar sprain.")
        .replace("Eight physical therapy sessions: Upheld", "Naproxen 550mg #60: Upheld")
        .replace(
            "Guidelines allow for fading of treatment frequency plus active\nself-directed home "
            "physical medicine.",
            rationale,
        )
    )
    return to_frames([nlp(letter)])["decisions"].iloc[0]


def test_the_primary_is_the_patients_condition_not_a_guidelines_words(nlp):
    guideline = _naproxen(nlp, "MTUS recommends NSAIDs for osteoarthritis.")
    assert guideline["primary_icd10cm"] == "S33.5"  # the summary's, not M19.90 of the quote
    patient = _naproxen(nlp, "The injured worker has lumbar radiculopathy.")
    assert patient["primary_icd10cm"] == "M54.16"


def test_a_psychiatric_item_links_the_summarys_psychiatric_diagnoses(nlp):
    from imr_extract.api import to_frames

    letter = LETTER.format(summary="Diagnoses: major depressive disorder and lumbar sprain.")
    letter = letter.replace(
        "Eight physical therapy sessions: Upheld", "Psychological testing: Upheld"
    )
    decision = to_frames([nlp(letter)])["decisions"].iloc[0]
    assert decision["body_part_code"] == "66"
    assert list(decision["diagnoses"]) == ["major depressive disorder"]  # not the lumbar sprain
    assert decision["primary_icd10cm"].startswith("F32")
