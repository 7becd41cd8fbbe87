"""Exercises of notebook 08: normalising a text, MinHash's Jaccard, a leakage check."""

from __future__ import annotations

import math
from typing import Any

from course_utils.exercises.grading import WrongAnswer, as_number, as_text, exercise


@exercise("08.1", "normalise_text('RT @nasa:  Launch   today! https://t.co/x1 ')",
          hint="links become 'http', handles '@user', runs of spaces one space, ends trimmed")
def normalised(answer: Any) -> str | None:
    text = as_text(answer, "the normalised text, a string")
    if text == "RT @user: Launch today! http":
        return None
    if "nasa" in text:
        return "user handles become '@user'"
    if "t.co" in text:
        return "links become 'http'"
    if "  " in text or text != text.strip():
        return "every run of whitespace becomes one space, and the ends are trimmed"
    return f"{text!r} is not it"


@exercise("08.2", "Jaccard similarity of the word 3-gram sets of 'the cat sat on the mat' and "
          "'the cat sat on a mat'",
          hint="list each text's 3-word windows; Jaccard = shared windows / all distinct windows")
def jaccard(answer: Any) -> str | None:
    value = as_number(answer, "a number between 0 and 1")
    if math.isclose(value, 2 / 6, abs_tol=1e-6):
        return None
    if math.isclose(value, 2 / 4, abs_tol=1e-6):
        return "divide by the windows of both texts together (the union), not one text's"
    if math.isclose(value, 5 / 6, abs_tol=1e-6):
        return "that is the Jaccard of single words; use windows of 3 words"
    return f"{value} is not it: the texts share 2 windows of 3 words"


@exercise("08.3", "leaked(train_texts, test_texts): how many test texts are exact duplicates of "
          "a training text (ignoring case and punctuation)",
          hint="build a set of duplicate_key(t) for the training texts, count test texts in it")
def leaked_function(answer: Any) -> str | None:
    if not callable(answer):
        raise WrongAnswer(f"expected a function leaked(train_texts, test_texts), got "
                          f"{type(answer).__name__}: pass the function itself, without ()")
    cases = [
        (["Good morning!", "bad day"], ["good morning", "fine day", "BAD DAY!!"], 2),
        (["a b c"], ["a b", "c b a"], 0),
        (["Same text", "same text."], ["same TEXT"], 1),
    ]
    for train, test, expected in cases:
        try:
            got = answer(list(train), list(test))
        except Exception as error:  # the learner's code: report, never a traceback
            return f"leaked raised {type(error).__name__}: {error}"
        if got != expected:
            return (f"leaked({train}, {test}) gave {got!r}, expected {expected}: compare "
                    "duplicate_key(text), which ignores case and punctuation")
    return None
