"""Binder's memory limit for notebook kernels: a hard per-process data limit (RLIMIT_DATA).

Binder gives a learner at most 2 GiB of memory. The tests hold every notebook kernel to that
with `RLIMIT_DATA`, set in the kernel's process just before it starts (the `preexec_fn` of the
Popen that jupyter_client makes), so an allocation past it fails in the cell that made it
("DefaultCPUAllocator: can't allocate memory") instead of passing here and dying on Binder.
The machine's cgroups are left alone.

RLIMIT_DATA counts address space a process may write, not RAM it has touched. pyarrow's
default allocator (mimalloc) reserves 1 GiB of it the moment `datasets` is imported and touches
almost none: Binder, which counts RAM, never sees it, but the limit would. So a limited kernel
also runs with `ARROW_DEFAULT_MEMORY_POOL=system` (Arrow on the C library's malloc), which
makes the data size track the resident size (checked: import torch, transformers and datasets,
train MiniLM a few steps: 0.96 GB data, 0.91 GB resident; with mimalloc, 2.00 GB data).

COURSE_KERNEL_DATA_LIMIT sets the limit: bytes, or a size such as 2G, 1.5G or 1536M (binary
units); 0 or off lifts it. Unset: 2G on Linux without an NVIDIA GPU, none elsewhere (a CUDA
context maps far more address space than it uses; macOS does not enforce the limit).

The other half of the Binder check, the exact peak-memory budget of every notebook (the kernel's
VmHWM, COURSE_KERNEL_PEAK_BUDGET), is course_utils/repo/kernel_peak.py.

Used by the notebook tests (conftest.py at the root, for nbval's kernels), by
tools/bench_notebooks.py and by tools/browser.py (the JupyterLab server and its kernels).
Standard library only (and course_utils.env.device, which is too).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

from course_utils.env.device import has_nvidia_gpu

ENV = "COURSE_KERNEL_DATA_LIMIT"
BINDER_BYTES = 2 * 1024**3  # Binder: 1 GiB guaranteed, 2 GiB at most
KERNEL_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system"}
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_size(text: str) -> int | None:
    """'2G' -> 2147483648, '1536M', '2147483648'; '0', 'off', 'none' -> None (no limit)."""
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    if value in ("", "0", "OFF", "NONE", "NO"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)", value)
    if not match:
        raise ValueError(f"{ENV}={text!r}: give bytes or a size like 2G or 1536M, or 0 for none")
    return int(float(match.group(1)) * UNITS[match.group(2)])


def kernel_data_limit() -> int | None:
    """The data limit for notebook kernels in bytes, or None for none (see the module doc)."""
    text = os.environ.get(ENV)
    if text is not None:
        return parse_size(text)
    if not sys.platform.startswith("linux") or has_nvidia_gpu():
        return None
    return BINDER_BYTES


def limiter(limit: int) -> Callable[[], None]:
    """A preexec_fn for Popen: the child's RLIMIT_DATA, soft and hard, becomes `limit`."""

    def apply() -> None:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))

    return apply


def kernel_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a limited kernel: `base` (default os.environ) plus KERNEL_ENV."""
    env = dict(os.environ if base is None else base)
    for name, value in KERNEL_ENV.items():
        env.setdefault(name, value)
    return env


def popen_kwargs(limit: int | None) -> dict:
    """Keyword arguments for Popen (or KernelManager.start_kernel) that apply `limit`."""
    if limit is None:
        return {}
    return {"preexec_fn": limiter(limit), "env": kernel_env()}


def describe(limit: int | None) -> str:
    if limit is None:
        return f"notebook kernels: no data limit ({ENV} to set one)"
    return (f"notebook kernels: data limit {limit / 1024**3:.2f} GiB (RLIMIT_DATA, Binder's "
            f"2 GiB; {ENV}=0 lifts it)")
