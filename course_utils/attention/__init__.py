"""Attention, one subpackage: the layers written out (`layers`, re-exported here), what a model
attends to (`data`), statistics over heads (`stats`), static plots (`plots`), bertviz views that
render offline (`views`) and the interactive explorer (`explorer`)."""

from course_utils.attention.layers import (
    apply_rope,
    bert_layer,
    bert_self_attention,
    causal_mask,
    llama_attention,
    merge_heads,
    padding_mask,
    repeat_kv,
    rope_cos_sin,
    scaled_dot_product_attention,
    sinusoidal_positions,
    split_heads,
)

__all__ = [
    "apply_rope", "bert_layer", "bert_self_attention", "causal_mask", "llama_attention",
    "merge_heads", "padding_mask", "repeat_kv", "rope_cos_sin", "scaled_dot_product_attention",
    "sinusoidal_positions", "split_heads",
]
