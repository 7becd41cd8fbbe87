"""A notebook cell that hangs fails the test run in minutes instead of holding CI for hours
(a kernel at its memory limit can hang rather than fail: see docs/benchmarks.md)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_project_sets_a_cell_timeout_of_at_most_ten_minutes():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r"--nbval-cell-timeout=(\d+)", text)
    assert found, "pyproject.toml's addopts must set --nbval-cell-timeout"
    assert 60 <= int(found.group(1)) <= 600


@pytest.mark.slow
def test_a_hanging_cell_fails_after_the_timeout(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(600)"),
                nbformat.v4.new_code_cell("print('never reached')")]
    path = tmp_path / "hang.ipynb"
    nbformat.write(nb, path)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-current-env", "--nbval-cell-timeout=5", str(path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode != 0, done.stdout
    assert "Timeout of 5 seconds exceeded" in done.stdout, done.stdout[-2000:]
    assert time.monotonic() - started < 120
