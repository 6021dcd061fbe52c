"""The decision splitter on synthetic letter fragments, one layout quirk per test."""

import pytest

from imr_extract.components.decisions import (
    QA_CODES,
    DecisionRules,
    check_decisions,
    find_decisions,
)
from imr_extract.rules import packaged_rules

RULES = DecisionRules.from_rules(packaged_rules("decisions.jsonl"))
INTRO = "The Final Determination was based on decisions for the disputed items/services set forth below:"


def decide(body: str):
    text = INTRO + "\n" + body
    return text, find_decisions(text, 0, len(text), RULES)


def block(item_line: str, rationale: str = "Not medically necessary.") -> str:
    return (
        f"{item_line}\n"
        "Claims Administrator guideline: Decision based on MTUS Chronic Pain Treatment\n"
        "Guidelines, Page(s): 74-96.\n"
        "MAXIMUS guideline: Decision based on MTUS Chronic Pain Treatment Guidelines\n"
        "Page(s): 74-96.\n"
        f"Decision rationale: {rationale}\n"
    )


def test_outcome_on_the_same_line_and_parts():
    text, found = decide(block("Soma 350mg #90:  Upheld", "The drug is not\nrecommended."))
    assert [(d.item, d.outcome, d.partial) for d in found] == [("Soma 350mg #90", "Upheld", False)]
    parts = {name: text[s:e] for name, (s, e) in found[0].parts.items()}
    assert parts == {
        "claims_administrator_guideline": "Decision based on MTUS Chronic Pain Treatment\n"
        "Guidelines, Page(s): 74-96.",
        "maximus_guideline": "Decision based on MTUS Chronic Pain Treatment Guidelines\n"
        "Page(s): 74-96.",
        "rationale": "The drug is not\nrecommended.",
    }
    assert text[found[0].start : found[0].item_end] == "Soma 350mg #90"
    assert found[0].end == len(text.rstrip())


def test_outcome_alone_on_the_next_line_after_a_wrapped_item():
    text, found = decide(
        block(
            "Lumbar discogram at L3-4, L4-5 and L5-S1 with a control level under\nsedation:\nOverturned"
        )
    )
    assert [(d.item, d.outcome) for d in found] == [
        (
            "Lumbar discogram at L3-4, L4-5 and L5-S1 with a control level under sedation",
            "Overturned",
        )
    ]


def test_items_with_colons_inside():
    body = block("Labs to include: EKG, CMP: Upheld") + block(
        "MED: RX: 8/2/2014 Motrin 800MG #90 Refills: 1:  Overturned"
    )
    _, found = decide(body)
    assert [d.item for d in found] == [
        "Labs to include: EKG, CMP",
        "MED: RX: 8/2/2014 Motrin 800MG #90 Refills: 1",
    ]
    assert [d.outcome for d in found] == ["Upheld", "Overturned"]


def test_item_without_guideline_lines():
    body = "Cane for ambulation: Overturned\nDecision rationale: A cane is reasonable here.\n"
    body += block("Knee brace: Upheld")
    _, found = decide(body)
    assert [d.item for d in found] == ["Cane for ambulation", "Knee brace"]
    assert set(found[0].parts) == {"rationale"}
    assert set(found[1].parts) == {
        "claims_administrator_guideline",
        "maximus_guideline",
        "rationale",
    }


def test_partial_approval_wrapped_over_lines():
    item = (
        "Acupuncture for the neck, ten sessions was the original request. Acupuncture for the\n"
        "neck, six sessions was authorized by the Claims Administrator. The remaining IMR\n"
        "eligible portion of the original request, Acupuncture for the neck, four sessions is:\n"
        "Upheld"
    )
    _, found = decide(block("Xanax 1mg #30: Upheld") + block(item))
    d = found[1]
    assert (d.item, d.partial, d.outcome) == (
        "Acupuncture for the neck, four sessions",
        True,
        "Upheld",
    )
    assert d.original_request == "Acupuncture for the neck, ten sessions"
    assert d.authorized == "Acupuncture for the neck, six sessions"
    assert found[0].item == "Xanax 1mg #30" and not found[0].partial


def test_partial_approval_whose_first_sentence_ends_a_line():
    item = (
        "Norco 5/325mg #90 was the original request.\n"
        "Norco 5/325mg #45 was authorized by the Claims Administrator. The remaining IMR eligible\n"
        "portion of the original request, Norco 5/325mg #45 is: Upheld"
    )
    _, found = decide(block(item))
    assert (found[0].item, found[0].original_request) == ("Norco 5/325mg #45", "Norco 5/325mg #90")


def test_partial_approval_whole_request_still_eligible():
    item = (
        "Gabapentin 600mg #90 was the original request. The Claims Administrator authorized\n"
        "Gabapentin 600mg #30, leaving the original request IMR eligible. The original request,\n"
        "Gabapentin 600mg #90 is: Overturned"
    )
    _, found = decide(block(item))
    d = found[0]
    assert (d.item, d.partial, d.authorized, d.outcome) == (
        "Gabapentin 600mg #90",
        True,
        "Gabapentin 600mg #30",
        "Overturned",
    )


def test_rationale_that_mentions_overturned_is_not_a_decision():
    rationale = "The prior UR decision was overturned on appeal.\nThe request is necessary."
    _, found = decide(block("Home exercise kit: Overturned", rationale))
    assert len(found) == 1


def test_twenty_five_items_in_letter_order():
    items = [f"Item number {i} for the lumbar spine" for i in range(25)]
    body = "".join(
        block(f"{item}: {'Upheld' if i % 3 else 'Overturned'}") for i, item in enumerate(items)
    )
    _, found = decide(body)
    assert [d.item for d in found] == items
    assert [d.index for d in found] == list(range(25))
    assert found[0].outcome == "Overturned" and found[1].outcome == "Upheld"


@pytest.mark.parametrize("glue", ["\n", " "])
def test_decision_rationale_label_glued_to_guideline_text(glue):
    body = (
        "Brace: Upheld\nMAXIMUS guideline: Decision based on ODG, Knee Chapter."
        f"{glue}Decision rationale: Not needed.\n"
    )
    text, found = decide(body)
    s, e = found[0].parts["rationale"]
    assert text[s:e] == "Not needed."


@pytest.mark.parametrize(
    "line",
    [
        "FEXMID 7.5 MG #30:  Upheld .",
        "FEXMID 7.5 MG #30 - Upheld",
        "FEXMID 7.5 MG #30 \u2013 Upheld",
        "FEXMID 7.5 MG #30\u2014Upheld",
        "FEXMID 7.5 MG #30: Upheld\u200b",
        "FEXMID 7.5 MG #30:\u2003Upheld\u2003",
        "FEXMID 7.5 MG #30:\u00a0Upheld\u00a0",
        "FEXMID 7.5 MG #30\u200b: Upheld,",
        "FEXMID 7.5 MG #30:\nUpheld .",
        "FEXMID 7.5 MG #30 -\nUpheld\u200b",
    ],
)
def test_slightly_off_outcome_lines_are_decisions(line):
    text, found = decide(block("Norco 5/325mg #60: Overturned", "Reasonable.") + block(line))
    assert [(d.item, d.outcome) for d in found] == [
        ("Norco 5/325mg #60", "Overturned"),
        ("FEXMID 7.5 MG #30", "Upheld"),
    ]
    s, e = found[0].parts["rationale"]
    assert text[s:e] == "Reasonable."  # the item line is not swallowed by the rationale
    assert check_decisions(text, 0, len(text), found, RULES) == []


@pytest.mark.parametrize(
    "rationale",
    [
        "The earlier denial\nis upheld.",
        "The earlier denial of the same drug\nwas reviewed on appeal and upheld.",
        "The request is not necessary and the non-certification is\nupheld.",
        "Uphelding it is the only choice.",
    ],
)
def test_rationale_prose_ending_in_an_outcome_word_is_not_a_decision(rationale):
    text, found = decide(block("Home exercise kit: Overturned", rationale))
    assert [d.item for d in found] == ["Home exercise kit"]
    assert check_decisions(text, 0, len(text), found, RULES) == []


def test_no_recognisable_decision_gives_an_empty_list():
    text, found = decide("Norco 10/325mg #60, requested on 3/1/2016.\nDecision rationale: None.\n")
    assert found == []
    assert check_decisions(text, 0, len(text), found, RULES) == []


def test_letter_cut_right_after_an_outcome():
    text, found = decide(block("Soma 350mg #90: Upheld") + "Xanax 1mg #30: Overturned")
    assert [(d.item, d.outcome, set(d.parts)) for d in found][1] == (
        "Xanax 1mg #30",
        "Overturned",
        set(),
    )
    assert check_decisions(text, 0, len(text), found, RULES) == ["missing_rationale"]


QA_CASES = {
    # an item line in no known shape: its words run into the previous rationale
    "orphan_outcome_line": block("Soma 350mg #90: Upheld", "Not necessary.\nCane, Upheld")
    + block("Xanax 1mg #30: Overturned"),
    "repeated_part_label": block("Soma 350mg #90: Upheld")
    + "Decision rationale: A second rationale.\n",
    "missing_rationale": "Soma 350mg #90: Upheld\nMAXIMUS guideline: MTUS.\n"
    + block("Xanax 1mg #30: Upheld"),
    "truncated_rationale": block("Soma 350mg #90: Upheld", "The drug is not recommended for"),
}


@pytest.mark.parametrize("code", sorted(QA_CASES))
def test_each_structural_check_on_its_own(code):
    text, found = decide(QA_CASES[code])
    assert check_decisions(text, 0, len(text), found, RULES) == [code]
    assert found[0].item == "Soma 350mg #90"  # what was found is kept


def test_every_qa_code_of_the_splitter_has_a_case_here():
    assert set(QA_CASES) == set(QA_CODES)


def _found(text: str, rules: DecisionRules):
    found = find_decisions(text, 0, len(text), rules)
    return [vars(d) for d in found], check_decisions(text, 0, len(text), found, rules)


def test_lines_skipped_for_want_of_an_outcome_word_change_nothing():
    """Speed (issue 17): `_outcome_at` skips a line that holds no outcome value (lower case;
    not a line with one of FOLDS_TO_ASCII), the orphan check a line without one as written,
    and part labels are found by a pattern without groups. An empty word is in every line:
    with it nothing is skipped (the plain path). Every case of this file, run together, with the outcome cased every way and
    behind non-ASCII text, gives the same decisions, parts and flags both ways."""
    import dataclasses

    plain = dataclasses.replace(RULES, outcomes_lower=("",), outcomes_written=("",))
    lines = ["Norco 10/325mg #60: Upheld", "Lidoderm patch:  OVERTURNED", "Brace: upheld.", "Cane:"]
    lines += ["Upheld", "Overturned .", "TENS unit: UpHeld", "Caf\u00e9 visit: Overturned"]
    lines += ["\u212aenalog: Upheld", "Soma \u2013 Overturned\u200b", "the denial is upheld."]
    bodies = [block(line) for line in lines] + [block("Brace"), *QA_CASES.values()]
    bodies += ["".join(bodies), "Decision rationale: Upheld\nMAXIMUS guideline: x: Upheld\n"]
    for body in bodies:
        text = INTRO + "\n" + body
        assert _found(text, RULES) == _found(text, plain), body
    assert len(_found(INTRO + "\n" + "".join(bodies), RULES)[0]) >= 20
