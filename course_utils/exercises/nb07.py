"""Exercises of notebook 07: a positional head measured, entropy, statistics written by hand."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from course_utils.exercises.grading import (
    WrongAnswer, as_function, as_ints, as_number, exercise, run_learner,
)


# Sentences the 07.1 check measures MiniLM's heads on: not the notebook's.
NEXT_TOKEN_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "We walked along the river until the sun went down.",
    "My grandmother bakes bread every Sunday morning.",
    "The committee will announce the results next week.",
    "Rain fell on the old roof all night long.",
    "She opened the window and listened to the birds.",
    "Two students finished the exam early and left the room.",
    "The museum keeps a large collection of maps.",
]


@lru_cache(maxsize=1)
def next_token_head() -> tuple[int, int]:
    """The (layer, head) of MiniLM with the largest mean weight on the next token, measured on
    NEXT_TOKEN_SENTENCES."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from course_utils.attention import stats
    from course_utils.attention.data import attention_of
    from course_utils.offline.hub import resolve

    model_id = resolve("sentence-transformers/all-MiniLM-L6-v2", announce=False)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    encoder = AutoModel.from_pretrained(model_id, attn_implementation="eager").eval()
    runs = [attention_of(encoder, tokenizer, text) for text in NEXT_TOKEN_SENTENCES]
    share = torch.stack([stats.offset_share(r.weights, 1) for r in runs]).mean(0)
    layer, head, _ = stats.top_heads(share, 1)[0]
    return layer, head


@exercise("07.1", "The (layer, head) of MiniLM that attends most to the next token",
          hint="the table measured the token before (an offset of -1); the token after is an "
               "offset too, and the same average over sentences and the same ranking find it")
def next_token_head_answer(answer: Any) -> str | None:
    found = as_ints(answer, "a (layer, head) pair")
    if len(found) != 2:
        return "answer with two numbers: (layer, head)"
    expected = next_token_head()
    if found == expected:
        return None
    if found == expected[::-1]:
        return "the right numbers in the wrong order: (layer, head)"
    if found == (0, 2):
        return "that is the previous-token head; measure the weight on the token after"
    return f"layer {found[0]}, head {found[1]} is not the head that looks at the next token most"


@exercise("07.2", "Entropy in bits of a head that spreads its attention evenly over 8 tokens",
          hint="entropy = -sum p log2 p with p = 1/8 for each of 8 tokens")
def uniform_entropy(answer: Any) -> str | None:
    value = as_number(answer, "a number of bits")
    if math.isclose(value, 3.0, abs_tol=1e-6):
        return None
    if math.isclose(value, math.log(8), abs_tol=1e-3):
        return "that is in nats (natural log); the course measures entropy in bits (log2)"
    if math.isclose(value, 0.0, abs_tol=1e-6):
        return "0 bits is a head that looks at exactly one token; this one spreads evenly"
    return f"{value} bits is not it"


def _per_head_results(answer: Any, seed: int, shapes: list[tuple[int, int, int]]
                      ) -> tuple[list[tuple[Any, Any]], str | None]:
    """Run a learner's per-head statistic on random causal attention weights of each (layers,
    heads, n) shape: the (weights, result) pairs, or a message at the first problem."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    pairs = []
    for layers, heads, n in shapes:
        weights = torch.rand(layers, heads, n, n, generator=generator).tril()  # causal: zeros
        weights = weights / weights.sum(-1, keepdim=True)
        ours, error = run_learner(answer, weights.clone())
        if error:
            return pairs, error
        if not isinstance(ours, torch.Tensor) or tuple(ours.shape) != (layers, heads):
            shape = tuple(ours.shape) if isinstance(ours, torch.Tensor) else type(ours).__name__
            return pairs, f"return one value per head, a ({layers}, {heads}) tensor; got {shape}"
        pairs.append((weights, ours.to(weights.dtype)))  # a float64 answer compares too
    return pairs, None


@exercise("07.3", "first_token_share(weights): (layers, heads) mean weight on the first token",
          hint="average, for each head, the weight the queries give token 0; query 0 is "
               "special in a decoder (it can only look at itself)")
def first_token_share(answer: Any) -> str | None:
    import torch

    as_function(answer, "first_token_share(weights)")
    pairs, problem = _per_head_results(answer, 7, [(2, 3, 5), (4, 2, 9)])
    if problem:
        return problem
    for weights, ours in pairs:
        expected = weights[..., 1:, 0].mean(-1)
        if torch.allclose(ours, weights[..., :, 0].mean(-1), atol=1e-5):
            return ("leave out the first query: token 0 can only attend to itself in a decoder, "
                    "so it always gives itself 1.0")
        if not torch.allclose(ours, expected, atol=1e-5):
            return "the values differ from the mean weight on token 0 over queries 1, 2, ..."
    return None


@exercise("07.4", "head_entropy(weights): (layers, heads) mean entropy in bits of each head's "
          "attention rows",
          hint="a row's entropy is minus the sum of p log2 p; a weight of exactly 0 adds nothing "
               "(the limit of p log p), though 0 times log 0 is not a number in floating point")
def head_entropy_function(answer: Any) -> str | None:
    import torch

    as_function(answer, "head_entropy(weights)")
    pairs, problem = _per_head_results(answer, 74, [(2, 3, 4), (3, 2, 7)])
    if problem:
        return problem
    for weights, ours in pairs:
        expected = -torch.special.xlogy(weights, weights).sum(-1).mean(-1) / math.log(2)
        if torch.isnan(ours).any():
            return ("NaN: the causal mask leaves weights of exactly 0, and 0 * log(0) is NaN; "
                    "count those terms as 0")
        if torch.allclose(ours, expected * math.log(2), atol=1e-5):
            return "that is in nats (natural log); entropy in bits uses log base 2"
        if not torch.allclose(ours, expected, atol=1e-5):
            return "the values differ from each head's mean row entropy in bits"
    return None
