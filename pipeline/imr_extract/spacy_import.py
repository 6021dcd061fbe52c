"""`import spacy` without its command line: about a third of spaCy's import time saved.

spaCy 3.7's `spacy/__init__.py` runs `from .cli.info import info`, which imports the whole
`spacy.cli` package: every command, typer, requests, and their dependencies (spaCy PR #12962
made it lazy on the v4 branch only; PR #13933, open, proposes a lightweight CLI package). A
run never uses spaCy's command line, so the first import of spaCy in a process runs its
`__init__` with two stand-in modules for `spacy.cli` and `spacy.cli.info` and removes them at
once: `spacy.info` still works (it imports the real command on first call), and a later
`import spacy.cli` gets the real package. The package installs an import hook for this
(`install_import_hook`): whichever module imports spaCy first, spaCy's `__init__` runs with
the stand-ins, spaCy's own loader is left on the module, and the hook goes.

`spacy.util` also imports `langcodes` at once (its language-name tables: about 35 ms, a tenth
of spaCy's import), for `find_matching_language`, which only runs when a language code has no
`spacy.lang` module of its own. `spacy.util` gets a stand-in that imports the real package on
its first attribute read (the standard library's `LazyLoader` does not help: Python 3.11's
`import` statement reads the module's `__spec__`, which loads it). A run never reads it;
`spacy.util.find_matching_language("no")` still works, and a later `import langcodes` gets
the real package.

Nothing is changed when spaCy is already imported, or when spaCy stops importing its CLI
(`tests/test_speed_spacy_import.py` fails then, so that this module can go).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

SPACY_CLI_MODULES = ("spacy.cli", "spacy.cli.info")
LAZY_MODULES = ("langcodes",)  # imported by spacy.util at once, read only on a rare path


def _info(*args, **kwargs):
    """`spacy.info`, importing spaCy's command line only when it is called."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def install_import_hook() -> None:
    """Have the first `import spacy` of this process, wherever it comes from, go as the module
    docstring says. The package calls this on import (it imports nothing else then: the
    CLI forks its reader before spaCy, read_ahead.py); a hook, because any of its modules may
    be the first one imported."""
    if "spacy" in sys.modules or any(name in sys.modules for name in SPACY_CLI_MODULES):
        return
    if not any(isinstance(finder, _FirstSpacyImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _FirstSpacyImport())


class _FirstSpacyImport(importlib.abc.MetaPathFinder):
    """Finds spaCy's own spec (the path finder's) and gives it a loader that runs spaCy's
    `__init__` with the stand-ins in `sys.modules`; leaves `sys.meta_path` once spaCy is
    loaded (a lookup such as `importlib.util.find_spec("spacy")` loads nothing)."""

    def find_spec(self, name, path=None, target=None):
        if name != "spacy":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None  # found some other way: imported as usual
        spec.loader = _WithStandIns(spec.loader)
        return spec


class _WithStandIns(importlib.abc.Loader):
    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _FirstSpacyImport)]
        module.__loader__ = module.__spec__.loader = self.loader  # spaCy's own, as ever
        stand_ins = _stand_ins()
        sys.modules.update(stand_ins)
        try:
            self.loader.exec_module(module)
        finally:
            for name, stand_in in stand_ins.items():
                if sys.modules.get(name) is stand_in:
                    del sys.modules[name]


def _stand_ins() -> dict[str, types.ModuleType]:
    package = types.ModuleType("spacy.cli")
    package.__path__ = []  # a package with no submodules of its own
    info = types.ModuleType("spacy.cli.info")
    info.info = _info
    stand_ins = {"spacy.cli": package, "spacy.cli.info": info}
    for name in LAZY_MODULES:
        if name not in sys.modules:
            stand_ins[name] = _LazyModule(name)
    return stand_ins


class _LazyModule(types.ModuleType):
    """A stand-in for module `name`: the first read of an attribute it lacks imports the
    real module (taking the stand-in out of sys.modules first) and reads it there."""

    def __getattr__(self, attr: str):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        return getattr(importlib.import_module(name), attr)
