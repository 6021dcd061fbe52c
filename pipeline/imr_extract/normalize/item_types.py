"""What kind of service a disputed item is: the item_type taxonomy of resources/item_types.csv.

A pure function over the item text and the labels of the entities found in it, so that it can
be tested without a pipeline. The rules (resources/item_type_rules.csv) are tried in file
order and the first that matches wins: specific cues ("PT/PTT" is a lab test, "spine surgery
evaluation" a visit, an injection of lidocaine an injection) come before general ones.

Speed (issue 17): a rule is tried only where one of the words that start its matches starts
(`pattern_set.AnySearch`; tests/test_item_types.py compares it with a plain search).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from imr_extract.pattern_set import AnySearch
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
    search: AnySearch | None  # whether `regex` matches anywhere in a text


def compile_rules(rules: Iterable[dict], fast: bool = True) -> list[ItemRule]:
    """The rules in file order; a rule naming a type outside the taxonomy is an error.
    `fast=False`: every rule searched whole (the plain path, for comparisons)."""
    compiled = []
    for rule in rules:
        item_type, pattern = rule.get("item_type") or "", rule["pattern"]
        if item_type and item_type not in ITEM_TYPES:
            raise ValueError(f"item_type {item_type!r} is not in resources/item_types.csv")
        regex = None if pattern.startswith("@") else re.compile(pattern, re.I)
        search = AnySearch(regex, fast) if regex is not None else None
        compiled.append(ItemRule(item_type, pattern, regex, search))
    return compiled


def classify_item(
    item: str | None,
    entities: Iterable[tuple[str, str | None]],
    rules: list[ItemRule],
) -> str:
    """The item_type of one item; `entities` are (label, item_type) of the entities of its
    text (item_type of a PROCEDURE from procedures.csv, None for other labels)."""
    text = PREFIX.sub("", item or "")
    entities = list(entities)
    for item_type, pattern, regex, search in rules:
        if regex is not None:
            if search.found(text):
                return item_type
        elif pattern == MEDICATION:
            if any(label == "MEDICATION" for label, _ in entities):
                return item_type
        elif pattern == PROCEDURE:
            found = [t for label, t in entities if label == "PROCEDURE" and t in ITEM_TYPES]
            if found:
                return found[0]
    return OTHER
