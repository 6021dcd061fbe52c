"""Dates as the letters write them, to ISO 8601."""

from __future__ import annotations

import re
from datetime import date

_NUMERIC = re.compile(r"^\s*(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})\s*$")
_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})[/-]((?:19|20)\d{2})\s*$")
_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WORDY = re.compile(
    r"^\s*([A-Za-z]+)\.?,?\s+(?:(\d{1,2})(?:st|nd|rd|th)?,?\s+)?(?:of\s+)?(\d{4})\s*$"
)


def expand_year(year: int, pivot: int = 40) -> int:
    """Two-digit years: 00-39 are 20xx, 40-99 are 19xx (injuries go back decades)."""
    if year >= 100:
        return year
    return 2000 + year if year < pivot else 1900 + year


def parse_date(text: str) -> str | None:
    """'5/28/2010' -> '2010-05-28', '10-13-16' -> '2016-10-13', 'December 2014' and
    '12/2014' -> '2014-12'.
    Month first, as US letters write them; None when it is not a valid date."""
    match = _NUMERIC.match(text)
    if match:
        month, day, year = (int(g) for g in match.groups())
        try:
            return date(expand_year(year), month, day).isoformat()
        except ValueError:
            return None
    match = _MONTH_YEAR.match(text)
    if match and 1 <= int(match.group(1)) <= 12:
        return f"{int(match.group(2)):04d}-{int(match.group(1)):02d}"
    match = _WORDY.match(text)
    if match and match.group(1).lower() in _MONTHS:
        month = _MONTHS[match.group(1).lower()]
        year = int(match.group(3))
        if match.group(2):
            try:
                return date(year, month, int(match.group(2))).isoformat()
            except ValueError:
                return None
        return f"{year:04d}-{month:02d}"
    return None
