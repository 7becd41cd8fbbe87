"""Exercise checks: grade an answer, say what is wrong and give a hint; never a bare traceback.

Each notebook's exercises live in course_utils/exercises/nbNN.py, registered with @exercise.
A learner calls `check("00.2", answer)`; under COURSE_STRICT_CHECKS=1 (the test command) a
wrong answer raises, so CI proves every solution still passes its check.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

Grader = Callable[[Any], "str | None"]  # None when right, else what is wrong


class WrongAnswer(Exception):
    """Raised inside a grader to reject an answer with a message for the learner."""


class CheckFailed(AssertionError):
    """A wrong answer under COURSE_STRICT_CHECKS=1."""


@dataclass(frozen=True)
class Exercise:
    key: str
    question: str
    hint: str
    grade: Grader


@dataclass(frozen=True)
class Result:
    key: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Result({self.key!r}, passed={self.passed})"


EXERCISES: dict[str, Exercise] = {}


def exercise(key: str, question: str, hint: str) -> Callable[[Grader], Grader]:
    """Register a grader for exercise `key` ("NN.k": notebook NN, exercise k)."""

    def register(grade: Grader) -> Grader:
        if key in EXERCISES:
            raise ValueError(f"exercise {key} is registered twice")
        EXERCISES[key] = Exercise(key, question, hint, grade)
        return grade

    return register


def find_exercise(key: str) -> Exercise:
    """The exercise registered as `key`, loading its notebook's module on first use."""
    if not isinstance(key, str) or "." not in key:
        raise KeyError(f"exercise keys look like '00.1' (notebook.number), got {key!r}")
    notebook = key.split(".")[0]
    try:
        import_module(f"course_utils.exercises.nb{notebook}")
    except ModuleNotFoundError:
        pass
    if key not in EXERCISES:
        known = ", ".join(sorted(k for k in EXERCISES if k.startswith(notebook + "."))) or "none"
        raise KeyError(f"no exercise {key!r}; exercises of notebook {notebook}: {known}")
    return EXERCISES[key]


def check(key: str, answer: Any) -> Result:
    """Grade `answer` for exercise `key`, print a verdict with a hint, and return the result."""
    ex = find_exercise(key)
    if answer is None or answer is Ellipsis:
        problem: str | None = "not answered yet: replace the ... (or None) with your answer"
    else:
        try:
            problem = ex.grade(answer)
        except WrongAnswer as wrong:
            problem = str(wrong)
        except Exception as error:  # a grader must never show the learner a traceback
            problem = f"your answer could not be graded ({type(error).__name__}: {error})"
    if problem is None:
        result = Result(key, True, f"[correct] exercise {key}")
    else:
        result = Result(key, False, f"[not yet] exercise {key}: {problem}\n  hint: {ex.hint}")
    print(result.message)
    if not result.passed and os.environ.get("COURSE_STRICT_CHECKS") == "1":
        raise CheckFailed(result.message)
    return result


# ---------------------------------------------------------------- helpers for graders
def as_function(answer: Any, signature: str) -> Any:
    """`answer` when it is callable; a WrongAnswer naming the function expected otherwise."""
    if not callable(answer):
        raise WrongAnswer(f"expected a function {signature}, got {type(answer).__name__}: pass "
                          "the function itself, without ()")
    return answer


def run_learner(function: Any, *args: Any) -> tuple[Any, str | None]:
    """Call the learner's function: (result, None), or (None, a message naming the exception)
    when it raises. Graders report that message, never a traceback."""
    try:
        return function(*args), None
    except Exception as error:  # the learner's code
        return None, f"{getattr(function, '__name__', 'your function')} raised " \
                     f"{type(error).__name__}: {error}"


def as_number(answer: Any, what: str = "a number") -> float:
    """A Python float from a number, a NumPy scalar or a one-element tensor; else WrongAnswer."""
    if isinstance(answer, bool):
        raise WrongAnswer(f"expected {what}, got a bool ({answer})")
    if hasattr(answer, "numel") and hasattr(answer, "item"):
        if answer.numel() != 1:
            raise WrongAnswer(f"expected {what}, got a tensor of shape {tuple(answer.shape)}")
        answer = answer.item()
    elif hasattr(answer, "item") and getattr(answer, "size", 1) == 1:
        answer = answer.item()
    if not isinstance(answer, (int, float)):
        raise WrongAnswer(f"expected {what}, got {type(answer).__name__}: {answer!r:.60}")
    if math.isnan(answer):
        raise WrongAnswer(f"expected {what}, got NaN")
    return float(answer)


def as_int(answer: Any, what: str = "an integer") -> int:
    value = as_number(answer, what)
    if value != int(value):
        raise WrongAnswer(f"expected {what}, got {value}")
    return int(value)


def as_ints(answer: Any, what: str = "a tuple of whole numbers") -> tuple[int, ...]:
    """A tuple of ints from a list, tuple, torch.Size or 1-D tensor; else WrongAnswer."""
    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        raise WrongAnswer(f"expected {what}, got {type(answer).__name__}")
    return tuple(as_int(a, "whole numbers") for a in answer)


def as_text(answer: Any, what: str = "a string") -> str:
    if not isinstance(answer, str):
        raise WrongAnswer(f"expected {what}, got {type(answer).__name__}: {answer!r:.60}")
    return answer.strip()


def close_to(answer: Any, expected: float, tol: float, what: str = "a number") -> str | None:
    value = as_number(answer, what)
    if abs(value - expected) <= tol:
        return None
    return f"got {value:.4f}, which is off by {abs(value - expected):.4f}"
