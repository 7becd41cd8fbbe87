"""Exercises of notebook 13: a length-normalised completion log-probability, GRPO's group
advantages and a verifier for sums; each a function graded on inputs the learner has not seen."""

from __future__ import annotations

import statistics
from typing import Any

from course_utils.exercises.grading import as_function, exercise


def _logp_cases() -> list[tuple[Any, Any, Any, Any]]:
    """Random logits and tokens with a completion mask that differs per row, and the expected
    mean log-probability of each row's completion."""
    import torch

    generator = torch.Generator().manual_seed(131)
    cases = []
    for rows, width, vocab in [(3, 10, 7), (2, 14, 30), (4, 6, 5)]:
        logits = torch.randn(rows, width, vocab, generator=generator) * 3
        ids = torch.randint(0, vocab, (rows, width), generator=generator)
        mask = torch.zeros(rows, width, dtype=torch.long)
        for row in range(rows):
            start = int(torch.randint(1, width - 2, (1,), generator=generator))
            end = int(torch.randint(start + 1, width + 1, (1,), generator=generator))
            mask[row, start:end] = 1
        per_token = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
        keep = mask[:, 1:].float()
        cases.append((logits, ids, mask, (per_token * keep).sum(1) / keep.sum(1)))
    return cases


@exercise("13.1", "mean_completion_logp(logits, input_ids, completion_mask): each row's mean "
          "log-probability over its completion tokens",
          hint="the same shift and mask as the summed log-probability of section 3; then divide "
               "by how many positions the mask keeps in each row")
def mean_completion_logp(answer: Any) -> str | None:
    import torch

    as_function(answer, "mean_completion_logp(logits, input_ids, completion_mask)")
    for logits, ids, mask, expected in _logp_cases():
        try:
            got = torch.as_tensor(answer(logits.clone(), ids.clone(), mask.clone())).float()
        except Exception as error:  # the learner's code: report, never a traceback
            return f"mean_completion_logp raised {type(error).__name__}: {error}"
        if got.shape != expected.shape:
            return f"one value per row: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
        if torch.allclose(got, expected, atol=1e-4):
            continue
        per_token = torch.log_softmax(logits, -1).gather(-1, ids[..., None])[..., 0]
        unshifted = (per_token * mask).sum(1) / mask.sum(1)
        if torch.allclose(got, unshifted, atol=1e-4):
            return ("the logits are not shifted: the logits at position t predict the token at "
                    "t + 1")
        keep = mask[:, 1:].float()
        off_by_one = mask[:, :-1].float()
        shifted = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
        if torch.allclose(got, (shifted * off_by_one).sum(1) / off_by_one.sum(1), atol=1e-4):
            return ("the mask is shifted the wrong way: the token at t + 1 is scored, so keep the "
                    "mask of position t + 1 (drop its first column, as with input_ids)")
        if torch.allclose(got, expected * keep.sum(1), atol=1e-4):
            return "that is the sum over the completion: divide by each row's number of tokens"
        return "some rows differ from the mean log-probability of their completion tokens"
    return None


def _reference_advantages(rewards: list[float], size: int) -> list[float]:
    out: list[float] = []
    for start in range(0, len(rewards), size):
        group = rewards[start:start + size]
        mean, spread = statistics.fmean(group), statistics.stdev(group) + 1e-4
        out += [(r - mean) / spread for r in group]
    return out


ADVANTAGE_CASES = [([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], 4),
                   ([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], 3),
                   ([0.2, 0.9, 0.4, 0.4, 1.5, -0.5], 2),
                   ([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0], 6)]


@exercise("13.2", "group_advantages(rewards, group_size): GRPO's advantage of each reward within "
          "its group",
          hint="split the flat list into consecutive groups; within each, compare every reward "
               "with its group's mean, in units of the group's spread")
def group_advantages(answer: Any) -> str | None:
    as_function(answer, "group_advantages(rewards, group_size)")
    for rewards, size in ADVANTAGE_CASES:
        expected = _reference_advantages(rewards, size)
        try:
            returned = answer(list(rewards), size)
        except Exception as error:
            return f"group_advantages raised {type(error).__name__}: {error}"
        try:
            import torch

            got = [float(a) for a in torch.as_tensor(returned, dtype=torch.float64).flatten()]
        except (TypeError, ValueError, RuntimeError):
            return (f"group_advantages returned {type(returned).__name__}; return one flat list "
                    "(or tensor) of numbers, one per reward")
        if len(got) != len(expected):
            return f"one advantage per reward: {len(rewards)} rewards gave {len(got)} advantages"
        if all(abs(g - e) < 1e-4 for g, e in zip(got, expected)):
            continue
        whole = statistics.fmean(rewards)
        if all(abs(g - (r - whole) / (statistics.stdev(rewards) + 1e-4)) < 1e-4
               for g, r in zip(got, rewards)):
            return ("the whole list was treated as one group: each prompt's completions form "
                    "their own group")
        groups = [rewards[i // size * size:(i // size + 1) * size] for i in range(len(rewards))]
        if all(abs(g - e * (statistics.stdev(group) + 1e-4)) < 1e-4
               for g, e, group in zip(got, expected, groups)):
            return "the advantages are not divided by the group's standard deviation"
        if all(abs(g - (r - statistics.fmean(group)) / (statistics.pstdev(group) + 1e-4)) < 1e-4
               for g, r, group in zip(got, rewards, groups)):
            return ("that is the population standard deviation (divide by n); TRL and section 7 "
                    "use the sample one (divide by n - 1)")
        if all(abs(g - (r - statistics.fmean(group)) / statistics.stdev(group)) < 1e-4
               for g, r, group in zip(got, rewards, groups) if statistics.stdev(group) > 0):
            return ("almost: add 1e-4 to each group's standard deviation, so that a group of equal "
                    "rewards gives zeros instead of a division by zero")
        return (f"for rewards {rewards} in groups of {size}, expected "
                f"{[round(e, 5) for e in expected]}, got {[round(g, 5) for g in got]}")
    return None


REWARD_CASES = [("12", 12, 1.0), ("The answer is 15.", 15, 1.0), ("7 + 8 = 15", 15, 1.0),
                ("7 + 8 = 14", 15, 0.0), ("It is -3", -3, 1.0), ("1,024", 1024, 1.0),
                ("Fifteen", 15, 0.0), ("", 4, 0.0), ("I think 3, no, 4", 4, 1.0),
                ("4 apples and 5 pears make 9", 9, 1.0), ("9 is 4 + 5", 9, 0.0)]


@exercise("13.3", "sum_reward(reply, expected): 1.0 when the reply's last whole number equals "
          "expected, else 0.0",
          hint="find every whole number in the reply (a sign and separators may be part of it) "
               "and compare the last one; a reply without any is simply wrong")
def sum_reward(answer: Any) -> str | None:
    as_function(answer, "sum_reward(reply, expected)")
    for reply, expected, reward in REWARD_CASES:
        try:
            got = answer(reply, expected)
        except Exception as error:
            return (f"sum_reward({reply!r}, {expected}) raised {type(error).__name__}: {error} "
                    "(a reward function must return 0.0, not fail)")
        try:
            value = float(got)
        except (TypeError, ValueError):
            return f"sum_reward({reply!r}, {expected}) returned {got!r}: return 1.0 or 0.0"
        if value != reward:
            return f"sum_reward({reply!r}, {expected}) gave {value}, expected {reward}"
    return None
