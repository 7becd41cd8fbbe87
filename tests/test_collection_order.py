"""The test command's order: every notebook's nbval first (the first runs, whose peaks are the
budget's), the browser run after them (it resumes their training runs). conftest.py sorts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_browser_run_is_collected_after_every_notebook():
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly",
         "tests/test_browser.py", "notebooks/00_setup_and_tour.ipynb", "tests/test_runtime.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    items = [line for line in listed.stdout.splitlines() if "::" in line]
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
    browser = [i for i, item in enumerate(items) if item.startswith("tests/test_browser.py")]
    notebook = [i for i, item in enumerate(items) if item.startswith("notebooks/")]
    others = [i for i, item in enumerate(items) if item.startswith("tests/test_runtime.py")]
    assert browser and notebook and others, items
    # named first on the command line, the browser run still comes last; the rest keep their order
    assert min(browser) > max(notebook) and min(browser) > max(others), items
    assert max(notebook) < min(others), items
