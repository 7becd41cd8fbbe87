"""course_utils.scaling: the power-law fit, compute, sums as a model reads them, the verifier,
majority vote and pass@k; each against a reference computed another way, and every bad input."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from course_utils import scaling


def test_the_fit_recovers_a_known_power_law_and_extrapolates():
    sizes = [1e3, 4e3, 2e4, 9e4]
    law = scaling.fit_power_law(sizes, [5.0 * n ** -0.3 for n in sizes])
    assert law.scale == pytest.approx(5.0) and law.exponent == pytest.approx(0.3)
    assert law.predict(1e6) == pytest.approx(5.0 * 1e6 ** -0.3)
    assert law.points == 4 and "fitted on 4 points" in str(law)


def test_the_fit_is_least_squares_in_log_space():
    import numpy as np

    rng = random.Random(3)
    sizes = [10 ** rng.uniform(3, 6) for _ in range(7)]
    losses = [3 * n ** -0.1 * math.exp(rng.gauss(0, 0.05)) for n in sizes]
    law = scaling.fit_power_law(sizes, losses)
    design = np.column_stack([np.ones(7), -np.log(sizes)])
    (log_scale, exponent), *_ = np.linalg.lstsq(design, np.log(losses), rcond=None)
    assert law.exponent == pytest.approx(exponent) and law.scale == pytest.approx(math.exp(log_scale))


@pytest.mark.parametrize("sizes, losses, message", [
    ([1e3], [2.0], "needs at least two points; got 1"),
    ([], [], "needs at least two points; got 0"),
    ([1e3, 2e3], [2.0], "2 sizes for 1 losses"),
    ([1e3, -2e3], [2.0, 1.5], "must all be positive"),
    ([1e3, 2e3], [2.0, 0.0], "must all be positive"),
    ([1e3, 1e3, 1e3], [2.0, 1.9, 2.1], "same size"),
])
def test_a_fit_that_cannot_be_made_says_why(sizes, losses, message):
    with pytest.raises(ValueError, match=message):
        scaling.fit_power_law(sizes, losses)


def test_a_prediction_needs_a_positive_size():
    with pytest.raises(ValueError, match="positive"):
        scaling.fit_power_law([1, 2], [2.0, 1.0]).predict(0)


def test_compute_is_six_n_d():
    assert scaling.training_flops(1_000, 500) == 3_000_000
    with pytest.raises(ValueError, match="parameters must be positive"):
        scaling.training_flops(0, 10)


def test_non_embedding_parameters_leave_the_embeddings_out():
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=12, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=True)
    model = LlamaForCausalLM(config)
    total = sum(p.numel() for p in model.parameters())
    assert scaling.non_embedding_parameters(model) == total - 12 * 16


def test_the_mean_interval_is_the_normal_one():
    mean, low, high = scaling.mean_interval([1.0, 2.0, 3.0, 4.0])
    half = 1.96 * math.sqrt(5 / 3) / 2
    assert (mean, low, high) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    with pytest.raises(ValueError, match="at least two values"):
        scaling.mean_interval([1.0])


def test_sums_are_written_plain_and_reversed():
    assert scaling.write_sum(12, 345, 4) == ("0012+0345=", "00357")
    assert scaling.write_sum(12, 345, 4, reverse=True) == ("2100+5430=", "75300")
    assert scaling.write_sum(9999, 9999, 4) == ("9999+9999=", "19998")
    assert set("".join(scaling.write_sum(987, 65, 3, True))) <= set(scaling.VOCABULARY)


@pytest.mark.parametrize("a, b, width, message", [
    (12345, 1, 4, "more than 4 digits"), (-1, 3, 4, "non-negative"), (1, 1, 0, "at least 1")])
def test_a_sum_that_cannot_be_written_says_why(a, b, width, message):
    with pytest.raises(ValueError, match=message):
        scaling.write_sum(a, b, width)


def test_answers_read_back_and_the_verifier_judges_them():
    rng = random.Random(0)
    for _ in range(200):
        a, b, reverse = rng.randrange(10_000), rng.randrange(10_000), rng.random() < 0.5
        _, answer = scaling.write_sum(a, b, 4, reverse)
        assert scaling.read_answer(answer, 4, reverse) == a + b
        assert scaling.check_sum(a, b, answer, 4, reverse)
        assert not scaling.check_sum(a, b + 1, answer, 4, reverse)
    assert not scaling.check_sum(1, 2, "00003", 4, reverse=True)  # 30000 read backwards


@pytest.mark.parametrize("reply", ["", "123", "0012a", "00+12", "000123"])
def test_a_non_answer_is_named_and_never_verified(reply):
    with pytest.raises(ValueError, match="is not an answer: expected 5 digits"):
        scaling.read_answer(reply, 4)
    assert scaling.check_sum(0, 12, reply, 4) is False


def test_the_majority_vote_takes_the_most_frequent_and_the_first_on_a_tie():
    assert scaling.majority_vote([3, 5, 5, 3, 7, 5]) == 5
    assert scaling.majority_vote(["b", "a", "a", "b"]) == "b"
    with pytest.raises(ValueError, match="no answers"):
        scaling.majority_vote([])


@pytest.mark.parametrize("samples, correct, k", [(8, 0, 1), (8, 3, 1), (8, 3, 2), (8, 3, 5),
                                                 (6, 5, 2), (5, 1, 5), (7, 2, 3)])
def test_pass_at_k_is_the_share_of_k_subsets_holding_a_right_answer(samples, correct, k):
    answers = [True] * correct + [False] * (samples - correct)
    subsets = list(itertools.combinations(answers, k))
    assert scaling.pass_at_k(samples, correct, k) == pytest.approx(
        sum(any(s) for s in subsets) / len(subsets))


@pytest.mark.parametrize("samples, correct, k, message", [
    (4, 5, 1, "correct must be between 0 and samples"), (4, 1, 0, "k must be between 1"),
    (4, 1, 5, "k must be between 1")])
def test_pass_at_k_refuses_impossible_counts(samples, correct, k, message):
    with pytest.raises(ValueError, match=message):
        scaling.pass_at_k(samples, correct, k)
