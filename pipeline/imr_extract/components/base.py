"""Shared by every rule component: rules as data, loaded at initialize, saved with the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy
import srsly
from spacy.language import Language
from spacy.util import ensure_path

from imr_extract.extensions import register_extensions
from imr_extract.rules import packaged_rules, read_jsonl, read_rules, write_jsonl


class RuleComponent:
    """Subclasses name their packaged rules file and compile rules in `set_rules`."""

    rules_file: str = ""

    def __init__(self, nlp: Language, name: str) -> None:
        register_extensions()
        self.nlp = nlp
        self.name = name
        self.rules: list[dict[str, Any]] = []

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        self.rules = list(rules)
        self.compile()

    def compile(self) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def initialize(self, get_examples=None, *, nlp=None, rules_path: str | None = None) -> None:
        """Load rules from `rules_path` (a JSONL file of your own) or the packaged defaults."""
        self.set_rules(read_rules(rules_path) if rules_path else packaged_rules(self.rules_file))

    def to_disk(self, path, *, exclude=()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        header = {"_source": f"{self.name} rules saved with the pipeline", "_file": self.rules_file}
        write_jsonl(path / "rules.jsonl", self.rules, header)

    def from_disk(self, path, *, exclude=()) -> RuleComponent:
        self.set_rules(read_jsonl(Path(path) / "rules.jsonl"))
        return self

    def to_bytes(self, *, exclude=()) -> bytes:
        return srsly.json_dumps({"rules": self.rules}).encode()  # not msgpack: medspaCy hooks it

    def from_bytes(self, data: bytes, *, exclude=()) -> RuleComponent:
        self.set_rules(srsly.json_loads(data)["rules"])
        return self


TEXT_CACHE = "imr_text_cache"


def doc_text(doc) -> str:
    """doc.text, kept while the pipeline runs: spaCy rebuilds it from the tokens on every access
    (about 1 ms a letter), and every component needs it. The fast tokenizer leaves the text it
    was given there (tokenizer.py); else the first call builds it. `imr_coding`, the last component,
    drops the copy so that it is not serialised with the Doc (tests/test_pipeline.py checks
    that no copy is left)."""
    text = doc.user_data.get(TEXT_CACHE)
    if text is None:
        text = doc.text
        doc.user_data[TEXT_CACHE] = text
    return text


def in_sorted(sorted_ids: numpy.ndarray, ids: numpy.ndarray) -> numpy.ndarray:
    """Which of `ids` (spaCy's uint64 string ids of tokens) are in `sorted_ids` (sorted,
    uint64): a binary search, where numpy.isin sorts both arrays on every call (3.5x slower
    on a letter's tokens)."""
    if not len(sorted_ids):
        return numpy.zeros(len(ids), dtype=bool)
    at = numpy.searchsorted(sorted_ids, ids)
    at[at == len(sorted_ids)] = 0
    return sorted_ids[at] == ids


def section_body(doc, name: str) -> tuple[int, int] | None:
    bodies = doc._.imr_section_bodies or {}
    bounds = bodies.get(name)
    return (bounds[0], bounds[1]) if bounds else None
