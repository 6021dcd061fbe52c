"""Issue 14, second round: ICD-10-CM rows generated from the code set, laterality from the
span's own phrase, a rationale's working diagnosis. Synthetic text only."""

from __future__ import annotations

import re

import pytest

from imr_extract.components.coding import _working_diagnosis
from imr_extract.icd10cm_map_gen import GENERATED, expand, generate, read_bases
from imr_extract.normalize.coding import Coder, span_side, words
from imr_extract.rules import packaged_rules

from conftest import LETTER_HEAD


@pytest.fixture(scope="module")
def coder(nlp) -> Coder:
    return nlp.get_pipe("imr_coding").coder


def mark(sentence: str, span: str) -> str:
    """The sentence with `span` marked as the entity (\x00 on both sides)."""
    start = sentence.index(span)
    return f"{sentence[:start]}\x00{span}\x00{sentence[start + len(span) :]}"


def test_the_generated_map_is_what_the_generator_writes():
    assert GENERATED.read_text(encoding="utf-8") == generate()


def test_generated_rows_say_their_side_in_the_code_title():
    import simple_icd_10_cm as cm

    sites = {r["site"] for r in packaged_rules("body_part_terms.csv")}
    rows = packaged_rules("icd10cm_map_generated.csv")
    assert len(rows) > 300
    for row in rows:
        title = cm.get_description(row["code"]).lower()
        assert len(row["code"].replace(".", "")) <= 6, row  # no 7th character
        assert row["site"] in sites | {""}, row
        if row["side"]:
            assert re.search(rf"\b{row['side']}\b", title), (row, title)
        else:
            assert not re.search(r"\b(right|left)\b", title), (row, title)


def test_the_generator_refuses_a_base_it_cannot_split_by_side():
    import simple_icd_10_cm as cm

    assert expand("M25.66", "knee", cm) == [
        ("right", "M25.661"),
        ("left", "M25.662"),
        ("", "M25.669"),
    ]
    assert expand("R68.84", "jaw", cm) == [("", "R68.84")]
    with pytest.raises(ValueError):
        expand("S63.61", "finger", cm)  # index, middle, ring ... finger: no one right code
    assert all(row["base"] for row in read_bases())


@pytest.mark.parametrize(
    "text, code",
    [
        ("sprain of the left thumb", "S63.602"),
        ("right knee stiffness", "M25.661"),
        ("contusion of the right thigh", "S70.11"),
        ("fracture of the right tarsal bone", "S92.201"),
        ("left metatarsal fracture", "S92.302"),
        ("lumbar facet arthropathy", "M47.816"),
        ("lumbar disc herniation with radiculopathy", "M51.16"),
        ("right shoulder bursitis", "M75.51"),
        ("ganglion cyst of the left wrist", "M67.432"),
        ("left lateral meniscus tear", "S83.282"),
        ("complex regional pain syndrome of the right upper extremity", "G90.511"),
        ("obstructive sleep apnea", "G47.33"),
        ("cervical strains", "S16.1"),
    ],
)
def test_generated_rows_code_common_conditions(coder, text, code):
    assert coder.code(text)["icd10cm"] == code


@pytest.mark.parametrize(
    "text",
    [
        "comminuted fracture of the right fibula",  # the bone's own codes say more
        "fracture of the right ring finger",  # one code per finger
    ],
)
def test_a_fracture_is_not_given_its_region_code_when_a_bone_says_more(coder, text):
    assert coder.code(text)["icd10cm"] is None


@pytest.mark.parametrize(
    "text, side",
    [
        ("pain in the neck, left shoulder, mid back and bilateral ankles", ""),
        ("left hand and right lower leg pain", ""),
        ("neck and right hand pain", "right"),
        ("bilateral hand and arm pain", "bilateral"),
        ("aching of the left wrist and left upper extremity", "left"),
        ("right knee pain", "right"),
        ("numbness of the lower extremities", "bilateral"),
    ],
)
def test_a_side_is_not_carried_to_the_other_sites_of_a_list(coder, text, side):
    tokens = words(text)
    sites = coder.body_part(tokens, [])["sites"]
    assert span_side(tokens, sites) == side


@pytest.mark.parametrize(
    "sentence, span, side, part",
    [
        (
            "Diagnoses: carpal tunnel syndrome, left upper limb; lumbar strain.",
            "carpal tunnel syndrome",
            "left",
            "34",
        ),
        (
            "Diagnoses: synovitis and tenosynovitis, right hand; neck pain.",
            "synovitis and tenosynovitis",
            "right",
            "35",
        ),
        ("Assessment: radiculopathy, cervical region (right arm).", "radiculopathy", "right", "20"),
        ("She has radicular pain in the legs bilaterally.", "radicular pain", "bilateral", "50"),
        ("There are bilateral L5 radicular symptoms.", "radicular symptoms", "bilateral", "42"),
        ("Diagnoses: lumbar strain, right shoulder strain.", "lumbar strain", "", "42"),
    ],
)
def test_a_side_written_in_the_span_own_phrase(coder, sentence, span, side, part):
    coded = coder.code(span, context=mark(sentence, span))
    assert coded["laterality"] == side
    assert coded["body_part_code"] == part


def test_the_next_item_of_a_list_is_not_the_span_site(coder):
    sentence = "Diagnoses: shoulder strain with impingement, bilateral elbow epicondylitis."
    coded = coder.code("impingement", context=mark(sentence, "impingement"))
    assert coded["body_part_code"] != "32"


def test_a_rationale_is_about_the_part_it_names_most():
    def dx(code):
        return (None, {"body_part_code": code})

    knee, back = dx("53"), dx("42")
    assert _working_diagnosis([knee, back, knee]) == [knee, knee]
    assert _working_diagnosis([knee, back]) == [knee, back]  # a tie: all of them
    disc = dx("43")  # a lumbar disc and the low back are one part
    assert _working_diagnosis([back, disc, knee]) == [back, disc]


LETTER = (
    LETTER_HEAD
    + """CLINICAL CASE SUMMARY
The expert reviewer developed the following clinical case summary based on a review of the
case file, including all medical records:
The injured worker is a 50-year-old female who reported an industrial injury on 2-9-15. She is
treated for right knee pain and low back pain.
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
Naproxen 550mg #60: Overturned
MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s):
NSAIDs.
Decision rationale: Guidelines recommend NSAIDs for acute exacerbations of chronic low back
pain and for neck pain at the lowest dose. In this case the injured worker has right knee pain
with swelling and the medication helps her walk, so it is medically necessary.
"""
)


def test_a_rationale_part_comes_from_its_sentences_about_the_patient(nlp):
    from imr_extract.api import to_frames

    decisions = to_frames([nlp(LETTER)])["decisions"].set_index("decision_index")
    naproxen = decisions.loc[0]
    assert naproxen["body_part_source"] == "rationale"
    assert (naproxen["body_part_code"], naproxen["laterality"]) == ("53", "right")
