"""The evaluation harness of notebook 11, against a plain full-sequence computation on a tiny
random Llama with a character-level tokenizer."""

from __future__ import annotations

import pytest
import torch

from course_utils import evaluation


class CharTokenizer:
    """One token per character: continuations of several tokens come naturally."""

    pad_token_id = 0

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        return {"input_ids": [1 + ord(c) % 96 for c in text]}


def plain_score(model, text: str, continuation: str) -> float:
    """Sum of log p(continuation token | everything before it), one full forward pass."""
    tok = CharTokenizer()
    context, answer = tok(text)["input_ids"], tok(continuation)["input_ids"]
    ids = torch.tensor([context + answer])
    with torch.no_grad():
        logprobs = model(ids).logits[0].log_softmax(-1)
    return sum(float(logprobs[len(context) - 1 + i, t]) for i, t in enumerate(answer))


PROMPTS = ["Tweet: good day\nSentiment:", "Tweet: awful\nSentiment:", "Tweet: ok then, fine\nS:"]


@pytest.mark.parametrize("continuations", [[" p", " n"], [" positive", " negative", " x"]])
@pytest.mark.parametrize("prefix", ["", "Classify.\n\nTweet: nice\nSentiment: positive\n\n"])
@pytest.mark.parametrize("batch_size", [1, 2, 16])
def test_scores_equal_a_plain_forward_pass(tiny_llama, continuations, prefix, batch_size):
    ours = evaluation.continuation_logprobs(tiny_llama, CharTokenizer(), PROMPTS, continuations,
                                            prefix=prefix, batch_size=batch_size)
    expected = torch.tensor([[plain_score(tiny_llama, prefix + p, c) for c in continuations]
                             for p in PROMPTS])
    assert ours.shape == (len(PROMPTS), len(continuations))
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


def test_an_empty_prompt_after_a_prefix_is_predicted_by_the_prefix(tiny_llama):
    ours = evaluation.continuation_logprobs(tiny_llama, CharTokenizer(), ["", "a"], [" p", " nn"],
                                            prefix="Label:")
    expected = torch.tensor([[plain_score(tiny_llama, "Label:" + p, c) for c in [" p", " nn"]]
                             for p in ["", "a"]])
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=1e-4)


def test_bad_input_to_the_scorer_says_what_to_do(tiny_llama):
    tok = CharTokenizer()
    with pytest.raises(TypeError, match="lists of strings"):
        evaluation.continuation_logprobs(tiny_llama, tok, "one prompt", [" a"])
    with pytest.raises(ValueError, match="at least one label"):
        evaluation.continuation_logprobs(tiny_llama, tok, ["a"], [])
    with pytest.raises(ValueError, match="no tokens"):
        evaluation.continuation_logprobs(tiny_llama, tok, ["a"], [" a", ""])
    with pytest.raises(ValueError, match="empty prompt"):
        evaluation.continuation_logprobs(tiny_llama, tok, ["a", ""], [" a"])


def test_a_prompt_is_its_prefix_and_its_query():
    demos = [("so happy", "positive"), ("so sad", "negative")]
    whole = evaluation.format_prompt(demos, query="meh")
    assert whole == evaluation.format_prompt(demos) + evaluation.format_query("meh")
    assert whole == ("Classify the sentiment of each tweet.\n\nTweet: so happy\nSentiment: "
                     "positive\n\nTweet: so sad\nSentiment: negative\n\nTweet: meh\nSentiment:")
    short = evaluation.Template("Go.", "Q: {text}\nA:", separator="\n")
    assert evaluation.format_prompt([], short, "x") == "Go.\nQ: x\nA:"
    assert evaluation.format_prompt([("y", "1")], short) == "Go.\nQ: y\nA: 1"
    with pytest.raises(ValueError, match="exactly one"):
        evaluation.Template("Classify.", "Tweet: no placeholder")
    with pytest.raises(ValueError, match="needs an instruction"):
        evaluation.Template(" ", "Tweet: {text}")


def test_prefix_and_query_tokenize_apart_as_they_do_joined(offline):
    from transformers import AutoTokenizer

    from course_utils.offline.hub import resolve

    tokenizer = AutoTokenizer.from_pretrained(resolve("HuggingFaceTB/SmolLM2-135M-Instruct",
                                                      announce=False))

    def ids(text):
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    demos = [("what a day!! ", "positive"), ("worst.\n\nservice", "negative")]
    for template in (evaluation.SENTIMENT,
                     evaluation.Template("Is it good?", '"{text}"\nThe answer is')):
        for query in ("plain words", "  spaced out  ", "ends with newline\n", "@user 100%"):
            prefix = evaluation.format_prompt(demos, template)
            joined = ids(prefix + evaluation.format_query(query, template) + " positive")
            assert joined == (ids(prefix) + ids(evaluation.format_query(query, template))
                              + ids(" positive")), (template, query)


def test_demonstrations_are_balanced_seeded_and_bounded():
    texts = [f"t{i}" for i in range(10)]
    labels = ["pos"] * 7 + ["neg"] * 3
    for k in range(0, 7):
        chosen = evaluation.choose_demonstrations(texts, labels, k, seed=3)
        words = [label for _, label in chosen]
        assert len(chosen) == k and len(set(chosen)) == k
        assert abs(words.count("pos") - words.count("neg")) <= 1
        assert all(labels[texts.index(t)] == w for t, w in chosen)
    # more than the smaller label holds: the rest come from the bigger one
    chosen = evaluation.choose_demonstrations(texts, labels, 9, seed=0)
    assert [w for _, w in chosen].count("neg") == 3
    assert (evaluation.choose_demonstrations(texts, labels, 4, seed=1)
            == evaluation.choose_demonstrations(texts, labels, 4, seed=1))
    draws = {tuple(evaluation.choose_demonstrations(texts, labels, 4, seed=s)) for s in range(8)}
    assert len(draws) > 1
    with pytest.raises(ValueError, match="pool holds 10"):
        evaluation.choose_demonstrations(texts, labels, 11)
    with pytest.raises(ValueError, match="one label word per text"):
        evaluation.choose_demonstrations(texts, labels[:-1], 2)


def test_calibration_removes_the_prior():
    prior = torch.tensor([0.8, 0.2])
    probs = torch.tensor([[0.8, 0.2], [0.7, 0.3], [0.9, 0.1]])
    calibrated = evaluation.calibrate(probs, prior)
    torch.testing.assert_close(calibrated[0], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(calibrated.sum(-1), torch.ones(3))
    assert calibrated[1, 1] > calibrated[1, 0]  # 0.3 against a prior of 0.2 now wins
    with pytest.raises(ValueError, match="one probability per label"):
        evaluation.calibrate(probs, torch.tensor([0.5, 0.3, 0.2]))
    with pytest.raises(ValueError, match="above 0"):
        evaluation.calibrate(probs, torch.tensor([1.0, 0.0]))


@pytest.mark.parametrize("reply, label", [
    ("Positive.", "positive"), (" negative sentiment", "negative"),
    ("I think it is positive, not negative", "positive"), ("neutral", None), ("", None),
    ("postive", None), ("NEGATIVE!", "negative"), ("nonnegative", None)])
def test_replies_parse_to_the_first_label_word(reply, label):
    assert evaluation.parse_label(reply, ["negative", "positive"]) == label


def test_bootstrap_interval_brackets_the_accuracy_and_narrows_with_more_items():
    few = [True] * 7 + [False] * 3
    many = few * 20
    low, high = evaluation.bootstrap_interval(few)
    assert low < 0.7 < high and 0 <= low and high <= 1
    low_many, high_many = evaluation.bootstrap_interval(many)
    assert high_many - low_many < (high - low) / 2
    # roughly the normal approximation 1.96 * sqrt(p (1 - p) / n) at n = 200
    assert abs((high_many - low_many) / 2 - 1.96 * (0.7 * 0.3 / 200) ** 0.5) < 0.015
    assert evaluation.bootstrap_interval([True] * 5) == (1.0, 1.0)
    with pytest.raises(ValueError, match="empty"):
        evaluation.bootstrap_interval([])
    with pytest.raises(ValueError, match="between 0 and 1"):
        evaluation.bootstrap_interval(few, level=95)


def test_accuracy_counts_exact_matches_on_the_same_items():
    result = evaluation.accuracy(["a", "b", "a", "a"], ["a", "b", "b", "a"])
    assert result.value == 0.75 and result.n == 4 and result.low <= 0.75 <= result.high
    assert "75.0%" in str(result)
    with pytest.raises(ValueError, match="same held-out items"):
        evaluation.accuracy(["a"], ["a", "b"])


def test_share_correct_is_the_accuracy_of_verdicts():
    verdicts = [True, False, True, True, False, True, True, False]
    share = evaluation.share_correct(verdicts)
    assert share.value == 5 / 8 and share.n == 8
    assert share == evaluation.accuracy(verdicts, [True] * 8)  # the same score, both ways
    assert (share.low, share.high) == evaluation.bootstrap_interval(verdicts)
    assert evaluation.share_correct([1, 0, 0, 0]).value == 0.25  # truthy values count as right
    with pytest.raises(ValueError, match="evaluation set is empty"):
        evaluation.share_correct([])
