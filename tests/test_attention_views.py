"""The offline attention views: no CDN, deterministic, capped, with a static fallback, and a
clear message for every kind of bad input."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch
from attention_fixtures import tiny_bert, tiny_t5

from course_utils.attention.data import (
    NO_ATTENTIONS,
    Attention,
    Seq2SeqAttention,
    attention_of,
    seq2seq_attention_of,
)
from course_utils.attention.views import _bertviz_script, head_view, model_view


def random_attention(layers=2, heads=3, queries=5, keys=None, seed=0):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(layers, 1, heads, queries, keys or queries, generator=generator)
    return tuple(scores.softmax(-1))


def tokens(n):
    return [f"w{i}" for i in range(n)]


def self_attention(layers=2, heads=3, n=5, seed=0, **kwargs):
    return Attention(tokens(n), random_attention(layers, heads, n, seed=seed), **kwargs)


def encoder_decoder(enc=4, dec=3):
    return Seq2SeqAttention(tokens(enc), ["a", "b", "c", "d", "e"][:dec],
                            random_attention(queries=enc), random_attention(queries=dec),
                            random_attention(queries=dec, keys=enc))


@pytest.mark.parametrize("view", [head_view, model_view])
def test_views_load_nothing_from_the_network(view):
    html = view(self_attention()).html
    assert "cdnjs" not in html and "require.config" not in html and "requirejs(" not in html
    assert not re.search(r"""src=["']https?:""", html)
    assert "d3 version" in html or "d3.select" in html  # bertviz's drawing code is inside
    assert html.count("<script>") == 1


def test_bertviz_scripts_are_rewrapped():
    for name in ("head_view", "model_view"):
        script = _bertviz_script(name)
        assert script.startswith("/**") or script.lstrip().startswith("/**")
        assert "(function ($, d3) {" in script and script.endswith("})")


def test_view_ids_are_deterministic_for_the_same_data():
    first = head_view(self_attention())
    second = head_view(self_attention())
    other = head_view(self_attention(seed=1))
    ids = [re.search(r'id="(cu-attn-\d+-[0-9a-f]+)"', v.html).group(1)
           for v in (first, second, other)]
    assert len(set(ids)) == 3  # unique on one page
    assert ids[0].split("-")[-1] == ids[1].split("-")[-1] != ids[2].split("-")[-1]


def test_a_fresh_run_gives_byte_identical_output():
    script = ("import hashlib, torch\n"
              "from course_utils.attention.data import Attention\n"
              "from course_utils.attention.views import head_view\n"
              "g = torch.Generator().manual_seed(3)\n"
              "a = torch.randn(2, 3, 6, 6, generator=g).softmax(-1)\n"
              "v = head_view(Attention([str(i) for i in range(6)], a))\n"
              "print(hashlib.sha256(v.html.encode()).hexdigest())")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0].strip()) == 64


def test_static_picture_shows_until_the_script_runs():
    html = head_view(self_attention()).html
    assert 'class="cu-attn-fallback"' in html and "data:image/png;base64," in html
    assert 'class="cu-attn-live" style="display:none"' in html
    assert 'fallback.style.display = "none"' in html
    assert "needs JavaScript" in html
    assert "<img" not in head_view(self_attention(), static=False).html


def test_long_inputs_and_deep_models_are_capped_with_a_note():
    view = head_view(self_attention(layers=30, n=60))
    assert "first 48 of 60 tokens" in view.summary and "max_tokens=60" in view.summary
    assert "12 of 30 layers" in view.summary
    shown = re.search(r"layers \[([\d, ]+)\]", view.summary).group(1)
    layers = [int(x) for x in shown.split(",")]
    assert layers[0] == 0 and layers[-1] == 29 and len(layers) == 12
    assert '"w47"' in view.html and '"w48"' not in view.html
    small = head_view(self_attention())
    assert small.notes == []


def test_forty_tokens_stay_under_one_and_a_half_megabytes():
    view = head_view(self_attention(layers=6, heads=12, n=40))
    assert view.size_bytes <= 1.5e6, view.size_bytes


def test_tokens_that_hide_markup_are_escaped():
    view = head_view(Attention(["</script>", "<b>", "x"], random_attention(queries=3)))
    assert view.html.count("</script>") == 1  # only the closing tag of the view's own script


def test_sentence_pairs_and_encoder_decoder_get_a_menu():
    pair = head_view(self_attention(n=6, sentence_b_start=3))
    assert pair.html.split("<script>")[0].count("<option") == 5
    cross = head_view(encoder_decoder())
    assert "Encoder 4x4" in cross.summary and "Cross 3x4" in cross.summary
    assert cross.html.split("<script>")[0].count("<option") == 3
    mv = model_view(encoder_decoder(), show="Cross", heads=[0, 2])
    assert '"include_heads":[0,2]' in mv.html and "<option" not in mv.html.split("<script>")[0]
    assert mv.summary.startswith("model view: Cross 3x4 tokens;")
    two = head_view(encoder_decoder(), show=["cross", "encoder"])
    assert "Cross 3x4 tokens, Encoder 4x4 tokens" in two.summary


def test_long_encoder_decoder_runs_are_cut_on_each_side():
    view = head_view(encoder_decoder(enc=4, dec=3), max_tokens=2)
    assert "first 2 of 4 encoder tokens" in view.summary
    assert "first 2 of 3 decoder tokens" in view.summary and "Cross 2x2" in view.summary


def test_a_pair_cut_before_sentence_b_is_shown_whole():
    view = head_view(self_attention(n=6, sentence_b_start=4), max_tokens=3)
    assert "<option" not in view.html.split("<script>")[0] and "self 3x3" in view.summary


@pytest.mark.parametrize("make, words", [
    (lambda: Attention(tokens(4), random_attention()), "covers 5 positions but 4 tokens"),
    (lambda: Attention([], random_attention()), "empty"),
    (lambda: Attention("w0 w1 w2 w3 w4", random_attention()), "list of tokens"),
    (lambda: Attention(tokens(5), ()), "attn_implementation='eager'"),
    (lambda: Attention(tokens(5), tuple(torch.rand(2, 2, 3, 5, 5))), "batch of 2"),
    (lambda: Attention(tokens(5), random_attention(queries=3, keys=5)), "square"),
    (lambda: Attention(tokens(5), (torch.rand(1, 3, 5, 5), torch.rand(1, 2, 5, 5))),
     "all layers must match"),
    (lambda: Attention(tokens(5), [torch.rand(5, 5)]), "hidden states"),
    (lambda: self_attention(sentence_b_start=9), "sentence_b_start"),
    (lambda: head_view(self_attention(), layer=7), "layer 7 is not among"),
    (lambda: head_view(self_attention(), heads=[3]), "heads must be"),
    (lambda: head_view(self_attention(), layers=[2]), "layers must be"),
    (lambda: head_view(self_attention(), max_tokens=0), "max_tokens"),
    (lambda: head_view(random_attention()), "wrap them first: head_view(Attention("),
    (lambda: head_view(None), "attention_of(model, tokenizer, text)"),
    (lambda: head_view(self_attention(), show="Cross"), "only one part"),
    (lambda: head_view(encoder_decoder(), show="Crosss"), "'Encoder', 'Decoder', 'Cross'"),
    (lambda: Seq2SeqAttention(tokens(4), tokens(3), random_attention(queries=4),
                              random_attention(queries=3), random_attention(queries=3, keys=5)),
     "cross must be (decoder tokens, encoder tokens) = (3, 4)"),
    (lambda: Seq2SeqAttention(tokens(3), tokens(3), random_attention(queries=4),
                              random_attention(queries=3), random_attention(queries=3, keys=4)),
     "4 positions but 3 encoder_tokens"),
    (lambda: head_view(Seq2SeqAttention(tokens(4), tokens(3), random_attention(queries=4),
                                        random_attention(layers=3, queries=3),
                                        random_attention(queries=3, keys=4))),
     "show them one at a time"),
])
def test_bad_input_gets_a_clear_message(make, words):
    with pytest.raises((ValueError, TypeError), match=re.escape(words)):
        make()


def test_model_view_refuses_an_unknown_display_mode():
    with pytest.raises(ValueError, match="display_mode"):
        model_view(self_attention(), display_mode="blue")


def test_attention_of_a_real_forward_pass(tmp_path):
    model, tokenizer = tiny_bert(tmp_path)
    found = attention_of(model, tokenizer, "the cat sat on the mat")
    assert found.tokens[0] == "[CLS]" and found.tokens[-1] == "[SEP]"
    assert found.shape == (3, 4, 8, 8) and found.special == [0, 7]
    assert torch.allclose(found.weights.sum(-1), torch.ones(3, 4, 8))
    assert "8x8 tokens" in head_view(found).summary
    pair = attention_of(model, tokenizer, "the cat sat", "on the mat")
    assert pair.sentence_b_start == 5 and pair.tokens[5] == "on"
    assert head_view(pair).html.split("<script>")[0].count("<option") == 5


def test_attention_of_refuses_an_empty_sentence_and_a_model_without_attentions(tmp_path):
    model, tokenizer = tiny_bert(tmp_path)
    with pytest.raises(ValueError, match="empty"):
        attention_of(model, tokenizer, "   ")
    sdpa, _ = tiny_bert(tmp_path, attn="sdpa")
    with pytest.raises(ValueError, match=re.escape(NO_ATTENTIONS[:40])):
        attention_of(sdpa, tokenizer, "the cat sat")


def test_seq2seq_attention_has_three_matching_parts(tmp_path):
    model, tokenizer = tiny_t5(tmp_path)
    pair = seq2seq_attention_of(model, tokenizer, "the dog ran", target="a big house")
    assert pair.encoder.shape[-1] == len(pair.encoder_tokens) == 5
    assert pair.cross.shape[-2:] == (len(pair.decoder_tokens), len(pair.encoder_tokens))
    assert pair.decoder.shape[-1] == pair.decoder.shape[-2] == len(pair.decoder_tokens)
    assert torch.triu(pair.decoder, diagonal=1).max() == 0  # the decoder is causal
    generated = seq2seq_attention_of(model, tokenizer, "the dog ran", max_new_tokens=4)
    assert generated.cross.shape[-1] == 5
    view = head_view(pair)
    assert "Cross" in view.summary
