"""Measuring what a language model does without training it (notebook 11): few-shot prompts built
from demonstrations, each label scored by the log-likelihood of its continuation (with a shared
prefix computed once, through the KV cache), replies parsed into labels, contextual calibration,
and accuracy with a bootstrap interval."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Demonstration = tuple[str, str]  # (text, label word)
# rows per forward pass after a shared prefix: every row holds a copy of the prefix's keys and
# values (SmolLM2, 200 prefix tokens: about 9 MB a row), so memory, not speed, sets it
PREFIX_BATCH = 8


@dataclass(frozen=True)
class Template:
    """How a prompt is written: an instruction, then each demonstration and the query in the
    same `item` form ("{text}" marks the text; the label word follows the item)."""

    instruction: str
    item: str
    separator: str = "\n\n"

    def __post_init__(self) -> None:
        if self.item.count("{text}") != 1:
            raise ValueError(f"a template's item needs exactly one {{text}}, got {self.item!r}")
        if not self.instruction.strip():
            raise ValueError("a template needs an instruction: the prompt starts with it, and "
                             "every item follows a separator")


SENTIMENT = Template("Classify the sentiment of each tweet.", "Tweet: {text}\nSentiment:")


def format_prompt(demonstrations: Sequence[Demonstration], template: Template = SENTIMENT,
                  query: str | None = None) -> str:
    """The instruction, then each demonstration (its item, " " and its label word), then the
    query's item when one is given, each after the separator. Without a query it is the prefix
    every query shares: `format_prompt(d, t) + format_query(q, t) == format_prompt(d, t, q)`.
    The prefix ends on a word and each query starts with the separator, so the tokenizer splits
    the joined text exactly there: prefix and query tokenized apart give the same tokens."""
    prefix = template.instruction + "".join(
        template.separator + template.item.format(text=text) + " " + label
        for text, label in demonstrations)
    return prefix if query is None else prefix + format_query(query, template)


def format_query(query: str, template: Template = SENTIMENT) -> str:
    """One query as it follows the prefix: the separator, then the item."""
    return template.separator + template.item.format(text=query)


def choose_demonstrations(texts: Sequence[str], labels: Sequence[str], k: int, seed: int = 0
                          ) -> list[Demonstration]:
    """`k` demonstrations drawn at random from the pool (texts with their label words), as many
    of each label as k allows (the remainder drawn at random), in a random order."""
    if len(texts) != len(labels):
        raise ValueError(f"the pool has {len(texts)} texts but {len(labels)} labels: give one "
                         "label word per text")
    if not 0 <= k <= len(texts):
        raise ValueError(f"{k} demonstrations asked for, but the pool holds {len(texts)}: ask "
                         f"for at most {len(texts)}, or give a bigger pool")
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    for members in by_label.values():
        rng.shuffle(members)
    names = sorted(by_label)
    rng.shuffle(names)
    chosen = [i for round_ in range(k) for name in names
              if round_ < len(by_label[name]) for i in [by_label[name][round_]]][:k]
    rng.shuffle(chosen)
    return [(texts[i], labels[i]) for i in chosen]


def _token_ids(tokenizer: Any, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] if text else []


def continuation_logprobs(model: Any, tokenizer: Any, prompts: Sequence[str],
                          continuations: Sequence[str], prefix: str = "",
                          batch_size: int = 16) -> Any:
    """A tensor (len(prompts), len(continuations)): the summed log-probability of each
    continuation's tokens after `prefix + prompt`. The prefix (shared demonstrations) goes
    through the model once and its keys and values are reused for every prompt (KV cache).
    Prefix, prompt and continuation are tokenized separately and their tokens joined: cut them
    where the tokenizer splits anyway (as `format_prompt` and `format_query` do, and label words
    with their leading space) and the scores are those of the joined text.
    Prompts are padded on the left with explicit positions, so every row ends at the same place
    and only the last positions' logits are computed."""
    import torch

    from course_utils.decoding import cache_argument

    if isinstance(prompts, str) or isinstance(continuations, str):
        raise TypeError("prompts and continuations are lists of strings: wrap a single one "
                        "in [...]")
    if not continuations:
        raise ValueError("no continuations to score: give at least one label word")
    options = [_token_ids(tokenizer, c) for c in continuations]
    if any(not ids for ids in options):
        raise ValueError(f"a continuation has no tokens: {list(continuations)!r}")
    prefix_ids = _token_ids(tokenizer, prefix)
    if not prefix_ids and any(not p for p in prompts):
        raise ValueError("an empty prompt with no prefix leaves nothing to predict from: give "
                         "every prompt some text")
    device = model.device
    prefix_cache, start = None, len(prefix_ids)
    if prefix_ids:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([prefix_ids], device=device), use_cache=True,
                        logits_to_keep=1)
        prefix_cache = out["cache"] if "cache" in out else out.get("past_key_values")
        prefix_last = out.logits[0, -1].float().log_softmax(-1).cpu()
    one_token = all(len(ids) == 1 for ids in options)
    # each row scored: (prompt index, continuation index or None when one pass serves them all)
    rows = [(p, None) for p in range(len(prompts))] if one_token else [
        (p, c) for p in range(len(prompts)) for c in range(len(options))]
    keep = 1 if one_token else max(len(ids) for ids in options)
    if prefix_cache is not None:  # each row gets its own copy of the prefix's keys and values
        batch_size = min(batch_size, PREFIX_BATCH)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores = torch.zeros(len(prompts), len(options))
    for first in range(0, len(rows), batch_size):
        chunk = rows[first:first + batch_size]
        prompt_ids = {p: _token_ids(tokenizer, prompts[p]) for p, _ in chunk}
        seqs = [prompt_ids[p] + ([] if c is None else options[c][:-1]) for p, c in chunk]
        width = max(len(s) for s in seqs)
        logprobs = None
        if width:
            ids = torch.tensor([[pad] * (width - len(s)) + s for s in seqs], device=device)
            mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs],
                                device=device)
            positions = torch.tensor([[0] * (width - len(s)) + list(range(start, start + len(s)))
                                      for s in seqs], device=device)
            kwargs: dict[str, Any] = {}
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)
                cache.batch_repeat_interleave(len(chunk))
                kwargs[cache_argument(model)] = cache
                mask = torch.cat([torch.ones(len(chunk), start, dtype=mask.dtype, device=device),
                                  mask], dim=1)
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                               use_cache=prefix_cache is not None, logits_to_keep=keep,
                               **kwargs).logits
            logprobs = logits[:, -keep:].float().log_softmax(-1).cpu()
        for row, ((p, c), seq) in enumerate(zip(chunk, seqs)):
            n = len(prompt_ids[p])
            for j in range(len(options)) if c is None else [c]:
                total = 0.0
                for offset, token in enumerate(options[j]):
                    if n + offset == 0:  # an empty prompt: the prefix's last position predicts
                        total += float(prefix_last[token])
                    else:  # the position that predicts this token, counted from the row's end
                        from_end = len(seq) - (n - 1 + offset)
                        total += float(logprobs[row, keep - from_end, token])
                scores[p, j] = total
    return scores


def calibrate(probs: Any, content_free: Any) -> Any:
    """Contextual calibration (Zhao et al., 2021): divide each row of label probabilities by the
    probabilities the model gives a content-free input (its prior over the labels), then
    renormalise each row to sum to 1."""
    import torch

    probs, prior = torch.as_tensor(probs, dtype=torch.float32), torch.as_tensor(
        content_free, dtype=torch.float32)
    if prior.ndim != 1 or probs.shape[-1] != prior.shape[0]:
        raise ValueError(f"content_free must hold one probability per label ({probs.shape[-1]}), "
                         f"got shape {tuple(prior.shape)}")
    if bool((prior <= 0).any()):
        raise ValueError("content_free probabilities must all be above 0: take them from a "
                         "softmax over the labels' scores")
    adjusted = probs / prior
    return adjusted / adjusted.sum(dim=-1, keepdim=True)


def parse_label(reply: str, labels: Sequence[str]) -> str | None:
    """The label whose word comes first in a free-form reply (whole words, any case), or None
    when no label word appears."""
    found = [(m.start(), label) for label in labels
             for m in [re.search(rf"\b{re.escape(label)}\b", reply, flags=re.IGNORECASE)] if m]
    return min(found)[1] if found else None


@dataclass(frozen=True)
class Accuracy:
    """An accuracy with its bootstrap interval and the number of items behind it."""

    value: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.value:6.1%} [{self.low:.1%}, {self.high:.1%}] of {self.n}"


def bootstrap_interval(correct: Sequence[bool], resamples: int = 2000, level: float = 0.95,
                       seed: int = 0) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of `correct`: resample the items with
    replacement `resamples` times and take the central `level` of the resampled accuracies."""
    import torch

    values = torch.as_tensor([float(c) for c in correct])
    if values.numel() == 0:
        raise ValueError("no items to score: the evaluation set is empty")
    if not 0 < level < 1:
        raise ValueError(f"level is a fraction between 0 and 1 (0.95 for 95%), got {level}")
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, values.numel(), (resamples, values.numel()), generator=generator)
    means = values[picks].mean(dim=1)
    tail = (1 - level) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail])).tolist()
    return low, high


def accuracy(predicted: Sequence[Any], expected: Sequence[Any], seed: int = 0) -> Accuracy:
    """Exact-match accuracy of predictions against answers, with a 95% bootstrap interval."""
    if len(predicted) != len(expected):
        raise ValueError(f"{len(predicted)} predictions for {len(expected)} answers: score the "
                         "same held-out items in the same order")
    return share_correct([p == e for p, e in zip(predicted, expected)], seed=seed)


def share_correct(correct: Sequence[bool], seed: int = 0) -> Accuracy:
    """The share of items judged right (by a verifier, a rule, a comparison), with a 95%
    bootstrap interval."""
    low, high = bootstrap_interval(correct, seed=seed)
    return Accuracy(sum(bool(c) for c in correct) / len(correct), low, high, len(correct))
