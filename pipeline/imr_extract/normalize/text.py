"""Layout normalisation: one canonical text for both letter layouts.

Every offset the pipeline reports points into the string this module returns, so the export
can store it and a reader can reproduce it from the source file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CHAR_MAP = str.maketrans(
    {
        "\r": "\n",
        "\f": "\n",  # page breaks fall mid-sentence in the PDFs: a line break, nothing more
        "\ufffe": "-",  # pdfium's marker for a hyphen it found at a line end
        "\u00a0": " ",
        "\t": " ",
        "\u2028": "\n",
        "\u2029": "\n",
    }
)


def _is_double_spaced(lines: list[str]) -> bool:
    """The 2014-15 letters put a blank line after every line of text."""
    pairs = [(a, b) for a, b in zip(lines, lines[1:], strict=False) if a]
    if len(pairs) < 5:
        return False
    followed_by_blank = sum(1 for _, b in pairs if not b)
    return followed_by_blank / len(pairs) >= 0.8


def _collapse_blank_runs(lines: list[str], halve: bool) -> list[str]:
    out: list[str] = []
    run = 0
    for line in lines + ["\0"]:
        if not line:
            run += 1
            continue
        keep = run // 2 if halve else run
        out.extend([""] * min(keep, 1))
        run = 0
        out.append(line)
    return out[:-1]


def normalize_text(raw: str, furniture: Iterable[dict] = ()) -> str:
    """Canonical text: LF line ends, no trailing spaces, single blank lines between paragraphs,
    page furniture (rules from page_furniture.jsonl) removed."""
    text = raw.replace("\r\n", "\n").translate(_CHAR_MAP)
    lines = [line.strip(" ") for line in text.split("\n")]
    lines = _collapse_blank_runs(lines, halve=_is_double_spaced(lines))
    text = "\n".join(lines).strip("\n")
    for rule in furniture:
        text = re.sub(rule["pattern"], rule["replace"], text, flags=re.MULTILINE)
    return text


def squash(text: str) -> str:
    """One line, single spaces: how wrapped text goes into a CSV cell."""
    return " ".join(text.split())


_WORD_RUN = re.compile(r"\S+")  # \s is str.isspace(), as str.split() uses


def squash_with_offsets(text: str) -> tuple[str, list[int]]:
    """`squash(text)` plus, for each of its characters, the offset it came from in `text`,
    so that parsers can work on clean single-spaced text and still report true offsets (a
    space: the offset of the last whitespace character it stands for)."""
    words: list[str] = []
    offsets: list[int] = []
    for m in _WORD_RUN.finditer(text):
        start, end = m.span()
        if words:
            offsets.append(start - 1)
        words.append(m.group())
        offsets.extend(range(start, end))
    offsets.append(offsets[-1] + 1 if offsets else 0)  # the end position
    return " ".join(words), offsets


def unique(values: Iterable) -> list:
    """The non-empty values, first occurrence kept, in order."""
    out = []
    for value in values:
        if value not in (None, "") and value not in out:
            out.append(value)
    return out
