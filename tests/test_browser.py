"""The real-browser test: every notebook run once in JupyterLab 4, and notebook 07 once more
in Notebook 7, in Debian's Chromium, offline (about 11 minutes for the whole course on 2 cores;
COURSE_BROWSER_NOTEBOOKS="00 07" runs only those).

tools/browser.py does the work; here it runs in a network namespace that has only a loopback
interface (`unshare -n`), so the kernel and the page cannot reach any network. Where a namespace
cannot be made, it runs with dead proxy settings for the kernel and every outside request
blocked in the page. Screenshots and a report: test-artifacts/browser/.

Needs /usr/bin/chromium (apt-get install chromium), playwright and notebook 7
(tests/requirements.txt).
Skipped without them, except under COURSE_STRICT_CHECKS=1 (the test command), where it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tools.browser import CHROMIUM, plan, timeout_of

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


def missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: apt-get install chromium"
    for module in ("playwright", "notebook"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: pip install -r tests/requirements.txt"
    return None


def can_isolate() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.after_notebooks  # so it resumes the training runs the notebook tests finished
def test_every_notebook_runs_in_jupyterlab_offline():
    reason = missing()
    if reason:
        if os.environ.get("COURSE_STRICT_CHECKS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    chosen = os.environ.get("COURSE_BROWSER_NOTEBOOKS", "").split()
    runs = plan(chosen, None)
    command = [sys.executable, str(ROOT / "tools" / "browser.py"), "--artifacts", str(ARTIFACTS),
               *chosen]
    env = dict(os.environ)
    if can_isolate():
        command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
    else:
        dead = "http://127.0.0.1:9"
        env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead,
                   NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    # each notebook's own limit, plus starting JupyterLab and Chromium
    limit = sum(timeout_of(name, None) + 30 for _, name in runs) + 120
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=limit)
    print(result.stdout[-6000:])
    assert result.returncode == 0, (result.stdout[-4000:] + result.stderr[-3000:])
    for frontend, name in runs:
        stem = Path(name).stem
        pictures = [f"{stem}.jpg"]
        if stem.startswith("07_"):
            pictures += ["07_head_view.png", "07_model_view.png", "07_explorer.png",
                         "07_head_view_without_javascript.png"]
        for picture in pictures:
            path = ARTIFACTS / frontend / picture
            assert path.is_file() and path.stat().st_size > 1000, f"{path} is missing or empty"
