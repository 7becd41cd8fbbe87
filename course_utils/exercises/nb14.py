"""Exercises of notebook 14: a power law fitted from scratch, sums written with reversed digits,
and pass@k; each a function graded on inputs the learner has not seen."""

from __future__ import annotations

import math
import random
from typing import Any

from course_utils.exercises.grading import as_function, exercise


def _law_cases() -> list[tuple[list[float], list[float], float, float]]:
    """Noisy power laws and the least-squares fit of each in log space."""
    import numpy as np

    rng = random.Random(141)
    cases = []
    for scale, exponent, points in [(4.0, 0.12, 4), (9.5, 0.3, 6), (2.2, 0.05, 5)]:
        sizes = sorted(10 ** rng.uniform(3, 7) for _ in range(points))
        losses = [scale * n ** -exponent * math.exp(rng.gauss(0, 0.03)) for n in sizes]
        slope, intercept = np.polyfit(np.log(sizes), np.log(losses), 1)
        cases.append((sizes, losses, math.exp(intercept), -slope))
    return cases


@exercise("14.1", "fit(sizes, losses): (scale, exponent) of loss = scale * size ** -exponent, "
          "by least squares on the logarithms",
          hint="on log-log axes a power law is a straight line: fit a line to the logarithms "
               "(the least-squares line passes through their mean, and its slope is how they vary "
               "together over how the sizes vary), then read the scale off its intercept and the "
               "exponent off its slope")
def fit(answer: Any) -> str | None:
    import numpy as np

    as_function(answer, "fit(sizes, losses)")
    for sizes, losses, scale, exponent in _law_cases():
        try:
            got = answer(list(sizes), list(losses))
            got_scale, got_exponent = (float(v) for v in got)
        except (TypeError, ValueError) as error:
            return f"return two numbers, (scale, exponent); that gave {type(error).__name__}: {error}"
        except Exception as error:  # the learner's code: report, never a traceback
            return f"fit raised {type(error).__name__}: {error}"
        if math.isclose(got_scale, scale, rel_tol=1e-4) and math.isclose(got_exponent, exponent,
                                                                         rel_tol=1e-4):
            continue
        if math.isclose(got_exponent, -exponent, rel_tol=1e-4):
            return "the exponent has the wrong sign: loss falls with size, so it is minus the slope"
        if math.isclose(got_scale, math.log(scale), rel_tol=1e-4):
            return "that scale is the intercept itself, a logarithm: take its exponential"
        slope, _ = np.polyfit(sizes, losses, 1)
        if math.isclose(got_exponent, -slope, rel_tol=1e-3) or math.isclose(got_exponent, slope,
                                                                           rel_tol=1e-3):
            return "that line was fitted to the sizes and losses themselves, not their logarithms"
        return (f"for these {len(sizes)} points expected scale {scale:.4g} and exponent "
                f"{exponent:.4g}, got {got_scale:.4g} and {got_exponent:.4g}")
    return None


@exercise("14.2", "reversed_sum(a, b, width): the prompt and answer of a + b with every number "
          "written in full width, least significant digit first",
          hint="pad each number with leading zeros to its width first (the answer gets one digit "
               "more, for the last carry), then reverse the digits")
def reversed_sum(answer: Any) -> str | None:
    from course_utils.scaling import write_sum

    as_function(answer, "reversed_sum(a, b, width)")
    rng = random.Random(142)
    cases = [(7, 5, 4), (0, 0, 2), (999, 1, 3)]
    cases += [(rng.randrange(10 ** w), rng.randrange(10 ** w), w) for w in (3, 5, 6) for _ in range(4)]
    for a, b, width in cases:
        expected = write_sum(a, b, width, reverse=True)
        try:
            got = tuple(answer(a, b, width))
        except Exception as error:
            return f"reversed_sum({a}, {b}, {width}) raised {type(error).__name__}: {error}"
        if got == expected:
            continue
        if len(got) != 2:
            return "return two strings, (prompt, answer), as course_utils.scaling.write_sum does"
        plain = write_sum(a, b, width)
        if got == plain:
            return f"the digits are not reversed: {got} is the plain way of writing it"
        if got[0] == expected[0] and got[1] == plain[1]:
            return "the prompt is right, but the answer must be reversed too"
        if got[0] == expected[0] and got[1] == str(a + b).zfill(width)[::-1]:
            return "the answer takes width + 1 digits: the sum of two width-digit numbers can carry"
        unpadded = (f"{str(a)[::-1]}+{str(b)[::-1]}=", str(a + b)[::-1])
        if got == unpadded or (got[0] == unpadded[0] != expected[0]):
            return ("the numbers are not padded to the full width: every number takes the same "
                    f"positions, so {a} + {b} at width {width} is {expected}")
        return f"reversed_sum({a}, {b}, {width}) should be {expected}, got {got}"
    return None


@exercise("14.3", "pass_at_k(samples, correct, k): the chance that k answers drawn from samples, of "
          "which correct are right, hold at least one right answer",
          hint="count the ways to draw k answers that are all wrong, and compare with all the ways "
               "to draw k answers")
def pass_at_k(answer: Any) -> str | None:
    from course_utils.scaling import pass_at_k as reference

    as_function(answer, "pass_at_k(samples, correct, k)")
    for samples, correct, k in [(10, 3, 1), (10, 3, 4), (20, 2, 5), (16, 0, 4), (8, 7, 3),
                                (12, 5, 12), (30, 6, 10)]:
        expected = reference(samples, correct, k)
        try:
            got = float(answer(samples, correct, k))
        except Exception as error:
            return f"pass_at_k({samples}, {correct}, {k}) raised {type(error).__name__}: {error}"
        if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            continue
        if math.isclose(got, correct / samples, rel_tol=1e-6) and k > 1:
            return "that is pass@1 whatever k is: with more tries, the chance of one right answer grows"
        if math.isclose(got, 1 - (1 - correct / samples) ** k, rel_tol=1e-6):
            return ("that draws with replacement: the k answers are k different samples, so "
                    "count combinations without replacement")
        if math.isclose(got, 1 - expected, rel_tol=1e-6, abs_tol=1e-9):
            return "that is the chance that all k are wrong: subtract it from 1"
        return f"pass_at_k({samples}, {correct}, {k}) should be {expected:.6f}, got {got:.6f}"
    return None
