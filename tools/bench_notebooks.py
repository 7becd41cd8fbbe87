"""Benchmark and budgets: execute notebooks offline, each in a fresh kernel held to Binder's
memory limit, first into an empty runs folder of its own (a new learner's first run: notebooks
train), then again into the same folder (a rerun: finished trainings are loaded); report wall
time, exact peak kernel memory and the cell that raised it most, and (for 01) the time from
kernel start to the first pipeline result; check the budgets; write docs/benchmarks.md's table.

    .venv/bin/python tools/bench_notebooks.py                  # every notebook: the budgets run
    .venv/bin/python tools/bench_notebooks.py notebooks/01_pipelines.ipynb ...
    .venv/bin/python tools/bench_notebooks.py --no-rerun --cells ...   # first runs, every cell
    .venv/bin/python tools/bench_notebooks.py --batching       # also time batched MiniLM calls

Peak kernel memory is exact, not sampled: the kernel process's own resident high-water mark
(VmHWM in /proc/<pid>/status), read before and after every cell (course_utils/repo/kernel_peak.py).
Budgets: every notebook at most 1.5 GB (1.5e9 bytes) of it on a first run
(COURSE_KERNEL_PEAK_BUDGET changes that, as in the tests), the whole course's first runs at most
20 minutes on 2 cores. Each kernel starts under a hard 2 GiB data limit (RLIMIT_DATA,
course_utils/repo/kernel_limits.py; COURSE_KERNEL_DATA_LIMIT changes it), so a notebook that
would not fit on Binder fails in the cell that allocates too much. Each notebook's runs folder
is a fresh temporary one (COURSE_RUNS is set to it), removed after its rerun.

The table replaces the marked section of docs/benchmarks.md, with the date and the command
(--no-docs to leave the docs alone; --note adds a sentence to it). Exit status 1 when a
notebook fails or a budget is missed. On an otherwise idle machine the times are the course's;
two processes sharing two cores slow each other a lot (the peaks do not change).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from course_utils.repo import kernel_limits, kernel_peak
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
FIRST_RESULT_MARK = "pipeline("  # the first cell that builds and runs a pipeline
BUDGET = kernel_peak.BUDGET_BYTES  # per notebook, exact peak kernel memory, first run
TOTAL_BUDGET_S = 20 * 60  # the whole course, on 2 cores
BEGIN = "<!-- budgets:begin (written by tools/bench_notebooks.py: edits here are overwritten) -->"
END = "<!-- budgets:end -->"


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run_notebook(path: Path, limit: int | None = None) -> dict:
    """Execute one notebook in a fresh kernel under `limit` (default: kernel_data_limit());
    its wall time, exact peak (the kernel's VmHWM, read around every cell), the cell that
    raised it most, the time to the first pipeline result, and the error if one ended it."""
    if limit is None:
        limit = kernel_limits.kernel_data_limit()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=900, record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    peak = kernel_peak.KernelPeak(path.name)
    code_cell = {i: n for n, i in enumerate(
        i for i, c in enumerate(nb.cells) if c.cell_type == "code")}
    before: dict[int, int | None] = {}

    def read(field_name: str = "VmHWM") -> int | None:
        pid = kernel_peak.kernel_pid(client.km)
        return kernel_peak.status_bytes(pid, field_name) if pid else None

    def cell_starts(cell, cell_index: int, **_: object) -> None:
        before[cell_index] = read()

    def cell_ends(cell, cell_index: int, **_: object) -> None:
        peak.record(code_cell[cell_index], cell.source, before.pop(cell_index, None), read(),
                    read("VmRSS"))

    client.on_cell_execute = cell_starts
    client.on_cell_executed = cell_ends
    started = time.time()
    error = None
    try:
        client.execute(**kernel_limits.popen_kwargs(limit))
    except CellExecutionError as failure:
        error = f"{failure.ename}: {failure.evalue}"[:200]
    except Exception as failure:  # noqa: BLE001 - a dead kernel, a timeout: reported
        error = f"{type(failure).__name__}: {failure}"[:200]
    wall = time.time() - started
    first = None
    for cell in nb.cells:
        if cell.cell_type == "code" and FIRST_RESULT_MARK in cell.source:
            reply = cell.metadata.get("execution", {}).get("shell.execute_reply")
            first = stamp(reply) - started if reply else None
            break
    return {"name": path.name, "wall": wall, "peak": peak.peak, "peak_gb": peak.peak / 1e9,
            "top": peak.top(), "cells": peak.cells, "first": first, "error": error}


def verdict(row: dict, budget: int | None = BUDGET) -> str:
    """The budget verdict of a first run: yes, over, or failed (with the error)."""
    if row["error"]:
        return f"**failed**: {row['error']}"
    if budget is not None and row["peak"] > budget:
        return f"**over** {budget / 1e9:.2f} GB"
    return "yes"


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def top_cell(row: dict) -> str:
    """The cell that raised the high-water mark most, for a Markdown table cell."""
    top = row["top"]
    if top is None:
        return "-"
    line = kernel_peak.first_line(top.source, 36).replace("|", "\\|").replace("`", "'")
    return f"{top.cell}: `{line}` (+{top.rise / 1e9:.2f} GB)"


def table(rows: list[dict], reruns: list[dict] | None = None,
          budget: int | None = BUDGET) -> tuple[list[str], bool]:
    """The Markdown table (first run; the rerun beside it where given) with a total row, and
    whether every budget holds (judged on the first runs, and on reruns' errors)."""
    again = {r["name"]: r for r in reruns or []}
    lines = ["| notebook | wall time | peak kernel memory | cell that raised it most | "
             "rerun: wall time | rerun: peak | first pipeline result | within budget |",
             "|---|---:|---:|---|---:|---:|---:|---|"]
    for r in rows:
        first = f"{r['first']:.1f} s" if r["first"] is not None else "-"
        second = again.get(r["name"])
        rerun = (f"{second['wall']:.0f} s | {second['peak_gb']:.2f} GB" if second and
                 not second["error"] else f"- | {'failed' if second else '-'}")
        lines.append(f"| {r['name']} | {r['wall']:.0f} s | {r['peak_gb']:.2f} GB |"
                     f" {top_cell(r)} | {rerun} | {first} | {verdict(r, budget)} |")
    total = sum(r["wall"] for r in rows)
    peak = max((r["peak_gb"] for r in rows), default=0.0)
    time_ok = total <= TOTAL_BUDGET_S
    ok = (time_ok and all(verdict(r, budget) == "yes" for r in rows)
          and not any(r["error"] for r in again.values()))
    rerun_total = (f"**{minutes(sum(r['wall'] for r in again.values()))}** | "
                   f"**{max(r['peak_gb'] for r in again.values()):.2f} GB**" if again else "|")
    lines.append(f"| **total ({len(rows)} notebooks)** | **{minutes(total)}** | "
                 f"**{peak:.2f} GB** (largest) | | {rerun_total} | | "
                 f"{'yes' if time_ok else '**over**'} (budget {TOTAL_BUDGET_S // 60} min) |")
    return lines, ok


def section(lines: list[str], ok: bool, command: str, limit: int | None,
            budget: int | None = BUDGET, note: str = "") -> str:
    import torch
    import transformers

    cores = os.cpu_count()
    capped = (f"each kernel under a {limit / 1024**3:.2g} GiB data limit (RLIMIT_DATA)" if limit
              else "no data limit on the kernels")
    held = (f"every notebook at most {budget / 1e9:.2f} GB of exact peak kernel memory (VmHWM)"
            " on a first run" if budget else "no peak-memory budget")
    return "\n".join([
        BEGIN,
        f"Run on {date.today().isoformat()} with `{command}`: Python {platform.python_version()},"
        f" torch {torch.__version__}, transformers {transformers.__version__}, {cores} CPU"
        f" cores{'' if cores == 2 else ' (the budget is for 2)'}, offline, {capped}."
        + (f" {note}" if note else ""),
        "",
        *lines,
        "",
        f"Budgets: {held}, the whole course at most {TOTAL_BUDGET_S // 60} minutes on 2 cores"
        " (first runs): " + ("**met**." if ok else "**missed** (see the last column)."),
        END,
    ])


def write_docs(text: str, docs: Path = DOCS) -> None:
    """Replace the marked section of the docs (or add one at the end of the Notebooks part)."""
    old = docs.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), flags=re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: text, old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    docs.write_text(new, encoding="utf-8")


def batching_table() -> list[str]:
    from datasets import load_dataset
    from transformers import pipeline

    from course_utils import resolve, setup
    from course_utils.speed import compare_batching, sentences_from

    setup()
    extractor = pipeline("feature-extraction",
                         model=resolve("sentence-transformers/all-MiniLM-L6-v2"), device="cpu")
    data = load_dataset(resolve("mteb/tweet_sentiment_extraction"), split="train")
    texts = sentences_from(data.shuffle(seed=0)["text"][:500], 64)
    timings = compare_batching(extractor, texts, batch_sizes=(8, 32), repeat=3,
                               return_tensors=True)
    rows = ["| MiniLM on 64 sentences | seconds (best of 3) | sentences/s | speed-up |",
            "|---|---|---|---|"]
    for t in timings:
        speedup = t.items_per_second / timings[0].items_per_second
        rows.append(f"| {t.how} | {t.seconds:.2f} | {t.items_per_second:.1f} | {speedup:.1f}x |")
    return rows


def report(row: dict, what: str, budget: int | None, cells: bool = False) -> None:
    print(f"{row['name']} ({what}): {row['wall']:.0f} s, {row['peak'] / 1024**2:,.0f} MiB"
          f" ({row['peak_gb']:.3f} GB) peak: {verdict(row, budget)}", flush=True)
    if row["top"] is not None:
        print(f"  raised most by {row['top'].describe()}", flush=True)
    for cell in row["cells"] if cells else []:
        rss = f"{cell.rss / 1024**2:,.0f} MiB" if cell.rss else "-"
        print(f"    {cell.describe()}; resident after it {rss}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--no-rerun", action="store_true", help="first runs only")
    parser.add_argument("--cells", action="store_true", help="print every cell's rise")
    parser.add_argument("--note", default="", help="a sentence to add to the docs section")
    parser.add_argument("--batching", action="store_true",
                        help="also time per-item against batched MiniLM calls (notebook 01)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("COURSE_STRICT_CHECKS", "1")
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    paths = ([Path(p).resolve() for p in args.notebooks]
             or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    limit = kernel_limits.kernel_data_limit()
    budget = kernel_peak.peak_budget()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, offline; "
          + kernel_limits.describe(limit) + "; peak budget "
          + (f"{budget / 1e9:.2f} GB" if budget else "none") + "\n", flush=True)
    rows, reruns = [], []
    for path in paths:
        # an empty runs folder of its own: a new learner's first run, which trains (notebook 10
        # trains notebook 09's classifier too); then a rerun into it, which resumes
        with tempfile.TemporaryDirectory(prefix="course-runs-") as runs:
            os.environ["COURSE_RUNS"] = runs
            rows.append(run_notebook(path, limit))
            report(rows[-1], "first run", budget, args.cells)
            if not args.no_rerun:
                reruns.append(run_notebook(path, limit))
                report(reruns[-1], "rerun", budget, args.cells)
    lines, ok = table(rows, reruns, budget)
    print("\n" + "\n".join(lines) + "\n")
    print("budgets " + ("met" if ok else "MISSED"))
    if not args.no_docs:
        given = list(argv if argv is not None else sys.argv[1:])
        if "--note" in given:  # the note goes into the docs, not into the command shown
            del given[given.index("--note"):given.index("--note") + 2]
        given = [a for a in given if not a.startswith("--note=")]
        argv_text = " ".join(shlex.quote(a) for a in given)
        command = (".venv/bin/python tools/bench_notebooks.py " + argv_text).strip()
        write_docs(section(lines, ok, command, limit, budget, args.note))
        print(f"wrote the table into {DOCS.relative_to(ROOT)}")
    if args.batching:
        print()
        print("\n".join(batching_table()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
