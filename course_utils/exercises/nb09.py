"""Exercises of notebook 09: a majority baseline, macro-F1 from a confusion matrix, steps."""

from __future__ import annotations

import math
from typing import Any

from course_utils.exercises.grading import as_function, as_int, as_number, exercise, run_learner


@exercise("09.1", "Accuracy of always predicting the majority label on a test set of 50 "
          "negative, 30 neutral and 20 positive texts",
          hint="the majority label is right on its own rows and wrong on every other")
def majority_accuracy(answer: Any) -> str | None:
    value = as_number(answer, "a number between 0 and 1")
    if math.isclose(value, 0.5, abs_tol=1e-6):
        return None
    if math.isclose(value, 50, abs_tol=1e-6):
        return "as a fraction, not a count or a percentage: 50 of 100 texts"
    if math.isclose(value, 1 / 3, abs_tol=1e-6):
        return "1/3 would be guessing at random among three labels; the majority label does better"
    return f"{value} is not it"


@exercise("09.2", "Macro-F1 of the confusion matrix [[8, 2], [4, 6]] (rows true, columns "
          "predicted)",
          hint="F1 per class = 2PR/(P+R) with P from the column, R from the row; then average")
def macro_f1(answer: Any) -> str | None:
    value = as_number(answer, "a number between 0 and 1")
    expected = (2 * 8 / (2 * 8 + 2 + 4) + 2 * 6 / (2 * 6 + 4 + 2)) / 2
    if math.isclose(value, expected, abs_tol=1e-3):
        return None
    if math.isclose(value, 14 / 20, abs_tol=1e-3):
        return "that is the accuracy (14 of 20); macro-F1 averages each class's F1"
    return f"{value:.4f} is not it"


@exercise("09.3", "Optimizer steps for 3 epochs over 1,000 examples in batches of 32",
          hint="each epoch takes ceil(1000 / 32) steps: the last, smaller batch counts too")
def steps(answer: Any) -> str | None:
    value = as_int(answer, "a whole number of steps")
    if value == 3 * math.ceil(1000 / 32):
        return None
    if value == 3 * (1000 // 32):
        return "the last batch of each epoch is smaller but still a step: round up"
    if value == math.ceil(1000 / 32):
        return "that is one epoch; there are three"
    return f"{value} is not it"


@exercise("09.4", "lr_at(step, peak, warmup, total): the learning rate Trainer's default "
          "schedule uses at a step",
          hint="it climbs in a straight line from 0 to the peak during the warm-up, then falls "
               "in a straight line to 0 at the last step")
def linear_schedule_function(answer: Any) -> str | None:
    as_function(answer, "lr_at(step, peak, warmup, total)")
    for peak, warmup, total in [(3e-4, 10, 50), (1e-3, 4, 9), (5e-5, 0, 20)]:
        for step in range(total + 1):
            value, error = run_learner(answer, step, peak, warmup, total)
            if error:
                return f"at step {step} (warmup {warmup}, total {total}): {error}"
            if step < warmup:
                expected = peak * step / warmup
            else:
                expected = peak * max(0.0, (total - step) / (total - warmup))
            got = as_number(value, "a learning rate")
            if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-12):
                continue
            if step < warmup:
                return (f"during the warm-up (step {step} of {warmup}) the rate should be "
                        f"{expected:.3g}, a share step / warmup of the peak; got {got:.3g}")
            return (f"after the warm-up (step {step}, total {total}) the rate should be "
                    f"{expected:.3g}, falling to 0 at the last step; got {got:.3g}")
    return None
