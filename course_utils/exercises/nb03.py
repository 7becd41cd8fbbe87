"""Exercises of notebook 03: a causal mask by hand, head shapes, the size of attention."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import (
    WrongAnswer, as_function, as_int, as_ints, exercise, run_learner,
)


@exercise("03.1", "The causal mask for 5 positions, as a (5, 5) boolean tensor",
          hint="torch.tril keeps the diagonal and what is below it: position i sees 0..i")
def causal_mask_by_hand(answer: Any) -> str | None:
    import torch

    if not isinstance(answer, torch.Tensor):
        raise WrongAnswer(f"expected a torch tensor, got {type(answer).__name__}")
    if tuple(answer.shape) != (5, 5):
        raise WrongAnswer(f"expected shape (5, 5), got {tuple(answer.shape)}")
    if answer.dtype != torch.bool:
        raise WrongAnswer(f"expected a boolean tensor (True = may attend), got {answer.dtype}; "
                          "add dtype=torch.bool or call .bool()")
    expected = torch.ones(5, 5, dtype=torch.bool).tril()
    if torch.equal(answer, expected):
        return None
    if torch.equal(answer, expected.T):
        return "this lets every token see the future and not the past: transpose it"
    if torch.equal(answer, expected.tril(-1)):
        return "a token may also attend to itself: keep the diagonal"
    return "some entries are wrong: row i should be True in columns 0..i"


@exercise("03.2", "Shape of split_heads(x, 12) for x of shape (2, 10, 384)",
          hint="(batch, heads, positions, width / heads)")
def split_shape(answer: Any) -> str | None:
    shape = as_ints(answer, "a tuple of 4 numbers")
    if shape == (2, 12, 10, 32):
        return None
    if sorted(shape) == sorted((2, 12, 10, 32)):
        return "the right numbers in the wrong order: heads come before positions"
    return f"{shape} is not the shape split_heads returns"


@exercise("03.3", "Numbers in one SmolLM2 layer's attention weights for 1,000 tokens",
          hint="one T x T matrix per query head: heads * T * T")
def attention_size(answer: Any) -> str | None:
    count = as_int(answer, "a whole number")
    if count == 9 * 1000 * 1000:
        return None
    if count == 3 * 1000 * 1000:
        return "3 is the number of key/value heads; every query head has its own weights"
    if count == 1000 * 1000:
        return "that is one head; SmolLM2 has 9 query heads"
    return f"{count:,} is not it"


@exercise("03.4", "my_repeat_kv(x, n_rep): (batch, kv_heads, T, d) -> "
          "(batch, kv_heads * n_rep, T, d)",
          hint="query head h reads key/value head h // n_rep: the copies of one key/value head "
               "must sit next to each other")
def repeat_kv_function(answer: Any) -> str | None:
    import torch

    as_function(answer, "my_repeat_kv(x, n_rep)")
    generator = torch.Generator().manual_seed(34)
    shapes = [(1, 3, 3, 4, 8), (2, 2, 4, 5, 6), (1, 4, 1, 3, 2)]
    for batch, kv_heads, n_rep, length, width in shapes:
        x = torch.randn(batch, kv_heads, length, width, generator=generator)
        ours, error = run_learner(answer, x.clone(), n_rep)
        if error:
            return error
        expected = x.repeat_interleave(n_rep, dim=1)
        if not isinstance(ours, torch.Tensor) or ours.shape != expected.shape:
            shape = tuple(ours.shape) if isinstance(ours, torch.Tensor) else type(ours).__name__
            return f"for x of shape {tuple(x.shape)} and n_rep={n_rep} expected a tensor of " \
                   f"shape {tuple(expected.shape)}, got {shape}"
        if torch.equal(ours, expected):
            continue
        if torch.equal(ours, x.repeat(1, n_rep, 1, 1)):
            return ("the heads come out in the wrong order: with n_rep=3, query heads 0, 1 and 2 "
                    "must all read key/value head 0, not heads 0, 1 and 2")
        return "the right shape, but not copies of the key/value heads in order"
    return None
