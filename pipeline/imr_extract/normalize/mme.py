"""Morphine milligram equivalents per day of an opioid request, where the letter gives enough:
strength x units per dose x doses per day x the CDC 2022 conversion factor (mme_factors.csv).
The CDC convention: the most the sig allows ("1-2 tabs every 4-6 hrs" of 5 mg is 5 x 2 x 6 =
60). A transdermal strength per hour (fentanyl 25 mcg/hr) needs no sig. Nothing is guessed: a
missing input gives no MME, and `mme_note` says which input was missing."""

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
    m = re.match(r"every (\d+)(?:\s*(?:-|to)\s*\d+)? ?(?:hours?|hrs?|h)\b", f) or re.match(
        r"q ?(\d+)", f
    )
    if m:  # "every 4-6 hours": at most every 4 hours
        return 24 / float(m.group(1))
    m = re.match(
        rf"({_NUMBER}|{_WORD})(?:\s*(?:-|to)\s*({_NUMBER}|{_WORD}))?\s*(?:x|times?)\s*"
        r"(?:(?:a|per|/)\s*day|daily)",
        f,
    )
    if m:  # a range counts at its most ("1-2 times a day" -> 2)
        return max(float(WORD_NUMBERS.get(w, w)) for w in m.groups() if w)
    if re.match(r"(once|twice|thrice) (?:a|per) day", f):
        return float(WORD_NUMBERS[f.split()[0]])
    return None


def units_per_dose(item: str) -> float:
    """'one tablet twice daily' -> 1; '2 tablets every 6 hours' -> 2; '1-2 tabs' -> 2 (the most
    the sig allows); otherwise 1."""
    m = re.search(
        rf"(?<![\w.])({_NUMBER}|{_WORD})(?:\s*(?:-|to)\s*({_NUMBER}|{_WORD}))?\s+"
        r"(?:tablets?|tabs?|capsules?|caps?|pills?)\b",
        item.lower(),
    )
    if m:
        return max(float(WORD_NUMBERS.get(w, w)) for w in m.groups() if w)
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
    """(opioid ingredient, amount) from 'hydrocodone;acetaminophen' and '10 mg + 325 mg': the
    strengths of a combination are in the order of its ingredients; the amount is in the unit
    of the ingredient's conversion factor (mg, or mcg/hr for a patch)."""
    if not strength:
        return None
    elements = strength.split(";")
    for ingredient in ingredients:
        if ingredient not in factors:
            continue
        unit = factors[ingredient]["unit"]
        for element in elements:
            amounts = [_amount(p, unit) for p in element.split("+")]
            if len(amounts) == len(ingredients):  # a fixed combination, ingredient order
                amount = amounts[ingredients.index(ingredient)]
            else:
                amount = next((a for a in amounts if a is not None), None)
            if amount is not None:
                return ingredient, amount
    return None


def _amount(text: str, unit: str) -> float | None:
    m = re.fullmatch(rf"({_NUMBER}) ?{re.escape(unit)}", text.strip())
    return float(m.group(1)) if m else None


def opioid_ingredient(ingredients: list[str], factors: dict | None = None) -> str | None:
    """The first ingredient with a CDC conversion factor, or None (not an opioid item)."""
    factors = factors or conversion_factors()
    return next((i for i in ingredients if i in factors), None)


def mme_per_day(
    ingredients: list[str],
    strength: str | None,
    frequency: str | None,
    item: str,
    factors: dict | None = None,
) -> dict | None:
    """{'mme_per_day', 'mme_factor', 'mme_inputs'} or None when an input is missing."""
    found = mme_with_note(ingredients, strength, frequency, item, factors)
    return None if found["mme_per_day"] is None else found


def mme_with_note(
    ingredients: list[str],
    strength: str | None,
    frequency: str | None,
    item: str,
    factors: dict | None = None,
) -> dict:
    """{'mme_per_day', 'mme_factor', 'mme_inputs', 'mme_note'}: the MME, or None and a note
    saying which input the item lacks. Not an opioid item: every value None."""
    factors = factors or conversion_factors()
    empty = {"mme_per_day": None, "mme_factor": None, "mme_inputs": None, "mme_note": None}
    first = opioid_ingredient(ingredients, factors)
    if first is None:
        return empty
    opioid = opioid_strength(ingredients, strength, factors)
    if not opioid:
        unit = factors[first]["unit"]
        note = (
            f"no {first} strength in {unit} in the item" if strength else "no strength in the item"
        )
        return empty | {"mme_note": note}
    ingredient, amount = opioid
    factor = float(factors[ingredient]["factor"])
    unit = factors[ingredient]["unit"]
    if unit.endswith("/hr"):  # a transdermal patch: the strength is already a rate
        return {
            "mme_per_day": round(amount * factor, 2),
            "mme_factor": factor,
            "mme_inputs": f"{ingredient} {amount:g} {unit} x {factor:g} (CDC 2022)",
            "mme_note": None,
        }
    doses = doses_per_day(frequency)
    if not doses:
        note = (
            f"frequency '{frequency}' gives no doses per day"
            if frequency
            else "no frequency in the item"
        )
        return empty | {"mme_note": note}
    units = units_per_dose(item)
    mme = amount * units * doses * factor
    return {
        "mme_per_day": round(mme, 2),
        "mme_factor": factor,
        "mme_inputs": f"{ingredient} {amount:g} {unit} x {units:g} per dose x {doses:g} doses/day "
        f"x {factor:g} (CDC 2022)",
        "mme_note": None,
    }
