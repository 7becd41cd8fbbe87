"""Exercises from one source: every exercise has a solution, a check and a grader; the student
copies drop the solutions and keep the checks; the instructor copies are never touched.

The solutions themselves run against their checks in the notebook tests: the test command sets
COURSE_STRICT_CHECKS=1, under which a wrong answer raises, so a solution that stops passing fails
its notebook.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.repo import student_copies
from course_utils.repo.notebook_files import ROOT, notebook_paths


def digest(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_every_exercise_has_a_solution_a_check_and_a_grader():
    assert student_copies.problems() == []
    for path in notebook_paths():
        found = student_copies.exercises_of(json.loads(path.read_text()), path.name)
        assert found, f"{path.name} has no exercises"
        assert all(e.key.startswith(path.name[:2] + ".") for e in found), path.name


def test_student_copies_drop_solutions_keep_checks_and_leave_instructor_copies(tmp_path):
    before = digest(notebook_paths())
    result = subprocess.run([sys.executable, "-m", "course_utils", "student-copies", "--out",
                             str(tmp_path / "students")], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert digest(notebook_paths()) == before
    written = sorted((tmp_path / "students").glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in notebook_paths()]
    for source, copy in zip(notebook_paths(), written):
        original = json.loads(source.read_text())
        student = json.loads(copy.read_text())
        assert len(student["cells"]) == len(original["cells"])
        solutions = [c for c in original["cells"] if student_copies.is_solution(c)]
        assert not any(student_copies.is_solution(c) for c in student["cells"])
        stubs = [c for c in student["cells"] if "exercise" in c["metadata"].get("tags", [])]
        assert len(stubs) == len(solutions)
        for stub, ex in zip(stubs, student_copies.exercises_of(original)):
            assert f"Exercise {ex.key}" in stub["source"] and "answer = ..." in stub["source"]
            assert student["cells"][ex.check_cell] == {**original["cells"][ex.check_cell],
                                                       "outputs": [], "execution_count": None}
        solution_text = "\n".join(student_copies.source_of(c) for c in solutions)
        student_text = json.dumps(student)
        for line in solution_text.splitlines():
            if line.strip().startswith("answer = ") and line.strip() != "answer = ...":
                assert json.dumps(line)[1:-1] not in student_text, (copy.name, line)
        assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")


def test_a_student_stub_is_reported_as_not_answered_yet(monkeypatch, capsys):
    from course_utils import check

    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    namespace: dict = {}
    exec(student_copies.STUB.format(key="09.1"), namespace)
    assert not check("09.1", namespace["answer"])
    assert "not answered yet" in capsys.readouterr().out


def notebook(*cells):
    return {"cells": [{"cell_type": "code", "source": s, "metadata": {"tags": t}, "outputs": []}
                      for s, t in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}


def test_problems_name_the_notebook_and_the_fix(tmp_path):
    broken = tmp_path / "09_broken.ipynb"
    broken.write_text(json.dumps(notebook(
        ("answer = 0.5", []),                      # not tagged: check 09.1 has no solution
        ('check("09.1", answer)', []),
        ("answer = 1", ["solution"]),              # a solution with no check after it
        ("x = 2", []),
        ("answer = 3", ["solution"]),
        ('check("09.9", answer)', []),             # no grader 09.9
    )))
    found = "\n".join(student_copies.problems([str(broken)]))
    assert "09_broken.ipynb: exercise 09.1 (cell 1) has no solution" in found
    assert "solution cell 2 is not followed by a check" in found
    assert "exercise 09.9 has no grader" in found
    assert "exercise 09.2 has a grader but no notebook checks it" in found
    with pytest.raises(ValueError, match="fix the exercises first"):
        student_copies.build_student_copies(tmp_path / "out", [str(broken)])
    assert not (tmp_path / "out").exists()


def test_student_copies_refuse_the_instructor_folder():
    with pytest.raises(ValueError, match="instructor copies"):
        student_copies.build_student_copies(ROOT / "notebooks")
    assert Path(ROOT / "notebooks").is_dir()
