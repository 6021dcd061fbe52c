"""Letter-level covariates of documents.csv, computed from what the other tables already hold:
days between the header dates, the injury date of a letter without a header (from its case
summary), a pseudo-reviewer key for clustering, and pain per letter.

Pure functions over the header dict and entity rows (the dicts of `export.entity_table_rows`),
so they are tested without a pipeline and run the same on gold entities (evaluation).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SUMMARY_SECTION = "clinical_case_summary"
# (column, from, to): whole days from the first date to the second
INTERVALS = (
    ("days_injury_to_ur", "date_of_injury", "ur_denial_date"),
    ("days_ur_to_application", "ur_denial_date", "application_received"),
    ("days_application_to_decision", "application_received", "decision_date"),
)
PAIN_COLUMNS = ("pain_max", "pain_latest", "pain_with_medication", "pain_without_medication")
# qualifiers of a score that is not what the patient feels now (pain_latest skips them)
NOT_CURRENT = {"at_best", "at_worst", "without_medication"}


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not FULL_DATE.match(value):
        return None  # missing, or a month only ("2014-12"): no day count
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def days_between(start: Any, end: Any) -> int | None:
    """Whole days from `start` to `end` (ISO dates); None unless both are full dates.
    Negative when the letter's dates are out of order (kept: it is what the letter says)."""
    a, b = _day(start), _day(end)
    return (b - a).days if a and b else None


def intervals(dates: dict[str, Any]) -> dict[str, int | None]:
    """days_injury_to_ur, days_ur_to_application, days_application_to_decision."""
    return {col: days_between(dates.get(a), dates.get(b)) for col, a, b in INTERVALS}


def _plain(e: dict[str, Any]) -> bool:
    """Stated as a fact of this patient: not negated, hypothetical or about a relative."""
    return not (e.get("negated") or e.get("hypothetical") or e.get("family"))


def summary_injury_date(entities: Iterable[dict[str, Any]]) -> str | None:
    """The first full DATE with role `injury` in the clinical case summary (text order), for a
    letter whose header gives none (the 2014-15 layout has no header block)."""
    found = [
        e
        for e in entities
        if e["label"] == "DATE"
        and e.get("role") == "injury"
        and e.get("section") == SUMMARY_SECTION
        and _plain(e)
        and _day(e.get("normalized"))
    ]
    return min(found, key=lambda e: e["start_char"])["normalized"] if found else None


def injury_date(header: dict[str, Any], entities: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """date_of_injury and date_of_injury_source (`header`, `summary` or None)."""
    if header.get("date_of_injury"):
        return {"date_of_injury": header["date_of_injury"], "date_of_injury_source": "header"}
    found = summary_injury_date(entities)
    return {"date_of_injury": found, "date_of_injury_source": "summary" if found else None}


def board_text(specialties: Iterable[str]) -> str:
    """Reviewer specialties as one comparable string: case, spacing and `&`/`and` folded,
    sorted (the order a letter lists them in does not matter)."""
    folded = {
        " ".join(s.casefold().replace("&", " and ").split()) for s in specialties if s and s.strip()
    }
    return ";".join(sorted(folded))


def reviewer_key(board: str | None, license_states: Iterable[str]) -> str | None:
    """A pseudo-reviewer id for clustering decisions by reviewer: a short stable hash of the
    board and the sorted licence states. Letters of one key share a credential profile; it
    is NOT an identity (many reviewers share a profile, and one reviewer's letters may
    differ). None when the letter states neither."""
    states = sorted({" ".join(s.split()).upper() for s in license_states if s and s.strip()})
    board = (board or "").strip()
    if not board and not states:
        return None
    digest = hashlib.sha1(f"{board.casefold()}|{';'.join(states)}".encode()).hexdigest()
    return f"rv-{digest[:10]}"


def pain_bounds(value: Any) -> tuple[float, float] | None:
    """(low, high) of a normalised PAIN_SCORE (`7`, `6-8`, `7.5`); None when it is not one."""
    if not isinstance(value, str):
        return None
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", value)[:2]]
    if not numbers or max(numbers) > 10:
        return None
    return min(numbers), max(numbers)


def _score(value: Any) -> float | None:
    """A score as one number: a range ("6-8") counts at its upper end, like a dose range in
    MME (`pain_max`, `pain_latest` and the with/without medication scores all use it)."""
    bounds = pain_bounds(value)
    return bounds[1] if bounds else None


def letter_pain(entities: Iterable[dict[str, Any]]) -> dict[str, float | None]:
    """Pain per letter from its PAIN_SCORE entities (normalized, qualifier, section,
    start_char, context flags), deduplicated across repeated mentions:

    - only plain mentions count (not negated, hypothetical or a relative's), and a range
      counts at its upper end ("6-8" is 8);
    - when the clinical case summary holds scores, only its scores count: the rationale and
      guideline parts restate the summary (a repeat, not a newer score) or quote guideline
      thresholds; otherwise every section counts;
    - `pain_max`: the highest score (any qualifier: "9/10 at worst" counts);
    - `pain_latest`: the last score in text order (summaries run in date order) that is not
      `at_best`, `at_worst` or `without_medication`;
    - `pain_with_medication`, `pain_without_medication`: the last score with that qualifier.

    So a score repeated in the letter counts once: the maximum and the last value do not
    change with repeats, and a restatement outside the summary is never taken for a newer
    score."""
    scores = [
        e
        for e in entities
        if e["label"] == "PAIN_SCORE" and _plain(e) and _score(e.get("normalized")) is not None
    ]
    in_summary = [e for e in scores if e.get("section") == SUMMARY_SECTION]
    mentions = [
        (_score(e["normalized"]), e.get("qualifier"))
        for e in sorted(in_summary or scores, key=lambda e: e["start_char"])
    ]

    def last(keep) -> float | None:
        values = [value for value, qualifier in mentions if keep(qualifier)]
        return values[-1] if values else None

    return {
        "pain_max": max((value for value, _ in mentions), default=None),
        "pain_latest": last(lambda q: q not in NOT_CURRENT),
        "pain_with_medication": last(lambda q: q == "with_medication"),
        "pain_without_medication": last(lambda q: q == "without_medication"),
    }
