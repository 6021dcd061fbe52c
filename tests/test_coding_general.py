"""Issue 14, third round: coding rules that generalise beyond the letters they were written
on (abbreviations, a site phrase after the span, the sentence before, plurals, codes whose
title says "without" what the text has, a case summary's dominant part). Synthetic text only."""

from __future__ import annotations

import pytest

from imr_extract.components.coding import _dominant_part
from imr_extract.normalize.coding import Coder, words


@pytest.fixture(scope="module")
def coder(nlp) -> Coder:
    return nlp.get_pipe("imr_coding").coder


@pytest.mark.parametrize(
    "text, part, side, code",
    [
        ("C-spine pain", "20", "", "M54.2"),
        ("LS spine sprain", "42", "", "S33.5"),
        ("L/S spine strain", "42", "", "S39.012"),
        ("T-spine strain", "41", "", "S29.012"),
        ("B/L knee osteoarthritis", "53", "bilateral", "M17.0"),
        ("bilat. shoulder impingement", "38", "bilateral", "M75.40"),
        ("rt knee pain", "53", "right", "M25.561"),
        ("lt shoulder pain", "38", "left", "M25.512"),
        ("R knee pain", "53", "right", "M25.561"),
        ("L shoulder pain", "38", "left", "M25.512"),
        ("L4-5 disc herniation", "43", "", "M51.26"),  # a spinal level is not a side
        ("trochanteric bursitis", "51", "", "M70.60"),  # the condition that names its site
        ("subacromial impingement", "38", "", "M75.40"),
        ("cervical HNP", "22", "", "M50.20"),
    ],
)
def test_abbreviations_and_anatomical_synonyms(coder, text, part, side, code):
    values = coder.code(text)
    assert (values["body_part_code"], values["laterality"], values["icd10cm"]) == (
        part,
        side,
        code,
    )


def test_side_letters_need_a_limb_word():
    assert words("L knee") == ["left", "knee"]
    assert words("L5 radiculopathy") == ["l5", "radiculopathy"]
    assert words("Vitamin L level") == ["vitamin", "l", "level"]


@pytest.mark.parametrize(
    "text, code",
    [
        ("cervical spondylosis with radiculopathy", "M47.22"),
        ("lumbar spondylosis with myelopathy", "M47.16"),
        ("lumbar spondylosis", "M47.816"),
        ("lumbar stenosis with neurogenic claudication", "M48.062"),
        ("lumbar degenerative disc disease with radiculopathy", "M51.16"),
        ("fracture", "T14.8"),  # no site anywhere: coded by its words (annotations guide)
        ("stress fracture", "M84.30"),
        ("post-traumatic headaches", "G44.309"),  # a plural, as its singular
        ("lumbar strains", "S39.012"),
        ("right knee arthritis", "M17.11"),  # arthritis NOS is osteoarthritis in ICD-10-CM
        ("rheumatoid arthritis", "M06.9"),
        ("right shoulder partial rotator cuff tear", "M75.111"),
        ("recurrent dislocation of the left shoulder", "M24.412"),
        ("right thumb CMC arthritis", "M18.11"),  # the first CMC joint's own code, not M19.90
    ],
)
def test_more_conditions_by_site(coder, text, code):
    assert coder.code(text)["icd10cm"] == code


@pytest.mark.parametrize(
    "text",
    [
        "lumbar stenosis with radiculopathy",  # not "... without neurogenic claudication"?
        "fracture of the capitate",  # a carpal bone with its own codes: not "unspecified"
    ],
)
def test_no_code_that_contradicts_the_words(coder, text):
    values = coder.code(text)
    title = (values["icd10cm_title"] or "").lower()
    assert values["icd10cm"] is None or "unspecified carpal" not in title
    if "capitate" in text:
        assert values["icd10cm"] is None


def test_a_title_that_says_without_is_refused(coder):
    assert coder.code("cervical spondylosis without radiculopathy")["icd10cm"] == "M47.812"
    values = coder.code("lumbar spondylosis with radiculitis")
    assert values["icd10cm"] == "M47.26"


def test_a_site_phrase_after_the_span_is_its_site(coder):
    femur = coder.code("fracture", context="X-ray showed a \x00fracture\x00 of the right femur.")
    assert (femur["body_part_code"], femur["laterality"], femur["icd10cm"]) == (
        "52",
        "right",
        "S72.91",
    )
    # a word between ("fourth"): the part; the code only from the span's own sentence
    fourth = coder.code(
        "fracture",
        context="Films of the wrist show a \x00fracture\x00 of the fourth metacarpal and a sprain.",
    )
    assert (fourth["body_part_code"], fourth["icd10cm"]) == ("35", None)
    tarsal = coder.code(
        "fracture", context="CT: \x00fracture\x00 of unspecified tarsal bone of the left foot."
    )
    assert tarsal["laterality"] == "left"


def test_the_sentence_before_gives_a_site_only_where_no_code_fits_without(coder):
    before = "The patient had an MRI of the left knee."
    tear = coder.code("effusion", context="It showed an \x00effusion\x00.", previous=before)
    assert (tear["body_part_code"], tear["icd10cm"]) == ("53", "M25.462")
    radiculopathy = coder.code(
        "radiculopathy", context="He has \x00radiculopathy\x00.", previous="Lumbar MRI was done."
    )
    assert (radiculopathy["body_part_code"], radiculopathy["icd10cm"]) == ("65", "M54.10")
    alone = coder.code("effusion", context="It showed an \x00effusion\x00.")
    assert alone["body_part_code"] == "65"


def test_a_summary_takes_the_part_three_quarters_of_its_diagnoses_name():
    def dx(code):
        return (None, {"body_part_code": code})

    knee = [dx("53"), dx("53"), dx("53"), dx("90")]
    assert [v["body_part_code"] for _, v in _dominant_part(knee)] == ["53"] * 3
    mixed = [dx("42"), dx("42"), dx("20")]  # neck and low back: all of them (90)
    assert len(_dominant_part(mixed)) == 3
    disc = [dx("42"), dx("43"), dx("42"), dx("38")]  # a disc is its region's part
    assert [v["body_part_code"] for _, v in _dominant_part(disc)] == ["42", "43", "42"]


def test_sites_coordinated_before_the_span_are_its_own(coder):
    arm = coder.code("arm pain", context="He has neck, shoulder, and \x00arm pain\x00 today.")
    assert (arm["body_part_code"], arm["icd10cm"]) == ("90", None)  # several sites: no code
    spine = coder.code(
        "lumbar spine pain", context="Diagnoses: cervical/\x00lumbar spine pain\x00."
    )
    assert (spine["body_part_code"], spine["icd10cm"]) == ("90", None)
    sided = coder.code(
        "shoulder pain", context="She has left sided neck and \x00shoulder pain\x00."
    )
    assert (sided["body_part_code"], sided["laterality"]) == ("90", "left")
    # a list of diagnoses, a site after an article, a span that starts with its condition
    listed = coder.code("lumbar strain", context="Diagnoses: headaches, \x00lumbar strain\x00.")
    assert listed["icd10cm"] == "S39.012"
    mri = coder.code("shoulder pain", context="MRI of the knee and \x00shoulder pain\x00.")
    assert mri["body_part_code"] == "38"
    title = coder.code(
        "strain of muscle, fascia and tendon at neck level",
        context="Strain at upper arm level, right arm, and \x00strain of muscle, fascia and "
        "tendon at neck level\x00.",
    )
    assert (title["body_part_code"], title["icd10cm"]) == ("20", "S16.1")


def test_a_side_before_a_hyphen_and_a_fracture_among_several_parts(coder):
    carpal = coder.code(
        "sided carpal tunnel syndrome",
        context="She has right-\x00sided carpal tunnel syndrome\x00.",
    )
    assert (carpal["laterality"], carpal["icd10cm"]) == ("right", "G56.01")
    among = coder.code(
        "fracture", context="X-rays of the femur and the finger showed a \x00fracture\x00."
    )
    assert among["icd10cm"] is None  # one of the parts named, not "unspecified body region"
