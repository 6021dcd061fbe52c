"""Many regular expressions matched over the same text in one scan, with exactly the matches
each would give on its own (`finditer`).

Why: Python's regex engine jumps to candidate characters only for a pattern that starts with a
literal or a character class. A pattern that starts with `\\b` (as nearly every rule does:
whole words) is tried at every position of the text, and 33 such patterns over a rationale
cost 33 full scans (issue 17: a third of `imr_reasons`).

How: for each pattern, its parse tree gives the literal prefixes that every match starts with
(`\\bnot\\s+recommended|\\b(?:is|are)\\s+...` → not, is, are). One scan of the text with
`\\b(?=prefix|prefix|...)` finds the word starts where some prefix begins; there, each pattern
that has one of the prefixes found is tried with `Pattern.match` (the same string, `pos` and
`endpos`). A pattern's `finditer` matches are its leftmost non-overlapping matches, and every
one starts at such a word start, so walking them in order and skipping those inside the last
match gives the same list. A pattern whose prefixes cannot be read, that can match the empty
string, that refers to a group, with IGNORECASE (prefixes are compared as written) or ASCII
or LOCALE (another `\\b`), or that does not start with `\\b` in every alternative, is scanned on
its own as before.
tests/test_pattern_set.py compares both on the rules and on generated texts.
"""

from __future__ import annotations

import re

try:  # CPython 3.11+
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - CPython 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _starts_with_boundary(items) -> bool:
    """Whether every way through the parsed pattern `items` starts with `\\b`."""
    if not len(items):
        return False
    op, av = items[0]
    if op is _sre.AT:
        return av is _sre.AT_BOUNDARY
    if op is _sre.SUBPATTERN:
        return _starts_with_boundary(av[-1])
    if op is _sre.BRANCH:
        return all(_starts_with_boundary(branch) for branch in av[1])
    return False


DIGIT = "\\d"  # in `prefixes(..., digits=True)`: a match may start with any digit (`\d`)


def _digits_only(items) -> bool:
    r"""Whether the parsed character class `items` holds digits only (`\d`, `[0-9]`)."""
    return bool(items) and all(
        (op is _sre.CATEGORY and av is _sre.CATEGORY_DIGIT)
        or (op is _sre.RANGE and 48 <= av[0] <= av[1] <= 57)
        or (op is _sre.LITERAL and 48 <= av <= 57)
        for op, av in items
    )


def prefixes(items, digits: bool = False) -> set[str] | None:
    """Literal strings one of which starts every match of the parsed pattern `items`, or None
    when that cannot be told (a match may start with a character class, for example).
    `digits=True`: a class of digits may start a match too, given as `DIGIT`."""
    items = list(items)
    acc = ""
    for k, (op, av) in enumerate(items):
        if op is _sre.LITERAL:
            acc += chr(av)
            continue
        if acc:
            return {acc}
        rest = items[k + 1 :]
        if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):  # zero-width: the match starts
            continue  # with what follows
        if digits and op is _sre.IN and _digits_only(av):
            return {DIGIT}
        if op is _sre.SUBPATTERN:
            if av[1] & (re.IGNORECASE | re.ASCII | re.LOCALE):  # (?i:...) and the like
                return None
            return prefixes(list(av[-1]) + rest, digits)
        if op is _sre.BRANCH:
            found: set[str] = set()
            for branch in av[1]:
                branch_prefixes = prefixes(list(branch) + rest, digits)
                if branch_prefixes is None:
                    return None
                found |= branch_prefixes
            return found
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            low, _, body = av
            if low >= 1:
                return prefixes(list(body), digits)
            with_body, without = prefixes(list(body) + rest, digits), prefixes(rest, digits)
            if with_body is None or without is None:
                return None
            return with_body | without
        return None
    return {acc} if acc else None


def word_prefixes(pattern: re.Pattern, word_starts: bool = True) -> set[str] | None:
    """The prefixes of `pattern` if it can go into the joint scan (see the module's
    docstring), else None. `word_starts=False`: a pattern need not start with `\b`."""
    # IGNORECASE: prefixes are compared as written; ASCII, LOCALE: another `\b` than the
    # scanner's
    if pattern.flags & (re.IGNORECASE | re.ASCII | re.LOCALE) or pattern.groupindex:
        return None
    if _BACKREFERENCE.search(pattern.pattern):
        return None
    parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    if parsed.getwidth()[0] == 0 or (word_starts and not _starts_with_boundary(parsed.data)):
        return None
    found = prefixes(parsed.data)
    return found if found and "" not in found else None


def _alternation(words) -> str:
    """`words` as one regex alternation grouped by first character (the engine tests a branch
    by its first literal, so 20 first letters cost less than 200 words), longest first within a
    group so that the longest word at a position is the one captured."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word[1:])
    return "|".join(
        re.escape(first)
        + "(?:"
        + "|".join(re.escape(rest) for rest in sorted(rests, key=lambda r: (-len(r), r)))
        + ")"
        for first, rests in sorted(groups.items())
    )


def _scanner(prefixes, boundary: str, capture: bool = True) -> re.Pattern:
    """Finds each position where `boundary` (`\b` or nothing) holds and a prefix starts,
    capturing the longest prefix there. Written `[first characters](?<=\b(?=(prefixes)).)`
    rather than `\b(?=(prefixes))`: a pattern that starts with a character class lets the
    regex engine skip to the characters that can start a prefix, where one that starts with
    `\b` or a lookahead is tried at every position (2-3x faster scans). The match is that
    one character; the lookbehind steps back over it to test the boundary and the prefixes
    where it starts, so every position is tried as before. `capture=False`: no group."""
    firsts = "".join(sorted({p[0] for p in prefixes}))
    words = _alternation(prefixes)
    words = f"({words})" if capture else f"(?:{words})"
    return re.compile("[" + re.escape(firsts) + "](?<=" + boundary + "(?=" + words + ").)")


def prefix_key(pattern: re.Pattern) -> str:
    """A pattern's key in saved prefixes: its flags and text (a changed pattern is parsed)."""
    return f"{pattern.flags}:{pattern.pattern}"


class PatternSet:
    """`finditer(text, pos, endpos)` of each pattern, in one scan (see the module's docstring)."""

    def __init__(
        self,
        patterns: list[re.Pattern],
        joint: bool = True,
        known: dict | None = None,
        word_starts: bool = True,
    ) -> None:
        """`joint=False` scans each pattern on its own (the plain path, for comparisons).
        `known`: prefixes read before (`prefixes_by_key`, saved with a pipeline), by
        `prefix_key`: parsing the patterns again is most of the time building takes.
        `word_starts=False`: patterns that do not start with `\b` go into the joint scan too,
        which then tries every position where a prefix starts, not only word starts."""
        self.patterns = list(patterns)
        by_prefix: dict[str, set[int]] = {}
        self.alone = []
        self.prefixes: list[set[str] | None] = []
        for i, pattern in enumerate(self.patterns):
            if not joint:
                found = None
            elif known is not None and prefix_key(pattern) in known:
                listed = known[prefix_key(pattern)]
                found = None if listed is None else set(listed)
            else:
                found = word_prefixes(pattern, word_starts)
            self.prefixes.append(found)
            if found is None:
                self.alone.append(i)
            for prefix in found or ():
                by_prefix.setdefault(prefix, set()).add(i)
        self.scanner = None
        self.to_try: dict[str, list[int]] = {}
        if by_prefix:
            # the scanner captures the longest prefix at a word start (the longest first): the
            # patterns to try are those with that prefix or with a shorter one it starts with
            for prefix in by_prefix:
                shorter = [prefix[:n] for n in range(1, len(prefix) + 1)]
                self.to_try[prefix] = sorted(
                    set().union(*(by_prefix[p] for p in shorter if p in by_prefix))
                )
            self.scanner = _scanner(by_prefix, r"\b" if word_starts else "")

    def prefixes_by_key(self) -> dict[str, list[str] | None]:
        """The prefixes of every pattern, to save and hand back as `known`."""
        return {
            prefix_key(p): None if found is None else sorted(found)
            for p, found in zip(self.patterns, self.prefixes, strict=True)
        }

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None) -> list[list]:
        """For each pattern, in order, the list of its `finditer(text, pos, endpos)` matches."""
        end = len(text) if endpos is None else endpos
        found: list[list] = [[] for _ in self.patterns]
        for i in self.alone:
            found[i] = list(self.patterns[i].finditer(text, pos, end))
        if self.scanner is None:
            return found
        after = [pos] * len(self.patterns)
        to_try, patterns = self.to_try, self.patterns
        for candidate in self.scanner.finditer(text, pos, end):
            start = candidate.start()
            for i in to_try[candidate.group(1)]:
                if start >= after[i]:
                    m = patterns[i].match(text, start, end)
                    if m is not None:
                        found[i].append(m)
                        after[i] = m.end()
        return found


# ---- case-insensitive words found in the lower-cased text -----------------------------------

# the non-ASCII characters that IGNORECASE matches to an ASCII letter (İ, ı, ſ, the Kelvin sign);
# of all characters only İ changes length when lower-cased, and none other gains or loses being
# a word character (tests/test_pattern_set.py checks all three)
FOLDS_TO_ASCII = "\u0130\u0131\u017f\u212a"


def folds_plainly(text: str) -> bool:
    """Whether an ASCII word matches `text` under IGNORECASE exactly where it occurs in
    `text.lower()`, with the word boundaries where they are in `text`: unless the text holds
    one of FOLDS_TO_ASCII."""
    return text.isascii() or not any(c in text for c in FOLDS_TO_ASCII)


# ---- whether a pattern matches anywhere: AnySearch ---------------------------------------------

_INLINE_FLAGS = re.compile(r"\(\?[aiLmsux-]+[:)]")


def alternatives(source: str) -> list[str]:
    """The top-level alternatives of a regex source (`a|(b|c)|[|]` → a, (b|c), [|]); joined
    with "|" they are `source` again."""
    parts, start, depth, in_class, i = [], 0, 0, False, 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source[i + 1 : i + 2] == "^":
                i += 1
            if source[i + 1 : i + 2] == "]":  # a "]" first in a class is a character
                i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    return [*parts, source[start:]]


class AnySearch:
    """`bool(pattern.search(text))`, trying the pattern only where one of the words that start
    the matches of its alternatives starts (issue 17).

    A pattern led by `\\b`, by a lookbehind or by a group, or with IGNORECASE, is tried at every
    position of the text with all its alternatives. Most alternatives start with one of a few
    literal words (`prefixes`); every match of the pattern then starts where one of those words
    starts, and `Pattern.match` there is what `search` tries at that position. One scan for the
    words (as `_scanner` writes it; in the lower-cased text under IGNORECASE, when
    `folds_plainly`) finds those positions; the alternatives whose words cannot be read are
    searched as one pattern, as before. A pattern with inline flags or a backreference, or
    under IGNORECASE a text with one of FOLDS_TO_ASCII, is searched whole.
    `fast=False` searches whole always (the plain path, for comparisons)."""

    def __init__(self, pattern: re.Pattern, fast: bool = True) -> None:
        self.pattern = pattern
        self.starts: re.Pattern | None = None  # finds where a start word starts
        self.rest: re.Pattern | None = pattern  # the alternatives searched as before
        self.folded = bool(pattern.flags & re.IGNORECASE)
        source = pattern.pattern
        if not fast or _INLINE_FLAGS.search(source) or _BACKREFERENCE.search(source):
            return
        words: set[str] = set()
        rest, at_word_starts = [], True
        for alternative in alternatives(source):
            parsed = _sre_parse.parse(alternative, pattern.flags).data
            found = prefixes(parsed)
            if not found or "" in found or (self.folded and not all(w.isascii() for w in found)):
                rest.append(alternative)
            else:
                words |= {w.lower() for w in found} if self.folded else found
                at_word_starts = at_word_starts and _starts_with_boundary(parsed)
        if not words:
            return
        # where every alternative starts with \b, so do the positions to try ("he" in "the"
        # is not one); lower-casing leaves the word boundaries where they were (folds_plainly)
        boundary = r"\b" if at_word_starts and not pattern.flags & re.ASCII else ""
        self.starts = _scanner(words, boundary, capture=False)
        self.rest = re.compile("|".join(rest), pattern.flags) if rest else None

    def found(self, text: str) -> bool:
        """Whether `self.pattern.search(text)` finds a match."""
        if self.starts is None or (self.folded and not folds_plainly(text)):
            return self.pattern.search(text) is not None
        scanned = text.lower() if self.folded else text
        match = self.pattern.match
        if any(match(text, m.start()) for m in self.starts.finditer(scanned)):
            return True
        return self.rest is not None and self.rest.search(text) is not None


# ---- many rules over one text, each as its own finditer: RuleScan -------------------------------

_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P<\w+>")
_DIGIT_FIRST = re.compile(r"\d")


def _occurrences(text: str, word: str) -> list[int]:
    """Every position where `word` starts (overlapping ones too)."""
    found = []
    find = text.find
    at = find(word)
    while at >= 0:
        found.append(at)
        at = find(word, at + 1)
    return found


def _shortest(words) -> tuple[str, ...]:
    """`words` without those that start with another of them: where "jan" is not, neither is
    "january"."""
    return tuple(sorted(w for w in words if not any(v != w and w.startswith(v) for v in words)))


class RuleScan:
    """`[m.span() for m in pattern.finditer(text)]` for each of many patterns (the entity
    pattern rules), found where their matches can start instead of by one scan each (issue 17).

    A rule led by a class of letters or digits makes the regex engine try it at every character
    of the class: a third of a letter's characters for `[OoTtFfSsEeNn\\d]`. Here each pattern's
    parse tree tells what its matches start with (`prefixes(..., digits=True)`):
    - words (`once`, `twice`, `tablet`...): the pattern is tried with `Pattern.match` only where
      one of them occurs (`str.find`; in the lower-cased text under IGNORECASE, on texts
      without the four characters that fold to an ASCII letter, `folds_plainly`);
    - a digit: the patterns that can start with one are tried together, in one scan that stops
      at digits only: `\\d(?<=(?:(?=(P1))|)(?:(?=(P2))|)....)` captures, at each digit, each
      pattern's match from there (a lookahead finds the match `Pattern.match` finds); a
      condition on the groups skips digits where none matches.
    A pattern's `finditer` matches are its leftmost non-overlapping matches: walking these
    starts in order and skipping those inside the last match gives the same spans. A pattern
    whose starts cannot be read, that can match the empty string, with flags other than
    IGNORECASE, inline flags or a backreference (not allowed in a lookbehind), or with a start
    word shorter than `MIN_WORD` letters (found too often to gain), is scanned on its own with
    its `alone` pattern (the same matches, written to scan fast). `fast=False` scans each on its
    own. tests/test_pattern_set.py and tests/test_speed_patterns.py compare both."""

    MIN_WORD = 3

    def __init__(
        self, patterns: list[re.Pattern], alone: list[re.Pattern] | None = None, fast: bool = True
    ) -> None:
        self.patterns = list(patterns)
        self.alone_patterns = list(alone) if alone is not None else self.patterns
        self.words: list[tuple[str, ...]] = []
        self.folded = [bool(p.flags & re.IGNORECASE) for p in self.patterns]
        self.alone: set[int] = set()
        digit_led = []
        for i, pattern in enumerate(self.patterns):
            found = self._starts(pattern) if fast else None
            if found is None:
                self.alone.add(i)
                self.words.append(())
                continue
            words = found - {DIGIT}
            self.words.append(_shortest({w.lower() for w in words} if self.folded[i] else words))
            if DIGIT in found:
                digit_led.append(i)
        self.digit_led = set(digit_led)
        self.digit_scan: re.Pattern | None = None
        self.digit_groups: list[tuple[int, int]] = []  # (pattern, its group in digit_scan)
        if digit_led:
            parts, groups = [], 0
            for i in digit_led:
                pattern = self.patterns[i]
                body = _NAMED_GROUP.sub("(?:", pattern.pattern)  # names clash across rules
                flags = "(?i:" if self.folded[i] else "(?:"
                parts.append(f"(?:(?={flags}({body})))|)")
                self.digit_groups.append((i, groups + 1))
                groups += 1 + pattern.groups - len(pattern.groupindex)
            some = "".join(f"(?({g})|" for _, g in self.digit_groups) + "(?!)"
            self.digit_scan = re.compile(
                r"\d(?<=" + "".join(parts) + ".)" + some + ")" * len(self.digit_groups)
            )
            if self.digit_scan.groups != groups:  # a group the count missed: cannot happen
                raise ValueError("RuleScan: the joint digit scan has other groups than counted")

    def _starts(self, pattern: re.Pattern) -> set[str] | None:
        """What the matches of `pattern` start with, if it can be found that way, else None."""
        source = pattern.pattern
        if pattern.flags & ~(re.IGNORECASE | re.UNICODE) or _INLINE_FLAGS.search(source):
            return None
        if _BACKREFERENCE.search(source):
            return None
        if len(_NAMED_GROUP.findall(source)) != len(pattern.groupindex):  # names it cannot drop
            return None
        parsed = _sre_parse.parse(source, pattern.flags)
        if parsed.getwidth()[0] == 0:
            return None
        found = prefixes(parsed.data, digits=True)
        if not found:
            return None
        words = found - {DIGIT}
        if DIGIT in found:  # a word that starts with a digit starts where the digits are tried
            words = {w for w in words if not _DIGIT_FIRST.match(w)}
        if any(len(w) < self.MIN_WORD for w in words):
            return None
        if pattern.flags & re.IGNORECASE and not all(w.isascii() for w in words):
            return None
        return words | (found & {DIGIT})

    def spans(
        self, text: str, only: list[int] | None = None, lowered: str | None = None
    ) -> list[list[tuple[int, int]]]:
        """For each pattern, in order, its `finditer(text)` spans; `only`: the patterns to
        match (the others get no spans); `lowered`: `text.lower()`, if the caller has it."""
        out: list[list[tuple[int, int]]] = [[] for _ in self.patterns]
        todo = range(len(self.patterns)) if only is None else only
        at_digits: dict[int, list[tuple[int, int]]] = {}
        if self.digit_scan is not None and not self.digit_led.isdisjoint(todo):
            at_digits = {i: [] for i, _ in self.digit_groups}
            groups = self.digit_groups
            for m in self.digit_scan.finditer(text):
                start = m.start()
                for i, group in groups:
                    end = m.end(group)
                    if end >= 0:
                        at_digits[i].append((start, end))
        plain_folds = None
        seen: dict[tuple[bool, str], list[int]] = {}  # (folded, word): where it occurs
        for i in todo:
            words = self.words[i]
            alone = i in self.alone
            if words and self.folded[i]:  # its words are looked for in the lower-cased text
                if plain_folds is None:
                    plain_folds = folds_plainly(text)
                alone = not plain_folds
            if alone:
                out[i] = [m.span() for m in self.alone_patterns[i].finditer(text)]
                continue
            starts: dict[int, int | None] = dict(at_digits.get(i, ()))
            if words:
                folded = self.folded[i]
                if folded and lowered is None:
                    lowered = text.lower()
                for word in words:
                    where = seen.get((folded, word))
                    if where is None:
                        where = seen[folded, word] = _occurrences(lowered if folded else text, word)
                    for at in where:
                        starts.setdefault(at, None)
                order = sorted(starts)
            else:
                order = list(starts)  # the digits', in order already
            found, after, match = out[i], 0, self.patterns[i].match
            for start in order:
                if start < after:
                    continue
                end = starts[start]
                if end is None:
                    m = match(text, start)
                    if m is None:
                        continue
                    end = m.end()
                found.append((start, end))
                after = end
        return out
