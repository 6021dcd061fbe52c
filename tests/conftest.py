from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "pipeline" / "imr_extract" / "samples"
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
# the header block of a synthetic (made-up) letter, for tests that write their own letters
LETTER_HEAD = """Case Number: CM16-9900077
Date Assigned: 11/21/2016 Date of Injury: 02/09/2015
Decision Date: 12/19/2016 UR Denial Date: 10/28/2016
Priority: Standard Application
Received:
11/15/2016
HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services sent the complete case file to an expert reviewer.
"""
sys.path.insert(0, str(ROOT / "tests"))


def one_decision_letter(summary: str, item: str, section: str, rationale: str) -> str:
    """A synthetic letter: LETTER_HEAD, a case summary that ends with `summary`, and one
    decision (`item` line, a MAXIMUS guideline of `section`, `rationale`)."""
    return (
        LETTER_HEAD
        + "CLINICAL CASE SUMMARY\n"
        + "The expert reviewer developed the following clinical case summary based on a review "
        + "of the\ncase file, including all medical records:\n"
        + "The injured worker is a 50-year-old female who reported an industrial injury on "
        + f"2-9-15.\n{summary}\n"
        + "IMR ISSUES, DECISIONS AND RATIONALES\n"
        + "The Final Determination was based on decisions for the disputed items/services set "
        + f"forth below:\n{item}\n"
        + "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2016, "
        + f"Section(s):\n{section}.\nDecision rationale: {rationale}\n"
    )


@pytest.fixture(scope="session")
def nlp():
    import imr_extract

    return imr_extract.load()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "seeds").is_dir():
        pytest.skip("../shared/corpus is not beside this checkout")
    return CORPUS


def copy_samples(folder: Path, n: int) -> Path:
    """`n` synthetic letters in `folder`: the samples copied as letter-000, letter-001, ..."""
    import shutil

    folder.mkdir()
    samples = sorted(SAMPLES.iterdir())
    for i in range(n):
        src = samples[i % len(samples)]
        shutil.copy(src, folder / f"letter-{i:03d}{src.suffix}")
    return folder


def read_sample(name: str) -> str:
    from imr_extract.ingest import read_document

    source = read_document(SAMPLES / name)
    assert source.ok, source.error
    return source.text
