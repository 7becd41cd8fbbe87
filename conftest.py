"""Notebook kernels of every pytest run start under Binder's memory limit.

nbval starts each notebook's kernel through `nbval.kernel.start_new_kernel`, whose keyword
arguments reach the kernel's Popen: here they gain a preexec_fn that sets RLIMIT_DATA (2 GiB by
default on Linux; COURSE_KERNEL_DATA_LIMIT changes it, 0 lifts it) and the environment that
keeps that limit honest. See course_utils/repo/kernel_limits.py. The pytest process itself is
not limited.

Every notebook is also held to the course's peak-memory budget, read exactly (the kernel's
VmHWM after each cell; 1.5e9 bytes by default, COURSE_KERNEL_PEAK_BUDGET changes it, 0 lifts
it): course_utils/repo/nbval_peak.py fails a notebook over it and names the cell to look at.

Tests marked `after_notebooks` (the browser run) run after every notebook, so nbval's are the
first runs (the peaks above are a learner's first run) and the later pass resumes the training
runs they finished, in the runs folder of the test command, as a learner's rerun does.
"""

from __future__ import annotations

from course_utils.repo import kernel_limits

LIMIT = kernel_limits.kernel_data_limit()
pytest_plugins = ("course_utils.repo.nbval_peak",)


def pytest_report_header(config) -> str:
    return kernel_limits.describe(LIMIT)


def pytest_collection_modifyitems(config, items) -> None:
    items.sort(key=lambda item: item.get_closest_marker("after_notebooks") is not None)


def pytest_configure(config) -> None:
    if LIMIT is None:
        return
    try:
        import nbval.kernel
    except ImportError:
        return
    original = nbval.kernel.start_new_kernel
    if getattr(original, "course_limited", False):
        return

    def start_new_kernel(*args, **kwargs):
        for name, value in kernel_limits.popen_kwargs(LIMIT).items():
            kwargs.setdefault(name, value)
        return original(*args, **kwargs)

    start_new_kernel.course_limited = True
    nbval.kernel.start_new_kernel = start_new_kernel
