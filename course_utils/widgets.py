"""Interactive explorers built from ipywidgets (works with ipywidgets 7, as on Colab, and 8).

Each explorer draws with plain HTML, so it needs no plotting back end and shows the same thing in
JupyterLab, Notebook 7, Colab and VS Code.
"""

from __future__ import annotations

import html
from typing import Any

from course_utils.decoding import check_temperature, check_top_p, warp

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
            self.temperature.value = check_temperature(temperature)
        if top_p is not None:
            self.top_p.value = check_top_p(top_p)
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


def attention_table_html(matrix: Tensor, rows: list[str], columns: list[str], title: str) -> str:
    """A heatmap as an HTML table: one row per query token, one column per key token, each
    cell's blue as strong as its weight (the weight shows on hover)."""
    peak = max(float(matrix.max()), 1e-9)
    head = "".join(
        f"<th style='writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;"
        f"padding:1px'>{html.escape(c)}</th>" for c in columns)
    lines = [f"<div style='font-family:monospace;font-size:12px'><b>{html.escape(title)}</b>",
             "<table class='cu-attention-table' style='border-collapse:collapse'>",
             f"<tr><th></th>{head}</tr>"]
    for i, name in enumerate(rows):
        cells = []
        for j in range(len(columns)):
            value = float(matrix[i, j])
            cells.append(f"<td title='{value:.3f}' style='width:14px;height:14px;padding:0;"
                         f"background:rgba(31,119,180,{value / peak:.3f})'></td>")
        lines.append(f"<tr><th style='text-align:right;font-weight:normal;padding-right:4px'>"
                     f"{html.escape(name)}</th>{''.join(cells)}</tr>")
    lines.append("</table></div>")
    return "".join(lines)


class AttentionExplorer:
    """A sentence box, layer and head menus, and a heatmap that follows them.

    Display `explorer.widget` (or the explorer itself). `explorer.show(sentence, layer, head)`
    sets any of the three from code; head=-1 is the mean of the layer's heads."""

    def __init__(self, model: Any, tokenizer: Any, sentence: str, max_tokens: int = 40) -> None:
        import ipywidgets as widgets

        self.model, self.tokenizer, self.max_tokens = model, tokenizer, max_tokens
        config = model.config
        layers = getattr(config, "num_hidden_layers", None) or config.num_layers
        heads = getattr(config, "num_attention_heads", None) or config.num_heads
        style = {"description_width": "70px"}
        self.sentence = widgets.Text(value=sentence, description="sentence",
                                     continuous_update=False, style=style,
                                     layout=widgets.Layout(width="95%"))
        self.layer = widgets.Dropdown(options=list(range(layers)), value=0, description="layer",
                                      style=style)
        self.head = widgets.Dropdown(options=[("mean", -1)] + [(str(h), h) for h in range(heads)],
                                     value=-1, description="head", style=style)
        self.picture = widgets.HTML()
        self.weights = None
        self.tokens: list[str] = []
        self.note = ""
        self.sentence.observe(lambda _change: self._read(), names="value")
        for menu in (self.layer, self.head):
            menu.observe(lambda _change: self._draw(), names="value")
        self.widget = widgets.VBox([self.sentence, widgets.HBox([self.layer, self.head]),
                                    self.picture])
        self.widget.add_class("cu-attention-explorer")
        self._read()

    def _read(self) -> None:
        from course_utils.attention_data import attention_of, readable_tokens

        try:
            found = attention_of(self.model, self.tokenizer, self.sentence.value)
        except ValueError as error:
            self.weights = None
            self.picture.value = f"<div style='color:#a00'>{html.escape(str(error))}</div>"
            return
        n = min(len(found.tokens), self.max_tokens)
        self.weights = found.weights[..., :n, :n]
        self.tokens = readable_tokens(found.tokens[:n])
        self.note = (f" (first {n} of {len(found.tokens)} tokens)"
                     if n < len(found.tokens) else "")
        self._draw()

    def _draw(self) -> None:
        if self.weights is None:
            return
        layer, head = self.layer.value, self.head.value
        matrix = self.weights[layer].mean(0) if head < 0 else self.weights[layer, head]
        label = "mean of heads" if head < 0 else f"head {head}"
        self.picture.value = attention_table_html(
            matrix, self.tokens, self.tokens, f"layer {layer}, {label}{self.note}")

    def show(self, sentence: str | None = None, layer: int | None = None,
             head: int | None = None) -> None:
        if layer is not None:
            if layer not in self.layer.options:
                raise ValueError(f"layer must be one of {list(self.layer.options)}, got {layer}")
            self.layer.value = layer
        if head is not None:
            if head not in [value for _, value in self.head.options if value >= 0]:
                raise ValueError(f"head must be between 0 and {len(self.head.options) - 2}, "
                                 f"got {head}")
            self.head.value = head
        if sentence is not None:
            self.sentence.value = sentence

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def attention_explorer(model: Any, tokenizer: Any, sentence: str,
                       max_tokens: int = 40) -> AttentionExplorer:
    """An explorer of `model`'s self-attention (an encoder or a decoder loaded with
    attn_implementation='eager'), starting at `sentence`."""
    from course_utils.attention_data import NO_ATTENTIONS

    if getattr(model.config, "_attn_implementation", "eager") != "eager":
        raise ValueError(NO_ATTENTIONS)
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    return AttentionExplorer(model, tokenizer, sentence, max_tokens)
