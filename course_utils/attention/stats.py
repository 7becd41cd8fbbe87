"""Numbers about attention heads, and a gradient attribution to hold attention against.

Every statistic takes one input's weights, (layers, heads, queries, keys) as `attention_of`
returns them, and gives one value per head: a (layers, heads) tensor. Average them over many
sentences before believing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from course_utils.attention.data import stack_attention
from course_utils.tokens import validate_text


def _square(weights: Any) -> Any:
    weights = stack_attention(weights)
    if weights.shape[-1] != weights.shape[-2]:
        raise ValueError(f"this statistic is for self-attention (queries = keys), got "
                         f"{tuple(weights.shape[-2:])}")
    return weights


def head_entropy(weights: Any) -> Any:
    """Mean entropy, in bits, of each head's attention rows: 0 = every query looks at one token,
    log2(T) = spread evenly over all T."""
    weights = stack_attention(weights)
    p = weights.clamp_min(1e-12)
    return -(weights * p.log2()).sum(-1).mean(-1)


def mean_distance(weights: Any) -> Any:
    """Mean distance, in tokens, between each query and what it attends to (weighted)."""
    import torch

    weights = _square(weights)
    n = weights.shape[-1]
    position = torch.arange(n, dtype=torch.float32)
    distance = (position[:, None] - position[None, :]).abs()
    return (weights * distance).sum(-1).mean(-1)


def share_on(weights: Any, positions: Iterable[int]) -> Any:
    """Mean share of each head's attention that lands on `positions` (e.g. [CLS] and [SEP])."""
    weights = stack_attention(weights)
    keys = sorted({int(p) for p in positions})
    if not keys or any(not 0 <= p < weights.shape[-1] for p in keys):
        raise ValueError(f"positions must be key indices between 0 and {weights.shape[-1] - 1}, "
                         f"got {keys}")
    return weights[..., keys].sum(-1).mean(-1)


def offset_share(weights: Any, offset: int) -> Any:
    """Mean weight each head puts on the token `offset` places away (-1: the previous token,
    +1: the next), over the queries that have such a token: high values mark positional heads."""
    import torch

    weights = _square(weights)
    n = weights.shape[-1]
    if offset == 0 or abs(offset) >= n:
        raise ValueError(f"offset must be a non-zero number of places smaller than the "
                         f"{n} tokens, got {offset}")
    queries = torch.arange(max(0, -offset), min(n, n - offset))
    return weights[..., queries, queries + offset].mean(-1)


def relation_scores(weights: Any, pairs: Sequence[tuple[int, int]],
                    ignore: Iterable[int] = ()) -> Any:
    """For (word, related word) pairs, the share of pairs where each head's strongest weight from
    the word (leaving out the word itself and `ignore`, e.g. special tokens) falls on the related
    word: 1.0 = the head follows the relation every time."""
    weights = _square(weights).clone()
    n = weights.shape[-1]
    if not pairs:
        raise ValueError("pairs is empty: give (word position, related word position) pairs")
    for query, key in pairs:
        if not (0 <= query < n and 0 <= key < n) or query == key:
            raise ValueError(f"pair ({query}, {key}) must be two different positions below {n}")
    skip = [int(i) for i in ignore]
    if skip:
        weights[..., skip] = -1.0
    hits = []
    for query, key in pairs:
        row = weights[..., query, :].clone()
        row[..., query] = -1.0
        hits.append((row.argmax(-1) == key).float())
    import torch

    return torch.stack(hits).mean(0)


def top_heads(values: Any, count: int = 3, largest: bool = True) -> list[tuple[int, int, float]]:
    """The `count` (layer, head, value) with the largest (or smallest) values of a (layers,
    heads) table."""
    flat = values.flatten()
    order = flat.argsort(descending=largest)[:count]
    heads = values.shape[1]
    return [(int(i) // heads, int(i) % heads, float(flat[i])) for i in order]


def rank_correlation(a: Sequence[float] | Any, b: Sequence[float] | Any) -> float:
    """Spearman's rank correlation of two equally long score lists (ties share their rank)."""
    import numpy as np

    x, y = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if x.shape != y.shape or x.size < 3:
        raise ValueError(f"need two score lists of the same length, at least 3 long; got "
                         f"{x.size} and {y.size}")

    def ranks(v: Any) -> Any:
        order = v.argsort(kind="stable")
        result = np.empty(v.size)
        result[order] = np.arange(v.size, dtype=float)
        for value in np.unique(v):
            same = v == value
            result[same] = result[same].mean()
        return result

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        raise ValueError("one of the score lists is constant: a rank correlation is undefined")
    return float(np.corrcoef(rx, ry)[0, 1])


@dataclass
class Attribution:
    """Integrated-gradients scores for one prediction of a sequence classifier, with what is
    needed to check them and to hold attention against them."""

    tokens: list[str]
    scores: list[float]  # one per token; special tokens get 0 (they are not replaced)
    label_id: int
    label: str
    probability: float
    logit: float  # the label's logit for the text
    baseline_logit: float  # ... with every word piece replaced by the baseline token
    attention: list[float]  # what the first token ([CLS]) attends to, mean of heads

    @property
    def gap(self) -> float:
        """How far the scores' sum is from logit - baseline_logit (0 for exact integration)."""
        return sum(self.scores) - (self.logit - self.baseline_logit)


def _inputs(tokenizer: Any, text: str) -> tuple[Any, list[bool]]:
    inputs = tokenizer(validate_text(text), return_tensors="pt")
    special = set(getattr(tokenizer, "all_special_ids", []))
    return inputs, [i in special for i in inputs["input_ids"][0].tolist()]


def _baseline_id(tokenizer: Any) -> int:
    for token_id in (tokenizer.pad_token_id, tokenizer.mask_token_id, tokenizer.unk_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError("the tokenizer has no [PAD], [MASK] or [UNK] token to use as the baseline")


def integrated_gradients(model: Any, tokenizer: Any, text: str, label: int | None = None,
                         steps: int = 32, layer: int = -1) -> Attribution:
    """Integrated gradients of a sequence classifier's predicted (or given) label's logit: each
    word piece's input embedding is moved in `steps` steps from the baseline token's ([PAD])
    embedding to its own, and the gradients along the way, times the distance moved, give its
    score. The scores add up to logit(text) - logit(baseline) (Sundararajan et al., 2017), which
    `Attribution.gap` lets you check. Also returns the attention the first token ([CLS]) pays to
    each token in `layer`, averaged over heads. Load the model with attn_implementation='eager'."""
    import torch

    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    inputs, special = _inputs(tokenizer, text)
    embed = model.get_input_embeddings()
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    baseline_ids = ids.clone()
    baseline_ids[0, [i for i, s in enumerate(special) if not s]] = _baseline_id(tokenizer)
    with torch.no_grad():
        actual, baseline = embed(ids), embed(baseline_ids)
        output = model(input_ids=ids, attention_mask=mask, output_attentions=True)
        # As embeddings, not ids: a model that numbers positions from the ids (RoBERTa) would
        # give each [PAD] the padding position, and the baseline would not be the path's start.
        base_logits = model(inputs_embeds=baseline, attention_mask=mask).logits[0]
    if not output.attentions:
        raise ValueError("the classifier returned no attentions: load it with "
                         "attn_implementation='eager'")
    probabilities = output.logits[0].softmax(-1)
    target = int(probabilities.argmax()) if label is None else int(label)
    if not 0 <= target < probabilities.shape[0]:
        raise ValueError(f"label must be a class index below {probabilities.shape[0]}, got {label}")
    alphas = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps  # midpoint rule
    path = (baseline + alphas[:, None, None] * (actual - baseline)).requires_grad_(True)
    logits = model(inputs_embeds=path, attention_mask=mask.expand(steps, -1)).logits
    logits[:, target].sum().backward()
    scores = ((actual - baseline)[0] * path.grad.mean(0)).sum(-1)
    names = getattr(model.config, "id2label", {}) or {}
    return Attribution(
        tokenizer.convert_ids_to_tokens(ids[0].tolist()), scores.tolist(), target,
        str(names.get(target, target)), float(probabilities[target]),
        float(output.logits[0, target]), float(base_logits[target]),
        output.attentions[layer][0].mean(0)[0].tolist())


def occlusion(model: Any, tokenizer: Any, text: str, label: int) -> list[float]:
    """For each token, how much the label's logit falls when that one word piece is replaced by
    the baseline token ([PAD]); 0 for special tokens. A direct, behavioural measure of what the
    prediction depends on, one forward pass per token. Every position keeps its number, also in
    models that number positions from the ids (RoBERTa), so only the word is missing."""
    import torch

    inputs, special = _inputs(tokenizer, text)
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    positions = [i for i, s in enumerate(special) if not s]
    batch = ids.repeat(len(positions) + 1, 1)
    for row, position in enumerate(positions, start=1):
        batch[row, position] = _baseline_id(tokenizer)
    with torch.no_grad():  # embeddings, so that every row keeps the text's positions
        embeddings = model.get_input_embeddings()(batch)
        logits = model(inputs_embeds=embeddings, attention_mask=mask.expand(len(batch), -1)).logits
    if not 0 <= label < logits.shape[1]:
        raise ValueError(f"label must be a class index below {logits.shape[1]}, got {label}")
    drops = [0.0] * len(special)
    for row, position in enumerate(positions, start=1):
        drops[position] = float(logits[0, label] - logits[row, label])
    return drops
