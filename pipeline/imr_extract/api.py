"""The Python API: load the pipeline, read a corpus, turn Docs into DataFrames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from imr_extract import tokenizer
from imr_extract.components.lexicon import gc_paused
from imr_extract.extensions import register_extensions
from imr_extract.ingest import SourceDocument, read_documents

# Import for registration: the factories must exist before a pipeline is built or loaded.
from imr_extract.components import (  # noqa: F401  isort: skip
    abbreviations,
    citations,
    coding,
    context,
    decisions,
    entities,
    header,
    item_types,
    layout,
    layout_decisions,
    lexicon,
    patient,
    patterns,
    reason_model,
    reasons,
    reviewer,
    sectionizer,
    sentencizer,
)

PIPELINE = [
    "imr_layout",
    "imr_sectionizer",
    "imr_header",
    "imr_reviewer",
    "imr_patient",
    "imr_decisions",
    "imr_layout_decisions",
    "imr_citations",
    "imr_lexicon",
    "imr_patterns",
    "imr_abbreviations",
    "imr_entities",
    "imr_item_types",
    "sentencizer",
    "imr_reasons",
    "imr_reason_model",
    "imr_context",
    "imr_coding",
]


# a pipe whose factory is not its name: spaCy's sentencizer, reading arrays (same sentences)
FACTORIES = {"sentencizer": "imr_sentencizer"}


def build_pipeline(config: dict[str, dict] | None = None) -> Language:
    """A blank English pipeline with our components and their packaged rules; `config`
    overrides component settings by name ({"imr_lexicon": {"base_drug_lexicon": False}});
    {"tokenizer": {"fast": False}} keeps spaCy's tokenizer unwrapped (see `tokenizer`)."""
    register_extensions()
    nlp = spacy.blank("en")
    customize_tokenizer(nlp)
    tokenizer.set_fast(nlp, (config or {}).get("tokenizer", {}).get("fast"))
    for name in PIPELINE:
        nlp.add_pipe(FACTORIES.get(name, name), name=name, config=(config or {}).get(name, {}))
    nlp.initialize()
    nlp.meta.update(
        {"name": "imr_pipeline", "version": _version(), "description": "imr-extract rules"}
    )
    return nlp


def save_pipeline(nlp: Language, path: str | Path) -> None:
    """`nlp.to_disk(path)`, with no vocabulary strings beyond a blank pipeline's. Building
    tokenises the ~68,000 names of the drug dictionary, and their ~50,000 strings would be read
    back by every process at start-up (about a tenth of a second) though nothing looks them up:
    the lexicon matches word hashes, and every string that a component or a letter needs is
    added again when the component is loaded or the letter read."""
    nlp.to_disk(path)
    spacy.blank(nlp.lang).vocab.strings.to_disk(Path(path) / "vocab" / "strings.json")


def customize_tokenizer(nlp: Language) -> None:
    """Compounds are written with slashes ("Lidocaine/Capsaicin", "5%/Amitriptyline"): split
    a slash between words, or after a word, so each ingredient is a token. Split a full stop
    glued to the next sentence after a number, so the date before it is its own token. And
    "g." after a number is a unit and a full stop, not an abbreviation. Saved with the
    pipeline's tokenizer."""
    from spacy.util import compile_infix_regex, compile_suffix_regex

    infixes = [
        *nlp.Defaults.infixes,
        r"(?<=[A-Za-z%])/(?=[A-Za-z])",
        r"(?<=\d)\.(?=[A-Z][a-z])",  # a full stop without its space: "November 2, 2016.In a"
    ]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    suffixes = [*nlp.Defaults.suffixes, r"(?<=[A-Za-z])/"]  # "myalgia/ myositis"
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    nlp.tokenizer.rules = {
        text: rule
        for text, rule in nlp.tokenizer.rules.items()
        if not (len(text) == 2 and text[0].islower() and text[1] == ".")
    }


def load(path: str | Path | None = None) -> Language:
    """The pipeline saved at `path` (a directory that `spacy.load` opens), or the one built
    from the packaged rules (built once, then loaded from the cache: see `cached_pipeline`).
    Its tokenizer is wrapped in `tokenizer.WarmCacheTokenizer` unless `tokenizer.FAST` is off."""
    register_extensions()
    path = path or cached_pipeline()
    with gc_paused():  # loading makes no garbage: collections would only cost time
        nlp = tokenizer.load_pipeline(path)
    return tokenizer.set_fast(nlp)


def _rules_fingerprint() -> str:
    """Changes whenever a rule file, the code that builds the pipeline, this package's version
    or the base drug dictionary changes."""
    import hashlib
    from importlib import resources
    from importlib.metadata import version

    digest = hashlib.sha1(_version().encode())
    digest.update(version("drug-named-entity-recognition").encode())
    digest.update(version("simple-icd-10-cm").encode())  # the ICD-10-CM titles index
    folder = resources.files("imr_extract.resources")
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.endswith((".jsonl", ".csv")):
            digest.update(item.name.encode() + item.read_bytes())
    here = Path(__file__)  # this module builds the tokenizer; the components build the rest
    modules = [
        here,
        here.parent / "tokenizer.py",
        here.parent / "normalize" / "coding.py",
        *sorted(here.parent.glob("components/*.py")),
    ]
    for module in modules:
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


def cached_pipeline() -> Path:
    """Directory of the pipeline built from the packaged rules, under $IMR_EXTRACT_CACHE
    (default ~/.cache/imr-extract). Building takes ~10 s (tokenising the drug dictionary);
    loading the built directory takes ~3 s, once per process."""
    import os
    import shutil
    import tempfile

    root = Path(os.environ.get("IMR_EXTRACT_CACHE", Path.home() / ".cache" / "imr-extract"))
    target = root / f"imr_pipeline-{_rules_fingerprint()}"
    if (target / "meta.json").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        save_pipeline(build_pipeline(), tmp)
        os.replace(tmp, target)  # atomic; a parallel builder that lost the race just cleans up
    except OSError:
        if not (target / "meta.json").exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


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
    """pandas DataFrames with exactly the CSV columns, one per table: {"documents",
    "decisions", "citations", "entities", "reasons"}, typed as `load_run` types them (the same
    dtypes: dates as datetimes, Int64, Float64, booleans, categories for the closed sets of
    resources/columns.csv, Arrow lists for its list columns)."""
    from imr_extract.columns import loaded
    from imr_extract.export import TABLES, doc_rows, frame

    rows: dict[str, list] = {name: [] for name in TABLES}
    for item in docs:
        source, doc = item if isinstance(item, tuple) else (None, item)
        if source is None:
            source = SourceDocument(doc_id=str(doc.user_data.get("doc_id", "")), path="")
        for name, table_rows in doc_rows(doc, source).items():
            rows[name].extend(table_rows)
    return {name: loaded(name, frame(name, rows[name])) for name in TABLES}


def run_corpus(inputs: Iterable[str | Path], out_dir: str | Path, **options) -> dict:
    """Annotate every letter under `inputs` into the run folder `out_dir`, as `imr-extract run`
    does (tables, manifest, journal), and return the run's manifest. `options` are the
    command's: n_process, fmt ("csv", "parquet", "both"), resume, batch_size, model,
    progress, excel_safe, backend. Read the tables back with `load_run(out_dir)`."""
    from imr_extract.runner import run

    return run(inputs, out_dir, **options).manifest


def load_run(out_dir: str | Path) -> dict:
    """A finished run's tables as typed DataFrames: {"documents", "decisions", "citations",
    "entities", "reasons"}; dates as datetimes, booleans, whole numbers as Int64, numbers as
    Float64, categories for the columns with a closed set of values in resources/columns.csv
    (outcome, label, ...), and its `;`-joined list columns as Arrow lists (`explode` gives one
    row per element). Reads Parquet when the run wrote it; the dtypes are the same either way.
    Only the tables its manifest names, checked against it: a run that is unfinished, or was
    stopped while publishing, raises `RunNotFinishedError` instead of mixing two runs."""
    import pandas as pd

    from imr_extract.columns import loaded, read_parquet
    from imr_extract.export import TABLES, column_dtype
    from imr_extract.store import finished_tables

    files = finished_tables(out_dir)
    frames = {}
    for name in TABLES:
        if f"{name}.parquet" in files:
            df = read_parquet(files[f"{name}.parquet"])
        else:
            df = pd.read_csv(files[f"{name}.csv"], dtype=str, keep_default_na=False, na_values=[""])
            for col in df.columns:
                if column_dtype(col) == "boolean":
                    df[col] = df[col].map(
                        {"True": True, "False": False, "true": True, "false": False}
                    )
        frames[name] = loaded(name, df)
    return frames


def load_docs(out_dir: str | Path, nlp: Language | None = None) -> Iterator[Doc]:
    """The annotated Docs of a `--format docbin` run (with every span group and attribute)."""
    from imr_extract.store import RunStore

    nlp = nlp or spacy.blank("en")
    register_extensions()
    return RunStore(out_dir).docs(nlp.vocab)


def _version() -> str:
    from imr_extract import __version__

    return __version__
