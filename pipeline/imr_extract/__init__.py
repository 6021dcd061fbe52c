"""imr-extract: California IMR final determination letters in, research tables out."""

from imr_extract.spacy_import import import_spacy

import_spacy()  # before anything below imports spaCy: see spacy_import.py

# ruff: noqa: E402
from imr_extract.api import (
    load,
    load_docs,
    load_run,
    pipe_documents,
    read_corpus,
    run_corpus,
    to_frames,
)
from imr_extract.columns import explode
from imr_extract.stats import outcome_rates

__version__ = "0.10.1"

__all__ = [
    "__version__",
    "explode",
    "load",
    "load_docs",
    "load_run",
    "pipe_documents",
    "read_corpus",
    "run_corpus",
    "outcome_rates",
    "to_frames",
]
