"""Static checks of the committed notebooks: Hub IDs registered, outputs stripped, badges right,
every exercise with a solution and a registered check."""

import ast
import json
import re
from pathlib import Path

import pytest

from course_utils.env.colab import STABLE_REF, setup_cell
from course_utils.offline.hub import REGISTRY
from course_utils.repo.notebook_files import is_checked, source_of, strip_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NUMBERED = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COLAB_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]+/[\w.\-]+$")  # owner of 2+ characters: not "N/A"
REPO = "transformers-course/transformers-course"


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_strings(source: str) -> list[str]:
    """String literals in a cell's code (IPython magics and shell lines skipped)."""
    lines = [ln[: len(ln) - len(ln.lstrip())] + "pass" if ln.lstrip().startswith(("%", "!"))
             else ln for ln in source.splitlines()]
    tree = ast.parse("\n".join(lines))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]


def hub_ids_in(nb) -> set[str]:
    found = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            found |= {s for s in code_strings(source_of(cell)) if HUB_ID.match(s)}
    return found


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_setup_and_tour.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_hub_id_is_registered(path):
    missing = hub_ids_in(load(path)) - set(REGISTRY)
    assert not missing, f"{path.name} names Hub IDs missing from REGISTRY: {sorted(missing)}"


def test_the_registry_check_can_fail():
    nb = {"cells": [{"cell_type": "code", "source": 'm = resolve("someone/unregistered")'}]}
    assert hub_ids_in(nb) - set(REGISTRY) == {"someone/unregistered"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_only_on_checked_cells(path):
    nb = load(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and not is_checked(cell):
            assert cell.get("execution_count") is None, f"{path.name}: execution count kept"
            assert not cell.get("outputs"), f"{path.name}: output on an unchecked cell"
    assert strip_notebook(load(path)) == nb, "run python -m course_utils strip-notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_anatomy(path):
    nb = load(path)
    first = source_of(nb["cells"][0])
    rel = f"notebooks/{path.name}"
    assert first.startswith("# " + path.stem[:2]), "title first"
    assert f"colab.research.google.com/github/{REPO}/blob/{STABLE_REF}/{rel}" in first
    assert f"mybinder.org/v2/gh/{REPO}/main?urlpath=lab/tree/{rel}" in first
    assert "In this notebook we" in source_of(nb["cells"][1])
    setup_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "setup(" in source_of(setup_cells[0]), "the first code cell calls setup()"
    assert any("In this notebook we:" in source_of(c) for c in nb["cells"][-3:]), "a recap"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_solution_and_a_check(path):
    from course_utils.repo.student_copies import exercises_of, problems

    keys = [e.key for e in exercises_of(load(path), path.name)]
    assert keys, f"{path.name} has no exercises"
    assert all(k.startswith(path.stem[:2] + ".") for k in keys), "checked in the wrong notebook"
    assert len(keys) == len(set(keys)), "each exercise is checked once"
    assert problems([str(path)]) == []


def test_checked_cells_are_recognised_as_nbval_does():
    from course_utils.repo.notebook_files import is_checked

    assert is_checked({"metadata": {"tags": ["nbval-check-output"]}, "source": "x"})
    assert is_checked({"metadata": {}, "source": "x = 1\n# NBVAL_CHECK_OUTPUT\n"})
    assert not is_checked({"metadata": {}, "source": "print(x)  # NBVAL_CHECK_OUTPUT"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checked_cells_carry_their_reference_output(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code" and is_checked(cell):
            assert cell.get("outputs") and cell.get("execution_count"), (
                f"{path.name}: a checked cell needs its output and an execution count "
                "(execute the notebook, then strip-notebooks)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_links_to_other_notebooks_resolve(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "markdown":
            for target in re.findall(r"\]\((\d\d_[\w]+\.ipynb)\)", source_of(cell)):
                assert (path.parent / target).is_file(), f"{path.name} links to missing {target}"


def test_every_numbered_notebook_is_covered():
    assert NUMBERED and set(NUMBERED) <= set(NOTEBOOKS)


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_setup_cell_is_the_canonical_one(path):
    """The first code cell is course_utils.env.colab.SETUP_CELL, differing only in what it imports
    from course_utils after setup: `python -c "from course_utils.env.colab import setup_cell;
    print(setup_cell(['resolve', 'setup']))"` prints the cell to paste."""
    cell = next(c for c in load(path)["cells"] if c["cell_type"] == "code")
    source = source_of(cell)
    imports = re.findall(r"^from course_utils import (.+)$", source, re.M)
    assert imports, f"{path.name}: the setup cell imports nothing from course_utils"
    names = [name.strip() for name in imports[-1].split(",")]
    assert source == setup_cell(names), (
        f"{path.name}: the setup cell differs from course_utils.env.colab.setup_cell({names!r})")


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_colab_badge_opens_this_notebook_on_the_stable_branch(path):
    badges = COLAB_BADGE.findall(source_of(load(path)["cells"][0]))
    assert badges == [f"https://colab.research.google.com/github/{REPO}/blob/{STABLE_REF}/"
                      f"notebooks/{path.name}"], f"{path.name}: one Colab badge, on {STABLE_REF}"


def test_readme_colab_badge_is_on_the_stable_branch():
    badges = COLAB_BADGE.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert badges, "the README has a Colab badge"
    for url in badges:
        assert url.startswith(f"https://colab.research.google.com/github/{REPO}/blob/"
                              f"{STABLE_REF}/notebooks/"), url
        assert (ROOT / url.split(f"/blob/{STABLE_REF}/", 1)[1]).is_file(), url
