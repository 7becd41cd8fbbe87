"""The budgets table of tools/bench_notebooks.py and the docs section it replaces."""

from __future__ import annotations

from tools import bench_notebooks as bench


def row(name: str, wall: float, peak: float, error: str | None = None) -> dict:
    return {"name": name, "wall": wall, "peak_gb": peak, "data_gb": peak + 0.1, "first": None,
            "error": error}


def test_table_totals_and_budgets():
    lines, ok = bench.table([row("00_a.ipynb", 30, 0.8), row("01_b.ipynb", 90, 1.2)], None)
    assert ok
    assert lines[-1].startswith("| **total (2 notebooks)** | **2 min 00 s** | **1.20 GB**")
    _, ok = bench.table([row("00_a.ipynb", 30, 1.6)], None)
    assert not ok, "over 1.5 GB"
    _, ok = bench.table([row("00_a.ipynb", 21 * 60, 1.0)], None)
    assert not ok, "over 20 minutes"
    lines, ok = bench.table([row("00_a.ipynb", 30, 0.5, "RuntimeError: can't allocate")], None)
    assert not ok and "**failed**: RuntimeError" in lines[2]


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
