"""The attention explorer: pick a layer and a head with ipywidgets (7 or 8) and see that head's
weights as an HTML table, so it shows the same in JupyterLab, Notebook 7, Colab and VS Code."""

from __future__ import annotations

import html
from typing import Any

Tensor = Any


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
        from course_utils.attention.data import attention_of, readable_tokens

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
    from course_utils.attention.data import NO_ATTENTIONS

    if getattr(model.config, "_attn_implementation", "eager") != "eager":
        raise ValueError(NO_ATTENTIONS)
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    return AttentionExplorer(model, tokenizer, sentence, max_tokens)
