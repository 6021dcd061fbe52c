"""Amounts of a decision's item as numbers (issue 15): total sessions, times per week, weeks,
rental days. "2x6" is 2 a week for 6 weeks, 12 sessions; "Eight physical therapy sessions" is
8; "30 day rental" is 30 days. The patterns are resources/amount_patterns.jsonl and the number
words resources/number_words.csv; nothing is guessed beyond the product of a rate and a
duration both written in the item. A range ("6-8 sessions") counts at its upper bound, the most
the request allows."""

from __future__ import annotations

import re
from functools import lru_cache

from imr_extract.rules import packaged_rules

AMOUNT_COLUMNS = ("sessions", "times_per_week", "duration_weeks", "rental_days")
_GROUPS = {
    "sessions": "sessions",
    "per_week": "times_per_week",
    "weeks": "duration_weeks",
    "rental_days": "rental_days",
}


@lru_cache(maxsize=1)
def number_words() -> dict[str, float]:
    """{'eight': 8, 'twice': 2, ...} from number_words.csv, read once."""
    return {r["word"]: float(r["value"]) for r in packaged_rules("number_words.csv")}


def number_pattern() -> str:
    """A number as written: digits or a number word, optionally a range ('6-8', 'one to two')."""
    words = "|".join(sorted((re.escape(w) for w in number_words()), key=len, reverse=True))
    one = rf"(?:\d+(?:\.\d+)?|{words})"
    return rf"{one}(?:\s*(?:-|to)\s*{one})?"


def number_value(text: str) -> float | None:
    """'8' -> 8; 'eight' -> 8; 'twenty-four' -> 24; '6-8' and 'one to two' -> the upper bound."""
    flat = " ".join(text.lower().split())
    words = number_words()
    if flat in words:
        return words[flat]
    parts = [p for p in re.split(r"\s*(?:-|\bto\b)\s*", flat) if p]
    values = [words.get(p) if p in words else _float(p) for p in parts]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def amount_rules() -> list[tuple[str, re.Pattern]]:
    n = number_pattern()
    return [
        (r["name"], re.compile(r["pattern"].replace("{N}", n), re.IGNORECASE))
        for r in packaged_rules("amount_patterns.jsonl")
    ]


def parse_amounts(*texts: str | None) -> dict[str, int | None]:
    """{sessions, times_per_week, duration_weeks, rental_days} of an item (and its frequency):
    each the first value a rule finds (rules in file order; a match overlapping an earlier
    one is skipped: "two times four visits" is 2 x 4, not 4 visits), sessions = times per week
    x weeks when not written."""
    found: dict[str, float] = {}
    for text in texts:
        if not text:
            continue
        taken: list[tuple[int, int]] = []  # a match inside an earlier one is not read again
        for _, pattern in amount_rules():
            for m in pattern.finditer(text):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                taken.append(m.span())
                for group, column in _GROUPS.items():
                    value = m.groupdict().get(group)
                    if value and column not in found:
                        number = number_value(value)
                        if number:
                            found[column] = number
    if "sessions" not in found and {"times_per_week", "duration_weeks"} <= found.keys():
        found["sessions"] = found["times_per_week"] * found["duration_weeks"]
    return {column: _whole(found.get(column)) for column in AMOUNT_COLUMNS}


def _whole(value: float | None) -> int | None:
    return None if value is None else int(round(value))
