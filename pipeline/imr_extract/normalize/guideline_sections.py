"""A citation's section text cut into sections, and a key per section that names its chapter.

"Diagnostic Criteria, Special Studies, Summary" is three sections; "Special Studies" of Low
Back Complaints and of Knee Complaints are two keys (`low back complaints > special studies`).
A comma starts a new section only outside parentheses and before a capital letter or a
number ("Ultrasound, therapeutic" and "TENS, chronic pain (…)" are one topic), except in the
known names of resources/section_rules.jsonl; a numbered MTUS opioid section keeps the
unnumbered text after it. Garbled pieces are cleaned by the same file's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

NO_CITATION = "No citation"
KEY_SEPARATOR = " > "


@dataclass
class SectionRules:
    cut: list[re.Pattern] = field(default_factory=list)
    clean: list[re.Pattern] = field(default_factory=list)
    noise: list[re.Pattern] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    split_and: list[re.Pattern] = field(default_factory=list)
    chapters: set[str] = field(default_factory=set)  # no chapter name is a section

    @classmethod
    def from_rules(cls, rules: Iterable[dict], chapters: Iterable[str] = ()) -> SectionRules:
        out = cls(chapters={_scope_key(c) for c in chapters if c})
        for r in rules:
            kind = r["kind"]
            if kind == "section_known":
                out.known.add(_key(r["pattern"]))
            elif kind.startswith("section_"):
                getattr(out, kind.removeprefix("section_")).append(re.compile(r["pattern"], re.I))
        return out


def _key(text: str) -> str:
    text = re.sub(r"\s*(?:&|\band\b)\s*", " and ", text.lower())
    return " ".join(re.sub(r"[^a-z0-9()/ ]", " ", text).split())


def _pieces(text: str) -> list[str]:
    """Cut at ';' and at ', ' outside parentheses."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth <= 0 and (ch == ";" or (ch == "," and text[i + 1 : i + 2] == " ")):
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces]


def _unwrap(text: str) -> str:
    """'(Durable medical equipment (DME))' → 'Durable medical equipment (DME)'."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += (ch == "(") - (ch == ")")
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def _clean(text: str, rules: SectionRules) -> str:
    """The cleaning rules, then an outer pair of parentheses, until nothing changes."""
    changed = True
    while changed:
        before = text
        for pattern in rules.clean:
            text = pattern.sub("", text).strip()
        text = _unwrap(text)
        changed = text != before
    return text


def _scope_key(text: str) -> str:
    """A chapter name compared without parentheses or plural s: 'Hips & Pelvis' is the
    chapter 'Hip and Pelvis'."""
    words = _key(re.sub(r"\([^)]*\)", "", text)).split()
    return " ".join(w.removesuffix("s") for w in words)


def split_sections(
    section: str | None,
    rules: SectionRules,
    scope: Iterable[str | None] = (),
    guideline: str | None = None,
) -> list[str]:
    """The sections of one citation, in order, each once; `scope` (its chapter and title)
    names pieces that are not sections when there are others, as do the ODG chapters of the
    catalog. A "No citation" row has none."""
    if not section or guideline == NO_CITATION:
        return []
    text = " ".join(section.split())
    for pattern in rules.cut:
        text = pattern.sub("", text)
    text = _clean(text, rules)
    numbered = re.match(r"\d+(?:\.\d+)*\.?\s", text) is not None
    pieces = [_clean(p, rules) for p in _pieces(text)]
    pieces = [p for p in pieces if p]
    merged: list[str] = []
    i = 0
    while i < len(pieces):
        j = next(
            (
                j
                for j in range(len(pieces), i + 1, -1)
                if _key(", ".join(pieces[i:j])) in rules.known
            ),
            i + 1,
        )
        piece = ", ".join(pieces[i:j])
        continuation = (
            piece[0].islower()
            or re.match(r"(?:&|and\b)", piece) is not None
            or (numbered and not piece[0].isdigit())
        )
        if merged and continuation and _key(merged[-1]) not in rules.known:
            merged[-1] = f"{merged[-1]}, {piece}"
        else:
            merged.append(piece)
        i = j
    own = {_scope_key(s) for s in scope if s}
    out: list[str] = []
    for piece in merged:
        piece = _unwrap(piece.strip(" ,.;:-"))
        parts = [piece]
        for pattern in rules.split_and:
            m = pattern.match(piece)
            if m:
                parts = list(m.groups())
                break
        for part in parts:
            if part and not any(p.match(part) for p in rules.noise) and part not in out:
                out.append(part)
    for names in (own, rules.chapters):  # a chapter name is no section beside another one
        out = [part for part in out if _scope_key(part) not in names] or out
    return out


def section_key(section: str, chapter: str | None, guideline: str | None) -> str:
    """'low back complaints > special studies': the chapter (or, without one, the guideline
    title) and the section, lower case, spaces squashed, '&' as 'and'."""
    scope = chapter or guideline or ""
    return f"{_key(scope)}{KEY_SEPARATOR}{_key(section)}"
