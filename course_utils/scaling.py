"""Notebook 14: what scale buys and what it does not. A power law fitted to losses, the compute
a training run spends, sums written as a tiny model reads them (plain or with reversed digits),
a verifier for those sums, and the ways of spending compute at test time (majority vote, pass@k).

Everything here is plain Python and NumPy on small inputs; the models and the training loop are
written out in the notebook itself."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

DIGITS = "0123456789"
VOCABULARY = DIGITS + "+="  # every character a sum is written with


@dataclass(frozen=True)
class PowerLaw:
    """loss = scale * size ** (-exponent): a straight line on log-log axes."""

    scale: float
    exponent: float
    points: int  # how many (size, loss) points it was fitted on

    def predict(self, size: float) -> float:
        if size <= 0:
            raise ValueError(f"a size is a positive number of parameters (or FLOPs), got {size}")
        return self.scale * size ** (-self.exponent)

    def __str__(self) -> str:
        return f"loss = {self.scale:.3g} * N^(-{self.exponent:.3f}), fitted on {self.points} points"


def fit_power_law(sizes: Sequence[float], losses: Sequence[float]) -> PowerLaw:
    """Least squares on log(loss) = log(scale) - exponent * log(size). Two parameters, so at
    least two points of different sizes; three or more to leave anything to check the fit by."""
    import numpy as np

    if len(sizes) != len(losses):
        raise ValueError(f"{len(sizes)} sizes for {len(losses)} losses: give one loss per model")
    if len(sizes) < 2:
        raise ValueError(f"a power law has two parameters (scale and exponent), so it needs at "
                         f"least two points; got {len(sizes)}. Train more model sizes")
    if any(not s > 0 for s in sizes) or any(not v > 0 for v in losses):
        raise ValueError("sizes and losses must all be positive: a power law is fitted on their "
                         "logarithms")
    if len(set(sizes)) < 2:
        raise ValueError("every point has the same size: the exponent cannot be fitted. Train "
                         "models of different sizes")
    slope, intercept = np.polyfit(np.log(sizes), np.log(losses), 1)
    return PowerLaw(float(math.exp(intercept)), float(-slope), len(sizes))


def training_flops(parameters: int, tokens: int) -> float:
    """The usual estimate of a training run's compute: 6 * N * D (2 for the forward pass, 4 for
    the backward pass, per parameter and token)."""
    if parameters <= 0 or tokens < 0:
        raise ValueError(f"parameters must be positive and tokens not negative, got "
                         f"{parameters} and {tokens}")
    return 6.0 * parameters * tokens


def non_embedding_parameters(model: Any) -> int:
    """Parameters outside the token and position embeddings, as scaling laws count them."""
    return sum(p.numel() for name, p in model.named_parameters() if "embed" not in name)


def mean_interval(values: Sequence[float], z: float = 1.96) -> tuple[float, float, float]:
    """Mean and its normal-approximation 95% interval (mean +- z * standard error)."""
    import statistics

    if len(values) < 2:
        raise ValueError(f"an interval needs at least two values, got {len(values)}")
    mean = statistics.fmean(values)
    error = statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - z * error, mean + z * error


def write_sum(a: int, b: int, width: int, reverse: bool = False) -> tuple[str, str]:
    """(prompt, answer) for a + b with both numbers written in `width` digits (leading zeros) and
    the answer in width + 1; `reverse` writes every number least significant digit first, the
    order in which a carry travels. 12 + 345, width 4: ('0012+0345=', '00357'), reversed
    ('2100+5430=', '75300')."""
    if width < 1:
        raise ValueError(f"width is a number of digits, at least 1; got {width}")
    if a < 0 or b < 0:
        raise ValueError(f"only sums of non-negative numbers are written here, got {a} and {b}")
    if max(a, b) >= 10 ** width:
        raise ValueError(f"{max(a, b)} has more than {width} digits: raise width")
    left, right, total = str(a).zfill(width), str(b).zfill(width), str(a + b).zfill(width + 1)
    if reverse:
        left, right, total = left[::-1], right[::-1], total[::-1]
    return f"{left}+{right}=", total


def read_answer(reply: str, width: int, reverse: bool = False) -> int:
    """The number a reply to write_sum's prompt states; a ValueError that says why when the reply
    is not width + 1 digits."""
    text = reply.strip()
    if len(text) != width + 1 or any(c not in DIGITS for c in text):
        raise ValueError(f"{reply!r} is not an answer: expected {width + 1} digits and nothing "
                         "else")
    return int(text[::-1] if reverse else text)


def check_sum(a: int, b: int, reply: str, width: int, reverse: bool = False) -> bool:
    """The verifier: whether the reply states a + b. A reply that is not an answer is wrong (a
    verifier judges whatever a model samples; it must not crash on it)."""
    try:
        return read_answer(reply, width, reverse) == a + b
    except ValueError:
        return False


def majority_vote(answers: Sequence[Hashable]) -> Hashable:
    """The most frequent answer; ties go to the one seen first."""
    if not answers:
        raise ValueError("no answers to vote on: sample at least one")
    counts = Counter(answers)
    best = max(counts.values())
    return next(a for a in answers if counts[a] == best)


def pass_at_k(samples: int, correct: int, k: int) -> float:
    """The chance that at least one of k answers drawn from `samples` (of which `correct` are
    right) is right: 1 - C(samples - correct, k) / C(samples, k), the unbiased estimator of
    Chen et al. (2021)."""
    if not 0 <= correct <= samples:
        raise ValueError(f"correct must be between 0 and samples ({samples}), got {correct}")
    if not 1 <= k <= samples:
        raise ValueError(f"k must be between 1 and the number of samples ({samples}), got {k}")
    if samples - correct < k:
        return 1.0
    return 1.0 - math.comb(samples - correct, k) / math.comb(samples, k)
