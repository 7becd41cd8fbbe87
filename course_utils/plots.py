"""Plots shared by notebooks. Each takes data and an optional matplotlib Axes, returns the Figure
and writes no files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def similarity_heatmap(scores: Any, labels: Sequence[str], ax: Axes | None = None,
                       title: str = "cosine similarity", max_label: int = 32) -> Figure:
    """Square heatmap of pairwise scores (n x n) with each cell's value written in it."""
    import matplotlib.pyplot as plt
    import numpy as np

    values = np.asarray(scores.detach().cpu() if hasattr(scores, "detach") else scores, float)
    n = len(labels)
    if values.shape != (n, n):
        raise ValueError(f"scores must be {n} x {n} to match {n} labels, got {values.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * n + 2.5, 1.0 * n + 1.5))
    image = ax.imshow(values, cmap="viridis", vmin=min(0.0, values.min()), vmax=1.0)
    short = [t if len(t) <= max_label else t[: max_label - 1] + "…" for t in labels]
    ax.set_xticks(range(n), short, rotation=40, ha="right")
    ax.set_yticks(range(n), short)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center",
                    color="black" if values[i, j] > 0.6 else "white", fontsize=9)
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="similarity (1 = same direction)")
    return ax.figure


def score_bars(labels: Sequence[str], scores: Sequence[float], ax: Axes | None = None,
               title: str = "scores", xlabel: str = "probability", fmt: str = "{:.2f}"
               ) -> Figure:
    """Horizontal bars of one score per label, highest on top, values written at the bar ends."""
    import matplotlib.pyplot as plt

    if len(labels) != len(scores) or not len(labels):
        raise ValueError(f"need as many scores as labels (and at least one): "
                         f"{len(labels)} labels, {len(scores)} scores")
    pairs = sorted(zip(labels, (float(s) for s in scores)), key=lambda p: p[1])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.45 * len(pairs) + 1.2))
    ax.barh([p[0] for p in pairs], [p[1] for p in pairs], color="tab:blue")
    for i, (_, value) in enumerate(pairs):
        ax.text(value, i, " " + fmt.format(value), va="center")
    ax.set_xlim(0, max(1.0, max(p[1] for p in pairs) * 1.15))
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return ax.figure
