"""Attention statistics on hand-made weights whose answers are known, attribution on a tiny
classifier, the query/key view, the static plots and the explorer widget."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch
from attention_fixtures import TINY, tiny_bert, tiny_classifier

from course_utils.attention import stats
from course_utils.attention.data import query_key_of
from course_utils.attention.plots import attention_heatmap, head_grid, head_table, query_key_picture
from course_utils.attention.explorer import attention_explorer
from course_utils.offline import hub

matplotlib.use("Agg")
N = 6


def previous_token(n=N):
    """Every query looks at the token before it (the first at itself)."""
    weights = torch.zeros(n, n)
    weights[0, 0] = 1
    weights[torch.arange(1, n), torch.arange(n - 1)] = 1
    return weights


def stacked(*heads):
    return torch.stack(heads)[None]  # (1 layer, heads, n, n)


def test_entropy_is_zero_for_one_token_and_log2_n_for_uniform():
    values = stats.head_entropy(stacked(torch.eye(N), torch.full((N, N), 1 / N)))
    assert values.shape == (1, 2)
    assert values[0, 0] == pytest.approx(0, abs=1e-6)
    assert values[0, 1] == pytest.approx(math.log2(N))


def test_distance_offset_and_special_share():
    weights = stacked(previous_token(), torch.eye(N))
    assert stats.mean_distance(weights)[0].tolist() == pytest.approx([(N - 1) / N, 0])
    assert stats.offset_share(weights, -1)[0].tolist() == pytest.approx([1, 0])
    assert stats.offset_share(weights, 1)[0].tolist() == pytest.approx([0, 0])
    assert stats.share_on(weights, [0])[0].tolist() == pytest.approx([2 / N, 1 / N])


def test_relation_scores_skip_self_and_ignored_positions():
    weights = stacked(previous_token(), torch.eye(N))
    scores = stats.relation_scores(weights, [(3, 2), (5, 4)])
    assert scores[0].tolist() == pytest.approx([1.0, 0.0])
    # with the true key ignored, the previous-token head can no longer be right
    assert stats.relation_scores(weights, [(3, 2)], ignore=[2])[0, 0] == 0


def test_top_heads_orders_layer_and_head():
    values = torch.tensor([[0.1, 0.9], [0.5, 0.2]])
    assert [(layer, head) for layer, head, _ in stats.top_heads(values, 2)] == [(0, 1), (1, 0)]
    assert stats.top_heads(values, 1, largest=False)[0][:2] == (0, 0)


def test_rank_correlation_known_values():
    assert stats.rank_correlation([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert stats.rank_correlation([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    assert stats.rank_correlation([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833)


@pytest.mark.parametrize("call, words", [
    (lambda: stats.offset_share(stacked(torch.eye(N)), 0), "non-zero"),
    (lambda: stats.offset_share(stacked(torch.eye(N)), N), "smaller than"),
    (lambda: stats.share_on(stacked(torch.eye(N)), [N]), "key indices"),
    (lambda: stats.relation_scores(stacked(torch.eye(N)), []), "pairs is empty"),
    (lambda: stats.relation_scores(stacked(torch.eye(N)), [(1, 1)]), "two different"),
    (lambda: stats.mean_distance(torch.rand(1, 2, 3, 4)), "queries = keys"),
    (lambda: stats.rank_correlation([1, 2], [1, 2]), "at least 3"),
    (lambda: stats.rank_correlation([1, 1, 1], [1, 2, 3]), "constant"),
    (lambda: stats.head_entropy(()), "attn_implementation='eager'"),
])
def test_statistics_refuse_bad_input(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_integrated_gradients_add_up_and_occlusion_is_per_token(tmp_path):
    model, tokenizer = tiny_bert(tmp_path, labels=3)
    text = "the cat sat on the mat"
    result = stats.integrated_gradients(model, tokenizer, text, steps=64)
    assert len(result.scores) == len(result.tokens) == len(result.attention) == 8
    assert result.scores[0] == 0 and result.scores[-1] == 0  # [CLS] and [SEP] are kept
    assert abs(result.gap) < 0.02 * max(abs(result.logit - result.baseline_logit), 1e-3)
    assert sum(result.attention) == pytest.approx(1, abs=1e-5)
    drops = stats.occlusion(model, tokenizer, text, result.label_id)
    assert len(drops) == 8 and drops[0] == 0 and any(d != 0 for d in drops[1:-1])
    other = stats.integrated_gradients(model, tokenizer, text, label=(result.label_id + 1) % 3)
    assert other.label_id != result.label_id


CLASSIFIERS = sorted({e.architecture for e in hub.REGISTRY.values()
                      if e.kind == "model" and e.task == "text-classification"})


def test_the_classifier_architectures_the_course_names_have_a_tiny_model():
    assert "roberta" in CLASSIFIERS and set(CLASSIFIERS) <= set(TINY)


@pytest.mark.parametrize("architecture", CLASSIFIERS)
def test_attribution_is_exact_on_each_real_classifier_architecture(tmp_path, architecture):
    """Online, notebook 07 explains a RoBERTa classifier, which gives a [PAD] the padding
    position: a baseline of [PAD]s fed as ids would move every position, so the baseline logit
    would not be the integral's start and occlusion would measure a shift as well as a missing
    word. Both must hold on every architecture the registry's classifiers have."""
    model, tokenizer = tiny_classifier(tmp_path, architecture)
    text = "the cat sat on the mat"
    result = stats.integrated_gradients(model, tokenizer, text, steps=64)
    assert abs(result.logit - result.baseline_logit) > 0.05  # a test that can see a gap
    assert abs(result.gap) < 0.02 * abs(result.logit - result.baseline_logit)
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    occluded = ids.clone()
    occluded[0, 2] = tokenizer.pad_token_id
    first = model.config.pad_token_id + 1 if architecture == "roberta" else 0
    kept_positions = {"position_ids": first + torch.arange(ids.shape[1])[None]}
    with torch.no_grad():
        kept, dropped = (model(input_ids=i, **kept_positions).logits[0, result.label_id]
                         for i in (ids, occluded))
    drops = stats.occlusion(model, tokenizer, text, result.label_id)
    assert drops[2] == pytest.approx(float(kept - dropped), abs=1e-5)


@pytest.mark.parametrize("kwargs, words", [
    ({"text": ""}, "empty"), ({"label": 7}, "class index"), ({"steps": 1}, "steps"),
])
def test_integrated_gradients_refuse_bad_input(tmp_path, kwargs, words):
    model, tokenizer = tiny_bert(tmp_path, labels=3)
    with pytest.raises(ValueError, match=words):
        stats.integrated_gradients(model, tokenizer, **{"text": "the cat", **kwargs})


def test_query_key_of_reproduces_the_model(tmp_path):
    model, tokenizer = tiny_bert(tmp_path)
    head = query_key_of(model, tokenizer, "the dog ran and the cat sat", layer=1, head=2)
    assert head.queries.shape == head.keys.shape == (9, 8)
    assert torch.allclose(head.scores().softmax(-1), head.weights, atol=1e-5)
    figure = query_key_picture(head, query=3)
    assert len(figure.axes) == 4
    with pytest.raises(ValueError, match="layer must be"):
        query_key_of(model, tokenizer, "the dog", layer=3, head=0)
    with pytest.raises(ValueError, match="head must be"):
        query_key_of(model, tokenizer, "the dog", layer=0, head=4)
    with pytest.raises(ValueError, match="query must be"):
        query_key_picture(head, query=9)
    with pytest.raises(TypeError, match="BERT-style"):
        query_key_of(torch.nn.Linear(2, 2), tokenizer, "the dog", 0, 0)


def test_plots_draw_and_refuse_bad_input():
    weights = torch.rand(2, 3, 4, 4).softmax(-1)
    words = ["a", "b", "c", "d"]
    assert attention_heatmap(weights, words, layer=1, head=2).axes
    title = attention_heatmap(weights, words, layer=-1).axes[0].get_title()
    assert title == "layer 1, mean of heads"
    assert len([ax for ax in head_grid(weights, words, layer=0, columns=2).axes
                if ax.has_data()]) == 3
    assert head_table(torch.rand(2, 3), "entropy").axes
    with pytest.raises(ValueError, match="layer must be"):
        attention_heatmap(weights, words, layer=2)
    with pytest.raises(ValueError, match="head must be"):
        attention_heatmap(weights, words, layer=0, head=3)
    with pytest.raises(ValueError, match="covers 4"):
        attention_heatmap(weights, words[:3], layer=0)
    with pytest.raises(ValueError, match="key positions"):
        attention_heatmap(torch.rand(1, 1, 2, 4), ["x", "y"], layer=0, key_tokens=["k"])
    with pytest.raises(ValueError, match="table"):
        head_table(torch.rand(3), "entropy")


def test_explorer_follows_the_sentence_layer_and_head(tmp_path):
    model, tokenizer = tiny_bert(tmp_path)
    explorer = attention_explorer(model, tokenizer, "the cat sat on the mat")
    assert "cu-attention-explorer" in explorer.widget._dom_classes
    first = explorer.picture.value
    assert "layer 0, mean of heads" in first and first.count("<td title=") == 64
    explorer.show(layer=2, head=1)
    assert "layer 2, head 1" in explorer.picture.value
    explorer.sentence.value = "the dog ran"
    assert explorer.picture.value.count("<td title=") == 25
    explorer.sentence.value = "  "
    assert "empty" in explorer.picture.value
    with pytest.raises(ValueError, match="layer must be"):
        explorer.show(layer=5)
    with pytest.raises(ValueError, match="head must be"):
        explorer.show(head=4)


def test_explorer_caps_tokens_and_refuses_a_model_without_attentions(tmp_path):
    model, tokenizer = tiny_bert(tmp_path)
    explorer = attention_explorer(model, tokenizer, "the cat sat on the mat", max_tokens=4)
    assert "first 4 of 8 tokens" in explorer.picture.value
    sdpa, _ = tiny_bert(tmp_path, attn="sdpa")
    with pytest.raises(ValueError, match="eager"):
        attention_explorer(sdpa, tokenizer, "the cat")
