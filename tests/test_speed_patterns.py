"""imr_patterns `fast_pattern` rules (issue 17) match exactly as their readable `pattern`.

Every rule with a `fast_pattern` must give the same (start, end, groups) as its `pattern` on
corpus letters and on generated strings built to hit the edges (word boundaries, the
characters the lookbehinds exclude, IGNORECASE folds such as ſ/K/ı/İ, non-ASCII digits).

As a script it checks every rule on the whole corpus and on more generated strings, and times
the old and the new pattern of each rule:

    .venv/bin/python tests/test_speed_patterns.py [n_generated]
"""

from __future__ import annotations

import functools
import random
import re
import sys
import time
from pathlib import Path

import pytest

from imr_extract.pattern_set import RuleScan
from imr_extract.rules import packaged_rules

RULES = packaged_rules("entity_patterns.jsonl")
FAST_RULES = [r for r in RULES if "fast_pattern" in r]

NUMBERS = ["0", "1", "2", "5", "7", "9", "10", "11", "12", "13", "19", "20", "99", "100"]
NUMBERS += ["2016", "1999", "0.5", "1.5", "7.5", "05", "3x", "٣", "²", "1٣"]
PUNCT = [" ", " ", " ", "  ", "", "", "\n", "\t", ".", ",", "/", " / ", "-", " - ", "#"]
PUNCT += ["%", ":", ": ", "=", "(", ")", "_", "'", ";", "\u00a0"]
ODD = ["ſ", "ı", "İ", "\u212a", "é", "µ", "ß", "x", "X", "s", "k", "i"]
FOLDS = {"s": ["ſ", "S"], "k": ["\u212a", "K"], "i": ["ı", "İ", "I"]}


def flags(rule: dict) -> int:
    return 0 if rule.get("case") else re.IGNORECASE


def compiled(rule: dict) -> tuple[re.Pattern, re.Pattern]:
    f = flags(rule)
    return re.compile(rule["pattern"], f), re.compile(rule["fast_pattern"], f)


def matches(pattern: re.Pattern, text: str) -> list[tuple]:
    return [(m.start(), m.end(), m.groups()) for m in pattern.finditer(text)]


def vocabulary() -> list[str]:
    words = set()
    for rule in RULES:
        for key in ("pattern", "fast_pattern"):
            words.update(re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)?", rule.get(key, "")))
    tokens = []
    for w in sorted(words):
        tokens += [w, w.lower(), w.upper(), w.title()]
    return tokens + NUMBERS + ODD


def fold(rng: random.Random, text: str) -> str:
    """Random case flips and IGNORECASE folds (ſ for s, Kelvin sign for k, ı/İ for i)."""
    out = []
    for ch in text:
        r = rng.random()
        if r < 0.15 and ch.lower() in FOLDS:
            out.append(rng.choice(FOLDS[ch.lower()]))
        elif r < 0.3:
            out.append(ch.swapcase())
        else:
            out.append(ch)
    return "".join(out)


def generated(n: int, seed: int = 17) -> list[str]:
    rng = random.Random(seed)
    vocab = vocabulary()
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 14)):
            parts.append(rng.choice(vocab) if rng.random() < 0.6 else rng.choice(NUMBERS))
            parts.append(rng.choice(PUNCT))
        text = "".join(parts)
        texts.append(fold(rng, text) if rng.random() < 0.3 else text)
    return texts


def mutated(rule: dict, texts: list[str], per_match: int, seed: int = 17) -> list[str]:
    """Windows around the readable pattern's corpus matches, with random edits near the edges."""
    rng = random.Random(seed)
    plain = re.compile(rule["pattern"], flags(rule))
    alphabet = PUNCT + ODD + list("0123456789aAbBdDeEmMgGlLtTvV")
    out = []
    for text in texts:
        for m in plain.finditer(text):
            window = text[max(0, m.start() - 12) : m.end() + 12]
            out.append(window)
            for _ in range(per_match):
                chars = list(window)
                for _ in range(rng.randint(1, 3)):
                    i = rng.randrange(len(chars) + 1)
                    op = rng.random()
                    if op < 0.4 and i < len(chars):
                        chars[i] = rng.choice(alphabet)
                    elif op < 0.7:
                        chars.insert(i, rng.choice(alphabet))
                    elif i < len(chars):
                        del chars[i]
                out.append(fold(rng, "".join(chars)) if rng.random() < 0.3 else "".join(chars))
    return out


def differences(rule: dict, texts: list[str]) -> list[tuple]:
    plain, fast = compiled(rule)
    diffs = []
    for text in texts:
        a, b = matches(plain, text), matches(fast, text)
        if a != b:
            diffs.append((text[:200], a[:3], b[:3]))
    return diffs


def corpus_texts(corpus: Path, limit: int | None = None) -> list[str]:
    from imr_extract.ingest import read_document

    paths = sorted(p for p in corpus.rglob("*") if p.suffix in (".pdf", ".txt") and p.is_file())
    texts = []
    for path in paths[:limit]:
        source = read_document(path)
        if source.ok:
            texts.append(source.text)
    return texts


@functools.cache
def sample_texts() -> list[str]:
    from conftest import SAMPLES, read_sample

    return [read_sample(p.name) for p in sorted(SAMPLES.iterdir()) if p.suffix in (".pdf", ".txt")]


def test_fast_rules_exist_and_keep_the_plain_pattern():
    names = {r["name"] for r in FAST_RULES}
    assert {"dosage_form", "times_per", "strength_units", "numeric_date", "sig_words"} <= names
    for rule in FAST_RULES:
        assert rule["fast_pattern"] != rule["pattern"]
        plain, fast = compiled(rule)
        assert plain.groups == fast.groups and plain.groupindex == fast.groupindex, rule["name"]


def test_python_re_skips_ahead_only_for_the_fast_form():
    """The speed rests on CPython's regex compiler: it finds a literal or charset prefix for a
    pattern that starts with a literal or a case-free class, never for one that starts with an
    assertion. If a Python release changes this, the fast patterns may stop paying off."""
    compiler = pytest.importorskip("re._compiler")
    parser = pytest.importorskip("re._parser")
    if not hasattr(compiler, "_get_charset_prefix"):
        pytest.skip("re._compiler has no _get_charset_prefix in this Python")
    for rule in FAST_RULES:
        f = flags(rule)
        fast = parser.parse(rule["fast_pattern"], f)
        prefix = compiler._get_literal_prefix(fast, f)[0]
        assert prefix or compiler._get_charset_prefix(fast, f), rule["name"]
        plain = parser.parse(rule["pattern"], f)
        assert not compiler._get_literal_prefix(plain, f)[0], rule["name"]
        assert not compiler._get_charset_prefix(plain, f), rule["name"]


@pytest.mark.parametrize("rule", FAST_RULES, ids=lambda r: r["name"])
def test_fast_pattern_same_matches_on_generated_strings(rule):
    texts = generated(3000) + mutated(rule, sample_texts(), per_match=20)
    assert differences(rule, texts) == []


def test_fast_pattern_same_matches_on_edges():
    edges = [
        "ſix tablets",
        "ſeven visits over six weeks",
        "TWICE DAILY",
        "twIce a day",
        "Kelvin",
        "\u212aIT",
        "ıt",
        "İtem",
        "x5 tablets",
        "_5 mg",
        "a5 mg",
        ".5 mg",
        "#5 mg",
        "/5 mg",
        "-5/325",
        "٣ tablets",
        "3/10",
        "٣/10",
        "5/10-6/10",
        "10/12/2016",
        "1-2-16",
        "01/2016",
        "Jan 5, 2016",
        "xJan 5, 2016",
        "_May 2016",
        "ER",
        "-ER",
        "ODT-",
        "q6h",
        ".q6h",
        "BID.",
        "therapy 2x4",
        "therapy, 12x3",
        "PT 2x6",
        "VAS 7",
        "xVAS 7",
        "ICD9 722.10",
        "S13.4XXA",
        "aS13.4XXA",
        "5 out of 10",
        "a5 out of 10",
        "5 on a 0-10 scale",
        "every 4 hours",
    ]
    texts = edges + [a + b for a in edges for b in (" ", "", "\n", ".")]
    texts.append(" ".join(edges))
    for rule in FAST_RULES:
        assert differences(rule, texts) == [], rule["name"]


def rule_scan_differences(texts: list[str]) -> list[tuple]:
    """Texts where `RuleScan` (how the fast pipeline matches the rules) and each rule's own
    `finditer` of its readable pattern find other spans."""
    readable = [re.compile(r["pattern"], flags(r)) for r in RULES]
    scan = RuleScan(
        readable, [re.compile(r.get("fast_pattern", r["pattern"]), flags(r)) for r in RULES]
    )
    diffs = []
    for text in texts:
        expected = [[m.span() for m in p.finditer(text)] for p in readable]
        found = scan.spans(text)
        if found != expected:
            names = [r["name"] for r, a, b in zip(RULES, expected, found, strict=True) if a != b]
            diffs.append((text[:200], names))
    return diffs


def test_rule_scan_finds_each_rules_matches():
    """Most rules are matched where their matches can start (words, digits); the rest alone."""
    readable = [re.compile(r["pattern"], flags(r)) for r in RULES]
    scan = RuleScan(readable)
    by_name = {r["name"]: i for i, r in enumerate(RULES)}
    assert {"strength_units", "times_per", "over_ten"} <= {RULES[i]["name"] for i in scan.digit_led}
    assert "once" in scan.words[by_name["times_per"]]
    assert "tablet" in scan.words[by_name["dosage_form"]]
    assert by_name["numeric_date"] in scan.alone  # a backreference: not inside a lookbehind
    texts = generated(3000)
    for rule in RULES:
        texts += mutated(rule, sample_texts(), per_match=3)
    texts += sample_texts()
    assert rule_scan_differences(texts) == []


def test_rule_scan_on_folds_and_other_scripts():
    """Under IGNORECASE words are found in the lower-cased text, unless the text holds one of
    the four characters that fold to an ASCII letter: then those rules scan on their own."""
    texts = [
        "Three TIMES daily, °F 5 tablets",
        "ſix tablets twice daily",
        "Keep 5 mg",
        "tıd 2 tablets",
        "İtem: 1 tablet once daily",
        "٣ tablets, 2° once a day",
        "Tylenol #3 tab 1 twice a day é 10/325 mg",
    ]
    assert rule_scan_differences(texts + [a + " " + b for a in texts for b in texts]) == []


@pytest.mark.corpus
def test_fast_pattern_same_matches_on_corpus(corpus):
    texts = corpus_texts(corpus, limit=20)
    for rule in FAST_RULES:
        assert differences(rule, texts) == [], rule["name"]


def _rows(nlp, texts):
    from imr_extract.export import doc_rows
    from imr_extract.ingest import SourceDocument

    out = []
    for i, text in enumerate(texts):
        doc = nlp(text)
        source = SourceDocument(doc_id=f"d{i}", path=f"d{i}.txt", text=text)
        out.append(doc_rows(doc, source))
    return out


@pytest.fixture(scope="module")
def plain_nlp():
    from imr_extract.api import build_pipeline

    return build_pipeline({"imr_patterns": {"fast": False}})


def test_plain_switch_compiles_the_readable_patterns(nlp, plain_nlp):
    fast = {r["name"]: p.pattern for r, p in nlp.get_pipe("imr_patterns")._compiled}
    plain = {r["name"]: p.pattern for r, p in plain_nlp.get_pipe("imr_patterns")._compiled}
    assert all(plain[r["name"]] == r["pattern"] for r in RULES)
    assert all(fast[r["name"]] == r.get("fast_pattern", r["pattern"]) for r in RULES)


def test_fast_and_plain_matcher_agree_on_required_strings(nlp, plain_nlp):
    """A rule's `requires` drops its matches on a text without those strings, whichever path
    found them ("3x/day" matches times_per, but the text holds no "time", "once" or "x ")."""
    texts = [
        "take 3x/day",
        "take 3 x per day",
        "Norco #60 with 2 refills",
        "1 tab BID",
        "bid",
        "2 tablets 3x/day #90 (qty 90)",
        "Jan 5, 2016",
        "jan 5, 2016",
        "05/2016 pain 7/10",
    ]
    texts += generated(2000)

    def found(matcher, text):
        return [(start, end, rule["name"]) for start, end, rule in matcher.match(text)]

    fast, plain = nlp.get_pipe("imr_patterns"), plain_nlp.get_pipe("imr_patterns")
    assert fast._scan is not None and plain._scan is None
    assert found(fast, "take 3x/day") == [] and found(fast, "take 3x per day twice")
    assert [t for t in texts if found(fast, t) != found(plain, t)] == []


def test_fast_and_plain_rows_identical_on_samples(nlp, plain_nlp):
    texts = sample_texts()
    assert _rows(nlp, texts) == _rows(plain_nlp, texts)


@pytest.mark.corpus
def test_fast_and_plain_rows_identical_on_corpus(nlp, plain_nlp, corpus):
    texts = corpus_texts(corpus, limit=10)
    assert _rows(nlp, texts) == _rows(plain_nlp, texts)


def main(n_generated: int = 20000) -> int:
    """Check every fast rule on the whole corpus and generated strings; time old and new."""
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import CORPUS

    texts = corpus_texts(CORPUS)
    print(f"{len(texts)} corpus texts, {sum(map(len, texts))} characters")
    gen = generated(n_generated)
    failed = 0
    total_old = total_new = 0.0
    for rule in FAST_RULES:
        extra = mutated(rule, texts, per_match=5)
        diffs = differences(rule, texts + gen + extra)
        plain, fast = compiled(rule)
        best = {}
        for name, pattern in (("old", plain), ("new", fast)) * 3:
            start = time.perf_counter()
            n = sum(1 for text in texts for _ in pattern.finditer(text))
            best[name] = min(best.get(name, 1e9), time.perf_counter() - start)
        total_old += best["old"]
        total_new += best["new"]
        failed += bool(diffs)
        print(
            f"{rule['name']:20s} matches={n:5d} checked={len(texts) + len(gen) + len(extra):6d} "
            f"old={best['old'] * 1000:7.1f}ms new={best['new'] * 1000:7.1f}ms "
            f"x{best['old'] / best['new']:.1f} {'DIFFERS ' + repr(diffs[:2]) if diffs else 'same'}"
        )
    print(
        f"all fast rules: old={total_old * 1000:.0f}ms new={total_new * 1000:.0f}ms "
        f"x{total_old / total_new:.1f}; {failed} rules differ"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(*map(int, sys.argv[1:])))
