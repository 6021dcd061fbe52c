"""imr-extract: California IMR final determination letters in, research tables out.

Importing the package imports nothing heavy: the API below is imported on first use, and
spaCy, whichever module imports it first, without its command line (`spacy_import.py`).
`imr-extract run --n-process N` relies on this: it forks its reader (`read_ahead.py`) before
spaCy is imported, so the reader works through the import as well as the loading.
"""

from __future__ import annotations

import importlib

from imr_extract.spacy_import import install_import_hook

install_import_hook()  # spaCy, when something imports it, without its CLI: spacy_import.py

__version__ = "0.10.4"

_API = {
    "explode": "imr_extract.columns",
    "load": "imr_extract.api",
    "load_docs": "imr_extract.api",
    "load_run": "imr_extract.api",
    "pipe_documents": "imr_extract.api",
    "read_corpus": "imr_extract.api",
    "run_corpus": "imr_extract.api",
    "outcome_rates": "imr_extract.stats",
    "to_frames": "imr_extract.api",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'imr_extract' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
