"""Exact peak memory of a notebook kernel, and the course's budget for it.

The course promises every notebook at most 1.5 GB (1.5e9 bytes) of peak kernel memory, so that
a kernel and the Jupyter server fit in Binder's 2 GB. "Peak" is exact, not sampled: the kernel
process's own resident high-water mark, VmHWM in /proc/<pid>/status (Linux), which the
operating system keeps, so no short-lived peak is missed (exact to a few pages: Linux updates
the counters in batches). It is read before and after each cell; the cell whose execution
raised it most is named when a notebook is over the budget. Only the kernel process counts
(not processes it starts, nor the Jupyter server, which tools/browser.py measures).

COURSE_KERNEL_PEAK_BUDGET sets the budget: bytes (1500000000 or 1.5e9), or a size with a binary
unit as in COURSE_KERNEL_DATA_LIMIT (1400M, 1.8G); 0 or off lifts it. Unset: 1.5e9 bytes on
Linux without an NVIDIA GPU (Binder's case), none elsewhere (macOS has no VmHWM; a CUDA build
of torch, as on Colab, holds about 400 MB more resident, and Colab has about 12 GB).

Used by the notebook tests (course_utils/repo/nbval_peak.py, loaded by conftest.py at the root:
a notebook whose first run goes over fails, with its figure and its cell), by
tools/bench_notebooks.py (the budgets table) and by tools/browser.py (the server's figure).
Standard library only.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.repo import kernel_limits

ENV = "COURSE_KERNEL_PEAK_BUDGET"
BUDGET_BYTES = 1_500_000_000  # 1.5 GB: the kernel's share of Binder's 2 GB
MIB = 1024**2


def parse_budget(text: str) -> int | None:
    """'1.5e9' or '1500000000' -> bytes; '1400M', '1.8G' (binary units); '0', 'off' -> None."""
    try:
        value = float(text.strip())
    except ValueError:
        try:
            return kernel_limits.parse_size(text)
        except ValueError:
            raise ValueError(f"{ENV}={text!r}: give bytes (1.5e9) or a size like 1400M, "
                             "or 0 for no budget") from None
    return int(value) if value > 0 else None


def peak_budget() -> int | None:
    """The peak-memory budget per notebook kernel in bytes, or None (see the module doc)."""
    text = os.environ.get(ENV)
    if text is not None:
        return parse_budget(text)
    if not sys.platform.startswith("linux") or kernel_limits.has_nvidia_gpu():
        return None
    return BUDGET_BYTES


def status_bytes(pid: int, field_name: str = "VmHWM") -> int | None:
    """A memory field of /proc/<pid>/status (VmHWM, VmRSS, VmData...) in bytes; None where the
    process or the file is gone (not Linux, a dead kernel)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024  # the kernel reports kB (KiB)
    return None


def kernel_pid(manager: object) -> int | None:
    """The process id of the kernel a jupyter_client KernelManager started, if local."""
    provisioner = getattr(manager, "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    return pid if isinstance(pid, int) else None


def first_line(source: str, width: int = 60) -> str:
    """The first non-blank line of a cell's source, cut to `width` characters."""
    line = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return line if len(line) <= width else line[:width - 1] + "…"


def mib(n: int) -> str:
    return f"{n / MIB:,.0f} MiB"


@dataclass
class CellRise:
    """One executed cell: the kernel's high-water mark before and after it."""

    cell: int  # code cells numbered from 0, as nbval's "Cell N"
    source: str
    before: int
    after: int
    rss: int | None = None  # resident size right after the cell, where read

    @property
    def rise(self) -> int:
        return self.after - self.before

    def describe(self) -> str:
        return (f"Cell {self.cell} ({round(self.rise / MIB):+,} MiB, to {mib(self.after)}): "
                f"`{first_line(self.source)}`")


@dataclass
class KernelPeak:
    """A notebook's kernel high-water mark, cell by cell."""

    notebook: str
    cells: list[CellRise] = field(default_factory=list)

    def record(self, cell: int, source: str, before: int | None, after: int | None,
               rss: int | None = None) -> None:
        if before is not None and after is not None:
            self.cells.append(CellRise(cell, source, before, after, rss))

    @property
    def peak(self) -> int:
        """The kernel's high-water mark in bytes after the last cell read (0 before any)."""
        return max((c.after for c in self.cells), default=0)

    def top(self) -> CellRise | None:
        """The cell whose execution raised the high-water mark most (the first of equals)."""
        return max(self.cells, key=lambda c: c.rise, default=None)

    def reached(self) -> CellRise | None:
        """The cell in which the high-water mark reached its final value (the first of equals)."""
        return max(self.cells, key=lambda c: c.after, default=None)

    def over(self, budget: int | None) -> bool:
        return budget is not None and self.peak > budget

    def summary(self) -> str:
        top = self.top()
        raised = f"; raised most by {top.describe()}" if top and top.rise > 0 else ""
        return f"{self.notebook}: {mib(self.peak)} ({self.peak / 1e9:.2f} GB){raised}"

    def message(self, budget: int) -> str:
        """Why a notebook fails the budget: its figure, the budget and the cell to look at."""
        top, reached = self.top(), self.reached()
        cell = top.describe() if top else "no cell was measured"
        also = (f" (the peak itself was reached in Cell {reached.cell})"
                if reached and top and reached.cell != top.cell else "")
        return (f"{self.notebook}: peak kernel memory {mib(self.peak)} "
                f"({self.peak / 1e9:.3f} GB, {self.peak:,} bytes; the kernel's VmHWM) is over "
                f"the budget of {budget / 1e9:.3f} GB ({mib(budget)}). The cell that raised the "
                f"high-water mark most: {cell}{also}. Free what a section no longer needs, load "
                f"once, batch big tensors; {ENV} changes the budget (0 lifts it).")
