"""Bias and brittleness measurements on hand-made inputs whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import bias


def test_counterfactual_swaps_both_ways_and_keeps_case():
    assert bias.counterfactual("He gave his sister a book.") == "She gave her brother a book."
    assert bias.counterfactual("She gave her brother a book.") == "He gave his sister a book."
    assert bias.counterfactual("I met her.") == "I met him."
    assert bias.counterfactual("MAN overboard, said the Queen") == "WOMAN overboard, said the King"
    assert bias.counterfactual("Nothing to change here; shepherd.") == \
        "Nothing to change here; shepherd."  # whole words only


def test_counterfactual_refuses_bad_input():
    with pytest.raises(TypeError, match="takes a string"):
        bias.counterfactual(None)
    with pytest.raises(ValueError, match="single words"):
        bias.counterfactual("a b", pairs=[("my son", "my daughter")])


def test_augmentation_adds_one_swapped_copy_per_gendered_text():
    texts, labels = bias.augment_counterfactually(["he is here", "it rains"], [2, 0])
    assert texts == ["he is here", "it rains", "she is here"] and labels == [2, 0, 2]
    with pytest.raises(ValueError, match="one label per text"):
        bias.augment_counterfactually(["a"], [])


def test_fill_checks_templates_and_terms():
    assert bias.fill(["{} is here.", "I saw {}."], ["she"]) == ["She is here.", "I saw she."]
    with pytest.raises(ValueError, match="exactly one"):
        bias.fill(["no slot"], ["x"])
    with pytest.raises(ValueError, match="at least one term"):
        bias.fill(["{}"], [])


def _clusters(seed: int, shift: float):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, 16)) + np.eye(16)[0] * 3
    b = rng.normal(size=(8, 16)) + np.eye(16)[1] * 3
    x = rng.normal(size=(8, 16)) + np.eye(16)[0] * shift + np.eye(16)[1] * (3 - shift)
    y = rng.normal(size=(8, 16)) + np.eye(16)[1] * shift + np.eye(16)[0] * (3 - shift)
    return x, y, a, b


def test_association_test_finds_a_planted_association_and_not_an_absent_one():
    planted = bias.association_test(*_clusters(0, 3.0), permutations=2000)
    assert planted.effect_size > 1.5 and planted.p_value < 0.01
    swapped = bias.association_test(*[_clusters(0, 3.0)[i] for i in (1, 0, 2, 3)],
                                    permutations=2000)
    assert swapped.effect_size == pytest.approx(-planted.effect_size)
    assert swapped.p_value > 0.99
    none = bias.association_test(*_clusters(1, 1.5), permutations=2000)
    assert abs(none.effect_size) < 1.2 and none.p_value > 0.01


def test_association_test_messages():
    x, y, a, b = _clusters(0, 3.0)
    with pytest.raises(ValueError, match="same number of words"):
        bias.association_test(x[:3], y, a, b)
    with pytest.raises(ValueError, match="same model"):
        bias.association_test(x, y, a[:, :8], b)
    with pytest.raises(ValueError, match="2-D array"):
        bias.association_test(x[0], y, a, b)


def fake_classifier(negative_words):
    """A pipeline-like function: 'negative' when a text holds one of `negative_words`."""

    def classify(texts, top_k=None):
        out = []
        for text in texts:
            bad = any(w in text.lower().split() for w in negative_words)
            neg = 0.8 if bad else 0.2
            out.append([{"label": "negative", "score": neg},
                        {"label": "positive", "score": 1 - neg}])
        return out

    return classify


def test_score_gaps_and_paired_gap_on_a_classifier_that_dislikes_one_word():
    classify = fake_classifier({"she"})
    rows = bias.score_gaps(classify, ["{} is here."], {"pronoun": ["he", "she"]}, "negative")
    assert [(r["term"], round(r["gap"], 2)) for r in rows] == [("she", 0.3), ("he", -0.3)]
    gap = bias.paired_gap(classify, ["he is here.", "he left."], "negative")
    assert gap.mean_gap == pytest.approx(0.6) and gap.flips == 2 and gap.pairs == 2
    with pytest.raises(ValueError, match="no label 'toxic'"):
        bias.score_gaps(classify, ["{}"], {"g": ["x"]}, "toxic")
    with pytest.raises(ValueError, match="no word to swap"):
        bias.paired_gap(classify, ["it rains"], "negative")


def test_typos_are_deterministic_and_flips_counts_changes():
    text = "the weather tomorrow looks wonderful everywhere"
    assert bias.add_typos(text, 1.0) == bias.add_typos(text, 1.0)
    noisy = bias.add_typos(text, 1.0)
    assert noisy != text and sorted(noisy) == sorted(text)  # letters swapped, none lost
    assert bias.add_typos(text, 0.0) == text
    with pytest.raises(ValueError, match="between 0 and 1"):
        bias.add_typos(text, 2)
    classify = fake_classifier({"awful"})
    assert bias.flips(classify, ["good day", "fine"], ["awful day", "fine"]) == [0]

