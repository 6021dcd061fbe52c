"""The notebook runs clean from a fresh clone (executed with nbclient), draws its plots, takes
its corpus and run folder from its settings cell, and writes nothing inside the repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES

NOTEBOOK = ROOT / "notebooks" / "explore_corpus.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def repository_files() -> set[str]:
    """Every file git sees in the checkout, ignored ones included (caches left out)."""
    listing = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return {
        line
        for line in listing
        if not any(part in line for part in ("__pycache__", ".pytest_cache", ".ruff_cache"))
        and not line[3:].startswith((".venv/", "models/"))
    }


def execute(
    path: Path, corpus: Path | None = None, out: Path | None = None, before: dict | None = None
):
    """Run the notebook as Jupyter would (from notebooks/); `corpus` and `out` replace its
    settings cell, as a user would edit it; `before` {tag: code} inserts a cell before the
    cell of that tag. Returns the executed notebook."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(path, as_version=4)
    for tag, code in (before or {}).items():
        (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
        notebook.cells.insert(notebook.cells.index(cell), nbformat.v4.new_code_cell(code))
    if corpus is not None or out is not None:
        (settings,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        settings.source = f"CORPUS = {str(corpus)!r}\nOUT = {str(out)!r}\n"
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    errors = [
        o
        for cell in notebook.cells
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, errors
    return notebook


def tagged(notebook, tag: str) -> list:
    return [c for c in notebook.cells if tag in c.metadata.get("tags", [])]


def images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def text(cell) -> str:
    return "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])
    )


def test_notebook_uses_only_the_public_api():
    source = "\n".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"])
    assert "imr_extract.runner" not in source and "imr_extract.report" not in source
    assert "imr_extract.components" not in source and "notebooks/_run" not in source
    for line in source.splitlines():
        if line.startswith(("import imr_extract", "from imr_extract")):
            assert line.split()[1] in ("imr_extract", "imr_extract.stats"), line


def test_notebook_on_a_short_corpus_draws_its_plots_and_drops_the_time_plots(tmp_path):
    before = repository_files()
    notebook = execute(NOTEBOOK, SAMPLES, tmp_path / "run")
    assert (tmp_path / "run" / "manifest.json").exists()
    for cell in tagged(notebook, "plot"):
        assert images(cell) == 1, cell.source[:80]
    (time_plots,) = tagged(notebook, "plot-if-6-months")
    assert images(time_plots) == 0 and "time plots dropped" in text(time_plots)
    (coded,) = tagged(notebook, "plot-if-coded")
    header = (tmp_path / "run" / "decisions.csv").read_text().splitlines()[0].split(",")
    assert "body_part_code" in header and "primary_icd10cm" in header
    assert images(coded) == 1
    assert repository_files() == before  # nothing written inside the repository


#: Fixed body part and ICD-10-CM values given to the notebook's decisions just before its
#: coded-outcome cell, so that the test knows which labels the plot must show.
CODING_COLUMNS = """
n = len(decisions)
decisions = decisions.assign(
    body_part_code=(["42", "53", None] * n)[:n],
    body_part=(["lower back area", "knee", None] * n)[:n],
    primary_icd10cm=(["M54.16", "S83.241", None] * n)[:n],
)
"""


def test_notebook_draws_time_plots_over_6_months_and_coded_outcomes(tmp_path):
    import imr_extract

    letters = tmp_path / "letters"
    shutil.copytree(SAMPLES, letters)
    later = (SAMPLES / "CM16-9900001.txt").read_text()
    later = later.replace("CM16-9900001", "CM17-9900009").replace("12/19/2016", "09/19/2017")
    (letters / "CM17-9900009.txt").write_text(later)
    imr_extract.run_corpus([str(letters)], tmp_path / "run", progress=False)
    notebook = execute(
        NOTEBOOK, letters, tmp_path / "run", before={"plot-if-coded": CODING_COLUMNS}
    )
    assert "exploring the finished run" in "".join(text(c) for c in notebook.cells)
    (time_plots,) = tagged(notebook, "plot-if-6-months")
    assert images(time_plots) == 1
    (coded,) = tagged(notebook, "plot-if-coded")
    assert images(coded) == 1
    shown = text(coded)
    assert "42 lower back area" in shown and "53 knee" in shown and "(not coded)" in shown
    assert "M54" in shown and "S83" in shown


@pytest.mark.corpus
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_with_its_default_settings(path: Path, corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the default run folder is a temporary one
    before = repository_files()
    notebook = execute(path)
    for cell in tagged(notebook, "plot"):
        assert images(cell) == 1, cell.source[:80]
    (time_plots,) = tagged(notebook, "plot-if-6-months")  # the shared corpus spans 3 months
    assert images(time_plots) == 1 or "time plots dropped" in text(time_plots)
    assert repository_files() == before
