import math

import pytest
import torch

from course_utils.attention import (
    apply_rope,
    causal_mask,
    merge_heads,
    padding_mask,
    repeat_kv,
    rope_cos_sin,
    scaled_dot_product_attention,
    sinusoidal_positions,
    split_heads,
)


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


def test_matches_torch_fused_attention():
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 4) and weights.shape == (2, 3, 5, 7)
    torch.testing.assert_close(out, torch.nn.functional.scaled_dot_product_attention(q, k, v),
                               atol=1e-6, rtol=0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))


def test_causal_mask_hides_the_future():
    q = k = v = torch.randn(1, 2, 6, 4)
    out, weights = scaled_dot_product_attention(q, k, v, causal_mask(6))
    assert torch.all(weights.triu(diagonal=1) == 0)
    fused = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, fused, atol=1e-6, rtol=0)
    changed = v.clone()
    changed[..., -1, :] += 10  # the last value only reaches the last query
    out2, _ = scaled_dot_product_attention(q, k, changed, causal_mask(6))
    torch.testing.assert_close(out2[..., :-1, :], out[..., :-1, :])


def test_padding_mask_ignores_padded_keys():
    q, k, v = torch.randn(2, 1, 3, 4), torch.randn(2, 1, 3, 4), torch.randn(2, 1, 3, 4)
    mask = padding_mask(torch.tensor([[1, 1, 1], [1, 1, 0]]))
    assert mask.shape == (2, 1, 1, 3)
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(weights[1, ..., 2] == 0) and torch.all(weights[0, ..., 2] > 0)


def test_cross_attention_lengths():
    out, weights = scaled_dot_product_attention(torch.randn(4, 8), torch.randn(9, 8),
                                                torch.randn(9, 2))
    assert out.shape == (4, 2) and weights.shape == (4, 9)


def test_heads_split_and_merge_are_inverses():
    x = torch.randn(2, 5, 12)
    heads = split_heads(x, 3)
    assert heads.shape == (2, 3, 5, 4)
    torch.testing.assert_close(merge_heads(heads), x)
    torch.testing.assert_close(heads[:, 1], x[..., 4:8])


def test_repeat_kv_for_grouped_queries():
    kv = torch.randn(1, 3, 5, 4)
    out = repeat_kv(kv, 3)
    assert out.shape == (1, 9, 5, 4)
    torch.testing.assert_close(out[:, 0], out[:, 2])
    torch.testing.assert_close(out[:, 3], kv[:, 1])
    assert repeat_kv(kv, 1) is kv


def test_sinusoidal_positions():
    table = sinusoidal_positions(50, 16)
    assert table.shape == (50, 16)
    assert table[0, 0] == 0 and table[0, 1] == 1
    assert math.isclose(float(table[3, 2]), math.sin(3 / 10000 ** (2 / 16)), rel_tol=1e-6)


def test_rope_keeps_length_and_depends_only_on_relative_position():
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(m, n):
        cq, sq = rope_cos_sin(torch.tensor([m]), 8)
        ck, sk = rope_cos_sin(torch.tensor([n]), 8)
        return float((apply_rope(q, cq, sq) * apply_rope(k, ck, sk)).sum())

    assert math.isclose(score(3, 1), score(10, 8), rel_tol=1e-4)
    cos, sin = rope_cos_sin(torch.arange(4), 8)
    rotated = apply_rope(torch.randn(1, 1, 4, 8), cos, sin)
    assert rotated.shape == (1, 1, 4, 8)
    x = torch.randn(1, 1, 4, 8)
    torch.testing.assert_close(apply_rope(x, cos, sin).norm(dim=-1), x.norm(dim=-1))


@pytest.mark.parametrize("q, k, v, words", [
    (torch.randn(3, 4), torch.randn(3, 5), torch.randn(3, 5), "same width"),
    (torch.randn(3, 4), torch.randn(3, 4), torch.randn(2, 4), "in pairs"),
    (torch.randn(4), torch.randn(4), torch.randn(4), "at least 2 dimensions"),
])
def test_bad_shapes_are_refused_clearly(q, k, v, words):
    with pytest.raises(ValueError, match=words):
        scaled_dot_product_attention(q, k, v)


def test_bad_masks_are_refused_clearly():
    q = k = v = torch.randn(1, 2, 4, 8)
    with pytest.raises(ValueError, match="boolean"):
        scaled_dot_product_attention(q, k, v, torch.ones(4, 4))
    with pytest.raises(ValueError, match="does not broadcast"):
        scaled_dot_product_attention(q, k, v, torch.ones(3, 4, dtype=torch.bool))


@pytest.mark.parametrize("call, words", [
    (lambda: split_heads(torch.randn(2, 5, 10), 3), "equal heads"),
    (lambda: split_heads(torch.randn(5, 10), 2), "batch, positions, width"),
    (lambda: merge_heads(torch.randn(2, 5, 10)), "batch, heads"),
    (lambda: causal_mask(0), "positive number"),
    (lambda: padding_mask(torch.ones(3)), "batch, positions"),
    (lambda: sinusoidal_positions(4, 7), "even"),
])
def test_helpers_refuse_bad_input(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_bert_layer_matches_the_library_on_a_tiny_model():
    from transformers import BertConfig, BertModel

    from course_utils.attention import bert_layer

    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=64, attn_implementation="eager")
    model = BertModel(config).eval()
    ids = torch.randint(0, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True,
                    output_attentions=True)
        ours, weights = bert_layer(model.encoder.layer[0], out.hidden_states[0],
                                   padding_mask(mask))
    real = mask.bool()
    torch.testing.assert_close(ours[real], out.hidden_states[1][real], atol=1e-5, rtol=0)
    torch.testing.assert_close(weights, out.attentions[0], atol=1e-5, rtol=0)


def test_llama_attention_matches_the_library_on_a_tiny_model():
    from transformers import LlamaConfig, LlamaForCausalLM

    from course_utils.attention import llama_attention

    config = LlamaConfig(vocab_size=50, hidden_size=48, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=6, num_key_value_heads=2, head_dim=8,
                         rope_theta=500.0, attn_implementation="eager")
    model = LlamaForCausalLM(config).eval()
    layer = model.model.layers[0].self_attn
    seen = {}
    hook = layer.register_forward_hook(
        lambda mod, args, kwargs, output: seen.update(hidden=kwargs["hidden_states"], out=output),
        with_kwargs=True)
    with torch.no_grad():
        result = model(input_ids=torch.randint(0, 50, (1, 9)), output_attentions=True)
        ours, weights = llama_attention(layer, seen["hidden"], model.config)
    hook.remove()
    torch.testing.assert_close(ours, seen["out"][0], atol=1e-5, rtol=0)
    torch.testing.assert_close(weights, result.attentions[0], atol=1e-5, rtol=0)
