"""imr_reason_model: the trained sentence classifier over rationales and how it is combined
with the reason rules. Synthetic sentences only (made up, not from any letter)."""

import pytest

from imr_extract.components.reason_model import combine, decision_scores, sentence_features
from imr_extract.components.reasons import REASONS_KEY
from imr_extract.rules import packaged_rules
from imr_extract.train_reasons import (
    KEEP,
    MODEL_CODES,
    candidate_setup,
    fit,
    train,
    write_model,
)
from test_reasons import block, letter_text

# made-up rationale sentences, one kind per code the tiny training set teaches
SENTENCES = {
    "weaning": "The medication should be tapered slowly over several weeks.",
    "exceeds_guideline": "The request for {n} visits exceeds the ten visits the guideline allows.",
    "other": "The patient can carry on with the stretching routine at home.",
}
FILLER = [
    "The patient reports pain in the lower back.",
    "The provider saw the patient on a follow-up visit.",
    "Therefore, the request is not medically necessary.",
]


def synthetic_letters(n: int = 8) -> list[dict]:
    """Letters shaped as train_reasons.collect makes them, with made-up rationales."""
    letters = []
    for i in range(n):
        decisions = []
        for j, code in enumerate(sorted(SENTENCES)):
            texts = [FILLER[(i + j) % 2], SENTENCES[code].format(n=12 + i), FILLER[2]]
            spans, at = [], 0
            for t in texts:
                spans.append((at, at + len(t)))
                at += len(t) + 1
            rules = {code: spans[1]} if (i + j) % 3 else {}  # the rules miss some
            decisions.append(
                {
                    "index": j,
                    "outcome": "Upheld",
                    "sentences": spans,
                    "texts": texts,
                    "rules": rules or {"criteria_not_documented": spans[2]},
                    "gold": {code: spans[1]},
                }
            )
        letters.append({"doc_id": f"synthetic-{i:02d}", "split": "dev", "decisions": decisions})
    return letters


def test_negation_reaches_the_words_after_it():
    negated = sentence_features(
        "There is no documentation of functional improvement.", "Upheld", "only"
    )
    affirmed = sentence_features(
        "There is documentation of functional improvement.", "Upheld", "only"
    )
    assert "n:improvement" in negated and "n:improvement" not in affirmed
    assert "o:Upheld" in negated and "p:only" in negated
    stopped = sentence_features("No red flags, and the exam shows strength.", None, "first")
    assert "n:flags" in stopped and "n:strength" not in stopped  # not past the comma


def test_combine_modes():
    sentences = [(0, 10), (11, 20)]
    rules = {"criteria_not_documented": (0, 10)}
    scores = {"criteria_not_documented": (0.2, 0), "other": (0.9, 1), "weaning": (0.3, 1)}
    union = {"other": {"mode": "union", "threshold": 0.5}}
    assert combine(rules, scores, sentences, union) == {
        "criteria_not_documented": (0, 10),
        "other": (11, 20),  # the model's best sentence is the evidence
    }
    below = {"weaning": {"mode": "union", "threshold": 0.5}}
    assert combine(rules, scores, sentences, below) == rules
    veto = {"criteria_not_documented": {"mode": "filter", "threshold": 0.5}}
    assert combine(rules, scores, sentences, veto) == rules  # left with nothing: the rules'
    both = {**veto, **union}
    assert combine(rules, scores, sentences, both) == {"other": (11, 20)}
    alone = {"weaning": {"mode": "model", "threshold": 0.25}, **veto}
    assert combine(rules, scores, sentences, alone) == {"weaning": (11, 20)}
    assert combine(rules, scores, sentences, {}) == rules


def test_training_learns_the_sentences_that_state_a_code():
    model = fit(synthetic_letters())
    texts = [FILLER[0], SENTENCES["weaning"], FILLER[2]]
    scores = decision_scores(model["weights"], model["biases"], texts, "Upheld")
    assert scores["weaning"][1] == 1 and scores["weaning"][0] > 0.5
    assert scores["other"][0] < 0.5


def test_training_is_deterministic(tmp_path):
    """The same letters give the same file, byte for byte (make train twice)."""
    first, cv = train(synthetic_letters(), folds=2, keep=frozenset(MODEL_CODES))
    second, _ = train(synthetic_letters(), folds=2, keep=frozenset(MODEL_CODES))
    assert first == second
    write_model(first, tmp_path / "a.jsonl")
    write_model(second, tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    # the rules miss a third of the made-up codes and the model finds them on held-out letters
    chosen = candidate_setup(first)
    assert chosen and all(v["mode"] in ("union", "model") for v in chosen.values())
    assert any(line.get("weights") for line in first)
    not_kept, _ = train(synthetic_letters(), folds=2, keep=frozenset())
    assert all(line["mode"] == "rules" and "weights" not in line for line in not_kept)
    assert candidate_setup(not_kept) == chosen


def test_shipped_model_file_keeps_only_the_codes_that_won_on_test():
    lines = [r for r in packaged_rules("reason_model.jsonl") if r.get("kind") == "code"]
    assert [r["code"] for r in lines] == MODEL_CODES
    for line in lines:
        assert line["mode"] in ("rules", line["candidate"])
        assert (line["mode"] != "rules") == (line["code"] in KEEP) == ("weights" in line)


def test_pipeline_has_the_component_with_the_packaged_model(nlp):
    names = nlp.pipe_names
    assert names.index("imr_reason_model") == names.index("imr_reasons") + 1
    pipe = nlp.get_pipe("imr_reason_model")
    assert pipe.rules == packaged_rules("reason_model.jsonl")
    assert set(pipe.setup) == set(KEEP)


@pytest.fixture()
def swapped_model(nlp):
    """The pipeline's imr_reason_model with made-up weights for the test, restored after."""
    pipe = nlp.get_pipe("imr_reason_model")
    saved = pipe.rules
    yield pipe
    pipe.set_rules(saved)


ZEBRA = (
    "The patient has no documented red flags on the examination. "
    "A zebra pattern was noted in the report. Therefore, the request is not medically necessary."
)


def codes(nlp, rationale: str) -> dict[str, str]:
    doc = nlp(letter_text(block("MRI of the lumbar spine", "Upheld", rationale)))
    return {s.label_: s.text for s in doc.spans[REASONS_KEY] if s._.imr_decision_index == 0}


def test_component_adds_and_vetoes_codes_by_its_setup(nlp, swapped_model):
    swapped_model.set_rules([{"kind": "code", "code": "weaning", "mode": "rules"}])
    by_rules = codes(nlp, ZEBRA)
    assert set(by_rules) == {"criteria_not_documented"}
    line = {"kind": "code", "code": "other", "threshold": 0.5, "bias": -6.0}
    swapped_model.set_rules([{**line, "mode": "union", "weights": {"w:zebra": 12.0}}])
    added = codes(nlp, ZEBRA)
    assert set(added) == {"criteria_not_documented", "other"}
    assert added["other"].startswith("A zebra pattern")
    assert added["criteria_not_documented"] == by_rules["criteria_not_documented"]
    veto = {**line, "code": "criteria_not_documented", "mode": "filter", "weights": {}}
    swapped_model.set_rules([veto, {**line, "mode": "union", "weights": {"w:zebra": 12.0}}])
    assert set(codes(nlp, ZEBRA)) == {"other"}
    swapped_model.set_rules([veto])
    assert codes(nlp, ZEBRA) == by_rules  # never a decision without a code


def test_component_rejects_unknown_codes_and_modes(nlp, swapped_model):
    with pytest.raises(ValueError, match="unknown reason code"):
        swapped_model.set_rules([{"kind": "code", "code": "nope", "mode": "rules"}])
    with pytest.raises(ValueError, match="unknown mode"):
        swapped_model.set_rules([{"kind": "code", "code": "other", "mode": "maybe"}])


def test_saved_pipeline_keeps_the_model(nlp, swapped_model, tmp_path):
    import imr_extract

    line = {"kind": "code", "code": "other", "mode": "union", "threshold": 0.5, "bias": -6.0}
    swapped_model.set_rules([{**line, "weights": {"w:zebra": 12.0}}])
    nlp.to_disk(tmp_path / "pipeline")
    loaded = imr_extract.load(tmp_path / "pipeline")
    assert loaded.get_pipe("imr_reason_model").setup == {
        "other": {"mode": "union", "threshold": 0.5}
    }
    assert "other" in codes(loaded, ZEBRA)


@pytest.mark.corpus
def test_make_train_reproduces_the_committed_model(corpus, nlp, tmp_path):
    """make train from the dev gold writes exactly the committed resources/reason_model.jsonl."""
    from imr_extract.train_reasons import OUTPUT, collect

    from conftest import ROOT

    letters = collect(ROOT / "annotations" / "reasons.jsonl", corpus, splits=("dev",), nlp=nlp)
    assert letters and {letter["split"] for letter in letters} == {"dev"}
    lines, _ = train(letters)
    write_model(lines, tmp_path / "reason_model.jsonl")
    assert (tmp_path / "reason_model.jsonl").read_bytes() == OUTPUT.read_bytes()
