"""Decoding by hand over a causal LM's logits: greedy, sampling (temperature, top-k, top-p), beam
search, the KV cache, and perplexity.

The warpers run in the order transformers' `generate()` applies them (temperature, then top-k,
then top-p) and sample with `torch.multinomial` on the global generator, so under the same seed
the hand-written loop picks the same tokens as `generate()`.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Tensor = Any  # torch.Tensor; torch is imported only when a function runs


def validate_temperature(temperature: Any) -> float:
    """A temperature must be a number above 0 (1 leaves the distribution unchanged)."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number above 0, got {temperature!r}")
    if not temperature > 0 or math.isinf(temperature):
        raise ValueError(f"temperature must be above 0 and finite, got {temperature}: it divides "
                         "the logits; for always the most likely token use greedy decoding")
    return float(temperature)


def validate_top_k(top_k: Any) -> int:
    """top_k must be a whole number of tokens, at least 1."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be a whole number of tokens, at least 1, got {top_k!r}")
    return top_k


def validate_top_p(top_p: Any) -> float:
    """top_p is a share of probability in (0, 1]: 1 keeps every token."""
    if isinstance(top_p, bool) or not isinstance(top_p, (int, float)):
        raise ValueError(f"top_p must be a number in (0, 1], got {top_p!r}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}: it is the share of probability "
                         "to keep (0.9 keeps the most likely tokens up to 90% of the mass)")
    return float(top_p)


def _validate_logits(logits: Any) -> Tensor:
    import torch

    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise ValueError(f"logits must be a float tensor, got {type(logits).__name__}")
    if logits.ndim not in (1, 2) or logits.shape[-1] < 1:
        raise ValueError(f"logits must have shape (vocab,) or (batch, vocab), got "
                         f"{tuple(logits.shape)}; take the last position: output.logits[:, -1]")
    return logits


def apply_temperature(logits: Tensor, temperature: float) -> Tensor:
    """Logits divided by the temperature: below 1 sharpens the distribution, above 1 flattens it."""
    return _validate_logits(logits) / validate_temperature(temperature)


def top_k_filter(logits: Tensor, top_k: int) -> Tensor:
    """Keep the `top_k` highest logits (and any tied with the k-th); the rest become -inf."""
    import torch

    logits = _validate_logits(logits)
    k = min(validate_top_k(top_k), logits.shape[-1])
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, -math.inf)


def top_p_filter(logits: Tensor, top_p: float) -> Tensor:
    """Keep the most likely tokens until their probabilities reach `top_p` (nucleus sampling);
    the rest become -inf. The most likely token is always kept."""
    logits = _validate_logits(logits)
    top_p = validate_top_p(top_p)
    ordered, order = logits.sort(dim=-1, descending=True)
    mass_before = ordered.softmax(dim=-1).cumsum(dim=-1) - ordered.softmax(dim=-1)
    drop_sorted = mass_before >= top_p
    drop_sorted[..., 0] = False
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, -math.inf)


def warp(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
         top_p: float | None = None) -> Tensor:
    """Temperature, then top-k, then top-p: the order `generate()` applies them."""
    logits = _validate_logits(logits)
    if validate_temperature(temperature) != 1.0:
        logits = apply_temperature(logits, temperature)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None and validate_top_p(top_p) < 1.0:
        logits = top_p_filter(logits, top_p)
    return logits


def pick_next(logits: Tensor, do_sample: bool = False, temperature: float = 1.0,
              top_k: int | None = None, top_p: float | None = None) -> Tensor:
    """The next token id for each row of `logits` (batch, vocab): the argmax, or a sample from
    the warped distribution drawn with torch's global generator."""
    import torch

    logits = _validate_logits(logits)
    if not do_sample:
        return logits.argmax(dim=-1)
    probs = warp(logits, temperature, top_k, top_p).softmax(dim=-1)
    return torch.multinomial(probs, num_samples=1).squeeze(-1)


def cache_argument(model: Any) -> str:
    """The keyword a model's forward takes its KV cache by: `cache` in newer transformers 5
    releases, `past_key_values` before."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def step(model: Any, input_ids: Tensor, cache: Any = None, use_cache: bool = True
         ) -> tuple[Tensor, Any]:
    """One forward pass: the logits at the last position (batch, vocab) and the updated cache.

    With a cache, pass only the tokens the model has not seen yet."""
    import torch

    # only the last position's logits: over a long text the rest would take a vocabulary-wide
    # row per token (200 MB for SmolLM2 at 1,024 tokens), as generate() also avoids
    last_only = ({"logits_to_keep": 1}
                 if "logits_to_keep" in inspect.signature(model.forward).parameters else {})
    with torch.no_grad():
        output = model(input_ids=input_ids, use_cache=use_cache, **last_only,
                       **({cache_argument(model): cache} if cache is not None else {}))
    new_cache = None
    if use_cache:  # `cache` in newer releases; reading the old name there warns
        new_cache = output["cache"] if "cache" in output else output.get("past_key_values")
    return output.logits[:, -1, :].float(), new_cache


def _validate_prompt(input_ids: Any, max_new_tokens: Any) -> Tensor:
    import torch

    if not isinstance(input_ids, torch.Tensor) or input_ids.ndim != 2 or input_ids.shape[1] < 1:
        shape = tuple(input_ids.shape) if isinstance(input_ids, torch.Tensor) else None
        raise ValueError(f"input_ids must be a (batch, length) tensor with at least one token, "
                         f"got {shape or type(input_ids).__name__}; use "
                         "tokenizer(text, return_tensors='pt')['input_ids']")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) \
            or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a whole number, at least 1, "
                         f"got {max_new_tokens!r}")
    return input_ids


def generate_by_hand(model: Any, input_ids: Tensor, max_new_tokens: int, *,
                     do_sample: bool = False, temperature: float = 1.0,
                     top_k: int | None = None, top_p: float | None = None,
                     use_cache: bool = True, eos_token_id: int | None = None) -> Tensor:
    """Prompt plus up to `max_new_tokens` new tokens, one forward pass per token.

    With `use_cache` each step feeds only the newest token and reuses the keys and values of
    the earlier ones; without it each step reruns the whole sequence. Batch size 1 stops at
    `eos_token_id` (kept in the output), as `generate()` does."""
    import torch

    input_ids = _validate_prompt(input_ids, max_new_tokens)
    if do_sample:
        warp(torch.zeros(1, 2), temperature, top_k, top_p)  # refuse bad settings up front
    sequence, cache, fresh = input_ids, None, input_ids
    for _ in range(max_new_tokens):
        logits, cache = step(model, fresh if use_cache else sequence, cache, use_cache)
        token = pick_next(logits, do_sample, temperature, top_k, top_p)[:, None]
        sequence = torch.cat([sequence, token], dim=-1)
        fresh = token
        if eos_token_id is not None and bool((token == eos_token_id).all()):
            break
    return sequence


@dataclass(frozen=True)
class Beam:
    """One finished beam: the new tokens and its score (summed log-probability divided by
    length ** length_penalty)."""

    tokens: list[int]
    score: float


def beam_search(model: Any, input_ids: Tensor, num_beams: int, max_new_tokens: int,
                length_penalty: float = 1.0, eos_token_id: int | None = None) -> list[Beam]:
    """Keep the `num_beams` most probable continuations at every step; return them best first.

    Written without a cache, for clarity: each step reruns the beams' whole sequences. A beam
    that emits `eos_token_id` is set aside as finished; the score divides the summed
    log-probability by (number of new tokens) ** length_penalty, so a penalty above 0 favours
    longer answers and below 0 shorter ones."""
    import torch

    input_ids = _validate_prompt(input_ids, max_new_tokens)
    if input_ids.shape[0] != 1:
        raise ValueError(f"beam_search takes one prompt (batch of 1), got {input_ids.shape[0]}")
    if isinstance(num_beams, bool) or not isinstance(num_beams, int) or num_beams < 1:
        raise ValueError(f"num_beams must be a whole number, at least 1, got {num_beams!r}")
    running = [(input_ids[0].tolist(), 0.0)]
    finished: list[Beam] = []
    prompt_length = input_ids.shape[1]
    for length in range(1, max_new_tokens + 1):
        batch = torch.tensor([tokens for tokens, _ in running], device=input_ids.device)
        logits, _ = step(model, batch, use_cache=False)
        logprobs = logits.log_softmax(dim=-1)
        totals = torch.tensor([score for _, score in running], device=logprobs.device
                              )[:, None] + logprobs
        best = totals.flatten().topk(2 * num_beams)  # room for beams that finish here
        candidates = []
        for value, flat in zip(best.values.tolist(), best.indices.tolist()):
            beam, token = divmod(flat, logprobs.shape[-1])
            tokens = running[beam][0] + [token]
            if token == eos_token_id:
                finished.append(Beam(tokens[prompt_length:], value / length ** length_penalty))
            else:
                candidates.append((tokens, value))
            if len(candidates) == num_beams:
                break
        running = candidates
    finished += [Beam(tokens[prompt_length:], score / max_new_tokens ** length_penalty)
                 for tokens, score in running]
    return sorted(finished, key=lambda beam: beam.score, reverse=True)[:num_beams]


def perplexity(model: Any, input_ids: Tensor) -> float:
    """exp(mean negative log-likelihood of each token given the ones before it)."""
    import torch

    input_ids = _validate_prompt(input_ids, 1)
    if input_ids.shape[1] < 2:
        raise ValueError("perplexity needs at least 2 tokens: the first one is never predicted")
    with torch.no_grad():
        loss = model(input_ids=input_ids, labels=input_ids).loss
    return math.exp(float(loss))


def seconds_per_token(model: Any, lengths: Sequence[int], use_cache: bool, repeat: int = 3,
                      vocab_size: int | None = None) -> list[float]:
    """Time to produce one more token once the sequence has each of `lengths` tokens: with the
    cache, one forward pass of one token over a cache of that length; without it, a forward
    pass over the whole sequence. Best of `repeat` runs."""
    import torch

    if not lengths or any(isinstance(n, bool) or not isinstance(n, int) or n < 2
                          for n in lengths):
        raise ValueError(f"lengths must be whole numbers of tokens, each at least 2, got "
                         f"{list(lengths)!r}")
    vocab = vocab_size or model.config.vocab_size
    generator = torch.Generator().manual_seed(0)
    times = []
    for length in lengths:
        ids = torch.randint(vocab, (1, length), generator=generator)
        best = math.inf
        for _ in range(max(1, repeat)):
            if use_cache:
                _, cache = step(model, ids[:, :-1])
                started = time.perf_counter()
                step(model, ids[:, -1:], cache)
            else:
                started = time.perf_counter()
                step(model, ids, use_cache=False)
            best = min(best, time.perf_counter() - started)
        times.append(best)
    return times
