"""Exercises and solutions from one source: the notebooks in notebooks/ are the instructor copies.

An exercise is a code cell calling `check("NN.k", ...)` with the cell before it tagged `solution`.
`python -m course_utils student-copies --out students` writes student copies: every solution
cell replaced by a stub (`answer = ...`, which `check` reports as not answered yet), checks kept,
every output cleared. The instructor copies are never written to. `problems()` lists what breaks
the rule (a check without a solution, a solution without a check, an exercise without a grader,
a grader no notebook uses); the tests require it to be empty for the whole course.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from course_utils.repo.notebook_files import ROOT, notebook_paths, notebook_text, source_of

SOLUTION_TAG = "solution"
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d\d\.\d+)["']""")
STUB = "# Exercise {key}: your code here. Put your answer in `answer`.\nanswer = ..."


@dataclass(frozen=True)
class ExerciseCells:
    """Where one exercise sits in a notebook: its solution cell and its check cell."""

    notebook: str
    key: str
    solution_cell: int | None  # index of the solution cell, None when missing
    check_cell: int


def _tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_solution(cell: dict[str, Any]) -> bool:
    return cell.get("cell_type") == "code" and SOLUTION_TAG in _tags(cell)


def exercises_of(nb: dict[str, Any], name: str = "notebook") -> list[ExerciseCells]:
    """The exercises of a notebook, in order: each check cell and the solution cell before it."""
    found = []
    cells = nb.get("cells", [])
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code" or is_solution(cell):
            continue
        for key in CHECK_CALL.findall(source_of(cell)):
            before = index - 1
            solution = before if before >= 0 and is_solution(cells[before]) else None
            found.append(ExerciseCells(name, key, solution, index))
    return found


def problems(paths: list[str] | None = None) -> list[str]:
    """What is wrong with the course's exercises: every message names the notebook and the fix."""
    from course_utils.exercises.grading import EXERCISES, find_exercise

    messages = []
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in notebook_paths(paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = exercises_of(nb, path.name)
        prefixes.add(path.name[:2])
        checked_solutions = {e.solution_cell for e in found}
        for ex in found:
            used.add(ex.key)
            if ex.solution_cell is None:
                messages.append(f"{path.name}: exercise {ex.key} (cell {ex.check_cell}) has no "
                                f"solution: tag the cell before its check '{SOLUTION_TAG}'")
            try:
                find_exercise(ex.key)
            except KeyError as error:
                messages.append(f"{path.name}: exercise {ex.key} has no grader ({error.args[0]}); "
                                "register one in course_utils/exercises")
        for index, cell in enumerate(nb.get("cells", [])):
            if is_solution(cell) and index not in checked_solutions:
                messages.append(f"{path.name}: solution cell {index} is not followed by a "
                                "check(...) cell: add one, or drop the tag")
    for prefix in sorted(prefixes):  # load every notebook's graders, used or not
        try:
            import_module(f"course_utils.exercises.nb{prefix}")
        except ModuleNotFoundError:
            pass
    for key in sorted(EXERCISES):
        if key.split(".")[0] in prefixes and key not in used:
            messages.append(f"exercise {key} has a grader but no notebook checks it: add the "
                            "exercise to its notebook or remove the grader")
    return messages


def student_copy(nb: dict[str, Any]) -> dict[str, Any]:
    """A copy of notebook `nb` with every solution replaced by a stub and every output cleared."""
    out = copy.deepcopy(nb)
    keys = {e.solution_cell: e.key for e in exercises_of(out)}
    for index, cell in enumerate(out.get("cells", [])):
        if is_solution(cell):
            cell["source"] = STUB.format(key=keys.get(index, "?"))
            cell["metadata"]["tags"] = [t for t in _tags(cell) if t != SOLUTION_TAG] + ["exercise"]
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return out


def build_student_copies(out: str | Path, paths: list[str] | None = None) -> list[Path]:
    """Write the student copy of each notebook into folder `out`; return the files written.
    Refuses to write into the instructor notebooks' own folder, or when `problems()` finds any."""
    folder = Path(out).resolve()
    sources = notebook_paths(paths)
    if any(folder == p.resolve().parent for p in sources) or folder == (ROOT / "notebooks"):
        raise ValueError(f"{out} holds the instructor copies: choose another folder, e.g. "
                         "--out students")
    found = problems(paths)
    if found:
        raise ValueError("fix the exercises first:\n  " + "\n  ".join(found))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        nb = student_copy(json.loads(path.read_text(encoding="utf-8")))
        target = folder / path.name
        target.write_text(notebook_text(nb), encoding="utf-8")
        written.append(target)
    return written
