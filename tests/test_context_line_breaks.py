"""ConText triggers of negation and hypothesis written across a PDF line break ("no evidence\n
of") match as on one line (0.8.0); other categories stay phrases. Synthetic text only."""

from __future__ import annotations


def _context(nlp, text: str) -> dict[str, tuple[bool, bool]]:
    doc = nlp(text)
    return {
        e.text.replace("\n", " "): (e._.imr_negated, e._.imr_hypothetical)
        for e in doc.ents
        if e.label_ == "DIAGNOSIS"
    }


def test_a_negation_trigger_broken_by_a_line_break_still_negates(nlp):
    found = _context(
        nlp, "The MRI showed no evidence\nfor a Bankart lesion or posterior labral tear."
    )
    assert found["posterior labral tear"] == (True, False)
    found = _context(nlp, "There was no\nevidence of a fracture or dislocation.")
    assert found["fracture"][0] and found["dislocation"][0]


def test_a_hypothesis_trigger_broken_by_a_line_break_still_holds(nlp):
    found = _context(nlp, "An MRI is requested to rule\nout a meniscus tear of the right knee.")
    assert found["meniscus tear of the right knee"][1]


def test_the_line_break_categories_are_the_components_setting(nlp):
    context = nlp.get_pipe("imr_context")
    assert context.line_break_categories == {"NEGATED_EXISTENCE", "HYPOTHETICAL"}
    rule = context._across_line_breaks("no evidence of")
    assert [t.get("LOWER") for t in rule if "LOWER" in t] == ["no", "evidence", "of"]
    assert sum(t.get("IS_SPACE", False) for t in rule) == 2
