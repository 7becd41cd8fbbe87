"""bertviz's head view and model view, made to render offline, on the first run, the same way
every time.

bertviz's own functions load require.js, d3 and jQuery from a CDN at run time (nothing shows
offline or behind a firewall), send the drawing code as a second output that can run before
require.js has loaded (a blank first Run All in JupyterLab), and give every view a random id.
Here the drawing code is bertviz's own script, read from the installed package, run inside one
HTML output with d3 and jQuery inlined from `course_utils/attention/static/` (licences beside them):

- nothing is fetched, so there is no race and nothing to block;
- the id is a counter plus a hash of the data, so a fresh Run All gives the same output;
- long inputs are cut to `max_tokens` and many layers to `max_layers`, with a note saying so;
- a static picture (a heatmap drawn with matplotlib) sits under the view and is hidden once the
  script runs, so where scripts cannot run (an untrusted notebook, a web preview) the reader still
  sees attention and a message saying how to get the interactive view.

Both views take what `attention_of` (an encoder or a decoder, a sentence pair included) or
`seq2seq_attention_of` (an encoder-decoder) returns: `head_view(attention_of(model, tokenizer,
text))`. Weights you already have go in the same objects: `Attention(tokens, output.attentions)`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.util
import io
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from course_utils.attention.data import (
    Attention,
    AttentionPart,
    Seq2SeqAttention,
    readable_tokens,
)

STATIC = Path(__file__).parent / "static"
LIBRARIES = ("d3-5.7.0.min.js", "jquery-3.7.1.slim.min.js")
_HEADER = re.compile(
    r"require\.config\(\{.*?\}\);\s*requirejs\(\['jquery',\s*'d3'\],\s*function\s*\(\$,\s*d3\)\s*\{",
    re.S)
_counter = itertools.count(1)


def _bertviz_script(name: str) -> str:
    """bertviz's drawing code for `name` ('head_view' or 'model_view') as a function of ($, d3)."""
    spec = importlib.util.find_spec("bertviz")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the attention views draw with bertviz's scripts: pip install bertviz")
    source = (Path(next(iter(spec.submodule_search_locations))) / f"{name}.js").read_text()
    body, found = _HEADER.subn("(function ($, d3) {", source, count=1)
    body = body.rstrip()
    if found != 1 or not body.endswith("});"):
        raise RuntimeError(f"bertviz's {name}.js does not have the layout this course knows "
                           "(require.config then requirejs(['jquery', 'd3'], ...)); install "
                           "bertviz 1.4.x or report this to the course")
    return body[:-3] + "})"


def _module(source: str) -> str:
    """A UMD library run with a private `module`, so it neither sets globals nor meets an AMD
    loader another output left on the page."""
    return ("(function () { var module = {exports: {}}, exports = module.exports, "
            "define = undefined;\n" + source + "\nreturn module.exports; })()")


def _script_safe(text: str) -> str:
    return text.replace("</", "<\\/")


def _rounded(weights: Any, decimals: int) -> list:
    import numpy as np

    return np.round(weights.double().numpy(), decimals).tolist()


def _pick_layers(total: int, layers: Sequence[int] | None, max_layers: int) -> list[int]:
    if layers is not None:
        chosen = [int(layer) for layer in layers]
        bad = [layer for layer in chosen if not 0 <= layer < total]
        if not chosen or bad:
            raise ValueError(f"layers must be indices between 0 and {total - 1}, "
                             f"got {list(layers)}")
        return chosen
    if max_layers < 1:
        raise ValueError(f"max_layers must be at least 1, got {max_layers}")
    if total <= max_layers:
        return list(range(total))
    if max_layers == 1:
        return [0]
    return sorted({round(i * (total - 1) / (max_layers - 1)) for i in range(max_layers)})


@dataclass
class AttentionView:
    """An attention view ready to display: its HTML, and what it shows in words."""

    html: str
    summary: str
    notes: list[str] = field(default_factory=list)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self.html, "text/plain": self.summary}

    @property
    def size_bytes(self) -> int:
        return len(self.html.encode())


def _static_picture(part: AttentionPart, layer_index: int, layer_label: int, kind: str,
                    heads: list[int] | None) -> str:
    """A PNG heatmap (mean over the heads shown) for where the script cannot run, as a data
    URI."""
    from matplotlib.figure import Figure

    chosen = part.weights[layer_index] if heads is None else part.weights[layer_index][heads]
    matrix = chosen.mean(0).numpy()
    rows, cols = matrix.shape
    figure = Figure(figsize=(min(1.6 + 0.22 * cols, 9), min(1.2 + 0.2 * rows, 9)), dpi=72)
    ax = figure.subplots()
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=max(float(matrix.max()), 1e-9), aspect="auto")
    ax.set_xticks(range(cols), [t[:12] for t in part.keys], rotation=90, fontsize=8)
    ax.set_yticks(range(rows), [t[:12] for t in part.queries], fontsize=8)
    which = "mean of heads" if heads is None or len(heads) != 1 else f"head {heads[0]}"
    if heads is not None and len(heads) > 1:
        which = f"mean of heads {', '.join(map(str, heads))}"
    title = f"{part.name + ' ' if part.name else ''}layer {layer_label}, {which}"
    ax.set_title(f"{kind.replace('_', ' ')} (static): {title}", fontsize=9)
    ax.set_xlabel("attended to (key)", fontsize=8)
    ax.set_ylabel("attending (query)", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _render(kind: str, parts: list[AttentionPart], layers: list[int], params: dict[str, Any],
            notes: list[str], layer_select: bool, decimals: int, static: bool) -> AttentionView:
    attention = [{"name": p.name, "attn": _rounded(p.weights, decimals),
                  "left_text": p.queries, "right_text": p.keys} for p in parts]
    payload = {"attention": attention, "default_filter": "0", "include_layers": layers, **params}
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]
    view_id = f"cu-attn-{next(_counter)}-{digest}"
    payload["root_div_id"] = view_id
    data = _script_safe(json.dumps(payload, separators=(",", ":")))
    drawing = _bertviz_script(kind).replace("PYTHON_PARAMS", data, 1)
    libraries = [_script_safe((STATIC / name).read_text()) for name in LIBRARIES]

    select = ""
    if len(parts) > 1:
        options = "".join(f'<option value="{i}">{html.escape(p.name or "")}</option>'
                          for i, p in enumerate(parts))
        select = f'Attention: <select id="filter">{options}</select>'
    layer_html = 'Layer: <select id="layer"></select> ' if layer_select else ""
    note_html = "".join(f'<div class="cu-attn-note" style="color:#8a5a00">{html.escape(n)}</div>'
                        for n in notes)
    first_layer = params.get("layer")
    layer_index = layers.index(first_layer) if first_layer in layers else 0
    picture = ""
    if static:
        source = _static_picture(parts[0], layer_index, layers[layer_index], kind,
                                 params.get("heads"))
        picture = f'<img alt="static attention heatmap" src="{source}">'
    fallback = (
        '<div class="cu-attn-fallback"><div class="cu-attn-message" style="color:#555">'
        "A static picture: the interactive view needs JavaScript. Run this cell in Jupyter "
        "(a notebook opened from a file may first need File &gt; Trust Notebook).</div>"
        f"{picture}</div>")
    markup = (
        f'<div id="{view_id}" class="cu-attention-view cu-{kind.replace("_", "-")}" '
        "style=\"font-family:'Helvetica Neue', Helvetica, Arial, sans-serif;\">"
        f"{note_html}{fallback}"
        '<div class="cu-attn-live" style="display:none">'
        f'<span style="user-select:none">{layer_html}{select}</span><div id="vis"></div>'
        "</div></div>")
    script = (
        "<script>(function () {\n"
        f'var root = document.getElementById("{view_id}"); if (!root) return;\n'
        'var live = root.querySelector(".cu-attn-live"), '
        'fallback = root.querySelector(".cu-attn-fallback");\n'
        "try {\n"
        f"var d3 = {_module(libraries[0])};\n"
        f"var jq = {_module(libraries[1])};\n"
        'live.style.display = "block";\n'
        f"{drawing}(jq, d3);\n"
        'fallback.style.display = "none"; root.setAttribute("data-rendered", "yes");\n'
        "} catch (error) {\n"
        'live.style.display = "none";\n'
        'root.querySelector(".cu-attn-message").textContent = "The interactive view could not '
        'start (" + error + "); this is a static picture of the same attention.";\n'
        "}\n})();</script>")
    shapes = ", ".join(f"{p.name or 'self'} {len(p.queries)}x{len(p.keys)} tokens" for p in parts)
    heads = parts[0].weights.shape[1]
    summary = (f"{kind.replace('_', ' ')}: {shapes}; layers {layers}; {heads} heads"
               + "".join(f"\n{n}" for n in notes))
    return AttentionView(markup + script, summary, notes)


Found = Attention | Seq2SeqAttention


def _cut(found: Found, max_tokens: int, notes: list[str]) -> Found:
    """`found` cut to its first `max_tokens` tokens (each side of an encoder-decoder), with a
    note for each token list that was cut."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    lists = ({"tokens": found.tokens} if isinstance(found, Attention) else
             {"encoder tokens": found.encoder_tokens, "decoder tokens": found.decoder_tokens})
    cut = [(label, len(tokens)) for label, tokens in lists.items() if len(tokens) > max_tokens]
    for label, total in cut:
        notes.append(f"Showing the first {max_tokens} of {total} {label} so the page stays "
                     f"responsive; pass max_tokens={total} to see them all.")
    return found.first(max_tokens) if cut else found


def _shown(parts: list[AttentionPart], show: str | Sequence[str] | None) -> list[AttentionPart]:
    """The parts named in `show` (any case), in that order; all of them when it is None."""
    if show is None:
        return parts
    named = {p.name.lower(): p for p in parts if p.name}
    if not named:
        raise ValueError("show= picks among the parts of a sentence pair or an encoder-decoder; "
                         "this attention has only one part: leave show= out")
    wanted = [show] if isinstance(show, str) else list(show)
    if not wanted or any(str(w).lower() not in named for w in wanted):
        choices = ", ".join(repr(p.name) for p in parts if p.name)
        raise ValueError(f"show must name one or more of {choices}, got {show!r}")
    return [named[str(w).lower()] for w in wanted]


def _parts(found: Any, show: str | Sequence[str] | None, max_tokens: int, max_layers: int,
           layers: Sequence[int] | None, prettify: bool,
           notes: list[str]) -> tuple[list[AttentionPart], list[int]]:
    """The parts of `found` a view draws, cut to `max_tokens` and to the layers chosen."""
    if not isinstance(found, (Attention, Seq2SeqAttention)):
        raise TypeError(
            "the views take what attention_of(model, tokenizer, text) or "
            "seq2seq_attention_of(model, tokenizer, source) returns, got "
            f"{type(found).__name__}; for weights you already have, wrap them first: "
            "head_view(Attention(tokens, output.attentions))")
    parts = _shown(_cut(found, max_tokens, notes).parts(), show)
    layer_counts = sorted({p.weights.shape[0] for p in parts})
    if len(layer_counts) > 1:
        names = ", ".join(f"{p.name} {p.weights.shape[0]}" for p in parts)
        raise ValueError(f"the parts shown have different numbers of layers ({names}); show them "
                         "one at a time, e.g. show='Cross'")
    total = layer_counts[0]
    chosen = _pick_layers(total, layers, max_layers)
    if layers is None and len(chosen) < total:
        notes.append(f"Showing {len(chosen)} of {total} layers ({', '.join(map(str, chosen))}) "
                     "so the page stays responsive; pass layers=[...] to choose others.")
    tidy = readable_tokens if prettify else list
    return [AttentionPart(p.name, p.weights[chosen], tidy(p.queries), tidy(p.keys))
            for p in parts], chosen


def head_view(found: Found, *, layer: int | None = None, heads: Sequence[int] | None = None,
              layers: Sequence[int] | None = None, show: str | Sequence[str] | None = None,
              max_tokens: int = 48, max_layers: int = 12, prettify_tokens: bool = True,
              decimals: int = 2, static: bool = True) -> AttentionView:
    """bertviz's head view: tokens on both sides, one line per attention weight, one colour per
    head; pick the layer from the menu, click a head's square to show or hide it.

    `found` is what `attention_of` or `seq2seq_attention_of` returns; a sentence pair or an
    encoder-decoder gets a menu of its parts, and `show` keeps only the parts it names (e.g.
    "Cross"). `layer` is the layer shown first, `heads` the heads switched on at first.
    Weights are rounded to `decimals` places (a line with weight under 0.005 is invisible
    anyway), which keeps a 40-token view of a 6-layer, 12-head model under 1 MB."""
    notes: list[str] = []
    parts, chosen = _parts(found, show, max_tokens, max_layers, layers, prettify_tokens, notes)
    if layer is not None and layer not in chosen:
        raise ValueError(f"layer {layer} is not among the layers shown ({chosen}); pass "
                         f"layers=[..., {layer}] or pick one of those")
    total_heads = parts[0].weights.shape[1]
    if heads is not None and any(not 0 <= int(h) < total_heads for h in heads):
        raise ValueError(f"heads must be indices between 0 and {total_heads - 1}, got "
                         f"{list(heads)}")
    params = {"layer": layer, "heads": [int(h) for h in heads] if heads is not None else None}
    return _render("head_view", parts, chosen, params, notes, True, decimals, static)


def model_view(found: Found, *, layers: Sequence[int] | None = None,
               heads: Sequence[int] | None = None, show: str | Sequence[str] | None = None,
               max_tokens: int = 32, max_layers: int = 6, display_mode: str = "light",
               prettify_tokens: bool = True, decimals: int = 2,
               static: bool = True) -> AttentionView:
    """bertviz's model view: a thumbnail of every head in every layer; click one to enlarge it.
    Takes the same `found` and `show` as `head_view`; `heads` chooses which heads are drawn."""
    if display_mode not in ("light", "dark"):
        raise ValueError(f"display_mode must be 'light' or 'dark', got {display_mode!r}")
    notes: list[str] = []
    parts, chosen = _parts(found, show, max_tokens, max_layers, layers, prettify_tokens, notes)
    total_heads = parts[0].weights.shape[1]
    shown = list(range(total_heads)) if heads is None else [int(h) for h in heads]
    if not shown or any(not 0 <= h < total_heads for h in shown):
        raise ValueError(f"heads must be indices between 0 and {total_heads - 1}, got {heads}")
    parts = [replace(p, weights=p.weights[:, shown]) for p in parts]
    params = {"display_mode": display_mode, "include_heads": shown, "total_heads": len(shown)}
    return _render("model_view", parts, chosen, params, notes, False, decimals, static)
