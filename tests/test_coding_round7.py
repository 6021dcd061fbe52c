"""Issue 14, seventh round (0.10.0): sides as MRI reports and symptom lists write them, and the
codes and parts of common conditions read from the code set. Synthetic text only."""

from __future__ import annotations

import pytest


def _side(nlp, context: str) -> str:
    coder = nlp.get_pipe("imr_coding").coder
    return coder.code(context.split("\x00")[1], context=context)["laterality"]


@pytest.mark.parametrize(
    ("context", "side"),
    [
        ("Imaging showed a right paracentral \x00disc protrusion\x00 at L5-S1.", "right"),
        ("There is a left far lateral \x00disc herniation\x00 at L3-4.", "left"),
        ("The scan shows right lateral recessed \x00disc extrusion\x00 below the disc.", "right"),
        ("It found left foraminal \x00stenosis\x00 at C5-6.", "left"),
        ("It found lateral \x00stenosis\x00 at C5-6.", ""),  # where, but no side
    ],
)
def test_a_side_before_the_place_in_the_canal_is_the_side(nlp, context, side):
    """MRI reports put where in the canal between the side and the finding."""
    assert _side(nlp, context) == side


@pytest.mark.parametrize(
    ("context", "side"),
    [
        ("She has neck pain and left and \x00right elbow pain\x00 at work.", "bilateral"),
        ("She has neck pain and right & \x00left hip pain\x00 at work.", "bilateral"),
        ("She has left knee pain and \x00left hip pain\x00 at work.", "left"),  # one side twice
        ("She has neck pain and \x00right elbow pain\x00 at work.", "right"),
    ],
)
def test_left_and_right_before_a_sided_span_is_both_sides(nlp, context, side):
    assert _side(nlp, context) == side


@pytest.mark.parametrize(
    ("context", "side"),
    [
        ("He has \x00lumbar pain\x00 that radiates to the calves bilaterally.", ""),
        ("He has \x00lumbar pain\x00 with radiation into the feet bilaterally.", ""),
        ("He has \x00low back pain\x00 extending down the legs bilaterally.", ""),
        ("He has \x00numbness\x00 in the feet bilaterally.", "bilateral"),  # its own phrase
    ],
)
def test_bilaterally_after_a_radiation_is_the_side_of_where_it_spreads(nlp, context, side):
    """The side of "radiates to the calves bilaterally" is the calves', not the back pain's."""
    assert _side(nlp, context) == side


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("neurologic compromise", "R29.818"),  # index: Deficit, neurologic NEC
        ("focal neurological deficits", "R29.818"),
        ("cauda equina", "G83.4"),  # a red flag: the syndrome
        ("upper abdominal pain", "R10.10"),
        ("lower abdominal pain", "R10.30"),
        ("epigastric pain", "R10.13"),
        ("abdominal pain", "R10.9"),  # unchanged
        ("left medial collateral ligament sprain", "S83.412"),
        ("right fibular collateral ligament sprain", "S83.421"),
        ("tibial collateral ligament sprain", "S83.419"),
    ],
)
def test_conditions_of_the_fourth_map_version_take_their_codes(nlp, text, code):
    assert nlp.get_pipe("imr_coding").coder.code(text)["icd10cm"] == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("cardiovascular disease", "I25.10"),  # index: Disease, cardiovascular
        ("left shoulder internal derangement", "M24.812"),
        ("internal derangement of the right hip", "M24.851"),
        ("right knee internal derangement", "M23.91"),  # the knee keeps its own code
        ("right thigh muscle atrophy", "M62.551"),
        ("atrophy of the left shoulder", "M62.512"),
    ],
)
def test_derangement_and_atrophy_take_the_code_of_their_joint_or_limb(nlp, text, code):
    assert nlp.get_pipe("imr_coding").coder.code(text)["icd10cm"] == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("spondylolisthesis", "M43.10"),
        ("lumbar spondylolisthesis", "M43.16"),  # a site keeps its code
        ("facet arthropathy", "M47.819"),
        ("right tinnitus", "H93.11"),
        ("tinnitus", "H93.19"),
        ("left TMJ dysfunction", "M26.602"),
        ("hallux valgus", "M20.10"),
        ("costochondritis", "M94.0"),  # an inclusion term of M94.0
        ("left ankle fracture", "S82.892"),  # Fracture of ankle NOS: S82.89-
        ("rib fracture", "S22.39"),  # one rib
        ("rib fractures", "S22.49"),  # several
        ("post-concussive syndrome", "F07.81"),
        ("neurogenic bladder", "N31.9"),
    ],
)
def test_common_conditions_without_a_row_before_take_their_codes(nlp, text, code):
    assert nlp.get_pipe("imr_coding").coder.code(text)["icd10cm"] == code


def test_costochondritis_is_of_the_chest(nlp):
    assert nlp.get_pipe("imr_coding").coder.code("costochondritis")["body_part_code"] == "44"


@pytest.mark.parametrize(
    ("text", "code", "part"),
    [
        ("cervical muscle spasm", "M62.838", "20"),  # the neck is not the back (M62.830)
        ("lumbar muscle spasm", "M62.830", "42"),
        ("left knee chondromalacia", "M94.262", "53"),
        ("chondromalacia patella", "M22.40", "53"),  # the patella keeps its own code
        ("sexual dysfunction", "R37", "65"),
        ("right prepatellar bursitis", "M70.41", "53"),
        ("brachial plexopathy", "G54.0", "65"),
        ("left thumb CMC arthritis", "M18.12", "37"),
        ("metatarsalgia", "M77.40", "56"),
        ("lumbar spondylolysis", "M43.06", "42"),
        ("thoracic kyphosis", "M40.204", "41"),
        ("psychological factors affecting medical condition", "F54", "66"),
        ("hemorrhoids", "K64.9", "91"),  # digestive, as GERD
        ("asthma", "J45.909", "60"),  # the lungs, as "pulmonary"
        ("cervical disc herniation with myelopathy", "M50.00", "22"),
    ],
)
def test_more_common_conditions_take_their_codes_and_parts(nlp, text, code, part):
    values = nlp.get_pipe("imr_coding").coder.code(text)
    assert (values["icd10cm"], values["body_part_code"]) == (code, part)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("left elbow dislocation", "S53.105"),  # the ulnohumeral joint
        ("right knee subluxation", "S83.101"),
        ("patellar dislocation", "S83.006"),  # the patella, not the knee
        ("right AC separation", "S43.101"),  # the index: see Dislocation, acromioclavicular
        ("left patella fracture", "S82.002"),
        ("hernia", "K46.9"),
    ],
)
def test_dislocations_and_other_injuries_by_joint(nlp, text, code):
    assert nlp.get_pipe("imr_coding").coder.code(text)["icd10cm"] == code


def test_an_unspecified_body_region_code_is_never_given_beside_a_site(nlp):
    """T14 is "injury of unspecified body region": an abrasion of the knee is not that."""
    coder = nlp.get_pipe("imr_coding").coder
    assert coder.code("abrasion")["icd10cm"] == "T14.8"
    knee = coder.code("abrasion of the right knee")
    assert (knee["icd10cm"], knee["body_part_code"]) == (None, "53")


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("carpal tunnel syndrome, right upper limb", "right"),  # an ICD-10-CM title's words
        ("carpal tunnel syndrome, bilateral upper limbs", "bilateral"),
        ("therapy for the left hand, right lower leg", ""),  # two sides: not the last one's
    ],
)
def test_a_span_that_ends_with_its_sided_site_in_title_style_has_that_side(nlp, text, side):
    assert nlp.get_pipe("imr_coding").coder.code(text)["laterality"] == side


@pytest.mark.parametrize(
    ("text", "code", "part"),
    [
        ("right femoroacetabular impingement", "M25.851", "51"),
        ("DeQuervain's tenosynovitis", "M65.4", "34"),  # written as one word
        ("myofascial syndrome", "M79.18", "65"),
        ("polyarthralgia", "M25.50", "65"),
        ("generalized pain", "R52", "65"),  # R52 includes "Generalized pain NOS"
    ],
)
def test_the_last_common_conditions_take_their_codes_and_parts(nlp, text, code, part):
    values = nlp.get_pipe("imr_coding").coder.code(text)
    assert (values["icd10cm"], values["body_part_code"]) == (code, part)
