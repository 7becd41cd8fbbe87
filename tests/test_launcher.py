"""Which Python the two commands use as the course environment."""

from __future__ import annotations

import sys

import pytest

from course_utils.repo import launcher


def test_course_python_names_the_environment(tmp_path, monkeypatch):
    python = tmp_path / "python"
    python.write_text("")
    monkeypatch.setenv("COURSE_PYTHON", str(python))
    assert launcher.environment_python() == python


def test_a_course_python_that_is_not_there_is_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PYTHON", str(tmp_path / "nothing"))
    with pytest.raises(SystemExit, match="is not a file: point it at the Python"):
        launcher.environment_python()


def test_inside_a_chosen_environment_its_own_python_is_used(monkeypatch):
    monkeypatch.delenv("COURSE_PYTHON", raising=False)
    monkeypatch.setattr(launcher, "in_managed_env", lambda: True)
    assert str(launcher.environment_python()) == sys.executable


def test_otherwise_the_repository_venv(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_PYTHON", raising=False)
    monkeypatch.setattr(launcher, "in_managed_env", lambda: False)
    monkeypatch.setattr(launcher, "ROOT", tmp_path)
    made = []
    monkeypatch.setattr(launcher.venv.EnvBuilder, "create",
                        lambda self, folder: made.append(folder))
    monkeypatch.setattr(launcher, "has_module", lambda python, module: False)
    assert launcher.environment_python() == launcher.venv_python(tmp_path / ".venv")
    assert made == [tmp_path / ".venv"]
