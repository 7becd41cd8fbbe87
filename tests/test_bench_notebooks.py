"""The budgets table of tools/bench_notebooks.py, its exact peak reading, and the docs section
it replaces."""

from __future__ import annotations

import sys

import pytest

from course_utils.repo import kernel_peak
from tools import bench_notebooks as bench


def row(name: str, wall: float, peak_gb: float, error: str | None = None,
        top: kernel_peak.CellRise | None = None) -> dict:
    return {"name": name, "wall": wall, "peak": int(peak_gb * 1e9), "peak_gb": peak_gb,
            "top": top, "cells": [], "first": None, "error": error}


def test_table_totals_and_budgets():
    top = kernel_peak.CellRise(7, "\nmodel = load('a|b')\nmore", 400_000_000, 1_200_000_000)
    rows = [row("00_a.ipynb", 30, 0.8), row("01_b.ipynb", 90, 1.2, top=top)]
    lines, ok = bench.table(rows, [row("00_a.ipynb", 20, 0.7), row("01_b.ipynb", 40, 1.0)])
    assert ok
    assert lines[3] == ("| 01_b.ipynb | 90 s | 1.20 GB | 7: `model = load('a\\|b')` (+0.80 GB) |"
                        " 40 s | 1.00 GB | - | yes |")
    assert lines[-1].startswith("| **total (2 notebooks)** | **2 min 00 s** | **1.20 GB**")
    assert "| **1 min 00 s** | **1.00 GB** |" in lines[-1]
    _, ok = bench.table([row("00_a.ipynb", 30, 1.501)])
    assert not ok, "over 1.5e9 bytes on a first run"
    _, ok = bench.table([row("00_a.ipynb", 30, 1.501)], budget=None)
    assert ok, "no budget"
    _, ok = bench.table([row("00_a.ipynb", 30, 1.4)], [row("00_a.ipynb", 30, 1.6)])
    assert ok, "the budget is for the first run"
    _, ok = bench.table([row("00_a.ipynb", 21 * 60, 1.0)])
    assert not ok, "over 20 minutes"
    lines, ok = bench.table([row("00_a.ipynb", 30, 0.5, "RuntimeError: can't allocate")])
    assert not ok and "**failed**: RuntimeError" in lines[2]
    _, ok = bench.table([row("00_a.ipynb", 30, 0.5)], [row("00_a.ipynb", 9, 0.1, "Error: x")])
    assert not ok, "a rerun that fails"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
@pytest.mark.slow
def test_run_notebook_reads_the_kernels_exact_peak(tmp_path):
    import nbformat

    cells = ["x = 1", "big = b'x' * (200 * 1024**2)", "del big"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, tmp_path / "alloc.ipynb")
    result = bench.run_notebook(tmp_path / "alloc.ipynb", None)
    assert result["error"] is None
    assert [c.cell for c in result["cells"]] == [0, 1, 2]
    assert result["top"].cell == 1 and result["top"].rise >= 200 * kernel_peak.MIB
    # the kernel's counters are updated in batches: a reading may move back by a few pages
    assert result["peak"] == max(c.after for c in result["cells"]) >= 200 * kernel_peak.MIB


def test_docs_section_is_replaced_not_repeated(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text(f"# B\n\nbefore\n\n{bench.BEGIN}\nold table\n{bench.END}\n\nafter\n")
    for text in ("first", "second"):
        bench.write_docs(f"{bench.BEGIN}\n{text}\n{bench.END}", docs)
    content = docs.read_text()
    assert content.count(bench.BEGIN) == 1 and "second" in content
    assert "old table" not in content and "first" not in content
    assert content.startswith("# B\n\nbefore") and content.endswith("after\n")
    empty = tmp_path / "none.md"
    empty.write_text("# B\n")
    bench.write_docs(f"{bench.BEGIN}\nnew\n{bench.END}", empty)
    assert empty.read_text().endswith(f"{bench.END}\n")


def test_docs_have_the_marked_section():
    text = bench.DOCS.read_text(encoding="utf-8")
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
