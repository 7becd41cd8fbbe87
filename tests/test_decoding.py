"""Hand-written decoding against transformers' generate(), on a tiny random Llama."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils import decoding


@pytest.fixture
def prompt():
    return torch.tensor([[5, 17, 42, 8]])


def test_greedy_matches_generate_with_and_without_cache(tiny_llama, prompt):
    library = tiny_llama.generate(prompt, max_new_tokens=12, do_sample=False)
    for use_cache in (True, False):
        ours = decoding.generate_by_hand(tiny_llama, prompt, 12, use_cache=use_cache)
        assert torch.equal(ours, library), use_cache


@pytest.mark.parametrize("settings", [dict(temperature=0.7, top_k=20, top_p=0.9),
                                      dict(temperature=1.3, top_k=97, top_p=1.0),
                                      dict(temperature=1.0, top_k=5, top_p=0.5)])
def test_sampling_matches_generate_under_the_same_seed(tiny_llama, prompt, settings):
    torch.manual_seed(123)
    library = tiny_llama.generate(prompt, max_new_tokens=15, do_sample=True, **settings)
    torch.manual_seed(123)
    ours = decoding.generate_by_hand(tiny_llama, prompt, 15, do_sample=True, **settings)
    assert torch.equal(ours, library)


def test_sampling_differs_across_seeds(tiny_llama, prompt):
    runs = set()
    for seed in range(4):
        torch.manual_seed(seed)
        runs.add(tuple(decoding.generate_by_hand(tiny_llama, prompt, 10, do_sample=True,
                                                 temperature=2.0)[0].tolist()))
    assert len(runs) > 1


def test_beam_search_matches_generate(tiny_llama, prompt):
    library = tiny_llama.generate(prompt, max_new_tokens=6, num_beams=3, do_sample=False,
                                  num_return_sequences=3, output_scores=True,
                                  return_dict_in_generate=True)
    ours = decoding.beam_search(tiny_llama, prompt, num_beams=3, max_new_tokens=6)
    assert [b.tokens for b in ours] == library.sequences[:, prompt.shape[1]:].tolist()
    assert [b.score for b in ours] == pytest.approx(library.sequences_scores.tolist(), abs=1e-4)


def test_beam_search_with_one_beam_is_greedy(tiny_llama, prompt):
    greedy = decoding.generate_by_hand(tiny_llama, prompt, 8)
    assert decoding.beam_search(tiny_llama, prompt, 1, 8)[0].tokens == greedy[0, 4:].tolist()


def test_greedy_stops_at_eos(tiny_llama, prompt):
    full = decoding.generate_by_hand(tiny_llama, prompt, 10)
    eos = int(full[0, 6])  # the third new token
    stopped = decoding.generate_by_hand(tiny_llama, prompt, 10, eos_token_id=eos)
    assert stopped[0, -1] == eos and stopped.shape[1] <= 7


def test_top_k_keeps_k_tokens():
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0, 0.0]])
    kept = decoding.top_k_filter(logits, 2)
    assert torch.isfinite(kept).tolist() == [[False, True, True, False, False]]
    assert torch.isfinite(decoding.top_k_filter(logits, 50)).all()


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log()
    assert torch.isfinite(decoding.top_p_filter(logits, 0.5)).tolist() == [True, False, False,
                                                                           False]
    assert torch.isfinite(decoding.top_p_filter(logits, 0.79)).tolist() == [True, True, False,
                                                                            False]
    assert torch.isfinite(decoding.top_p_filter(logits, 0.81)).tolist() == [True, True, True,
                                                                            False]
    assert torch.isfinite(decoding.top_p_filter(logits, 1.0)).all()
    assert torch.isfinite(decoding.top_p_filter(logits, 0.01)).sum() == 1  # never empty


def test_temperature_sharpens_and_flattens():
    logits = torch.tensor([2.0, 1.0, 0.0])
    cold = decoding.apply_temperature(logits, 0.5).softmax(-1)
    hot = decoding.apply_temperature(logits, 2.0).softmax(-1)
    base = logits.softmax(-1)
    assert cold[0] > base[0] > hot[0]


@pytest.mark.parametrize("top_p", [0, -0.1, 1.5, math.nan, "0.9", True])
def test_bad_top_p_is_refused(top_p):
    with pytest.raises(ValueError, match="top_p"):
        decoding.top_p_filter(torch.zeros(3), top_p)
    with pytest.raises(ValueError, match="top_p"):
        decoding.pick_next(torch.zeros(1, 3), do_sample=True, top_p=top_p)


@pytest.mark.parametrize("temperature", [0, -1, math.inf, math.nan, None])
def test_bad_temperature_is_refused(temperature, tiny_llama, prompt):
    with pytest.raises(ValueError, match="temperature"):
        decoding.apply_temperature(torch.zeros(3), temperature)
    with pytest.raises(ValueError, match="temperature"):
        decoding.generate_by_hand(tiny_llama, prompt, 3, do_sample=True, temperature=temperature)


@pytest.mark.parametrize("top_k", [0, -3, 2.5])
def test_bad_top_k_is_refused(top_k):
    with pytest.raises(ValueError, match="top_k"):
        decoding.top_k_filter(torch.zeros(3), top_k)


def test_bad_logits_and_prompts_are_explained(tiny_llama):
    with pytest.raises(ValueError, match="last position"):
        decoding.pick_next(torch.zeros(1, 4, 97))
    with pytest.raises(ValueError, match="float tensor"):
        decoding.pick_next([1.0, 2.0])
    with pytest.raises(ValueError, match="return_tensors"):
        decoding.generate_by_hand(tiny_llama, torch.tensor([1, 2, 3]), 3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        decoding.generate_by_hand(tiny_llama, torch.tensor([[1, 2]]), 0)
    with pytest.raises(ValueError, match="num_beams"):
        decoding.beam_search(tiny_llama, torch.tensor([[1, 2]]), 0, 3)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        decoding.perplexity(tiny_llama, torch.tensor([[1]]))


def test_perplexity_is_exp_of_the_mean_next_token_loss(tiny_llama):
    ids = torch.tensor([[3, 4, 5, 6, 7, 8]])
    with torch.no_grad():
        logprobs = tiny_llama(ids).logits[0, :-1].log_softmax(-1)
    nll = -logprobs.gather(1, ids[0, 1:, None]).mean()
    assert decoding.perplexity(tiny_llama, ids) == pytest.approx(math.exp(nll), rel=1e-4)


def test_cache_argument_names_the_forward_keyword(tiny_llama):
    import inspect

    name = decoding.cache_argument(tiny_llama)
    assert name in inspect.signature(tiny_llama.forward).parameters


def test_cached_steps_give_the_same_logits(tiny_llama, prompt):
    full, _ = decoding.step(tiny_llama, prompt, use_cache=False)
    _, cache = decoding.step(tiny_llama, prompt[:, :-1])
    last, _ = decoding.step(tiny_llama, prompt[:, -1:], cache)
    torch.testing.assert_close(last, full, atol=1e-4, rtol=1e-4)


def test_seconds_per_token_measures_each_length(tiny_llama):
    times = decoding.seconds_per_token(tiny_llama, [4, 16], use_cache=True, repeat=1)
    assert len(times) == 2 and all(t > 0 for t in times)
    with pytest.raises(ValueError, match="at least 2"):
        decoding.seconds_per_token(tiny_llama, [1], use_cache=True)
