"""Benchmark and budgets: execute notebooks offline, each in a fresh kernel held to Binder's
memory limit; report wall time, peak kernel memory and (for 01) the time from kernel start to
the first pipeline result; check the course's budgets; write the table into docs/benchmarks.md.

    .venv/bin/python tools/bench_notebooks.py                  # every notebook: the budgets run
    .venv/bin/python tools/bench_notebooks.py notebooks/01_pipelines.ipynb ...
    .venv/bin/python tools/bench_notebooks.py --batching       # also time batched MiniLM calls

Budgets: every notebook at most 1.5 GB of peak kernel memory (resident, sampled every 0.1 s),
the whole course at most 20 minutes on 2 cores. Each kernel starts under a hard 2 GiB data limit
(RLIMIT_DATA, course_utils/repo/kernel_limits.py; COURSE_KERNEL_DATA_LIMIT changes it), so a notebook that
would not fit on Binder fails in the cell that allocates too much. Notebooks train into an
empty runs folder (COURSE_RUNS, as in the test command), so notebook 09 trains from scratch.

The table replaces the marked section of docs/benchmarks.md, with the date and the command
(--no-docs to leave the docs alone). Exit status 1 when a notebook fails or a budget is missed.
Run it on an otherwise idle machine: two processes sharing two cores slow each other a lot.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path

from course_utils.repo import kernel_limits
import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
FIRST_RESULT_MARK = "pipeline("  # the first cell that builds and runs a pipeline
PEAK_BUDGET_GB = 1.5  # per notebook, peak kernel memory (resident)
TOTAL_BUDGET_S = 20 * 60  # the whole course, on 2 cores
BEGIN = "<!-- budgets:begin (written by tools/bench_notebooks.py: edits here are overwritten) -->"
END = "<!-- budgets:end -->"


class PeakMemory:
    """Poll the resident memory of this process's children (the kernel) in a thread; also the
    largest data size (the address space RLIMIT_DATA counts), where the system reports it."""

    def __init__(self, interval: float = 0.1) -> None:
        self.peak = 0
        self.peak_data = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(interval,), daemon=True)

    def _poll(self, interval: float) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = data = 0
            for child in me.children(recursive=True):
                try:
                    info = child.memory_info()
                except psutil.Error:
                    continue
                total = max(total, info.rss)
                data = max(data, getattr(info, "data", 0))
            self.peak = max(self.peak, total)
            self.peak_data = max(self.peak_data, data)
            time.sleep(interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run_notebook(path: Path, limit: int | None) -> dict:
    """Execute one notebook in a fresh kernel; wall time, peaks, first result, error."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=900, record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.time()
    error = None
    with PeakMemory() as memory:
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
    return {"name": path.name, "wall": wall, "peak_gb": memory.peak / 1e9,
            "data_gb": memory.peak_data / 1e9, "first": first, "error": error}


def verdict(row: dict) -> str:
    if row["error"]:
        return f"**failed**: {row['error']}"
    if row["peak_gb"] > PEAK_BUDGET_GB:
        return f"**over** {PEAK_BUDGET_GB} GB"
    return "yes"


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def table(rows: list[dict], limit: int | None) -> tuple[list[str], bool]:
    """The Markdown table with a total row, and whether every budget holds."""
    lines = ["| notebook | wall time | peak kernel memory | peak kernel data | "
             "first pipeline result | within budget |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        first = f"{r['first']:.1f} s" if r["first"] is not None else "-"
        data = f"{r['data_gb']:.2f} GB" if r["data_gb"] else "-"
        lines.append(f"| {r['name']} | {r['wall']:.0f} s | {r['peak_gb']:.2f} GB | {data} |"
                     f" {first} | {verdict(r)} |")
    total = sum(r["wall"] for r in rows)
    peak = max((r["peak_gb"] for r in rows), default=0.0)
    time_ok = total <= TOTAL_BUDGET_S
    ok = time_ok and all(verdict(r) == "yes" for r in rows)
    lines.append(f"| **total ({len(rows)} notebooks)** | **{minutes(total)}** | "
                 f"**{peak:.2f} GB** (largest) | | | "
                 f"{'yes' if time_ok else '**over**'} (budget {TOTAL_BUDGET_S // 60} min) |")
    return lines, ok


def section(lines: list[str], ok: bool, command: str, limit: int | None) -> str:
    import torch
    import transformers

    cores = os.cpu_count()
    capped = (f"each kernel under a {limit / 1024**3:.2g} GiB data limit (RLIMIT_DATA)" if limit
              else "no data limit on the kernels")
    return "\n".join([
        BEGIN,
        f"Run on {date.today().isoformat()} with `{command}`: Python {platform.python_version()},"
        f" torch {torch.__version__}, transformers {transformers.__version__}, {cores} CPU"
        f" cores{'' if cores == 2 else ' (the budget is for 2)'}, offline, {capped}.",
        "",
        *lines,
        "",
        f"Budgets: every notebook at most {PEAK_BUDGET_GB} GB of peak kernel memory, the whole"
        f" course at most {TOTAL_BUDGET_S // 60} minutes on 2 cores: "
        + ("**met**." if ok else "**missed** (see the last column)."),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--batching", action="store_true",
                        help="also time per-item against batched MiniLM calls (notebook 01)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("COURSE_STRICT_CHECKS", "1")
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    runs = tempfile.TemporaryDirectory(prefix="course-runs-")
    os.environ.setdefault("COURSE_RUNS", runs.name)  # an empty runs folder: train from scratch
    paths = ([Path(p).resolve() for p in args.notebooks]
             or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    limit = kernel_limits.kernel_data_limit()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, offline; "
          + kernel_limits.describe(limit) + "\n", flush=True)
    rows = []
    for path in paths:
        row = run_notebook(path, limit)
        rows.append(row)
        print(f"{row['name']}: {row['wall']:.0f} s, {row['peak_gb']:.2f} GB peak"
              f" ({row['data_gb']:.2f} GB data): {verdict(row)}", flush=True)
    runs.cleanup()
    lines, ok = table(rows, limit)
    print("\n" + "\n".join(lines) + "\n")
    print("budgets " + ("met" if ok else "MISSED"))
    if not args.no_docs:
        argv_text = " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
        command = (".venv/bin/python tools/bench_notebooks.py " + argv_text).strip()
        write_docs(section(lines, ok, command, limit))
        print(f"wrote the table into {DOCS.relative_to(ROOT)}")
    if args.batching:
        print()
        print("\n".join(batching_table()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
