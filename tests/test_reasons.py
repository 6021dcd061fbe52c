"""Reason codes: the rule forms of resources/reasons.jsonl on synthetic rationales."""

import pytest

from imr_extract.components.reasons import REASONS_KEY, _clause, _depends_on, _spaced

INTRO = "The Final Determination was based on decisions for the disputed items/services set forth below:"


def letter_head() -> str:
    """The packaged sample letter up to its decisions (so the decisions component finds them)."""
    from conftest import read_sample

    text = read_sample("CM16-9900001.txt")
    return text[: text.index(INTRO)]


def block(item: str, outcome: str, rationale: str) -> str:
    return (
        f"{item}:  {outcome}\n"
        "Claims Administrator guideline: Decision based on MTUS Chronic Pain Treatment\n"
        "Guidelines, Page(s): 74-96.\n"
        "MAXIMUS guideline: Decision based on MTUS Chronic Pain Treatment Guidelines\n"
        "Page(s): 74-96.\n"
        f"Decision rationale: {rationale}\n"
    )


def letter_text(*blocks: str) -> str:
    """A synthetic letter: the sample's head, then the decision blocks."""
    return letter_head() + INTRO + "\n" + "".join(blocks)


def reasons(nlp, *blocks: str) -> dict[int, dict[str, str]]:
    """{decision_index: {code: evidence}} of the letter made of `blocks`."""
    doc = nlp(letter_text(*blocks))
    found: dict[int, dict[str, str]] = {}
    for span in doc.spans[REASONS_KEY]:
        found.setdefault(span._.imr_decision_index, {})[span.label_] = span.text
    return found


def test_spaces_match_line_breaks_and_optional_spaces():
    import re

    assert re.search(_spaced("not recommended"), "is not\nrecommended")
    assert re.search(_spaced("long[- ]term use"), "long\nterm use")
    assert re.search(_spaced("under ?study"), "understudy")


def test_clauses_split_separate_findings():
    text = "He has not documented an exam nor has there been a failure of conservative care."
    first, second = _clause(text, (0, len(text)), 5), _clause(text, (0, len(text)), 60)
    assert first != second and text[first[0] : first[1]].endswith("exam")


def test_depends_on_the_letters_surgery_when_no_item_is_named():
    items = {0: "Right knee arthroscopy", 1: "Associated surgical service: Cold therapy unit"}
    outcomes = {0: "Upheld", 1: "Upheld"}
    evidence = "As the requested surgical intervention is not medically necessary, the requested ancillary service is not medically necessary."
    assert _depends_on(evidence, 1, items, outcomes) == 0


@pytest.fixture(scope="module")
def letter(nlp):
    return reasons(
        nlp,
        block(
            "Norco 10/325mg #90",
            "Upheld",
            "The MTUS Guidelines state that opioids are recommended for chronic pain if there is "
            "functional improvement. There is no documentation of objective functional improvement "
            "with the prior use of Norco. There is no documentation of a recent urine drug screen. "
            "Therefore, the request is not medically necessary.",
        ),
        block(
            "MRI of the lumbar spine",
            "Upheld",
            "According to the ACOEM Guidelines, an MRI is not recommended in the absence of red flags. "
            "There is no evidence of red flags or neurological deficits on the examination. "
            "Therefore, the request is not medically necessary.",
        ),
        block(
            "Post-operative physical therapy 12 sessions",
            "Upheld",
            "As the requested surgical intervention is not medically necessary, the associated "
            "post-operative therapy is not medically necessary. The request also failed to "
            "specify the body part to be treated.",
        ),
    )


def test_negated_findings_not_quoted_guidelines(letter):
    assert set(letter[0]) == {"no_functional_improvement", "opioid_monitoring"}
    assert letter[0]["no_functional_improvement"].startswith(
        "There is no documentation of objective"
    )


def test_conditional_not_recommended_is_a_missing_criterion(letter):
    assert set(letter[1]) == {"criteria_not_documented"}
    assert "red flags or neurological deficits" in letter[1]["criteria_not_documented"]


def test_depends_on_denied_and_request_incomplete(letter):
    assert set(letter[2]) == {"depends_on_denied", "request_incomplete"}


@pytest.fixture(scope="module")
def letter2(nlp):
    return reasons(
        nlp,
        block(
            "Physical therapy 12 sessions for the lumbar spine",
            "Upheld",
            "The patient has completed 24 sessions of physical therapy to date. The patient "
            "should be able to continue with an independent home exercise program. "
            "Therefore, the request is not medically necessary.",
        ),
        block(
            "MRI of the right knee",
            "Upheld",
            "The patient is currently responding to physical therapy and the course has not "
            "been completed. Therefore, the request is not medically necessary.",
        ),
        block(
            "Cyclobenzaprine 7.5mg #60",
            "Upheld",
            "The guidelines state that the addition of cyclobenzaprine to other agents is not "
            "recommended. The patient has used this muscle relaxant for over six months, in "
            "excess of the short-term use the guidelines recommend. Therefore, the request is "
            "not medically necessary.",
        ),
    )


def test_home_exercise_program_is_other(letter2):
    assert "other" in letter2[0]
    assert "home exercise program" in letter2[0]["other"]


def test_conservative_care_under_way_is_first_line_not_tried(letter2):
    assert set(letter2[1]) == {"first_line_not_tried"}
    assert letter2[1]["first_line_not_tried"].startswith("The patient is currently responding")


def test_combination_guideline_sentence_is_not_a_verdict(letter2):
    assert "not_recommended" not in letter2[2]
    assert letter2[2]["exceeds_guideline"].startswith("The patient has used")
