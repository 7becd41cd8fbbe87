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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils.attention.data import check_tokens, readable_tokens, stack_attention

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
class _Part:
    name: str | None
    weights: Any  # (layers, heads, left, right)
    left: list[str]
    right: list[str]


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


def _static_picture(part: _Part, layer_index: int, layer_label: int, kind: str,
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
    ax.set_xticks(range(cols), [t[:12] for t in part.right], rotation=90, fontsize=8)
    ax.set_yticks(range(rows), [t[:12] for t in part.left], fontsize=8)
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


def _render(kind: str, parts: list[_Part], layers: list[int], params: dict[str, Any],
            notes: list[str], layer_select: bool, decimals: int, static: bool) -> AttentionView:
    attention = [{"name": p.name, "attn": _rounded(p.weights, decimals),
                  "left_text": p.left, "right_text": p.right} for p in parts]
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
    shapes = ", ".join(f"{p.name or 'self'} {len(p.left)}x{len(p.right)} tokens" for p in parts)
    heads = parts[0].weights.shape[1]
    summary = (f"{kind.replace('_', ' ')}: {shapes}; layers {layers}; {heads} heads"
               + "".join(f"\n{n}" for n in notes))
    return AttentionView(markup + script, summary, notes)


def _cap(tokens: list[str], max_tokens: int, label: str, notes: list[str]) -> int:
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    if len(tokens) > max_tokens:
        notes.append(f"Showing the first {max_tokens} of {len(tokens)} {label} so the page stays "
                     f"responsive; pass max_tokens={len(tokens)} to see them all.")
        return max_tokens
    return len(tokens)


def _parts(attention: Any, tokens: Sequence[str] | None, sentence_b_start: int | None,
           encoder_attention: Any, decoder_attention: Any, cross_attention: Any,
           encoder_tokens: Sequence[str] | None, decoder_tokens: Sequence[str] | None,
           max_tokens: int, prettify: bool, notes: list[str]) -> list[_Part]:
    tidy = readable_tokens if prettify else list
    pairs = (encoder_attention, decoder_attention, cross_attention, encoder_tokens,
             decoder_tokens)
    if attention is not None:
        if any(x is not None for x in pairs):
            raise ValueError("pass either attention= and tokens= (one stack of self-attention) or "
                             "the encoder_/decoder_/cross_ arguments, not both")
        if tokens is None:
            raise ValueError("tokens= is required with attention=: one token per position")
        weights = stack_attention(attention)
        if weights.shape[-1] != weights.shape[-2]:
            raise ValueError(f"self-attention must be square (queries = keys), got "
                             f"{tuple(weights.shape[-2:])}; for cross-attention use "
                             "cross_attention= with encoder_tokens= and decoder_tokens=")
        tokens = check_tokens(tokens, weights.shape[-1])
        n = _cap(tokens, max_tokens, "tokens", notes)
        weights, tokens = weights[..., :n, :n], tidy(tokens[:n])
        if sentence_b_start is None:
            return [_Part(None, weights, tokens, tokens)]
        if not 0 < sentence_b_start < n:
            raise ValueError(f"sentence_b_start must fall inside the {n} tokens shown, got "
                             f"{sentence_b_start}")
        a, b = slice(0, sentence_b_start), slice(sentence_b_start, n)
        return [_Part("All", weights, tokens, tokens),
                _Part("Sentence A -> Sentence A", weights[..., a, a], tokens[a], tokens[a]),
                _Part("Sentence B -> Sentence B", weights[..., b, b], tokens[b], tokens[b]),
                _Part("Sentence A -> Sentence B", weights[..., a, b], tokens[a], tokens[b]),
                _Part("Sentence B -> Sentence A", weights[..., b, a], tokens[b], tokens[a])]
    if all(x is None for x in (encoder_attention, decoder_attention, cross_attention)):
        raise ValueError("nothing to show: pass attention= and tokens= for an encoder or a "
                         "decoder, or encoder_attention=/decoder_attention=/cross_attention= "
                         "with encoder_tokens=/decoder_tokens= for an encoder-decoder")
    parts: list[_Part] = []
    enc_n = dec_n = None
    if encoder_attention is not None or cross_attention is not None:
        if encoder_tokens is None:
            raise ValueError("encoder_tokens= is required with encoder_attention= or "
                             "cross_attention=")
    if decoder_attention is not None or cross_attention is not None:
        if decoder_tokens is None:
            raise ValueError("decoder_tokens= is required with decoder_attention= or "
                             "cross_attention=")
    if encoder_attention is not None:
        weights = stack_attention(encoder_attention, "encoder_attention")
        enc = check_tokens(encoder_tokens, weights.shape[-1], "encoder_tokens")
        enc_n = _cap(enc, max_tokens, "encoder tokens", notes)
        parts.append(_Part("Encoder", weights[..., :enc_n, :enc_n], tidy(enc[:enc_n]),
                           tidy(enc[:enc_n])))
    if decoder_attention is not None:
        weights = stack_attention(decoder_attention, "decoder_attention")
        dec = check_tokens(decoder_tokens, weights.shape[-1], "decoder_tokens")
        dec_n = _cap(dec, max_tokens, "decoder tokens", notes)
        parts.append(_Part("Decoder", weights[..., :dec_n, :dec_n], tidy(dec[:dec_n]),
                           tidy(dec[:dec_n])))
    if cross_attention is not None:
        weights = stack_attention(cross_attention, "cross_attention")
        dec = check_tokens(decoder_tokens, weights.shape[-2], "decoder_tokens",
                           "decoder positions (queries)")
        enc = check_tokens(encoder_tokens, weights.shape[-1], "encoder_tokens",
                           "encoder positions (keys)")
        if dec_n is None:
            dec_n = _cap(dec, max_tokens, "decoder tokens", notes)
        if enc_n is None:
            enc_n = _cap(enc, max_tokens, "encoder tokens", notes)
        parts.append(_Part("Cross", weights[..., :dec_n, :enc_n], tidy(dec[:dec_n]),
                           tidy(enc[:enc_n])))
    layer_counts = {p.weights.shape[0] for p in parts}
    if len(layer_counts) > 1:
        raise ValueError(f"encoder, decoder and cross attention have different numbers of layers "
                         f"({sorted(layer_counts)}); pass them from one model run")
    return parts


def _select_layers(parts: list[_Part], layers: Sequence[int] | None, max_layers: int,
                   notes: list[str]) -> list[int]:
    total = parts[0].weights.shape[0]
    chosen = _pick_layers(total, layers, max_layers)
    if layers is None and len(chosen) < total:
        notes.append(f"Showing {len(chosen)} of {total} layers ({', '.join(map(str, chosen))}) "
                     "so the page stays responsive; pass layers=[...] to choose others.")
    for part in parts:
        part.weights = part.weights[chosen]
    return chosen


def head_view(attention: Any = None, tokens: Sequence[str] | None = None, *,
              sentence_b_start: int | None = None, layer: int | None = None,
              heads: Sequence[int] | None = None, layers: Sequence[int] | None = None,
              encoder_attention: Any = None, decoder_attention: Any = None,
              cross_attention: Any = None, encoder_tokens: Sequence[str] | None = None,
              decoder_tokens: Sequence[str] | None = None, max_tokens: int = 48,
              max_layers: int = 12, prettify_tokens: bool = True, decimals: int = 2,
              static: bool = True) -> AttentionView:
    """bertviz's head view: tokens on both sides, one line per attention weight, one colour per
    head; pick the layer from the menu, click a head's square to show or hide it.

    Pass `attention` (output.attentions) and `tokens` for an encoder or a decoder, or the
    encoder_/decoder_/cross_ arguments for an encoder-decoder. `layer` is the layer shown first,
    `heads` the heads switched on at first. Weights are rounded to `decimals` places (a line
    with weight under 0.005 is invisible anyway), which keeps a 40-token view of a 6-layer,
    12-head model under 1 MB."""
    notes: list[str] = []
    parts = _parts(attention, tokens, sentence_b_start, encoder_attention, decoder_attention,
                   cross_attention, encoder_tokens, decoder_tokens, max_tokens,
                   prettify_tokens, notes)
    chosen = _select_layers(parts, layers, max_layers, notes)
    if layer is not None and layer not in chosen:
        raise ValueError(f"layer {layer} is not among the layers shown ({chosen}); pass "
                         f"layers=[..., {layer}] or pick one of those")
    total_heads = parts[0].weights.shape[1]
    if heads is not None and any(not 0 <= int(h) < total_heads for h in heads):
        raise ValueError(f"heads must be indices between 0 and {total_heads - 1}, got "
                         f"{list(heads)}")
    params = {"layer": layer, "heads": [int(h) for h in heads] if heads is not None else None}
    return _render("head_view", parts, chosen, params, notes, True, decimals, static)


def model_view(attention: Any = None, tokens: Sequence[str] | None = None, *,
               sentence_b_start: int | None = None, layers: Sequence[int] | None = None,
               heads: Sequence[int] | None = None, encoder_attention: Any = None,
               decoder_attention: Any = None, cross_attention: Any = None,
               encoder_tokens: Sequence[str] | None = None,
               decoder_tokens: Sequence[str] | None = None, max_tokens: int = 32,
               max_layers: int = 6, display_mode: str = "light", prettify_tokens: bool = True,
               decimals: int = 2, static: bool = True) -> AttentionView:
    """bertviz's model view: a thumbnail of every head in every layer; click one to enlarge it.
    Same arguments as `head_view`; `heads` chooses which heads are drawn."""
    if display_mode not in ("light", "dark"):
        raise ValueError(f"display_mode must be 'light' or 'dark', got {display_mode!r}")
    notes: list[str] = []
    parts = _parts(attention, tokens, sentence_b_start, encoder_attention, decoder_attention,
                   cross_attention, encoder_tokens, decoder_tokens, max_tokens,
                   prettify_tokens, notes)
    chosen = _select_layers(parts, layers, max_layers, notes)
    total_heads = parts[0].weights.shape[1]
    shown = list(range(total_heads)) if heads is None else [int(h) for h in heads]
    if not shown or any(not 0 <= h < total_heads for h in shown):
        raise ValueError(f"heads must be indices between 0 and {total_heads - 1}, got {heads}")
    for part in parts:
        part.weights = part.weights[:, shown]
    params = {"display_mode": display_mode, "include_heads": shown, "total_heads": len(shown)}
    return _render("model_view", parts, chosen, params, notes, False, decimals, static)
