"""Notebook kernels start under Binder's memory limit (course_utils/repo/kernel_limits.py, conftest.py)."""

from __future__ import annotations

import sys
from queue import Empty

from course_utils.repo import kernel_limits
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

    code = ("import torch\n"
            "try:\n    torch.ones(400 * 1024**2 // 4)\n    print('allocated')\n"
            "except RuntimeError as e:\n"
            "    print('refused:', \"can't allocate memory\" in str(e))\n"
            "x = torch.ones(10)\nprint('alive', int(x.sum()))")
    out = run_in_kernel(start_new_kernel, code,
                        **kernel_limits.popen_kwargs(kernel_limits.parse_size("600M")))
    assert "refused: True" in out and "alive 10" in out, out
