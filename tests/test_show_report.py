"""The visual review page and the run report: content, and rendering in a headless browser."""

import re
import shutil
import subprocess

import pytest

from imr_extract.report import build_report, wilson
from imr_extract.runner import run
from imr_extract.show import show

from conftest import FIXTURES, SAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def headless(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_show_page_marks_entities_and_boxes_decisions(tmp_path):
    page = show(SAMPLES / "CM16-9900001.txt", tmp_path / "letter.html")
    html = page.read_text()
    assert html.count('<section class="decision') == 4
    assert html.count('class="decision overturned"') == 1
    assert re.search(r"<mark[^>]*>\s*Flurbiprofen\s*<span[^>]*>MEDICATION</span>", html)
    assert "<script" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_show_page_renders_in_a_headless_browser(tmp_path):
    page = show(SAMPLES / "sample_2014_seed_style.txt", tmp_path / "letter.html")
    dom = headless(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert dom.count("<mark") >= 20 and "Decision 2: LUMBAR EPIDURAL" in dom
    shot = tmp_path / "letter.png"
    headless(tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri())
    assert shot.stat().st_size > 20_000  # a real picture, not a blank page


def test_wilson_interval():
    low, high = wilson(42, 312)
    assert round(low, 3) == 0.101 and round(high, 3) == 0.177
    assert wilson(0, 0) == (0.0, 0.0)


def test_report_of_a_run(tmp_path):
    letters = tmp_path / "in"
    shutil.copytree(SAMPLES, letters)
    shutil.copy(FIXTURES / "not_a_letter.txt", letters)
    run([letters], tmp_path / "out", progress=False)
    html = build_report(tmp_path / "out")
    assert "4 letters (3 read, 1 failed), 9 decisions: 6 upheld, 3 overturned" in html
    assert "Outcomes by item type" in html and "Outcomes by drug class" in html
    assert "Guideline sections most cited by MAXIMUS" in html
    assert "not_a_letter" in html and "not an IMR final determination letter" in html
    assert "<script" not in html and "http" not in html  # self-contained


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")
def test_report_renders_in_a_headless_browser(tmp_path):
    run([SAMPLES], tmp_path / "out", progress=False)
    (tmp_path / "out" / "report.html").write_text(build_report(tmp_path / "out"))
    dom = headless(tmp_path, "--dump-dom", (tmp_path / "out" / "report.html").as_uri()).stdout
    assert "Outcomes by reviewer specialty" in dom
