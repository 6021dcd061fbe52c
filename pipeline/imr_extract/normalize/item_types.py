"""What kind of service a disputed item is: the item_type taxonomy of resources/item_types.csv.

A pure function over the item text and the labels of the entities found in it, so that it can
be tested without a pipeline. The rules (resources/item_type_rules.csv) are tried in file
order and the first that matches wins: specific cues ("PT/PTT" is a lab test, "spine surgery
evaluation" a visit, an injection of lidocaine an injection) come before general ones.

Speed (issue 17): every match of a rule starts with one of a few literal words ("brace",
"splint", ...; `pattern_set.prefixes`), so on an ASCII item a rule is tried only where one of
its words starts in the lower-cased item (`Pattern.match` there, which is what `search` does
at each position), instead of at every position with all its alternatives (IGNORECASE folds
an ASCII letter only to ASCII letters, but for the Kelvin sign and the long s, which an ASCII
item lacks). A rule whose words cannot be read, or a non-ASCII item, is searched as before;
tests/test_item_types.py compares both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from imr_extract.pattern_set import _sre_parse as _parser
from imr_extract.pattern_set import prefixes
from imr_extract.rules import packaged_rules

MEDICATION = "@MEDICATION"
PROCEDURE = "@PROCEDURE"
OTHER = "other"
PREFIX = re.compile(r"^\s*associated\s+surgical\s+services?\s*:\s*", re.I)

ITEM_TYPES: list[str] = [row["code"] for row in packaged_rules("item_types.csv")]


class ItemRule(NamedTuple):
    item_type: str
    pattern: str  # a regular expression, or @MEDICATION / @PROCEDURE
    regex: re.Pattern | None
    starts: re.Pattern | None  # finds where one of the words that start its matches starts


def compile_rules(rules: Iterable[dict], fast: bool = True) -> list[ItemRule]:
    """The rules in file order; a rule naming a type outside the taxonomy is an error.
    `fast=False`: no words, every rule searched (the plain path, for comparisons)."""
    compiled = []
    for rule in rules:
        item_type, pattern = rule.get("item_type") or "", rule["pattern"]
        if item_type and item_type not in ITEM_TYPES:
            raise ValueError(f"item_type {item_type!r} is not in resources/item_types.csv")
        regex = None if pattern.startswith("@") else re.compile(pattern, re.I)
        starts = _word_starts(regex) if regex is not None and fast else None
        compiled.append(ItemRule(item_type, pattern, regex, starts))
    return compiled


def _word_starts(regex: re.Pattern) -> re.Pattern | None:
    """A pattern that matches (empty) wherever one of the lower-case ASCII words that start
    every match of `regex` starts, or None when those words cannot be read."""
    found = prefixes(_parser.parse(regex.pattern, regex.flags).data)
    if not found or "" in found or not all(w.isascii() for w in found):
        return None
    words = sorted({w.lower() for w in found})
    return re.compile("(?=" + "|".join(re.escape(w) for w in words) + ")")


def classify_item(
    item: str | None,
    entities: Iterable[tuple[str, str | None]],
    rules: list[ItemRule],
) -> str:
    """The item_type of one item; `entities` are (label, item_type) of the entities of its
    text (item_type of a PROCEDURE from procedures.csv, None for other labels)."""
    text = PREFIX.sub("", item or "")
    lowered = text.lower() if text.isascii() else None
    entities = list(entities)
    for item_type, pattern, regex, starts in rules:
        if regex is not None:
            if starts is not None and lowered is not None:
                if any(regex.match(text, m.start()) for m in starts.finditer(lowered)):
                    return item_type
            elif regex.search(text):
                return item_type
        elif pattern == MEDICATION:
            if any(label == "MEDICATION" for label, _ in entities):
                return item_type
        elif pattern == PROCEDURE:
            found = [t for label, t in entities if label == "PROCEDURE" and t in ITEM_TYPES]
            if found:
                return found[0]
    return OTHER
