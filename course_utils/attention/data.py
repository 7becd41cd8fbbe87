"""Getting attention weights out of a model, checked, in one shape: (layers, heads, queries, keys).

Every view, plot, statistic and explorer in the course takes what `attention_of` returns, so a
model run without attention weights, or tokens that do not match the weights, is caught here
with one clear message instead of a blank picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from course_utils.tokens import validate_text

NO_ATTENTIONS = (
    "there are no attention weights to show: the model was run without them. Load it with "
    "attn_implementation='eager' (the default 'sdpa' kernel never forms the weights) and call "
    "it with output_attentions=True; course_utils.attention.data.attention_of(model, tokenizer, "
    "text) does both checks for you.")


def stack_attention(attention: Any, name: str = "attention") -> Any:
    """One example's attention as a float32 CPU tensor of shape (layers, heads, queries, keys).

    Takes what a model returns (a tuple with one (1, heads, T, S) tensor per layer), a list of
    (heads, T, S) tensors, or an already stacked 4-D tensor."""
    import torch

    if attention is None or (isinstance(attention, (tuple, list)) and len(attention) == 0):
        raise ValueError(f"{name}: {NO_ATTENTIONS}")
    if isinstance(attention, torch.Tensor):
        if attention.dim() == 5 and attention.shape[1] == 1:
            attention = attention[:, 0]
        if attention.dim() != 4:
            raise ValueError(f"{name} must be (layers, heads, queries, keys), got a tensor of "
                             f"shape {tuple(attention.shape)}")
        layers = list(attention)
    elif isinstance(attention, (tuple, list)):
        layers = list(attention)
    else:
        raise TypeError(f"{name} must be the tuple of per-layer tensors a model returns "
                        f"(output.attentions), got {type(attention).__name__}")
    squeezed = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, torch.Tensor):
            raise TypeError(f"{name}[{index}] is a {type(layer).__name__}, not a tensor: pass "
                            "output.attentions as the model returned it")
        if layer.dim() == 4:
            if layer.shape[0] != 1:
                raise ValueError(
                    f"{name}[{index}] holds a batch of {layer.shape[0]} examples; views show one: "
                    f"pass [a[i:i+1] for a in {name}] for example i")
            layer = layer[0]
        if layer.dim() != 3:
            raise ValueError(f"{name}[{index}] should be (1, heads, queries, keys), got shape "
                             f"{tuple(layer.shape)}; did you pass hidden states instead?")
        if squeezed and layer.shape != squeezed[0].shape:
            raise ValueError(f"{name}: layer {index} has shape {tuple(layer.shape)} but layer 0 "
                             f"has {tuple(squeezed[0].shape)}; all layers must match")
        squeezed.append(layer.detach().float().cpu())
    return torch.stack(squeezed)


def validate_tokens(tokens: Sequence[str], size: int, name: str = "tokens",
                 side: str = "positions") -> list[str]:
    """`tokens` as a list of strings, refused with a message unless there is one per position."""
    if isinstance(tokens, str):
        raise TypeError(f"{name} must be a list of tokens, not one string: use "
                        "tokenizer.convert_ids_to_tokens(inputs['input_ids'][0])")
    tokens = [str(t) for t in tokens]
    if not tokens:
        raise ValueError(f"{name} is empty: there is nothing to show for an empty input")
    if len(tokens) != size:
        raise ValueError(
            f"the attention covers {size} {side} but {len(tokens)} {name} were given "
            f"({' '.join(tokens[:8])}{' ...' if len(tokens) > 8 else ''}); pass the tokens of the "
            "same input the model read, e.g. tokenizer.convert_ids_to_tokens(input_ids[0])")
    return tokens


def readable_tokens(tokens: Sequence[str]) -> list[str]:
    """Tokens as a reader sees them: byte-level BPE's 'Ġ' and SentencePiece's '▁' become a space,
    'Ċ' a return sign, '</w>' disappears."""
    return [t.replace("Ġ", " ").replace("▁", " ").replace("Ċ", "↵").replace("</w>", "")
            for t in tokens]


def _square(weights: Any, name: str) -> int:
    """The number of tokens of a self-attention stack, refused unless queries = keys."""
    queries, keys = weights.shape[-2:]
    if queries != keys:
        raise ValueError(f"{name} is self-attention, so it must be square (queries = keys), got "
                         f"{queries}x{keys}; for cross-attention use Seq2SeqAttention or "
                         "seq2seq_attention_of(model, tokenizer, source)")
    return int(keys)


@dataclass
class AttentionPart:
    """One block of attention a view draws: its name in the view's menu (None when it is the
    only one), weights (layers, heads, queries, keys) and the tokens of the queries and keys."""

    name: str | None
    weights: Any
    queries: list[str]
    keys: list[str]


@dataclass
class Attention:
    """One input's tokens and its self-attention, (layers, heads, tokens, tokens).

    Checked when made, so `Attention(tokens, output.attentions)` also wraps weights you already
    have. `sentence_b_start`, for a sentence pair, is where the second sentence begins."""

    tokens: list[str]
    weights: Any
    special: list[int] = field(default_factory=list)
    sentence_b_start: int | None = None

    def __post_init__(self) -> None:
        self.weights = stack_attention(self.weights, "weights")
        size = _square(self.weights, "weights")
        self.tokens = validate_tokens(self.tokens, size)
        start = self.sentence_b_start
        if start is not None and not 0 < start < size:
            raise ValueError(f"sentence_b_start must be a position inside the {size} tokens "
                             f"(1 to {size - 1}), got {start}")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.weights.shape)  # type: ignore[return-value]

    def first(self, n: int) -> Attention:
        """The same attention cut to its first `n` tokens (a pair stays a pair while sentence B
        starts inside them)."""
        start = self.sentence_b_start
        return Attention(self.tokens[:n], self.weights[..., :n, :n],
                         [i for i in self.special if i < n],
                         start if start is not None and start < n else None)

    def parts(self) -> list[AttentionPart]:
        """What a view shows: the whole, and for a sentence pair each sentence to each."""
        w, t, start = self.weights, self.tokens, self.sentence_b_start
        if start is None:
            return [AttentionPart(None, w, t, t)]
        a, b = slice(0, start), slice(start, None)
        return [AttentionPart("All", w, t, t),
                AttentionPart("Sentence A -> Sentence A", w[..., a, a], t[a], t[a]),
                AttentionPart("Sentence B -> Sentence B", w[..., b, b], t[b], t[b]),
                AttentionPart("Sentence A -> Sentence B", w[..., a, b], t[a], t[b]),
                AttentionPart("Sentence B -> Sentence A", w[..., b, a], t[b], t[a])]


def _sentence_b_start(inputs: Any) -> int | None:
    """Where the second sentence of a tokenized pair begins, if the tokenizer says."""
    if getattr(inputs, "is_fast", False):
        ids = inputs.sequence_ids(0)
        return ids.index(1) if 1 in ids else None
    types = inputs.get("token_type_ids")
    types = [] if types is None else types[0].tolist()
    return types.index(1) if 1 in types else None


def attention_of(model: Any, tokenizer: Any, text: str, text_pair: str | None = None
                 ) -> Attention:
    """Run `model` on `text` (and an optional second sentence) and return its tokens and every
    layer's attention, ready for the views: `head_view(attention_of(...))`. The model must have
    been loaded with attn_implementation='eager'."""
    import torch

    validate_text(text)
    if text_pair is not None:
        validate_text(text_pair, "text_pair")
    inputs = tokenizer(text, text_pair, return_tensors="pt")
    device = next(model.parameters()).device
    with torch.no_grad():
        output = model(**{k: v.to(device) for k, v in inputs.items()}, output_attentions=True)
    attentions = getattr(output, "attentions", None)
    if attentions is None or len(attentions) == 0 or attentions[0] is None:
        implementation = getattr(model.config, "_attn_implementation", "unknown")
        raise ValueError(f"{NO_ATTENTIONS} (this model uses attn_implementation="
                         f"'{implementation}')")
    ids = inputs["input_ids"][0].tolist()
    special_ids = set(getattr(tokenizer, "all_special_ids", []))
    return Attention(tokenizer.convert_ids_to_tokens(ids), attentions,
                     [i for i, token_id in enumerate(ids) if token_id in special_ids],
                     _sentence_b_start(inputs) if text_pair is not None else None)


@dataclass
class Seq2SeqAttention:
    """An encoder-decoder run: both token lists and the three kinds of attention, each
    (layers, heads, queries, keys); checked when made, like `Attention`."""

    encoder_tokens: list[str]
    decoder_tokens: list[str]
    encoder: Any
    decoder: Any
    cross: Any

    def __post_init__(self) -> None:
        self.encoder = stack_attention(self.encoder, "encoder")
        self.decoder = stack_attention(self.decoder, "decoder")
        self.cross = stack_attention(self.cross, "cross")
        self.encoder_tokens = validate_tokens(self.encoder_tokens, _square(self.encoder, "encoder"),
                                           "encoder_tokens")
        self.decoder_tokens = validate_tokens(self.decoder_tokens, _square(self.decoder, "decoder"),
                                           "decoder_tokens")
        expected = (len(self.decoder_tokens), len(self.encoder_tokens))
        if tuple(self.cross.shape[-2:]) != expected:
            raise ValueError(f"cross must be (decoder tokens, encoder tokens) = {expected}, got "
                             f"{tuple(self.cross.shape[-2:])}; pass the cross_attentions of the "
                             "run that read these encoder and decoder tokens")

    def first(self, n: int) -> Seq2SeqAttention:
        """The same run cut to the first `n` encoder tokens and the first `n` decoder tokens."""
        return Seq2SeqAttention(self.encoder_tokens[:n], self.decoder_tokens[:n],
                                self.encoder[..., :n, :n], self.decoder[..., :n, :n],
                                self.cross[..., :n, :n])

    def parts(self) -> list[AttentionPart]:
        """What a view shows: the encoder's, the decoder's and the cross-attention."""
        enc, dec = self.encoder_tokens, self.decoder_tokens
        return [AttentionPart("Encoder", self.encoder, enc, enc),
                AttentionPart("Decoder", self.decoder, dec, dec),
                AttentionPart("Cross", self.cross, dec, enc)]


def seq2seq_attention_of(model: Any, tokenizer: Any, source: str, target: str | None = None,
                         max_new_tokens: int = 24) -> Seq2SeqAttention:
    """Encoder self-attention, decoder self-attention and cross-attention for `source` read by an
    encoder-decoder model, with the decoder fed `target` (by default the model's own greedy
    output, so you see what it attended to while writing it)."""
    import torch

    validate_text(source, "source")
    device = next(model.parameters()).device
    encoded = tokenizer(source, return_tensors="pt").to(device)
    encoded = {k: encoded[k] for k in ("input_ids", "attention_mask") if k in encoded}
    with torch.no_grad():
        if target is None:
            generated = model.generate(**encoded, max_new_tokens=max_new_tokens, do_sample=False)
            decoder_ids = generated[:, :-1] if generated[0, -1] == tokenizer.eos_token_id \
                else generated
        else:
            validate_text(target, "target")
            labels = tokenizer(text_target=target, return_tensors="pt")["input_ids"].to(device)
            start = torch.full((1, 1), model.config.decoder_start_token_id, device=device)
            decoder_ids = torch.cat([start, labels[:, :-1]], dim=1)
        output = model(**encoded, decoder_input_ids=decoder_ids, output_attentions=True)
    if not output.cross_attentions or output.cross_attentions[0] is None:
        raise ValueError(NO_ATTENTIONS)
    return Seq2SeqAttention(
        tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist()),
        tokenizer.convert_ids_to_tokens(decoder_ids[0].tolist()),
        output.encoder_attentions, output.decoder_attentions, output.cross_attentions)


@dataclass
class QueryKey:
    """One head's query and key vectors for every token of one input (BERT-style encoders)."""

    tokens: list[str]
    queries: Any  # (T, d)
    keys: Any  # (T, d)
    weights: Any  # (T, T): the model's own attention for this head

    def scores(self) -> Any:
        """q·k / sqrt(d) for every pair, (T, T), before the softmax."""
        return self.queries @ self.keys.T / self.queries.shape[-1] ** 0.5


def query_key_of(model: Any, tokenizer: Any, text: str, layer: int, head: int) -> QueryKey:
    """The query and key vectors of head `head` in layer `layer` of a BERT-style encoder (BertModel
    and its relatives: MiniLM, DistilBERT-like layer.attention.self.query/key), read from the
    layer's own weights and its input hidden states, with the model's attention to compare."""
    import torch

    from course_utils.attention.layers import split_heads

    validate_text(text)
    encoder = getattr(getattr(model, "base_model", model), "encoder", None)
    blocks = getattr(encoder, "layer", None)
    if blocks is None or not hasattr(blocks[0], "attention"):
        raise TypeError(f"query_key_of reads BERT-style layers (encoder.layer[i].attention.self); "
                        f"{type(model).__name__} has none")
    if not 0 <= layer < len(blocks):
        raise ValueError(f"layer must be between 0 and {len(blocks) - 1}, got {layer}")
    attention = blocks[layer].attention.self
    heads = attention.num_attention_heads
    if not 0 <= head < heads:
        raise ValueError(f"head must be between 0 and {heads - 1}, got {head}")
    inputs = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        output = model(**inputs, output_hidden_states=True, output_attentions=True)
        if not output.attentions:
            raise ValueError(NO_ATTENTIONS)
        hidden = output.hidden_states[layer]
        q = split_heads(attention.query(hidden), heads)[0, head]
        k = split_heads(attention.key(hidden), heads)[0, head]
    return QueryKey(tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist()), q, k,
                    output.attentions[layer][0, head])
