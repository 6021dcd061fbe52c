"""Start-up (issue 17): what is compiled only when needed gives what was compiled at load."""

from imr_extract.components.reasons import REASONS_KEY
from test_reasons import block, letter_text


def _found(nlp, rationale: str) -> list[tuple[int, str, int, int]]:
    doc = nlp(letter_text(block("MRI of the lumbar spine", "Upheld", rationale)))
    return [
        (s._.imr_decision_index, s.label_, s.start_char, s.end_char) for s in doc.spans[REASONS_KEY]
    ]


def test_case_insensitive_reason_targets_are_compiled_on_first_need(nlp):
    """A rationale whose lower case is longer than itself ("İ" lower-cases to two characters)
    is scanned with the re.I patterns, compiled then; the codes and offsets are those of the
    same rationale without that character."""
    reasons = nlp.get_pipe("imr_reasons")
    reasons._case_targets = None  # as loaded (another test may have needed them already)
    plain = (
        "An MRI is not recommended in the absence of red flags. There is no evidence of red "
        "flags or neurological deficits on the examination. Therefore, the request is not "
        "medically necessary."
    )
    assert "İ" not in letter_text("") and "İ".lower() != "i"
    expected = _found(nlp, plain + " IMAGING.")
    assert expected and reasons._case_targets is None
    found = _found(nlp, plain + " İMAGING.")
    assert reasons._case_targets is not None
    assert found == expected


def test_reasons_build_medspacys_context_only_for_the_plain_path(tmp_path, nlp):
    """The fast path matches modifiers itself (`_sentence_context`): a loaded pipeline builds
    medspaCy's ConText for imr_reasons only when something asks for it, and then with the
    same modifier rules."""
    import spacy

    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    reasons = loaded.get_pipe("imr_reasons")
    assert reasons._medspacy_context is None
    assert _found(loaded, "Not recommended. There is no evidence of red flags.")
    assert reasons._medspacy_context is None
    context = reasons._context
    assert reasons._context is context
    assert [r.literal for r in context.rules] == [r.literal for r in reasons._modifiers]
