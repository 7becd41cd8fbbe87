"""Exercises of notebook 11: the log-likelihood of a continuation, contextual calibration, and
parsing a free-form reply; each a function graded on inputs the learner has not seen."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from course_utils.exercises.grading import as_function, exercise



@lru_cache(maxsize=1)
def _grading_model() -> tuple[Any, Any]:
    """SmolLM2's tokenizer with a small random Llama of the same vocabulary: real tokens, several
    per word, and log-probabilities the learner cannot have seen."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from course_utils.offline.hub import resolve

    tokenizer = AutoTokenizer.from_pretrained(resolve("HuggingFaceTB/SmolLM2-135M-Instruct",
                                                      announce=False))
    torch.manual_seed(11)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(20)  # sharper than random: scores far apart
    return model, tokenizer


SCORE_CASES = [("The weather today is", " sunny"),
               ("Tweet: my flight is late again\nSentiment:", " very negative"),
               ("Q: 2 + 2 =", " 4, obviously"),
               ("Translate to French: cat ->", " chat")]


@exercise("11.1", "continuation_score(model, tokenizer, prompt, continuation): the summed "
          "log-probability of the continuation's tokens after the prompt",
          hint="tokenize prompt and continuation separately (no special tokens) and join the "
               "lists; the logits at position i predict token i + 1, so the continuation's first "
               "token is scored at the prompt's last position; sum log_softmax values")
def continuation_score(answer: Any) -> str | None:
    from course_utils.evaluation import continuation_logprobs

    as_function(answer, "continuation_score(model, tokenizer, prompt, continuation)")
    model, tokenizer = _grading_model()
    for prompt, continuation in SCORE_CASES:
        expected = float(continuation_logprobs(model, tokenizer, [prompt], [continuation])[0, 0])
        try:
            value = float(answer(model, tokenizer, prompt, continuation))
        except Exception as error:  # the learner's code: report, never a traceback
            return (f"continuation_score(model, tokenizer, {prompt!r}, {continuation!r}) raised "
                    f"{type(error).__name__}: {error}")
        if math.isclose(value, expected, abs_tol=1e-3):
            continue
        if math.isclose(value, -expected, abs_tol=1e-3):
            return "the sign is flipped: sum the log-probabilities, not their negatives"
        if value > 0:
            return (f"{value:.3f} for {continuation!r}: a log-probability is never above 0 (use "
                    "log_softmax, not the raw logits)")
        return (f"{value:.3f} for {prompt!r} + {continuation!r}; expected {expected:.3f}: score "
                "every token of the continuation, each at the position just before it")
    return None


@exercise("11.2", "calibrated_labels(probs, prior): each item's label index after dividing its "
          "label probabilities by the prior and renormalising",
          hint="contextual calibration divides by the prior, then each row is scaled to sum to 1")
def calibrated_labels(answer: Any) -> str | None:
    import torch

    from course_utils.evaluation import calibrate

    as_function(answer, "calibrated_labels(probs, prior)")
    generator = torch.Generator().manual_seed(112)
    for items, labels in [(12, 2), (9, 3), (5, 4)]:
        probs = torch.rand(items, labels, generator=generator).softmax(-1)
        prior = torch.rand(labels, generator=generator) + 0.05
        prior = prior / prior.sum()
        expected = calibrate(probs, prior).argmax(-1)
        try:
            ours = torch.as_tensor(answer(probs.clone(), prior.clone()))
        except Exception as error:
            return f"calibrated_labels raised {type(error).__name__}: {error}"
        if ours.shape != expected.shape:
            return (f"return one label index per item: shape {tuple(expected.shape)}, got "
                    f"{tuple(ours.shape)}")
        if torch.equal(ours.long(), expected):
            continue
        if torch.equal(ours.long(), probs.argmax(-1)):
            return "those are the uncalibrated predictions: divide by the prior first"
        if torch.equal(ours.long(), (probs * prior).argmax(-1)):
            return "multiplied by the prior: calibration divides by it"
        return f"{int((ours.long() != expected).sum())} of {items} items get another label"
    return None


PARSE_CASES = [("Positive.", "positive"), ("negative", "negative"), ("NEGATIVE!!", "negative"),
               ("It is positive, not negative", "positive"), ("not positive but negative", "positive"),
               ("Neutral", None), ("", None), ("nonnegative vibes", None), ("positively", None),
               (" The answer: negative\n", "negative"), ("ocean", "ocean")]


@exercise("11.3", "parse_reply(reply, labels): the label whose word appears first in the reply "
          "(whole words, any case), else None",
          hint="a regular expression with word boundaries (\\b) and re.IGNORECASE finds each "
               "label's first position; keep the earliest")
def parse_reply(answer: Any) -> str | None:
    as_function(answer, "parse_reply(reply, labels)")
    for reply, expected in PARSE_CASES:
        labels = ["ocean", "pencil"] if expected == "ocean" else ["negative", "positive"]
        try:
            got = answer(reply, labels)
        except Exception as error:
            return f"parse_reply({reply!r}, {labels}) raised {type(error).__name__}: {error}"
        if got == expected:
            continue
        if expected is None:
            return (f"parse_reply({reply!r}) gave {got!r}: no label word stands alone there, so "
                    "the answer is None")
        return f"parse_reply({reply!r}, {labels}) gave {got!r}, expected {expected!r}"
    return None
