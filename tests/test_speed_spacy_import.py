"""spacy_import.py: spaCy imported without its command line (issue 17).

No timed tests: what is imported, and that spaCy and its CLI still work afterwards.
"""

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

CLI_ONLY = ["typer", "requests", "spacy.cli"]  # what spaCy's command line pulls in


def _run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_loading_the_pipeline_imports_no_spacy_cli():
    """The pipeline loads and annotates with the CLI left out; fails if some component
    starts needing spacy.cli (then the stand-in costs nothing, but this module may go)."""
    found = _run(
        "import sys, json, imr_extract\n"
        "nlp = imr_extract.load(); nlp('Norco 10/325mg #60:  Upheld')\n"
        f"print(json.dumps([m for m in {CLI_ONLY!r} if m in sys.modules]))"
    )
    assert found == []


def test_spacy_info_and_the_real_cli_work_after_the_stand_in():
    """The stand-ins are gone once spaCy is imported: `spacy.info()` imports the real
    command, and `import spacy.cli` gives the real package with its commands."""
    found = _run(
        "import sys, json, imr_extract\n"
        "imr_extract.load  # the package imports spaCy (with the stand-ins) on first use\n"
        "import spacy\n"
        "stand_in = 'spacy.cli' in sys.modules\n"
        "info = spacy.info()\n"
        "import spacy.cli\n"
        "print(json.dumps([stand_in, info['spacy_version'] == spacy.__version__,"
        " callable(spacy.cli.download), callable(spacy.cli.info)]))"
    )
    assert found == [False, True, True, True]


def test_any_module_of_the_package_imported_first_imports_spacy_without_its_cli():
    """The hook the package installs: a script that imports `imr_extract.export` (not the
    API) gets spaCy without its CLI or langcodes, spaCy's own loader, the hook gone after."""
    found = _run(
        "import sys, json, importlib.util\n"
        "import imr_extract\n"
        "importlib.util.find_spec('spacy')  # a lookup, not an import: the hook stays\n"
        "import imr_extract.export, spacy\n"
        "from imr_extract.spacy_import import _FirstSpacyImport\n"
        f"cli = [m for m in {CLI_ONLY!r} if m in sys.modules]\n"
        "lang = [m for m in sys.modules if m.startswith('langcodes')]\n"
        "hooks = [f for f in sys.meta_path if isinstance(f, _FirstSpacyImport)]\n"
        "own = type(spacy.__loader__).__name__ == type(spacy.__spec__.loader).__name__\n"
        "import spacy.cli\n"
        "print(json.dumps([cli, lang, len(hooks), own, callable(spacy.cli.download),"
        " type(spacy.__loader__).__name__]))"
    )
    assert found == [[], [], 0, True, True, "SourceFileLoader"]


def test_an_earlier_import_of_spacy_is_left_alone():
    found = _run(
        "import sys, json, spacy\n"
        "had_cli = 'spacy.cli' in sys.modules\n"
        "import imr_extract\n"
        "print(json.dumps([had_cli, 'spacy.cli' in sys.modules]))"
    )
    assert found == [True, True]


def test_spacy_still_imports_its_cli_on_import():
    """The upstream behaviour the stand-in works around (spaCy 3.7): spacy/__init__.py runs
    `from .cli.info import info`. When this fails, spaCy imports its CLI lazily (as PR #12962
    did on the v4 branch): remove spacy_import.py."""
    init = Path(importlib.util.find_spec("spacy").origin)
    imports = [
        (node.module, [a.name for a in node.names], node.level)
        for node in ast.parse(init.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cli")
    ]
    assert imports == [("cli.info", ["info"], 1)]


def test_langcodes_is_read_only_when_needed():
    """spacy.util imports langcodes at once; with the stand-in, loading the pipeline and
    annotating a letter never executes it, while spaCy's language matching still works and a
    later `import langcodes` gets the real package."""
    found = _run(
        "import sys, json, imr_extract\n"
        "nlp = imr_extract.load(); nlp('Norco 10/325mg #60:  Upheld')\n"
        "loaded = [m for m in sys.modules if m.startswith('langcodes.')]\n"
        "import spacy.util\n"
        "match = spacy.util.find_matching_language('no')\n"
        "import langcodes\n"
        "print(json.dumps([loaded, match, type(langcodes).__name__, langcodes.tag_is_valid('en'),"
        " 'langcodes.data_dicts' in sys.modules]))"
    )
    assert found == [[], "nb", "module", True, True]


def test_spacy_util_still_imports_langcodes_on_import():
    """The upstream behaviour the langcodes stand-in works around (spaCy 3.7): spacy/util.py
    runs `import langcodes` at module level. When this fails, drop LAZY_MODULES."""
    util = Path(importlib.util.find_spec("spacy.util").origin)
    imports = [
        alias.name
        for node in ast.parse(util.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    assert "langcodes" in imports
