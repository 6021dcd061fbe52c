"""Reviewer certifications as written → canonical board and subspecialty names.

"Family Practice" and "Family Medicine" are one board; "Preventive Medicine;Occupational
Medicine" is the board Preventive Medicine with the subspecialty Occupational Medicine. The
names are data (resources/specialty_boards.csv, after the ABMS member boards and their
certificates); a name not in the file is kept as written, as a board, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def name_key(name: str) -> str:
    """'Physical Medicine and Rehabilitation' and 'physical medicine & rehabilitation.' agree."""
    name = re.sub(r"\s*(?:&|\band\b)\s*", " ", name.lower())
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", name).split())


def board_table(rows: Iterable[dict]) -> dict[str, tuple[str, str]]:
    """{name key: (canonical name, kind)} from the resource rows."""
    return {name_key(r["written"]): (r["canonical"], r["kind"]) for r in rows}


def boards_and_subspecialties(
    specialties: Iterable[str], table: dict[str, tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """(boards, subspecialties), canonical, in letter order, each once."""
    boards: list[str] = []
    subs: list[str] = []
    for written in specialties:
        canonical, kind = table.get(name_key(written), (written.strip(), "board"))
        target = subs if kind == "subspecialty" else boards
        if canonical not in target:
            target.append(canonical)
    return boards, subs
