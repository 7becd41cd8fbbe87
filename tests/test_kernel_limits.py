"""Notebook kernels start under Binder's memory limit (course_utils/repo/kernel_limits.py,
conftest.py) and are held to the peak-memory budget (kernel_peak.py, nbval_peak.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from queue import Empty

from course_utils.repo import kernel_limits, kernel_peak
import pytest

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="RLIMIT_DATA is enforced on Linux")


@pytest.mark.parametrize("text, expected", [
    ("2G", 2 * 1024**3), ("2GiB", 2 * 1024**3), ("1.5G", 3 * 1024**3 // 2),
    ("1536M", 1536 * 1024**2), ("2147483648", 2147483648), ("512k", 512 * 1024),
    ("0", None), ("off", None), ("none", None), ("", None),
])
def test_parse_size(text, expected):
    assert kernel_limits.parse_size(text) == expected


def test_parse_size_says_what_is_wrong():
    with pytest.raises(ValueError, match="COURSE_KERNEL_DATA_LIMIT"):
        kernel_limits.parse_size("two gigabytes")


def test_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv(kernel_limits.ENV, "1G")
    assert kernel_limits.kernel_data_limit() == 1024**3
    monkeypatch.setenv(kernel_limits.ENV, "0")
    assert kernel_limits.kernel_data_limit() is None
    monkeypatch.delenv(kernel_limits.ENV)
    monkeypatch.setattr(kernel_limits, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(kernel_limits.sys, "platform", "linux")
    assert kernel_limits.kernel_data_limit() == kernel_limits.BINDER_BYTES
    monkeypatch.setattr(kernel_limits, "has_nvidia_gpu", lambda: True)
    assert kernel_limits.kernel_data_limit() is None


def run_in_kernel(start, code: str, **kwargs) -> str:
    """Start a kernel with `start` (nbval's or jupyter_client's start_new_kernel), run code,
    return what it printed."""
    km, kc = start(kernel_name="python3", **kwargs)
    printed: list[str] = []
    try:
        kc.execute_interactive(code, timeout=60, output_hook=lambda msg: printed.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream"
            else msg["content"].get("ename", "") if msg["msg_type"] == "error" else ""))
    except Empty:
        pass
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return "".join(printed)


PROBE = ("import os, resource; print(resource.getrlimit(resource.RLIMIT_DATA)[0],"
         " os.environ.get('ARROW_DEFAULT_MEMORY_POOL'))")


@linux_only
def test_nbval_kernels_start_under_the_limit():
    """What conftest.py promises: the kernels nbval starts in this run are limited."""
    import nbval.kernel

    limit = kernel_limits.kernel_data_limit()
    if limit is None:
        pytest.skip(kernel_limits.describe(None))
    assert getattr(nbval.kernel.start_new_kernel, "course_limited", False), "conftest.py"
    out = run_in_kernel(nbval.kernel.start_new_kernel, PROBE)
    assert out.split() == [str(limit), "system"], out


@linux_only
@pytest.mark.slow
def test_an_allocation_past_the_limit_fails_cleanly_in_the_cell():
    from jupyter_client.manager import start_new_kernel

    # The limit Binder gives (2 GiB) and one tensor of 3 GiB: refused whole, so the kernel keeps
    # the headroom a learner's kernel has (under 600M, torch 2.11's import on Python 3.13 left
    # too little for IPython to format the error).
    code = ("import torch\n"
            "try:\n    torch.ones(3 * 1024**3 // 4)\n    print('allocated')\n"
            "except RuntimeError as e:\n"
            "    print('refused:', \"can't allocate memory\" in str(e))\n"
            "x = torch.ones(10)\nprint('alive', int(x.sum()))")
    out = run_in_kernel(start_new_kernel, code,
                        **kernel_limits.popen_kwargs(kernel_limits.BINDER_BYTES))
    assert "refused: True" in out and "alive 10" in out, out


# The peak-memory budget: the kernel's exact high-water mark (course_utils/repo/kernel_peak.py,
# checked by the nbval plugin course_utils/repo/nbval_peak.py)


@pytest.mark.parametrize("text, expected", [
    ("1.5e9", 1_500_000_000), ("1500000000", 1_500_000_000), ("1400M", 1400 * 1024**2),
    ("1.8G", int(1.8 * 1024**3)), ("0", None), ("off", None),
])
def test_parse_budget(text, expected):
    assert kernel_peak.parse_budget(text) == expected


def test_budget_from_the_environment(monkeypatch):
    with pytest.raises(ValueError, match=kernel_peak.ENV):
        kernel_peak.parse_budget("a lot")
    monkeypatch.setenv(kernel_peak.ENV, "2e9")
    assert kernel_peak.peak_budget() == 2_000_000_000
    monkeypatch.setenv(kernel_peak.ENV, "off")
    assert kernel_peak.peak_budget() is None
    monkeypatch.delenv(kernel_peak.ENV)
    monkeypatch.setattr(kernel_limits, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(kernel_peak.sys, "platform", "linux")
    assert kernel_peak.peak_budget() == kernel_peak.BUDGET_BYTES == 1.5e9
    monkeypatch.setattr(kernel_limits, "has_nvidia_gpu", lambda: True)
    assert kernel_peak.peak_budget() is None


def test_the_cell_that_raised_the_peak_most():
    peak = kernel_peak.KernelPeak("nb.ipynb")
    peak.record(0, "import torch\n", 100 * kernel_peak.MIB, 600 * kernel_peak.MIB)
    peak.record(1, "\n# load | the model\nm = load()", 600 * kernel_peak.MIB,
                1500 * kernel_peak.MIB)
    peak.record(2, "del m", 1500 * kernel_peak.MIB, 1500 * kernel_peak.MIB)
    peak.record(3, "lost", None, None)  # a dead kernel: nothing to read
    assert peak.peak == 1500 * kernel_peak.MIB and len(peak.cells) == 3
    assert peak.top().cell == 1 and peak.top().rise == 900 * kernel_peak.MIB
    assert peak.reached().cell == 1 and "reached in" not in peak.message(10**9)
    peak.record(4, "train()", 1500 * kernel_peak.MIB, 1600 * kernel_peak.MIB)
    assert peak.top().cell == 1 and peak.reached().cell == 4
    assert "(the peak itself was reached in Cell 4)" in peak.message(10**9)
    peak.cells.pop()
    assert not peak.over(None) and not peak.over(2 * 10**9) and peak.over(1_500_000_000)
    message = peak.message(1_500_000_000)
    for part in ("nb.ipynb", "1,500 MiB", "1.573 GB", "1.500 GB", "Cell 1 (+900 MiB",
                 "`# load | the model`", kernel_peak.ENV):
        assert part in message, (part, message)


@linux_only
def test_status_bytes_reads_this_process():
    hwm = kernel_peak.status_bytes(os.getpid())
    rss = kernel_peak.status_bytes(os.getpid(), "VmRSS")
    assert hwm is not None and rss is not None and rss > 10 * kernel_peak.MIB
    assert hwm + kernel_peak.MIB >= rss  # both updated in batches: within a few pages
    assert kernel_peak.status_bytes(2**22 + 12345) is None  # no such process


NOTEBOOK_CELLS = ["x = 1", "big = b'x' * (300 * 1024**2)  # 300 MiB, touched", "del big",
                  "print('done')"]


def run_nbval(tmp_path, budget: str) -> subprocess.CompletedProcess:
    """Execute a four-cell notebook with nbval and the peak plugin under `budget`."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    nbformat.write(nb, tmp_path / "alloc.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, kernel_peak.ENV: budget, kernel_limits.ENV: "0"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "course_utils.repo.nbval_peak", "--nbval-lax",
         "--nbval-current-env", "-p", "no:cacheprovider", "-q", "alloc.ipynb"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)


@linux_only
@pytest.mark.slow
def test_a_notebook_over_the_budget_fails_and_names_the_cell(tmp_path):
    """A real kernel touches 300 MiB: under a 250 MiB budget its notebook fails at the end,
    naming the cell; under 2 GB it passes, and the summary gives its peak either way."""
    over = run_nbval(tmp_path, "250M")
    out = over.stdout + over.stderr
    assert over.returncode == 1, out
    assert "1 failed, 3 passed" in out, out
    assert "alloc.ipynb: peak kernel memory" in out and "over the budget of 0.262 GB" in out, out
    assert "Cell 1 (+" in out and "`big = b'x' * (300 * 1024**2)" in out, out
    assert "OVER alloc.ipynb" in out, out
    within = run_nbval(tmp_path, "2e9")
    out = within.stdout + within.stderr
    assert within.returncode == 0 and "4 passed" in out, out
    assert "peak kernel memory (VmHWM, budget 2.00 GB)" in out and "raised most by Cell 1" in out


@linux_only
def test_the_browser_run_reads_the_server_and_its_kernels():
    """tools/browser.py's reading: the server's own figures, and its ipykernel children's peak
    (here this process stands for the server, and a sleeping child for its kernel)."""
    from tools.browser import memory_now

    code = "b = b'x' * (64 * 1024**2); import time; time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code, "ipykernel_launcher"])
    try:
        for _ in range(100):  # until the child has touched its 64 MiB
            memory = memory_now(os.getpid())
            if (memory["kernel_peak"] or 0) > 64 * kernel_peak.MIB:
                break
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait()
    # VmHWM and VmRSS are updated in batches: the mark may trail the size by a few pages
    assert memory["server_peak"] + kernel_peak.MIB >= memory["server_rss"] > 10 * kernel_peak.MIB
    assert memory["kernel_peak"] > 64 * kernel_peak.MIB
    assert memory_now(None) == {}
