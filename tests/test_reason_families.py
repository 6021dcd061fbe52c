"""The synonym families of resources/reasons.jsonl on synthetic rationales (tests/reason_probes.py):
each common way of stating a reason gets its code and the sentence that states it, and affirmed
statements or guideline limits not applied to the patient do not."""

import pytest

from imr_extract.components.reasons import _lowered
from reason_probes import PROBES, TRAPS
from test_reasons import block, reasons


@pytest.fixture(scope="module")
def probed(nlp):
    return reasons(nlp, *(block(item, outcome, text) for item, outcome, text, _ in PROBES))


@pytest.fixture(scope="module")
def trapped(nlp):
    return reasons(nlp, *(block(item, outcome, text) for item, outcome, text, _ in TRAPS))


@pytest.mark.parametrize("index", range(len(PROBES)), ids=[p[0] for p in PROBES])
def test_probe_gets_its_codes_and_evidence(probed, index):
    want = PROBES[index][3]
    got = probed.get(index, {})
    assert set(got) == set(want), PROBES[index][2]
    for code, start in want.items():
        assert " ".join(got[code].split()).startswith(start), (code, got[code])


@pytest.mark.parametrize("index", range(len(TRAPS)), ids=[t[0] for t in TRAPS])
def test_trap_does_not_get_the_codes(trapped, index):
    got = trapped.get(index, {})
    assert got, "every decision has a code"
    assert not set(got) & TRAPS[index][3], got


def test_lowered_patterns_keep_their_escapes():
    assert _lowered(r"\bMTUS\W+[A-Z]\D") == r"\bmtus\W+[a-z]\D"
    assert _lowered(r"\\X") == r"\\x"  # an escaped backslash, then a letter
