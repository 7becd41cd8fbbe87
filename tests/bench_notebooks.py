"""Benchmark: execute notebooks offline in fresh kernels; report wall time, peak kernel memory,
and (for 01) the time from kernel start to the first pipeline result; then time a per-item
loop against batched calls of MiniLM on 64 sentences from the tweets. Prints Markdown tables.

    HF_HUB_OFFLINE=1 python tests/bench_notebooks.py                 # every notebook
    HF_HUB_OFFLINE=1 python tests/bench_notebooks.py notebooks/01_pipelines.ipynb

Run it on an otherwise idle machine: two processes sharing two cores slow each other a lot.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
FIRST_RESULT_MARK = "pipeline("  # the first cell that builds and runs a pipeline


class PeakMemory:
    """Poll the resident memory of this process's children (the kernel) in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(interval,), daemon=True)

    def _poll(self, interval: float) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total = max(total, child.memory_info().rss)
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run_notebook(path: Path) -> dict[str, float | None]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=900, record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.time()
    with PeakMemory() as memory:
        client.execute()
    wall = time.time() - started
    first = None
    for cell in nb.cells:
        if cell.cell_type == "code" and FIRST_RESULT_MARK in cell.source:
            first = stamp(cell.metadata["execution"]["shell.execute_reply"]) - started
            break
    return {"wall": wall, "peak_gb": memory.peak / 1e9, "first": first}


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


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, offline\n")
    print("| notebook | wall time | peak kernel memory | first pipeline result |")
    print("|---|---|---|---|")
    for path in paths:
        r = run_notebook(path.resolve())
        first = f"{r['first']:.1f} s" if r["first"] is not None else "-"
        print(f"| {path.name} | {r['wall']:.0f} s | {r['peak_gb']:.2f} GB | {first} |",
              flush=True)
    print()
    print("\n".join(batching_table()))


if __name__ == "__main__":
    main()
