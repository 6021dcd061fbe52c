"""Morphine milligram equivalents per day of an opioid request, where the letter gives enough:
strength x units per dose x doses per day x the CDC 2022 conversion factor (mme_factors.csv).
Nothing is guessed: a missing input gives no MME."""

from __future__ import annotations

import re
from functools import lru_cache

from imr_extract.normalize.values import WORD_NUMBERS
from imr_extract.rules import packaged_rules

_NUMBER = r"\d+(?:\.\d+)?"
_WORD = "|".join(WORD_NUMBERS)


def doses_per_day(frequency: str | None) -> float | None:
    """'three times a day' -> 3; 'BID' -> 2; 'every 4-6 hours' -> 6 (the most it allows);
    'daily' -> 1; weekly or unknown frequencies -> None."""
    if not frequency:
        return None
    f = " ".join(frequency.lower().replace(".", "").split())
    fixed = fixed_frequencies()
    if f in fixed:
        return float(fixed[f])
    m = re.match(r"every (\d+)(?:\s*(?:-|to)\s*\d+)? ?hours?", f) or re.match(r"q ?(\d+)", f)
    if m:
        return 24 / float(m.group(1))
    m = re.match(
        rf"({_NUMBER}|{_WORD})(?:\s*(?:-|to)\s*({_NUMBER}|{_WORD}))?\s*(?:x|times?)\s*"
        r"(?:a|per|/)\s*(?:day|daily)",
        f,
    )
    if m:  # a range counts at its most ("1-2 times a day" -> 2)
        return max(float(WORD_NUMBERS.get(w, w)) for w in m.groups() if w)
    if re.match(r"(once|twice|thrice) (?:a|per) day", f):
        return float(WORD_NUMBERS[f.split()[0]])
    return None


def units_per_dose(item: str) -> float:
    """'one tablet twice daily' -> 1; '2 tablets every 6 hours' -> 2; otherwise 1."""
    m = re.search(
        rf"\b({_NUMBER}|{_WORD})\s+(?:tablets?|tabs?|capsules?|caps?|pills?)\b", item.lower()
    )
    if m:
        word = m.group(1)
        return float(WORD_NUMBERS.get(word, word))
    return 1.0


@lru_cache(maxsize=1)
def fixed_frequencies() -> dict[str, float]:
    """Doses per day of sig abbreviations and phrases (frequencies.csv), read once."""
    return {r["frequency"]: float(r["doses_per_day"]) for r in packaged_rules("frequencies.csv")}


@lru_cache(maxsize=1)
def conversion_factors() -> dict[str, dict]:
    """The CDC 2022 table, read once per process."""
    return {r["ingredient"]: r for r in packaged_rules("mme_factors.csv")}


def opioid_strength(ingredients: list[str], strength: str | None, factors: dict):
    """(opioid ingredient, mg) from 'hydrocodone;acetaminophen' and '10 mg + 325 mg': the
    strengths of a combination are in the order of its ingredients."""
    if not strength:
        return None
    amounts = [
        re.fullmatch(rf"({_NUMBER}) mg", p.strip()) for p in strength.split(";")[0].split("+")
    ]
    for i, ingredient in enumerate(ingredients):
        if ingredient in factors and factors[ingredient]["unit"] == "mg":
            amount = amounts[i] if len(amounts) == len(ingredients) else amounts[0]
            if amount:
                return ingredient, float(amount.group(1))
    return None


def mme_per_day(
    ingredients: list[str],
    strength: str | None,
    frequency: str | None,
    item: str,
    factors: dict | None = None,
) -> dict | None:
    """{'mme_per_day', 'mme_factor', 'mme_inputs'} or None when an input is missing."""
    factors = factors or conversion_factors()
    opioid = opioid_strength(ingredients, strength, factors)
    doses = doses_per_day(frequency)
    if not opioid or not doses:
        return None
    ingredient, amount = opioid
    factor = float(factors[ingredient]["factor"])
    units = units_per_dose(item)
    mme = amount * units * doses * factor
    unit = factors[ingredient]["unit"]
    return {
        "mme_per_day": round(mme, 2),
        "mme_factor": factor,
        "mme_inputs": f"{ingredient} {amount:g} {unit} x {units:g} per dose x {doses:g} doses/day "
        f"x {factor:g} (CDC 2022)",
    }
