"""Static pictures of attention: one head as a heatmap, a layer's heads in a grid, a statistic
per head as a table, and one query's dot products with every key. Each returns the Figure and
writes no files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _short(tokens: Sequence[str], width: int = 12) -> list[str]:
    return [t if len(t) <= width else t[: width - 1] + "…" for t in tokens]


def attention_heatmap(attention: Any, tokens: Sequence[str], layer: int, head: int | None = None,
                      ax: Axes | None = None, key_tokens: Sequence[str] | None = None,
                      title: str | None = None) -> Figure:
    """One head's attention (or the mean of a layer's heads, head=None) as a heatmap: a row per
    query token, a column per key token. `attention` is output.attentions or a stacked tensor."""
    import matplotlib.pyplot as plt

    from course_utils.attention.data import validate_tokens, readable_tokens, stack_attention

    weights = stack_attention(attention)
    layers, heads = weights.shape[:2]
    if not -layers <= layer < layers:
        raise ValueError(f"layer must be between 0 and {layers - 1}, got {layer}")
    if head is not None and not 0 <= head < heads:
        raise ValueError(f"head must be between 0 and {heads - 1} (or None for the mean), "
                         f"got {head}")
    matrix = weights[layer].mean(0) if head is None else weights[layer, head]
    rows = readable_tokens(validate_tokens(tokens, matrix.shape[0], "tokens", "query positions"))
    cols = rows if key_tokens is None else readable_tokens(
        validate_tokens(key_tokens, matrix.shape[1], "key_tokens", "key positions"))
    if ax is None:
        size = (min(2 + 0.32 * len(cols), 12), min(1.5 + 0.3 * len(rows), 12))
        _, ax = plt.subplots(figsize=size)
    image = ax.imshow(matrix.numpy(), cmap="Blues", vmin=0, vmax=float(matrix.max()))
    ax.set_xticks(range(len(cols)), _short(cols), rotation=90)
    ax.set_yticks(range(len(rows)), _short(rows))
    label = "mean of heads" if head is None else f"head {head}"
    ax.set_title(title or f"layer {layer % layers}, {label}")
    ax.set_xlabel("attended to (key)")
    ax.set_ylabel("attending (query)")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax.figure


def head_grid(attention: Any, tokens: Sequence[str], layer: int, columns: int = 4,
              cell: float = 2.2) -> Figure:
    """Every head of one layer, side by side, on a shared 0-1 colour scale (tokens on the axes of
    the first column and last row only)."""
    import matplotlib.pyplot as plt

    from course_utils.attention.data import validate_tokens, readable_tokens, stack_attention

    weights = stack_attention(attention)
    layers, heads = weights.shape[:2]
    if not -layers <= layer < layers:
        raise ValueError(f"layer must be between 0 and {layers - 1}, got {layer}")
    names = _short(readable_tokens(validate_tokens(tokens, weights.shape[-1])), 8)
    rows = -(-heads // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(cell * columns, cell * rows),
                                squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= heads:
            ax.axis("off")
            continue
        ax.imshow(weights[layer, index].numpy(), cmap="Blues", vmin=0, vmax=1)
        ax.set_title(f"head {index}", fontsize=9)
        show_y, show_x = index % columns == 0, index // columns == rows - 1
        ax.set_yticks(range(len(names)) if show_y else [], names if show_y else [], fontsize=6)
        ax.set_xticks(range(len(names)) if show_x else [], names if show_x else [], fontsize=6,
                      rotation=90)
    figure.suptitle(f"layer {layer % layers}: every head (rows attend to columns)")
    figure.tight_layout()
    return figure


def head_table(values: Any, title: str, ax: Axes | None = None, fmt: str = "{:.2f}",
               cmap: str = "viridis") -> Figure:
    """A (layers, heads) table of one statistic per head, coloured, with the values written in."""
    import matplotlib.pyplot as plt
    import numpy as np

    table = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, float)
    if table.ndim != 2:
        raise ValueError(f"values must be a (layers, heads) table, got shape {table.shape}")
    layers, heads = table.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * heads + 2, 0.45 * layers + 1.4))
    image = ax.imshow(table, cmap=cmap, aspect="auto")
    middle = (table.max() + table.min()) / 2
    for i in range(layers):
        for j in range(heads):
            ax.text(j, i, fmt.format(table[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if table[i, j] < middle else "black")
    ax.set_xticks(range(heads))
    ax.set_yticks(range(layers))
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax.figure


def query_key_picture(query_key: Any, query: int, dims: int = 32) -> Figure:
    """A neuron-style view of one head for one query token: its query vector, every key vector,
    their element-wise products, and the resulting scores and attention weights. Only the first
    `dims` of the head's dimensions are drawn; the scores use all of them."""
    import matplotlib.pyplot as plt

    from course_utils.attention.data import readable_tokens

    tokens = readable_tokens(query_key.tokens)
    n, width = query_key.keys.shape
    if not 0 <= query < n:
        raise ValueError(f"query must be a token position between 0 and {n - 1}, got {query}")
    shown = min(dims, width)
    q = query_key.queries[query]
    products = q[None, :] * query_key.keys
    scores = query_key.scores()[query]
    weights = scores.softmax(-1)
    figure, axes = plt.subplots(1, 4, figsize=(15, 0.32 * n + 2.2),
                                gridspec_kw={"width_ratios": [shown, shown, shown, 14]})
    limit = float(max(q[:shown].abs().max(), query_key.keys[:, :shown].abs().max()))
    axes[0].imshow(q[None, :shown].numpy(),
                   cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto", extent=(0, shown, 1, 0))
    axes[0].set_yticks([0.5], [tokens[query]])
    axes[0].set_title(f"query q of '{tokens[query].strip()}'")
    axes[1].imshow(query_key.keys[:, :shown].numpy(), cmap="RdBu", vmin=-limit, vmax=limit,
                   aspect="auto")
    axes[1].set_title("keys k (one row per token)")
    product_limit = float(products[:, :shown].abs().max())
    axes[2].imshow(products[:, :shown].numpy(), cmap="PuOr", vmin=-product_limit,
                   vmax=product_limit, aspect="auto")
    axes[2].set_title("q × k, element by element")
    for ax in axes[1:3]:
        ax.set_yticks(range(n), _short(tokens))
        ax.set_xlabel(f"dimension (first {shown} of {width})")
    axes[0].set_xlabel("dimension")
    axes[3].barh(range(n), weights.numpy(), color="tab:blue")
    for i in range(n):
        axes[3].text(float(weights[i]), i, f" {float(scores[i]):+.1f} → {float(weights[i]):.2f}",
                     va="center", fontsize=7)
    axes[3].set_ylim(n - 0.5, -0.5)
    axes[3].set_yticks(range(n), _short(tokens))
    axes[3].set_xlim(0, 1.25)
    axes[3].set_title("score q·k/√d → softmax weight")
    figure.tight_layout()
    return figure
