"""PatternSet (issue 17) gives, for every pattern, exactly its own `finditer` matches: on the
reason rules over the sample letters and over generated texts, with `pos`/`endpos`, and for
patterns it must leave to a scan of their own."""

from __future__ import annotations

import random
import re

import pytest

from imr_extract.components.reasons import _lowered, _spaced
from imr_extract.pattern_set import (
    DIGIT,
    FOLDS_TO_ASCII,
    AnySearch,
    PatternSet,
    RuleScan,
    _sre_parse,
    alternatives,
    prefixes,
    word_prefixes,
)
from imr_extract.rules import packaged_rules

from conftest import SAMPLES, read_sample

TARGETS = [r for r in packaged_rules("reasons.jsonl") if r.get("kind") == "target"]


def _plain(patterns, text, pos=0, endpos=None):
    end = len(text) if endpos is None else endpos
    return [[_key(m) for m in p.finditer(text, pos, end)] for p in patterns]


def _key(m) -> tuple:
    return m.start(), m.end(), m.groups()


def _joint(pattern_set, text, pos=0, endpos=None):
    return [[_key(m) for m in hits] for hits in pattern_set.finditer(text, pos, endpos)]


@pytest.fixture(scope="module")
def reason_patterns() -> list[re.Pattern]:
    return [re.compile(_lowered(_spaced(r["pattern"]))) for r in TARGETS]


def _generated(patterns: list[re.Pattern], n: int, seed: int = 5) -> list[str]:
    """Texts of the words the patterns name, with spaces, line breaks and punctuation between
    them and sometimes glued to a letter (the word boundaries the patterns rely on)."""
    rng = random.Random(seed)
    words = sorted({w for p in patterns for w in re.findall(r"[a-z]+", p.pattern)})
    seps = [" ", " ", " ", "\n", "  ", ", ", ". ", "; ", "-", "/", "", "x", "'"]
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            parts += [rng.choice(words), rng.choice(seps)]
        texts.append("".join(parts))
    return texts


def test_every_reason_target_is_scanned_jointly(reason_patterns):
    """Not a matter of right or wrong (a pattern left alone is scanned as before), but of
    speed: a target rule that cannot be read for its word prefixes costs a scan of its own."""
    pattern_set = PatternSet(reason_patterns)
    assert pattern_set.alone == []
    assert pattern_set.scanner is not None


def test_same_matches_on_the_samples(reason_patterns):
    pattern_set = PatternSet(reason_patterns)
    texts = [read_sample(p.name).lower() for p in sorted(SAMPLES.iterdir())]
    found = 0
    for text in texts:
        assert _joint(pattern_set, text) == _plain(reason_patterns, text)
        for pos, end in ((7, len(text) - 11), (len(text) // 3, 2 * len(text) // 3)):
            assert _joint(pattern_set, text, pos, end) == _plain(reason_patterns, text, pos, end)
        found += sum(map(len, _plain(reason_patterns, text)))
    assert found > 20


def test_same_matches_on_generated_texts(reason_patterns):
    pattern_set = PatternSet(reason_patterns)
    found = 0
    for text in _generated(reason_patterns, 3000):
        assert _joint(pattern_set, text) == _plain(reason_patterns, text)
        found += sum(map(len, _plain(reason_patterns, text)))
    assert found > 300


def test_overlapping_prefixes_and_matches():
    patterns = [
        re.compile(r"\bno\s+\w+"),
        re.compile(r"\bnot\b"),
        re.compile(r"\b(?:the\s+)?note?s?\b"),
        re.compile(r"\bn\w*"),
        re.compile(r"\b(?:a|an)\s+(?:no|not)\b"),
    ]
    pattern_set = PatternSet(patterns)
    assert pattern_set.alone == []
    text = "no note, not the notes nor an not; a no-not nonote the no\nno"
    _same_from_every_pos(pattern_set, patterns, text, step=5)


def _same_from_every_pos(pattern_set, patterns, text, step):
    assert _joint(pattern_set, text) == _plain(patterns, text)
    for pos in range(len(text)):
        for end in range(pos, len(text) + 1, step):
            assert _joint(pattern_set, text, pos, end) == _plain(patterns, text, pos, end)


def test_patterns_that_need_not_start_a_word():
    """`word_starts=False`: prefixes anywhere, inside words and overlapping, with pos/endpos."""
    patterns = [
        re.compile(r"(?:AC )?(?:Ch \d+ )?Neck"),
        re.compile(r"eck(?:s)?"),
        re.compile(r"(?:https?://)?(?:www\.)?x\.com\S*"),
        re.compile(r"Up[Tt]o|UpTo[Dd]ate"),
        re.compile(r"N\w+"),
    ]
    pattern_set = PatternSet(patterns, word_starts=False)
    assert pattern_set.alone == []
    assert PatternSet(patterns).alone == list(range(len(patterns)))  # no \b: alone by default
    text = "AC Ch 8 Neck, ANeckecks http://www.x.com/a UpToDate UptoNecks AC AC Neck www.x.com"
    _same_from_every_pos(pattern_set, patterns, text, step=7)


def test_patterns_left_to_their_own_scan():
    patterns = [
        re.compile(r"\bnot\b", re.I),  # prefixes would be compared as written
        re.compile(r"\b(?:x)?"),  # may match the empty string
        re.compile(r"not\b"),  # no word boundary first
        re.compile(r"\b(?P<w>no)\b"),  # a named group
        re.compile(r"\b(no)\s+\1\b"),  # a backreference
        re.compile(r"\b[nN]o\b"),  # starts with a character class: no literal prefix
        re.compile(r"\bno\b|cannot"),  # one alternative without a word boundary
        re.compile(r"\b(?i:no)t\b"),  # a case-insensitive group
        re.compile(r"\bnot\b", re.ASCII),  # an ASCII word boundary: \u00e9not starts one
    ]
    assert [word_prefixes(p) for p in patterns] == [None] * len(patterns)
    pattern_set = PatternSet(patterns)
    assert pattern_set.alone == list(range(len(patterns)))
    text = "No no, cannot NOT no no; not NOt \u00e9not"
    assert _joint(pattern_set, text) == _plain(patterns, text)


def test_word_prefixes_follow_optional_parts():
    assert word_prefixes(re.compile(r"\b(?:is|are)\s+not\b")) == {"is", "are"}
    assert word_prefixes(re.compile(r"\b(?:the\s+)?lack\b")) == {"the", "lack"}
    assert word_prefixes(re.compile(r"\bwean(?:ed|ing)?\b|\btaper")) == {"wean", "taper"}
    assert word_prefixes(re.compile(r"\b(?:a\s+)*gap")) == {"a", "gap"}


def test_word_prefixes_pass_over_lookarounds():
    """A lookbehind or lookahead takes no characters: the match starts with what follows."""
    assert word_prefixes(re.compile(r"\b(?<!not )(?<!no )need\b|\b(?!nor)no\w*")) == {"need", "no"}
    patterns = [
        re.compile(r"\b(?<!not )needs?\b"),
        re.compile(r"\b(?!nor)no\w*"),
        re.compile(r"\bno"),
    ]
    pattern_set = PatternSet(patterns)
    assert pattern_set.alone == []
    text = "not need, needs; no need not needs nothing not"
    assert _joint(pattern_set, text) == _plain(patterns, text)


def test_plain_switch_scans_each_pattern_alone(reason_patterns):
    pattern_set = PatternSet(reason_patterns, joint=False)
    assert pattern_set.scanner is None and len(pattern_set.alone) == len(reason_patterns)
    text = read_sample(sorted(p.name for p in SAMPLES.iterdir())[0]).lower()
    assert _joint(pattern_set, text) == _plain(reason_patterns, text)


@pytest.mark.corpus
def test_same_matches_on_corpus_letters(reason_patterns, corpus):
    from imr_extract.ingest import read_document

    pattern_set = PatternSet(reason_patterns)
    paths = sorted(corpus.rglob("*.pdf"))[::13]
    found = 0
    for path in paths:
        text = read_document(path).text.lower()
        assert _joint(pattern_set, text) == _plain(reason_patterns, text)
        found += sum(map(len, _plain(reason_patterns, text)))
    assert found > 200


def test_saved_prefixes_give_the_same_scan_and_are_used_on_load(nlp, tmp_path, monkeypatch):
    """`imr_reasons` saves its target patterns' prefixes; loaded, it builds the same joint
    scan from them without parsing a pattern again; an edited pattern is parsed."""
    from imr_extract import pattern_set
    from imr_extract.components.reasons import PREFIXES_FILE

    pipe = nlp.get_pipe("imr_reasons")
    pipe.to_disk(tmp_path)
    assert (tmp_path / PREFIXES_FILE).exists()
    parsed = []
    real = pattern_set.word_prefixes
    monkeypatch.setattr(pattern_set, "word_prefixes", lambda p, *a: parsed.append(p) or real(p, *a))
    loaded = type(pipe)(nlp, "imr_reasons").from_disk(tmp_path)
    assert parsed == []
    fresh, again = pipe._lower_targets, loaded._lower_targets
    assert again.to_try == fresh.to_try and again.alone == fresh.alone
    assert again.scanner.pattern == fresh.scanner.pattern
    known = again.prefixes_by_key()
    first = next(iter(known))
    edited = {k: v for k, v in known.items() if k != first}
    monkeypatch.setattr(pattern_set, "word_prefixes", lambda p, *a: parsed.append(p) or real(p, *a))
    pattern_set.PatternSet(again.patterns, known=edited)
    assert [pattern_set.prefix_key(p) for p in parsed] == [first]


# ---- AnySearch ----------------------------------------------------------------------------


def test_alternatives_split_only_at_the_top_level():
    assert alternatives(r"a|(b|c)|[|]|\||d") == ["a", "(b|c)", "[|]", r"\|", "d"]
    assert alternatives(r"[]|]x|[^]|]y|(?:[(]|z)") == ["[]|]x", "[^]|]y", "(?:[(]|z)"]
    assert alternatives("abc") == ["abc"]
    for source in (r"a|(b|c)|[|]|\||d", r"[]|]x|[^]|]y|(?:[(]|z)", r"\b(?:a|b)\s+c|^\W*d"):
        assert "|".join(alternatives(source)) == source


def _sentences() -> list[str]:
    """Sentences of the samples, each also upper-cased, title-cased, cut at every word and
    with a non-ASCII letter that IGNORECASE folds (the Kelvin sign, the long s)."""
    texts = [read_sample(p.name) for p in sorted(SAMPLES.glob("*.txt"))]
    sentences = [s for t in texts for s in re.split(r"(?<=[.;:])\s+", t)]
    words = [w for s in sentences[:60] for w in s.split()]
    sentences += [" ".join(words[k : k + 9]) for k in range(0, len(words), 4)]
    sentences += [s.upper() for s in sentences] + [s.title() for s in sentences]
    sentences += ["\u212aeep it: the ſame guidelines are not recommended.", "ſo it is here."]
    sentences += ["A ſplint, a ſling and ſurgery are ſupported ſince ſhe ſubmitted it."]
    sentences += ["\u212aenalog is \u212anown to \u212aeep the patient's pain low."]
    # non-ASCII without those folds: searched in the lower-cased text, accents beside words
    sentences += [s.replace("e", "\u00e9", 3).replace(" ", "\u00b0", 2) for s in sentences[:80]]
    sentences += ["\u00c9tudes: the \u00e9patient is not recommended; NOT RECOMMENDED\u00c9."]
    return sentences


def test_any_search_finds_what_search_finds():
    """On the reasons' sentence rules and the item-type rules (IGNORECASE, led by `^`, `\\b`,
    groups and lookbehinds), over the samples' sentences cased every way and non-ASCII."""
    from imr_extract.components.coding import PATIENT
    from imr_extract.normalize.item_types import compile_rules

    rules = packaged_rules("reasons.jsonl")
    patterns = [
        re.compile(_spaced(r["pattern"]), re.I)
        for r in rules
        if r["kind"] in ("guideline", "conclusion", "case", "target")
    ]
    patterns += [r.regex for r in compile_rules(packaged_rules("item_type_rules.csv")) if r.regex]
    patterns.append(PATIENT.pattern)
    searches = [AnySearch(p) for p in patterns]
    assert sum(s.starts is not None for s in searches) >= 0.7 * len(searches)
    assert any(s.starts is not None and s.rest is not None for s in searches)  # split ones
    sentences = _sentences()
    for search in searches:
        plain = AnySearch(search.pattern, fast=False)
        assert plain.starts is None
        for sentence in sentences:
            expected = search.pattern.search(sentence) is not None
            assert search.found(sentence) == plain.found(sentence) == expected, (
                search.pattern.pattern[:60],
                sentence,
            )


def test_any_search_leaves_what_it_cannot_read_to_search():
    whole = [
        re.compile(r"(?i)\bnot\b|\bno\b"),  # inline flags
        re.compile(r"\b(no)\s+\1\b|\bnot"),  # a backreference
        re.compile(r"[Nn]o|\d+"),  # no literal start word
    ]
    for pattern in whole:
        search = AnySearch(pattern)
        assert search.starts is None
        for text in ("No no", "not", "x 12", "nothing"):
            assert search.found(text) == (pattern.search(text) is not None)
    split = AnySearch(re.compile(r"\bnot\b|^\W*no\b|\bnever", re.I))
    assert split.starts is not None and split.rest.pattern == r"^\W*no\b"
    for text in ("NOT", "-- No way", "a no", "Never", "\u212aNOT", "nothing", "ſo not"):
        assert split.found(text) == (split.pattern.search(text) is not None), text
    cased = AnySearch(re.compile(r"\bNot\b|\bNever"))  # case-sensitive: compared as written
    for text in ("not", "Not", "NEVER", "Never", "\u00e9Not", "Nothing"):
        assert cased.found(text) == (cased.pattern.search(text) is not None), text


def test_prefixes_with_digits():
    def starts(source):
        return prefixes(_sre_parse.parse(source, 0).data, digits=True)

    assert starts(r"(?<![\w.])\d+(?:\.\d+)?\s*mg") == {DIGIT}
    assert starts(r"\b(?:once|(?:\d+|two)\s*x)") == {"once", DIGIT, "two"}
    assert starts(r"[0-9]{2}/") == {DIGIT}
    assert starts(r"(?P<value>\d)/10") == {DIGIT}
    assert starts(r"[0-9a]") is None and starts(r"\w+") is None
    assert prefixes(_sre_parse.parse(r"\d+", 0).data) is None  # not without digits=True


def test_folds_to_ascii_are_the_only_ones():
    """The characters IGNORECASE matches to an ASCII letter, other than ASCII letters, are the
    four in FOLDS_TO_ASCII, İ is the only character whose lower case is longer, and none
    gains or loses being a word character when lower-cased (RuleScan and AnySearch look for words in the lower-cased text of
    any other text)."""
    others = "".join(chr(c) for c in range(128, 0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert "".join(re.findall("[a-z]", others, re.IGNORECASE)) == FOLDS_TO_ASCII
    assert [c for c in others if len(c.lower()) != 1] == ["\u0130"]
    # and lower-casing moves no word boundary (AnySearch scans `\b` in the lower-cased text)
    word = re.compile(r"\w")
    assert [c for c in others if bool(word.match(c)) != bool(word.match(c.lower()))] == []


def _spans(patterns, text):
    return [[m.span() for m in p.finditer(text)] for p in patterns]


def test_rule_scan_same_spans_as_finditer():
    patterns = [
        re.compile(r"(?<![\w.])(?P<value>\d+)\s*mg\b", re.I),  # digits, a named group
        re.compile(r"(?<![\w.])(?P<value>\d+)/10\b"),  # the same name again
        re.compile(r"\b(?:once|twice|(?:\d+|two|three)\s*x)\s*(?:a|per)\s*day", re.I),  # both
        re.compile(r"\btablets?\b|\bcapsules?\b", re.I),  # words, folded
        re.compile(r"\bJan(?:uary)?\s+\d+"),  # words, as written
        re.compile(r"aaa"),  # overlapping occurrences
        re.compile(r"(\d)-\1"),  # a backreference: alone
        re.compile(r"x*"),  # the empty string: alone
        re.compile(r"\bq\d"),  # a word under MIN_WORD letters: alone
        re.compile(r"[A-Z]\d\d"),  # a class: alone
        re.compile(r"(?<![\w/])(?:0?[1-9]|1[0-2])/(?:19|20)\d\d"),  # "0", "1": digits too
    ]
    scan = RuleScan(patterns)
    assert scan.digit_led == {0, 1, 2, 10} and scan.words[10] == ()
    assert scan.alone == {6, 7, 8, 9}
    assert scan.words[2] == ("once", "three", "twice", "two") and scan.words[4] == ("Jan",)
    texts = [
        "Take 5 MG once a day, 2 x per day, TWO X A DAY; pain 7/10 (17/10) 5mg.",
        "TABLETS, capsule, tablet5, 10 tablets; Jan 5 and jan 6 and January 12, xJan 3",
        "aaaaaaa 3-3 33-3 q5 xq5 AB12 \u212a5 mg \u017fix \u0663 mg \u00b0 twice a day",
        "",
        "5",
    ]
    rng = random.Random(3)
    pieces = [
        "5",
        "12",
        "0",
        "/2016",
        "/1999",
        " ",
        "mg",
        "MG",
        "/10",
        "x",
        "X",
        "once",
        "twice",
        "two",
        "a day",
        "per day",
        "tablet",
        "Tablets",
        "Jan",
        "January",
        "aa",
        "-",
        "\u017f",
        "\u212a",
    ]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    for text in texts:
        assert scan.spans(text) == _spans(patterns, text), text
        only = [0, 3, 6]
        assert scan.spans(text, only) == [
            s if i in only else [] for i, s in enumerate(_spans(patterns, text))
        ], text
    plain = RuleScan(patterns, fast=False)
    assert plain.alone == set(range(len(patterns))) and plain.digit_scan is None
    assert all(plain.spans(t) == _spans(patterns, t) for t in texts[:200])
