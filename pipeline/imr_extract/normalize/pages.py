"""Guideline page citations: `74-96`, `11, 13, 14, 79-81`, `75 & 78` to explicit page lists."""

from __future__ import annotations

import re

MAX_RANGE = 400  # a wider "range" is a typo, not 400 pages: keep its two ends only

_PART = re.compile(r"(\d+)\s*(?:[-\u2013]\s*(\d+))?")


def parse_pages(text: str) -> list[int]:
    """Explicit, ordered list of the pages cited (duplicates dropped)."""
    pages: list[int] = []
    for part in re.split(r"\s*(?:,|&|;|\band\b)\s*", text):
        m = _PART.fullmatch(part.strip().rstrip("."))
        if not m:
            continue
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        if first <= last <= first + MAX_RANGE:
            span = range(first, last + 1)
        else:
            span = [first, last]
        for page in span:
            if page not in pages:
                pages.append(page)
    return pages
