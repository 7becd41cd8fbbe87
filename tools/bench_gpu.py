"""The GPU run: every notebook executed by nbval on this machine's GPU, then the fine-tuning
throughput benchmark (naive against the course's recipe), LoRA against full fine-tuning of
SmolLM2 (seconds per step, peak GPU memory) and notebook 13's DPO run; the tables go into
docs/benchmarks.md and docs/instructor-guide.md between their `gpu:begin`/`gpu:end` marks.

    HF_HUB_OFFLINE=1 .venv/bin/python tools/bench_gpu.py          # on a machine with a GPU
    .venv/bin/python tools/bench_gpu.py --allow-cpu --no-docs notebooks/00_setup_and_tour.ipynb

Run it whenever a machine with an NVIDIA GPU is at hand (tools/pack_for_gpu.py carries the
course to one that is offline). The target is 10 minutes; the first, partial run on an H200 took
139 s to build the kit and about 7 minutes for notebooks 09, 12 and 13 alone, so where commands
are cut at 10 minutes, pass a few notebooks at a time. It says when it took longer. Without a GPU it refuses, unless --allow-cpu (to try the plumbing: the
tables then say "cpu" and are not written into the docs unless asked). Each notebook runs in its
own pytest, with an empty runs folder (a first run: notebook 09 trains), strict exercise checks
and no kernel memory limit (a GPU machine is not Binder). Exit status 1 when a notebook fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "benchmarks.md", ROOT / "docs" / "instructor-guide.md")
BEGIN = "<!-- gpu:begin (written by tools/bench_gpu.py: edits here are overwritten) -->"
END = "<!-- gpu:end -->"
TARGET_S = 10 * 60
STEPS = 40
LORA_STEPS = 12  # tools/bench_lora.py: LoRA against full fine-tuning of SmolLM2, same steps


def gpu_name() -> str | None:
    """The first CUDA device's name and memory, or None without one."""
    import torch

    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    major, minor = torch.cuda.get_device_capability(0)
    return (f"{torch.cuda.get_device_name(0)}, {props.total_memory / 2**30:.0f} GiB, "
            f"compute capability {major}.{minor}")


def failure_excerpt(output: str, most: int = 80) -> str:
    """pytest's report of the failures in `output` (from its FAILURES banner), at most `most`
    lines: a GPU run is rare, so a failing notebook's traceback must not be lost."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "FAILURES" in line and "=" in line), None)
    kept = lines[start:] if start is not None else lines[-most:]
    return "\n".join(kept[:most])


def run_notebook(path: Path, env: dict[str, str]) -> tuple[bool, float, str]:
    """Execute one notebook with nbval in its own pytest; (passed, seconds, last line). A
    failure's report is printed at once."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0:
        print(failure_excerpt(done.stdout + done.stderr), flush=True)
    return done.returncode == 0, seconds, lines[-1] if lines else done.stderr.strip()[-200:]


def notebooks_table(results: list[tuple[str, bool, float, str]]) -> list[str]:
    rows = ["| notebook | seconds | result |", "|---|---:|---|"]
    for name, passed, seconds, last in results:
        rows.append(f"| {name} | {seconds:.0f} | {'passed' if passed else 'FAILED: ' + last} |")
    total = sum(seconds for _, _, seconds, _ in results)
    rows.append(f"| **all** | **{total:.0f}** | "
                f"{sum(p for _, p, _, _ in results)} of {len(results)} passed |")
    return rows


def throughput_table(env: dict[str, str], steps: int = STEPS) -> list[str]:
    """The Markdown table bench_fine_tuning.py prints, with its lines around it."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_fine_tuning.py"),
                           str(steps)], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return [f"The throughput benchmark failed: {done.stderr.strip()[-500:]}"]
    return [line for line in done.stdout.splitlines() if line.strip()]


def tool_table(env: dict[str, str], tool: str, args: list[str], what: str) -> list[str]:
    """The Markdown table a tools/ benchmark prints, with its title; or why it failed."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / tool), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return [f"The {what} benchmark failed: {done.stderr.strip()[-500:]}"]
    return [line for line in done.stdout.splitlines() if line.strip()]


def lora_table(env: dict[str, str], steps: int = LORA_STEPS) -> list[str]:
    """bench_lora.py's table: LoRA against full fine-tuning of SmolLM2."""
    return tool_table(env, "bench_lora.py", [str(steps)], "LoRA")


def alignment_table(env: dict[str, str]) -> list[str]:
    """bench_alignment.py's table: notebook 13's DPO run, and the same run pushed harder."""
    return tool_table(env, "bench_alignment.py", [], "DPO")


def section(device: str, notebooks: list[str], throughput: list[str], seconds: float,
            command: str, lora: list[str] | None = None,
            alignment: list[str] | None = None) -> str:
    import torch
    import transformers

    verdict = (f"within the {TARGET_S // 60}-minute target" if seconds <= TARGET_S
               else f"**over** the {TARGET_S // 60}-minute target")
    return "\n".join([
        BEGIN,
        f"Run on {date.today().isoformat()} with `{command}` on {device}: Python "
        f"{platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, offline, every notebook a first run. The whole run took "
        f"{seconds / 60:.1f} minutes, {verdict}.",
        "",
        *notebooks,
        "",
        f"Fine-tuning throughput, {STEPS} optimizer steps each (tools/bench_fine_tuning.py):",
        "",
        *throughput,
        "",
        f"LoRA against full fine-tuning, {LORA_STEPS} steps each (tools/bench_lora.py):",
        "",
        *(lora or ["not run"]),
        "",
        "Notebook 13's DPO run and the same run pushed harder (tools/bench_alignment.py):",
        "",
        *(alignment or ["not run"]),
        END,
    ])


def write_section(text: str, docs: Path) -> None:
    """Replace the marked section of `docs`; refuse when the marks are missing."""
    old = docs.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), flags=re.S)
    if not pattern.search(old):
        raise SystemExit(f"{docs} has no {BEGIN!r} ... {END!r} section: add the two marks "
                         "where the GPU tables belong, then run again")
    docs.write_text(pattern.sub(lambda _: text, old, count=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="run without a GPU (to try the script; the docs are left alone "
                        "unless --docs)")
    parser.add_argument("--no-docs", action="store_true", help="print the tables only")
    parser.add_argument("--docs", action="store_true", help="write the docs even on a CPU")
    parser.add_argument("--steps", type=int, default=STEPS, help="benchmark steps (default 40)")
    args = parser.parse_args(argv)

    name = gpu_name()
    if name is None and not args.allow_cpu:
        print("bench_gpu: torch sees no CUDA GPU here. Run this on a machine with an NVIDIA GPU "
              "(python -m course_utils doctor says what torch sees), or pass --allow-cpu to try "
              "the script itself.", file=sys.stderr)
        return 2
    device = name or "cpu"
    paths = [Path(p).resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="course-gpu-runs-") as runs:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_STRICT_CHECKS": "1",
               "COURSE_RUNS": runs, "COURSE_KERNEL_DATA_LIMIT": "0",
               "COURSE_KERNEL_PEAK_BUDGET": "0"}
        for path in paths:
            passed, seconds, last = run_notebook(path, env)
            print(f"{path.name}: {'passed' if passed else 'FAILED'} in {seconds:.0f} s", flush=True)
            results.append((path.name, passed, seconds, last))
        # each table is printed as soon as it exists: a run stopped at a time limit keeps them
        throughput = throughput_table(env, args.steps)
        print("\n".join(throughput), flush=True)
        lora = lora_table(env)
        print("\n".join(lora), flush=True)
        alignment = alignment_table(env)
        print("\n".join(alignment), flush=True)
    seconds = time.perf_counter() - started
    command = ".venv/bin/python tools/bench_gpu.py" + (
        " " + " ".join(argv if argv is not None else sys.argv[1:]) if (
            argv if argv is not None else sys.argv[1:]) else "")
    text = section(device, notebooks_table(results), throughput, seconds, command.strip(), lora,
                   alignment)
    print(text)
    if not args.no_docs and (name is not None or args.docs):
        for docs in DOCS:
            write_section(text, docs)
    return 0 if all(passed for _, passed, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
