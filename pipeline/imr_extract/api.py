"""The Python API: load the pipeline, read a corpus, turn Docs into DataFrames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from imr_extract.extensions import register_extensions
from imr_extract.ingest import SourceDocument, read_documents

# Import for registration: the factories must exist before a pipeline is built or loaded.
from imr_extract.components import (  # noqa: F401  isort: skip
    abbreviations,
    citations,
    context,
    decisions,
    entities,
    header,
    lexicon,
    patient,
    patterns,
    reviewer,
    sectionizer,
)

PIPELINE = [
    "imr_sectionizer",
    "imr_header",
    "imr_reviewer",
    "imr_patient",
    "imr_decisions",
    "imr_citations",
    "imr_lexicon",
    "imr_patterns",
    "imr_abbreviations",
    "imr_entities",
    "sentencizer",
    "imr_context",
]


def build_pipeline() -> Language:
    """A blank English pipeline with our components and their packaged rules."""
    register_extensions()
    nlp = spacy.blank("en")
    for name in PIPELINE:
        nlp.add_pipe(name)
    nlp.initialize()
    nlp.meta.update(
        {"name": "imr_pipeline", "version": _version(), "description": "imr-extract rules"}
    )
    return nlp


def load(path: str | Path | None = None) -> Language:
    """The pipeline saved at `path` (a directory that `spacy.load` opens), or a fresh build."""
    register_extensions()
    return spacy.load(path) if path else build_pipeline()


def read_corpus(paths: Iterable[str | Path], **kwargs) -> Iterator[SourceDocument]:
    """SourceDocuments (doc_id, path, text, error) for every .txt/.pdf under `paths`.
    Bad files come back with `error` set; nothing is raised."""
    return read_documents(paths, **kwargs)


def pipe_documents(
    nlp: Language, sources: Iterable[SourceDocument], batch_size: int = 16
) -> Iterator[tuple[SourceDocument, Doc]]:
    """Annotate readable sources; pairs each Doc with its source."""
    readable = (s for s in sources if s.ok)
    pairs = ((s.text, s) for s in readable)
    for doc, source in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
        yield source, doc


def to_frames(docs: Iterable[tuple[SourceDocument, Doc] | Doc]):
    """pandas DataFrames with exactly the CSV columns: {"documents": df, "decisions": df}."""
    from imr_extract.export import TABLES, doc_rows, frame

    rows: dict[str, list] = {name: [] for name in TABLES}
    for item in docs:
        source, doc = item if isinstance(item, tuple) else (None, item)
        if source is None:
            source = SourceDocument(doc_id=str(doc.user_data.get("doc_id", "")), path="")
        for name, table_rows in doc_rows(doc, source).items():
            rows[name].extend(table_rows)
    return {name: frame(name, rows[name]) for name in TABLES}


def _version() -> str:
    from imr_extract import __version__

    return __version__
