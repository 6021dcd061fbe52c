"""What kind of service a disputed item is: the item_type taxonomy of resources/item_types.csv.

A pure function over the item text and the labels of the entities found in it, so that it can
be tested without a pipeline. The rules (resources/item_type_rules.csv) are tried in file
order and the first that matches wins: specific cues ("PT/PTT" is a lab test, "spine surgery
evaluation" a visit, an injection of lidocaine an injection) come before general ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from imr_extract.rules import packaged_rules

MEDICATION = "@MEDICATION"
PROCEDURE = "@PROCEDURE"
OTHER = "other"
PREFIX = re.compile(r"^\s*associated\s+surgical\s+services?\s*:\s*", re.I)

ITEM_TYPES: list[str] = [row["code"] for row in packaged_rules("item_types.csv")]


def compile_rules(rules: Iterable[dict]) -> list[tuple[str, str, re.Pattern | None]]:
    """(item_type, pattern or @name, compiled regex or None) in rule order; a rule naming a
    type outside the taxonomy is an error."""
    compiled = []
    for rule in rules:
        item_type, pattern = rule.get("item_type") or "", rule["pattern"]
        if item_type and item_type not in ITEM_TYPES:
            raise ValueError(f"item_type {item_type!r} is not in resources/item_types.csv")
        regex = None if pattern.startswith("@") else re.compile(pattern, re.I)
        compiled.append((item_type, pattern, regex))
    return compiled


def classify_item(
    item: str | None,
    entities: Iterable[tuple[str, str | None]],
    rules: list[tuple[str, str, re.Pattern | None]],
) -> str:
    """The item_type of one item; `entities` are (label, item_type) of the entities of its
    text (item_type of a PROCEDURE from procedures.csv, None for other labels)."""
    text = PREFIX.sub("", item or "")
    entities = list(entities)
    for item_type, pattern, regex in rules:
        if regex is not None:
            if regex.search(text):
                return item_type
        elif pattern == MEDICATION:
            if any(label == "MEDICATION" for label, _ in entities):
                return item_type
        elif pattern == PROCEDURE:
            found = [t for label, t in entities if label == "PROCEDURE" and t in ITEM_TYPES]
            if found:
                return found[0]
    return OTHER
