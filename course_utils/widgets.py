"""Interactive explorers built from ipywidgets (works with ipywidgets 7, as on Colab, and 8).

Each explorer draws with plain HTML, so it needs no plotting back end and shows the same thing in
JupyterLab, Notebook 7, Colab and VS Code.
"""

from __future__ import annotations

import html
from typing import Any

from course_utils.decoding import validate_temperature, validate_top_p, warp

Tensor = Any


def next_token_table(logits: Tensor, tokenizer: Any, temperature: float = 1.0,
                     top_p: float = 1.0, top: int = 12) -> list[tuple[str, float]]:
    """The `top` most likely next tokens and their probabilities after temperature and top-p
    (tokens that top-p removes have probability 0)."""
    if logits.ndim == 2:
        logits = logits[0]
    probs = warp(logits[None].float(), temperature, None, top_p).softmax(-1)[0]
    values, ids = probs.topk(min(top, probs.shape[-1]))
    return [(tokenizer.decode([int(i)]), float(v)) for v, i in zip(values, ids)]


def _bars_html(rows: list[tuple[str, float]], kept: int, title: str) -> str:
    lines = [f"<div style='font-family:monospace'><b>{html.escape(title)}</b>"
             f"<div>{kept:,} tokens can be drawn</div><table>"]
    for token, prob in rows:
        width = round(300 * prob)
        colour = "#1f77b4" if prob > 0 else "#cccccc"
        lines.append(
            f"<tr><td style='text-align:right'>{html.escape(repr(token))}</td>"
            f"<td><div style='background:{colour};width:{max(width, 1)}px;height:0.9em'></div></td>"
            f"<td>{prob:.3f}</td></tr>")
    lines.append("</table></div>")
    return "".join(lines)


class SamplingExplorer:
    """Temperature and top-p sliders over one prompt's next-token distribution.

    Display `explorer.widget`; `explorer.show(temperature, top_p)` redraws for given values."""

    def __init__(self, logits: Tensor, tokenizer: Any, prompt: str = "", top: int = 12) -> None:
        import ipywidgets as widgets

        self.logits, self.tokenizer, self.prompt, self.top = logits, tokenizer, prompt, top
        style = {"description_width": "90px"}
        self.temperature = widgets.FloatSlider(value=1.0, min=0.1, max=2.5, step=0.05,
                                               description="temperature", style=style,
                                               continuous_update=False)
        self.top_p = widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05,
                                         description="top_p", style=style,
                                         continuous_update=False)
        self.bars = widgets.HTML()
        for slider in (self.temperature, self.top_p):
            slider.observe(lambda _change: self.show(), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.temperature, self.top_p]), self.bars])
        self.show()

    def show(self, temperature: float | None = None, top_p: float | None = None) -> None:
        if temperature is not None:
            self.temperature.value = validate_temperature(temperature)
        if top_p is not None:
            self.top_p.value = validate_top_p(top_p)
        t, p = self.temperature.value, self.top_p.value
        rows = next_token_table(self.logits, self.tokenizer, t, p, self.top)
        logits = self.logits if self.logits.ndim == 2 else self.logits[None]
        kept = int(warp(logits.float(), t, None, p).isfinite().sum())
        title = f"{self.prompt!r} → next token (temperature {t:.2f}, top_p {p:.2f})"
        self.bars.value = _bars_html(rows, kept, title)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def sampling_explorer(logits: Tensor, tokenizer: Any, prompt: str = "",
                      top: int = 12) -> SamplingExplorer:
    """An explorer of temperature and top-p on `logits` (the last position's, shape (vocab,) or
    (1, vocab)); `prompt` labels it."""
    import torch

    if not isinstance(logits, torch.Tensor) or logits.ndim not in (1, 2) or \
            (logits.ndim == 2 and logits.shape[0] != 1):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits must be one position's scores, shape (vocab,) or (1, vocab), "
                         f"got {shape}; use output.logits[0, -1]")
    return SamplingExplorer(logits.detach(), tokenizer, prompt, top)
