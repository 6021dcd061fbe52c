"""Structural self-checks: codes written into documents.csv `qa_flags`.

A letter can be read and still look wrong (an outcome line that is not a decision, a rationale
cut mid-sentence). Such a letter stays `ok` with what was found, and says so with a code. The
code list is a contract: resources/qa_flags.csv, and nothing may raise a code not listed there.
"""

from __future__ import annotations

from spacy.tokens import Doc

from imr_extract.rules import packaged_rules

QA_FLAGS: dict[str, str] = {row["code"]: row["meaning"] for row in packaged_rules("qa_flags.csv")}


def add_qa_flag(doc: Doc, code: str) -> None:
    """Record `code` on the Doc once (in the order found); an unlisted code is a bug."""
    if code not in QA_FLAGS:
        raise KeyError(f"qa flag {code!r} is not in resources/qa_flags.csv")
    flags = list(doc._.imr_qa_flags or [])
    if code not in flags:
        flags.append(code)
    doc._.imr_qa_flags = flags
