"""Exercises of notebook 05: top-p by hand, the size of a KV cache, top-k as a function."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import (
    WrongAnswer, as_function, as_number, exercise, run_learner,
)


@exercise("05.1", "Tokens top_p=0.8 keeps from A..E with probabilities 0.45, 0.25, 0.15, 0.10, "
          "0.05", hint="add the most likely tokens one by one until their total reaches 0.8")
def top_p_set(answer: Any) -> str | None:
    if isinstance(answer, str):
        letters = {c for c in answer.upper() if c.isalpha()}
    elif hasattr(answer, "__iter__"):
        letters = {str(a).strip().upper() for a in answer}
    else:
        raise WrongAnswer(f"expected a set of letters such as {{'A', 'B'}}, got "
                          f"{type(answer).__name__}")
    if not letters <= set("ABCDE"):
        raise WrongAnswer(f"{sorted(letters - set('ABCDE'))} are not among the tokens A..E")
    if letters == {"A", "B", "C"}:
        return None
    if letters == {"A", "B"}:
        return "A and B add up to 0.70, still below 0.8: the next token is kept too"
    if letters == {"A", "B", "C", "D"}:
        return "A, B and C already reach 0.85: top-p stops at the first total of 0.8 or more"
    if letters and letters != {"A", "B", "C"} and "A" not in letters:
        return "top-p keeps the most likely tokens first: A is always kept"
    return f"{sorted(letters)} is not the set: sort by probability and add until 0.8"


@exercise("05.2", "MiB of SmolLM2's float32 KV cache for 4,096 tokens",
          hint="every layer keeps a key and a value vector per key/value head for every token; "
               "config holds the counts and widths")
def kv_cache_size(answer: Any) -> str | None:
    mib = as_number(answer, "a number of MiB")
    right = 2 * 30 * 3 * 64 * 4096 * 4 / 2**20  # 180 MiB
    if abs(mib - right) <= 0.01 * right:
        return None
    if abs(mib - 3 * right) <= 0.01 * right:
        return "that counts 9 key/value heads; SmolLM2 has 3, each shared by 3 query heads"
    if abs(mib - right / 2) <= 0.01 * right:
        return ("half the answer: count both keys and values, 4 bytes each in float32")
    if abs(mib - right * 2**20 / 1e6) <= 0.01 * right:
        return "that is in MB (10^6 bytes); a MiB is 2**20 bytes"
    if abs(mib - right * 2**20) <= 0.01 * right * 2**20:
        return "that is in bytes: divide by 2**20 for MiB"
    return f"{mib:g} MiB is not it"


@exercise("05.3", "my_top_k(logits, k): keep the k largest logits, the rest -inf",
          hint="find the k-th largest logit; everything below it becomes -inf, ties with it "
               "stay")
def top_k_function(answer: Any) -> str | None:
    import torch

    from course_utils.decoding import top_k_filter

    as_function(answer, "my_top_k(logits, k)")
    generator = torch.Generator().manual_seed(5)
    for size, k in [(10, 3), (50, 1), (8, 8)]:
        logits = torch.randn(size, generator=generator)
        ours, error = run_learner(answer, logits.clone(), k)
        if error:
            return f"with k={k}: {error}"
        if not isinstance(ours, torch.Tensor) or ours.shape != logits.shape:
            return f"my_top_k must return a tensor shaped like its input, {tuple(logits.shape)}"
        expected = top_k_filter(logits, k)
        kept = ours > torch.finfo(ours.dtype).min / 2
        if not torch.equal(kept, expected.isfinite()):
            return (f"with k={k}, {int(kept.sum())} logits survive instead of {k}, or not the "
                    "largest ones")
        if not torch.equal(ours[kept], logits[kept]):
            return "the kept logits must stay unchanged"
    return None


@exercise("05.4", "my_min_p(logits, min_p): keep the tokens at least min_p times as probable as "
          "the most likely one, the rest -inf",
          hint="the bar moves with the distribution: it is a share of the top token's "
               "probability, so a confident step keeps few tokens and an unsure one many")
def min_p_function(answer: Any) -> str | None:
    import torch

    as_function(answer, "my_min_p(logits, min_p)")
    generator = torch.Generator().manual_seed(54)
    for size, min_p, scale in [(12, 0.1, 3.0), (40, 0.05, 1.0), (9, 0.5, 0.5)]:
        logits = torch.randn(size, generator=generator) * scale
        ours, error = run_learner(answer, logits.clone(), min_p)
        if error:
            return f"with min_p={min_p}: {error}"
        if not isinstance(ours, torch.Tensor) or ours.shape != logits.shape:
            return f"my_min_p must return a tensor shaped like its input, {tuple(logits.shape)}"
        probs = logits.softmax(-1)
        expected = probs >= min_p * probs.max()
        kept = ours > torch.finfo(ours.dtype).min / 2
        if torch.equal(kept, expected):
            if not torch.equal(ours[kept], logits[kept]):
                return "the kept logits must stay unchanged"
            continue
        if torch.equal(kept, probs >= min_p):
            return ("that keeps tokens whose probability is above min_p itself; the bar is "
                    "min_p times the most likely token's probability")
        return (f"with min_p={min_p}, {int(kept.sum())} tokens survive instead of "
                f"{int(expected.sum())}")
    return None
