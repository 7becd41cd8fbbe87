"""A reference implementation of attention in plain torch, as notebook 03 builds it.

Shapes use B batch, H heads, T query positions, S key positions, D model width, d head width.
Masks are boolean: True means "may attend", False means "hidden".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def _validate_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise ValueError("q, k and v need at least 2 dimensions (positions, features), got "
                         f"shapes {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys must have the same width to be compared: q has "
                         f"{q.shape[-1]}, k has {k.shape[-1]} (last dimension)")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"keys and values must come in pairs: k has {k.shape[-2]} positions, "
                         f"v has {v.shape[-2]} (second-to-last dimension)")


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None
                                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √d + mask) v, returning (output, attention weights).

    q: (..., T, d), k: (..., S, d), v: (..., S, dv), mask: bool, broadcastable to (..., T, S).
    Returns output (..., T, dv) and weights (..., T, S), each row of weights summing to 1.
    """
    import torch

    _validate_qkv(q, k, v)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., T, S)
    if mask is not None:
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be boolean (True = may attend), got {mask.dtype}; "
                             "for a 0/1 attention_mask use attention_mask.bool()")
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            raise ValueError(f"mask of shape {tuple(mask.shape)} does not broadcast to the "
                             f"scores' shape {tuple(scores.shape)} (..., queries, keys)") from None
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, T, H*d) -> (B, H, T, d)."""
    if x.dim() != 3:
        raise ValueError(f"split_heads expects (batch, positions, width), got {tuple(x.shape)}")
    if heads < 1 or x.shape[-1] % heads:
        raise ValueError(f"width {x.shape[-1]} cannot be split into {heads} equal heads")
    b, t, width = x.shape
    return x.view(b, t, heads, width // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, d) -> (B, T, H*d), the inverse of split_heads."""
    if x.dim() != 4:
        raise ValueError(f"merge_heads expects (batch, heads, positions, d), got {tuple(x.shape)}")
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def causal_mask(size: int, device: str | torch.device | None = None) -> torch.Tensor:
    """(T, T) boolean mask where position i may attend to positions 0..i only."""
    import torch

    if not isinstance(size, int) or size < 1:
        raise ValueError(f"causal_mask needs a positive number of positions, got {size!r}")
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """A tokenizer's (B, S) 0/1 attention_mask as a (B, 1, 1, S) boolean mask over keys."""
    if attention_mask.dim() != 2:
        raise ValueError(f"attention_mask should be (batch, positions), got "
                         f"{tuple(attention_mask.shape)}")
    return attention_mask.bool()[:, None, None, :]


def repeat_kv(x: torch.Tensor, times: int) -> torch.Tensor:
    """Grouped-query attention: (B, Hkv, S, d) -> (B, Hkv*times, S, d), each head repeated."""
    if times == 1:
        return x
    b, h, s, d = x.shape
    return x[:, :, None].expand(b, h, times, s, d).reshape(b, h * times, s, d)


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """The original Transformer's fixed position encodings, (length, width)."""
    import torch

    if width % 2:
        raise ValueError(f"sinusoidal encodings pair sines and cosines: width must be even, "
                         f"got {width}")
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(-math.log(10000.0) * torch.arange(0, width, 2).float() / width)
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


def rope_cos_sin(positions: torch.Tensor, head_width: int, theta: float = 10000.0
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary embedding tables for the given positions: cos and sin of shape (..., T, d)."""
    import torch

    inverse = 1.0 / theta ** (torch.arange(0, head_width, 2).float() / head_width)
    angles = positions.float()[..., None] * inverse  # (..., T, d/2)
    angles = torch.cat([angles, angles], dim=-1)  # (..., T, d): halves rotate together
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_i, x_{i+d/2}) by its position's angle; x: (B, H, T, d)."""
    import torch

    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def bert_self_attention(layer: torch.nn.Module, hidden: torch.Tensor,
                        mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One BERT layer's multi-head self-attention from its weights, before the output dense.

    layer: a transformers BertLayer; hidden: (B, T, D); returns context (B, T, D) and weights
    (B, H, T, T).
    """
    self_attention = layer.attention.self
    heads = self_attention.num_attention_heads
    q = split_heads(self_attention.query(hidden), heads)  # (B, H, T, d)
    k = split_heads(self_attention.key(hidden), heads)
    v = split_heads(self_attention.value(hidden), heads)
    context, weights = scaled_dot_product_attention(q, k, v, mask)
    return merge_heads(context), weights


def bert_layer(layer: torch.nn.Module, hidden: torch.Tensor, mask: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole BERT encoder block (post-norm) from its weights: (output, attention weights)."""
    context, weights = bert_self_attention(layer, hidden, mask)
    attended = layer.attention.output.LayerNorm(layer.attention.output.dense(context) + hidden)
    expanded = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(attended))
    return layer.output.LayerNorm(layer.output.dense(expanded) + attended), weights


def llama_attention(attention: torch.nn.Module, hidden: torch.Tensor, config: object
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """A Llama-family attention layer (RoPE, grouped-query, causal) from its weights.

    attention: a LlamaAttention; hidden: (B, T, D) after the layer's input norm; config: the
    model config (num_attention_heads, num_key_value_heads, head_dim, rope theta).
    """
    import torch

    b, t, _ = hidden.shape
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    width = getattr(config, "head_dim", None) or config.hidden_size // heads
    rope = getattr(config, "rope_parameters", None) or {}
    theta = rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))
    q = attention.q_proj(hidden).view(b, t, heads, width).transpose(1, 2)  # (B, H, T, d)
    k = attention.k_proj(hidden).view(b, t, kv_heads, width).transpose(1, 2)  # (B, Hkv, T, d)
    v = attention.v_proj(hidden).view(b, t, kv_heads, width).transpose(1, 2)
    cos, sin = rope_cos_sin(torch.arange(t), width, theta)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    k, v = repeat_kv(k, heads // kv_heads), repeat_kv(v, heads // kv_heads)
    context, weights = scaled_dot_product_attention(q, k, v, causal_mask(t))
    return attention.o_proj(merge_heads(context)), weights
