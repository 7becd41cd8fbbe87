"""Static checks of the committed notebooks: Hub IDs registered, outputs stripped, badges right,
every exercise with a solution and a registered check."""

import ast
import json
import re
from pathlib import Path

import pytest

from course_utils.checks import find_exercise
from course_utils.hub import REGISTRY
from course_utils.notebooks import is_checked, source_of, strip_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
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
    assert f"colab.research.google.com/github/{REPO}/blob/main/{rel}" in first
    assert f"mybinder.org/v2/gh/{REPO}/main?urlpath=lab/tree/{rel}" in first
    assert "In this notebook we" in source_of(nb["cells"][1])
    setup_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "setup(" in source_of(setup_cells[0]), "the first code cell calls setup()"
    assert any("In this notebook we:" in source_of(c) for c in nb["cells"][-3:]), "a recap"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_solution_and_a_check(path):
    cells = load(path)["cells"]
    keys = []
    for i, cell in enumerate(cells):
        for key in re.findall(r'check\("(\d\d\.\d+)"', source_of(cell)):
            keys.append(key)
            assert key.startswith(path.stem[:2]), f"{key} checked in the wrong notebook"
            find_exercise(key)  # raises when no grader is registered
            before = [c for c in cells[:i] if c["cell_type"] == "code"]
            assert before and "solution" in before[-1].get("metadata", {}).get("tags", []), (
                f"{path.name}: the cell before check({key!r}) must be tagged 'solution'")
    assert keys, f"{path.name} has no exercises"
    assert len(keys) == len(set(keys)), "each exercise is checked once"


def test_checked_cells_are_recognised_as_nbval_does():
    from course_utils.notebooks import is_checked

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
