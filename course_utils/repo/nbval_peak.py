"""pytest plugin: hold every notebook nbval executes to the peak-memory budget, exactly.

Around each of nbval's cell items it reads the kernel's high-water mark (VmHWM, see
course_utils/repo/kernel_peak.py) before and after the cell runs; after a notebook's last cell,
a kernel whose peak is over the budget (COURSE_KERNEL_PEAK_BUDGET, 1.5e9 bytes by default on
Linux) fails that cell, naming the notebook, the figure, the budget and the cell that raised the
high-water mark most. The test command runs notebooks into an empty runs folder, so this is a
first run's peak, as a new learner's. The terminal summary lists every notebook's peak.

Loaded by conftest.py at the root (`pytest_plugins`), or with `-p course_utils.repo.nbval_peak`.
"""

from __future__ import annotations

import pytest

from course_utils.repo import kernel_peak

PEAKS: dict[str, kernel_peak.KernelPeak] = {}  # notebook node id -> its kernel's peak
LAST_CELLS: set[str] = set()  # node ids of the cells after which a notebook ends


def is_cell(item: pytest.Item) -> bool:
    """An nbval cell item: it has a cell number and its notebook holds the kernel."""
    return hasattr(item, "cell_num") and hasattr(item.parent, "kernel")


def pid_of(item: pytest.Item) -> int | None:
    kernel = getattr(item.parent, "kernel", None)
    return kernel_peak.kernel_pid(getattr(kernel, "km", None))


def pytest_report_header(config: pytest.Config) -> str:
    budget = kernel_peak.peak_budget()
    if budget is None:
        return f"notebook kernels: no peak-memory budget ({kernel_peak.ENV} to set one)"
    return (f"notebook kernels: peak-memory budget {budget / 1e9:.2f} GB (the kernel's VmHWM; "
            f"{kernel_peak.ENV}=0 lifts it)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    if is_cell(item) and (nextitem is None or nextitem.parent is not item.parent):
        LAST_CELLS.add(item.nodeid)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if not is_cell(item):
        yield
        return
    pid = pid_of(item)  # nbval starts the kernel in the notebook's setup, before this
    before = kernel_peak.status_bytes(pid) if pid else None
    yield
    after = kernel_peak.status_bytes(pid) if pid else None
    notebook = PEAKS.setdefault(item.parent.nodeid, kernel_peak.KernelPeak(item.parent.nodeid))
    notebook.record(item.cell_num, item.cell.source, before, after)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if call.when != "call" or item.nodeid not in LAST_CELLS:
        return
    notebook = PEAKS.get(item.parent.nodeid)
    budget = kernel_peak.peak_budget()
    if notebook is None or not notebook.over(budget):
        return
    report = outcome.get_result()
    message = notebook.message(budget)
    if report.failed and report.longrepr:
        message = f"{report.longrepr}\n\n{message}"
    report.outcome = "failed"
    report.longrepr = message
    if hasattr(report, "wasxfail"):
        del report.wasxfail


def pytest_terminal_summary(terminalreporter) -> None:
    if not PEAKS:
        return
    budget = kernel_peak.peak_budget()
    limit = f"budget {budget / 1e9:.2f} GB" if budget else "no budget"
    terminalreporter.section(f"peak kernel memory (VmHWM, {limit})")
    for notebook in PEAKS.values():
        mark = "OVER " if notebook.over(budget) else ""
        terminalreporter.write_line(mark + notebook.summary())
