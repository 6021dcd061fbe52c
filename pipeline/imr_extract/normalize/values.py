"""Normalised values of dose parts and pain scores: pure functions over the matched text."""

from __future__ import annotations

import re

WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "once": 1,
    "twice": 2,
    "thrice": 3,
}
_NUMBER = r"\d+(?:\.\d+)?"
_UNIT_ALIASES = {
    "gm": "g",
    "gms": "g",
    "gram": "g",
    "grams": "g",
    "unit": "units",
    "ml": "ml",
    "cc": "ml",
    "percent": "%",
}


def _unit(unit: str) -> str:
    unit = unit.lower().replace(" ", "")
    return _UNIT_ALIASES.get(unit, unit)


def _fmt(number: str) -> str:
    value = float(number)
    return str(int(value)) if value.is_integer() else number


def normalize_strength(text: str) -> str:
    """'10/325mg' -> '10 mg + 325 mg'; '7.5 MG' -> '7.5 mg'; '5%' -> '5 %';
    '10mg/1ml' -> '10 mg/ml'; '650-1000 mg' -> '650-1000 mg'; '10/325' -> '10 + 325'."""
    flat = " ".join(text.split()).lower().replace("percent", "%")
    if flat.count("%") > 1:  # "4%-27.5%-0.0325%": one strength per ingredient
        return " + ".join(f"{_fmt(n)} %" for n in re.findall(rf"({_NUMBER})\s*%", flat))
    per = re.search(
        r"(mg|mcg)\s*/\s*(?:\d+(?:\.\d+)?\s*)?(ml|hr|h|g|gm|dose|actuation|tab)\b", flat
    )
    m = re.match(rf"^({_NUMBER}(?:\s*[/-]\s*{_NUMBER})*)\s*(mg|mcg|meq|iu|units?|%)?", flat)
    if not m:
        return flat
    numbers = re.findall(_NUMBER, m.group(1))
    unit = _unit(m.group(2)) if m.group(2) else ""
    if per:
        return f"{_fmt(numbers[0])} {per.group(1)}/{_unit(per.group(2))}"
    if not unit and len(numbers) > 1:
        unit = "mg"  # "Norco 10/325": combination strengths without a unit are milligrams
    low, high = (float(n) for n in numbers[:2]) if len(numbers) == 2 else (0.0, 0.0)
    if len(numbers) == 2 and "-" in m.group(1) and "/" not in m.group(1) and low < high < 10 * low:
        # "650-1000 mg" is a range; "7.5-325mg" (ten times apart) and "75-0.2mg" (going
        # down) are combinations
        return f"{_fmt(numbers[0])}-{_fmt(numbers[1])} {unit}".strip()
    return " + ".join(f"{_fmt(n)} {unit}".strip() for n in numbers)


def normalize_quantity(text: str) -> tuple[str, float | None, str]:
    """(normalised text, number, unit): '#180' -> ('180', 180, ''); '240g' -> ('240 g', 240, 'g');
    'unknown quantity' -> ('unknown', None, ''); 'one container' -> ('1', 1, '')."""
    flat = " ".join(text.split()).lower()
    if "unknown" in flat:
        return "unknown", None, ""
    m = re.search(_NUMBER, flat)
    if m:
        number = float(m.group())
    else:
        words = [WORD_NUMBERS[w] for w in re.findall(r"[a-z]+", flat) if w in WORD_NUMBERS]
        if not words:
            return flat, None, ""
        number = float(words[0])
    unit_match = re.search(r"(?<![a-z])(grams?|gms?|g|ml|cc|oz)\b", flat)
    unit = _unit(unit_match.group(1)) if unit_match else ""
    shown = _fmt(str(number))
    return (f"{shown} {unit}" if unit else shown), number, unit


def normalize_refills(text: str) -> str | None:
    flat = text.lower()
    m = re.search(r"\d+", flat)
    if m:
        return m.group()
    for word, value in WORD_NUMBERS.items():
        if re.search(rf"\b{word}\b", flat):
            return str(value)
    return None


def normalize_pain(text: str) -> tuple[str, float | None, float | None]:
    """(value, low, high): '7/10' -> ('7', 7, 7); '6-8 on a 10-point scale' -> ('6-8', 6, 8);
    '7/10 to 8/10' -> ('7-8', 7, 8); 'VAS 8' -> ('8', 8, 8)."""
    flat = " ".join(text.split())
    flat = re.sub(r"/\s*10\b", "", flat)  # the scale is not a score
    flat = re.sub(r"\b(?:out of|scale of|0\s*-\s*10|10[- ]point|ten[- ]point)\b.*$", "", flat)
    numbers = [float(n) for n in re.findall(_NUMBER, flat)]
    if not numbers:
        return "", None, None
    low, high = min(numbers[:2]), max(numbers[:2])
    value = _fmt(str(low)) if low == high else f"{_fmt(str(low))}-{_fmt(str(high))}"
    return value, low, high
