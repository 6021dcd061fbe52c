"""Start-up (issue 17): what `imr-extract run` imports and loads before its first letter.

No timed tests: the checks are on what is imported, what is loaded, and that the fast paths
give exactly what the plain paths give.
"""

import ast
import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import srsly

from imr_extract.components.lexicon import INDEX_FILE, LexiconMatcher, gc_paused
from imr_extract.export import doc_rows
from imr_extract.ingest import read_document

from conftest import SAMPLES

HEAVY = ["quickumls", "nltk", "sklearn", "scipy"]  # medspaCy's QuickUMLS: ~1-3 s of imports


def _modules_after(code: str) -> set[str]:
    """Top-level modules imported by `code`, in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_importing_the_cli_imports_nothing_heavy():
    assert not _modules_after("import imr_extract.cli") & {*HEAVY, "pandas", "pyarrow"}


def test_importing_the_package_imports_nothing_until_its_api_is_used():
    """`imr-extract run` forks its reader before spaCy is imported (read_ahead.py): the
    package must stay light, and its API still be there on first use."""
    assert not _modules_after("import imr_extract") & {"spacy", "numpy", *HEAVY}
    loaded = _modules_after(
        "import imr_extract\n"
        "from imr_extract import load, run_corpus, explode, outcome_rates\n"
        "assert all(callable(getattr(imr_extract, n)) for n in imr_extract.__all__[1:])\n"
        "assert set(imr_extract.__all__) <= set(dir(imr_extract))"
    )
    assert "spacy" in loaded


def test_the_package_says_which_names_it_lacks():
    import imr_extract

    with pytest.raises(AttributeError, match="no attribute 'lod'"):
        imr_extract.lod  # noqa: B018


def test_loading_the_pipeline_imports_no_quickumls():
    """ConText and the reasons use medspaCy; QuickUMLS (and nltk, scipy, scikit-learn that
    it imports) must stay out. Fails if medspaCy starts needing more of QuickUMLS than the
    module `_import_medspacy` stands in for."""
    loaded = _modules_after("import imr_extract; imr_extract.load()")
    assert "medspacy" in loaded
    assert not loaded & set(HEAVY)


def test_medspacy_imports_only_spacy_component_from_quickumls():
    """The upstream behaviour `_import_medspacy` relies on (medspaCy 1.3.1): in the whole
    package, the one import of QuickUMLS is medspacy/util.py's
    `from quickumls import spacy_component`. If this fails, see whether the stand-in
    still works (or is still needed)."""
    import importlib.util

    root = Path(importlib.util.find_spec("medspacy").origin).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("quickumls"):
                names = [alias.name for alias in node.names]
                found.append((path.relative_to(root).as_posix(), node.module, names))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("quickumls"):
                        found.append((path.relative_to(root).as_posix(), alias.name, []))
    assert found == [("util.py", "quickumls", ["spacy_component"])]


def test_real_medspacy_and_quickumls_still_import_after_the_stand_in():
    """The stand-in is gone once medspaCy is loaded: the full medspaCy pipeline loads (`make
    bench` does so after `_quiet_medspacy`), `import quickumls` gives the real package, and
    importing its spacy_component registers the `medspacy_quickumls` factory."""
    code = (
        "from imr_extract.components.context import _quiet_medspacy\n"
        "_quiet_medspacy()\n"
        "import sys\n"
        "assert 'quickumls' not in sys.modules and 'medspacy.context' in sys.modules\n"
        "import medspacy\n"
        "nlp = medspacy.load()\n"
        "assert 'medspacy_context' in nlp.pipe_names, nlp.pipe_names\n"
        "from quickumls import QuickUMLS\n"
        "import quickumls.spacy_component\n"
        "from spacy.language import Language\n"
        "assert Language.has_factory('medspacy_quickumls')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)


def test_gc_paused_holds_when_srsly_enables_gc():
    """srsly.msgpack_loads calls gc.enable() on its way out (spaCy's vocab and tokenizer use
    it): a threshold of 0 still keeps collections off, and is put back afterwards."""
    before = gc.get_threshold()
    with gc_paused():
        srsly.msgpack_loads(srsly.msgpack_dumps({"a": [1, 2]}))
        assert gc.isenabled()
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold() == before


def _small_lexicon(nlp):
    lexicon = LexiconMatcher(nlp, "imr_lexicon", base_drug_lexicon=False)
    lexicon.initialize()
    return lexicon


def test_lexicon_index_is_the_compiled_rules(tmp_path):
    nlp = spacy.blank("en")
    saved = _small_lexicon(nlp)
    saved.to_disk(tmp_path)
    assert (tmp_path / INDEX_FILE).exists()
    fast = LexiconMatcher(nlp, "imr_lexicon").from_disk(tmp_path)
    plain = LexiconMatcher(nlp, "imr_lexicon", fast=False).from_disk(tmp_path)
    for attr in ("rules", "entries", "modifiers", "_index", "_lengths"):
        assert getattr(fast, attr) == getattr(plain, attr), attr
    assert list(fast.entries) == list(plain.entries)  # the same order: first rule wins
    assert list(fast._index.items()) == list(plain._index.items())
    # the entries are the rules themselves, as when compiled
    assert all(any(rule is r for r in fast.rules) for rule in list(fast.entries.values())[:50])
    # saved again, the loaded lexicon writes the very same files
    fast.to_disk(tmp_path / "again")
    for name in ("rules.jsonl", INDEX_FILE):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / name).read_bytes()


def test_lexicon_index_of_other_rules_is_not_used(tmp_path):
    """A rules.jsonl edited after the pipeline was saved wins over the saved index."""
    nlp = spacy.blank("en")
    _small_lexicon(nlp).to_disk(tmp_path)
    rules = tmp_path / "rules.jsonl"
    extra = {"term": "Zzyzxamine", "label": "MEDICATION", "source": "test"}
    rules.write_text(rules.read_text(encoding="utf-8") + json.dumps(extra) + "\n", "utf-8")
    lexicon = LexiconMatcher(nlp, "imr_lexicon").from_disk(tmp_path)
    assert "MEDICATION\x1fzzyzxamine" in lexicon.entries
    doc = lexicon(nlp("She takes Zzyzxamine daily."))
    assert [s.text for s in doc.spans["imr_lexicon"]] == ["Zzyzxamine"]


def _rows(nlp, paths):
    out = []
    for path in paths:
        source = read_document(path)
        assert source.ok, source.error
        out.append(doc_rows(nlp(source.text), source))
    return out


@pytest.fixture(scope="module")
def plain_nlp():
    """The cached pipeline with the lexicon compiled from rules.jsonl (the plain path)."""
    from imr_extract.api import cached_pipeline

    path = cached_pipeline()
    assert (path / "imr_lexicon" / INDEX_FILE).exists()
    return spacy.load(path, config={"components": {"imr_lexicon": {"fast": False}}})


def test_fast_and_plain_lexicon_give_the_same_rows_on_the_samples(nlp, plain_nlp):
    assert nlp.get_pipe("imr_lexicon").fast and not plain_nlp.get_pipe("imr_lexicon").fast
    paths = sorted(SAMPLES.glob("*.txt")) + sorted(SAMPLES.glob("*.pdf"))
    assert _rows(nlp, paths) == _rows(plain_nlp, paths)


@pytest.mark.corpus
def test_fast_and_plain_lexicon_give_the_same_rows_on_the_corpus(nlp, plain_nlp, corpus):
    paths = sorted((corpus / "seeds").glob("*.txt"))[:5]
    paths += sorted((corpus / "dwc-2016").glob("*.pdf"))[:5]
    assert _rows(nlp, paths) == _rows(plain_nlp, paths)


def test_forked_workers_do_not_load_the_pipeline_again(tmp_path, monkeypatch):
    """The run loads the pipeline before it forks: workers use that one."""
    import os

    from imr_extract import api
    from imr_extract.runner import run

    loads = tmp_path / "loads.txt"
    real_load = api.load

    def counting_load(*args, **kwargs):
        with open(loads, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real_load(*args, **kwargs)

    monkeypatch.setattr(api, "load", counting_load)
    monkeypatch.setattr("imr_extract.batch._worker", {})  # as in a fresh process
    result = run([SAMPLES], tmp_path / "out", n_process=2, batch_size=1, progress=False)
    assert result.n_ok == 3
    assert loads.read_text().split() == [str(os.getpid())]


def test_a_csv_run_imports_no_pandas(tmp_path):
    """Parts and the CSV tables are written without pandas or pyarrow (part_files.py):
    importing them is a third of the start-up on one letter. The merge imports them only
    when it needs frames (Parquet tables, --excel-safe, a part whose CSV lines are not
    whole)."""
    letter, out = str(SAMPLES / "CM16-9900001.txt"), str(tmp_path / "out")
    code = f"import imr_extract.cli as c; c.main(['run', {letter!r}, '--out', {out!r}, '--quiet'])"
    loaded = _modules_after(code)
    assert not loaded & {"pandas", "pyarrow"}
    assert (tmp_path / "out" / "decisions.csv").stat().st_size > 0


def test_the_saved_pipeline_keeps_no_strings_of_its_build_and_gives_the_same_rows(nlp):
    """`save_pipeline` writes a blank pipeline's strings only (not the ~50,000 that tokenising
    the drug dictionary added): the pipeline loaded from it gives the same rows as the one
    built in memory, which holds them all."""
    from imr_extract.api import build_pipeline, cached_pipeline

    saved = json.loads((cached_pipeline() / "vocab" / "strings.json").read_text("utf-8"))
    assert saved == sorted(spacy.blank("en").vocab.strings)
    built = build_pipeline()
    assert len(built.vocab.strings) > 20 * len(saved)
    paths = sorted(SAMPLES.glob("*.txt")) + sorted(SAMPLES.glob("*.pdf"))
    assert _rows(nlp, paths) == _rows(built, paths)


def test_the_reason_modifier_patterns_are_valid_token_patterns(nlp):
    """`imr_reasons` adds its ConText modifier patterns to a Matcher without validating them
    on every load: they are validated here, as spaCy's Matcher(validate=True) would."""
    from spacy.schemas import validate_token_pattern

    pipe = nlp.get_pipe("imr_reasons")
    assert pipe._modifiers
    for rule in pipe._modifiers:
        pattern = rule.pattern or [{"LOWER": rule.literal.lower()}]
        assert validate_token_pattern(pattern) == [], rule.literal
    assert validate_token_pattern([{"LOWERR": "no"}])  # the check does see a broken one
