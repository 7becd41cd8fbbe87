"""Benchmark of the foundation: import cost, building the offline kit from nothing, resolving
every registry entry, and executing notebook 00 offline. Prints a Markdown table.

    python tools/bench_foundation.py            # uses a fresh, temporary kit folder
    python tools/bench_foundation.py --reuse    # keeps ~/.cache/transformers-course

Peak memory is the largest resident size of any process the step started (resource module),
or of the kernel for the notebook.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of a command run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, (peak if peak > before else float("nan")) / 1e6


def import_seconds(env: dict[str, str], repeat: int = 5) -> float:
    code = ("import time; t = time.perf_counter(); import course_utils; "
            "print(time.perf_counter() - t)")
    times = [float(subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True,
                                  check=True).stdout) for _ in range(repeat)]
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reuse", action="store_true", help="keep the existing kit folder")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    rows = [("import course_utils", f"{import_seconds(env):.3f} s", "-", "at most 0.3 s")]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.reuse:
            env["COURSE_CACHE"] = tmp
        seconds, peak = run([PY, "-m", "course_utils", "build-kit"], env)
        rows.append(("build the whole offline kit", f"{seconds:.0f} s", f"{peak:.2f} GB",
                     "at most 5 min, 3 GB"))
        resolve_all = ("import time; from course_utils.offline.hub import REGISTRY, resolve; "
                       "t = time.perf_counter(); [resolve(h, announce=False) for h in REGISTRY]; "
                       "print(time.perf_counter() - t)")
        out = subprocess.run([PY, "-c", resolve_all], env=env, capture_output=True, text=True,
                             check=True).stdout
        rows.append(("resolve every registry entry",
                     f"{float(out):.3f} s", "-", "at most 2 s"))
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        from tools.bench_notebooks import run_notebook

        nb00 = run_notebook(ROOT / "notebooks" / "00_setup_and_tour.ipynb")
        rows.append(("execute notebook 00 offline", f"{nb00['wall']:.0f} s",
                     f"{nb00['peak_gb']:.2f} GB (kernel)", "at most 60 s"))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print("| step | time | peak memory | target |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
