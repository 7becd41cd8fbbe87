"""Exercises of notebook 10: a counterfactual copy by hand, a language's token cost, an
embedding association test."""

from __future__ import annotations

import math
from typing import Any

from course_utils.exercises.grading import (
    WrongAnswer, as_function, as_number, as_text, exercise, run_learner,
)
from course_utils.exercises.shared import sentence_model

SENTENCE = "She told her brother that the king would visit her."
ENGLISH = "The children are playing in the garden because the weather is nice today."
FINNISH = "Lapset leikkivät puutarhassa, koska sää on tänään kaunis."
FLOWERS = ["rose", "tulip", "daisy", "lily", "orchid", "violet", "iris", "poppy"]
INSECTS = ["wasp", "flea", "cockroach", "mosquito", "maggot", "termite", "locust", "gnat"]
PLEASANT = ["love", "peace", "friend", "health", "gift", "rainbow", "honest", "gentle"]
UNPLEASANT = ["abuse", "murder", "poison", "filth", "grief", "disaster", "hatred", "tragedy"]
EMBED_TEMPLATE = "This is {}."  # words are embedded inside a bland sentence (SEAT-style)


@exercise("10.1", f"The counterfactual copy of {SENTENCE!r}: every gendered word swapped",
          hint="she <-> he, brother <-> sister, king <-> queen; 'her' before a word is 'his', "
               "at the end of a clause 'him'")
def counterfactual_copy(answer: Any) -> str | None:
    from course_utils.bias import counterfactual

    text = as_text(answer, "the swapped sentence as a string")
    expected = counterfactual(SENTENCE)
    if text == expected:
        return None
    if text.lower() == expected.lower():
        return "right words; keep the capital letter where the sentence had one"
    if text == SENTENCE:
        return "that is the original sentence: swap each gendered word for its partner"
    wrong = [w for w, e in zip(text.split(), expected.split()) if w != e]
    return f"not quite: check {wrong[0]!r}" if wrong else "not quite: compare word by word"


def _smollm2_tokens(text: str) -> int:
    from transformers import AutoTokenizer

    from course_utils.offline.hub import resolve

    tokenizer = AutoTokenizer.from_pretrained(resolve("HuggingFaceTB/SmolLM2-135M-Instruct",
                                                      announce=False))
    return len(tokenizer.tokenize(text))


@exercise("10.2", "How many times as many SmolLM2 tokens the Finnish sentence takes as the "
          "English one with the same meaning (a ratio such as 1.5)",
          hint="the cost of a language is the number of pieces its text becomes; compare the two "
               "counts as a ratio, Finnish over English")
def token_cost(answer: Any) -> str | None:
    value = as_number(answer, "a ratio (Finnish tokens / English tokens)")
    finnish, english = _smollm2_tokens(FINNISH), _smollm2_tokens(ENGLISH)
    expected = finnish / english
    if math.isclose(value, expected, abs_tol=0.01):
        return None
    if math.isclose(value, english / finnish, abs_tol=0.01):
        return "the other way round: Finnish tokens divided by English tokens"
    if math.isclose(value, finnish - english, abs_tol=0.01):
        return "that is the difference; the question asks for the ratio"
    return f"{value:.2f} is not it: count each sentence's tokens with SmolLM2's tokenizer"


def flower_insect_effect() -> float:
    """The effect size of the flowers/insects vs pleasant/unpleasant test on MiniLM."""
    from course_utils.bias import association_test

    def embed(words: list[str]) -> Any:
        return sentence_model().encode([EMBED_TEMPLATE.format(w) for w in words])

    return association_test(embed(FLOWERS), embed(INSECTS), embed(PLEASANT), embed(UNPLEASANT),
                            permutations=1).effect_size


@exercise("10.3", "The effect size of the embedding association test FLOWERS vs INSECTS with "
          "PLEASANT vs UNPLEASANT on MiniLM (each word embedded as 'This is {word}.')",
          hint="embed every word in its template sentence, then run section 2's association test "
               "with the targets and attributes in the order the question names them")
def flower_insect(answer: Any) -> str | None:
    if hasattr(answer, "effect_size"):
        raise WrongAnswer("that is the whole result: give its .effect_size")
    value = as_number(answer, "an effect size (a number, usually between -2 and 2)")
    expected = flower_insect_effect()
    if math.isclose(value, expected, abs_tol=0.02):
        return None
    if math.isclose(value, -expected, abs_tol=0.02):
        return "the sign is flipped: targets X = FLOWERS, Y = INSECTS; attributes A = PLEASANT"
    return f"{value:.3f} is not it: embed each word as EMBED_TEMPLATE.format(word)"


@exercise("10.4", "effect_size(x, y, a, b): the association test's effect size from embeddings "
          "(one row per word)",
          hint="a word's association is its mean cosine similarity with A minus its mean with B; "
               "compare the two targets' mean associations in units of the spread of all of them")
def effect_size_function(answer: Any) -> str | None:
    import numpy as np

    from course_utils.bias import association_test

    as_function(answer, "effect_size(x, y, a, b)")
    rng = np.random.default_rng(104)
    for n, m, width in [(4, 3, 6), (6, 5, 10)]:
        x, y = rng.normal(size=(n, width)), rng.normal(size=(n, width))
        a, b = rng.normal(size=(m, width)) + 0.5, rng.normal(size=(m, width))
        x += 2 * rng.random(width)  # scaled rows: only a cosine is blind to length
        value, error = run_learner(answer, x.copy(), y.copy(), a.copy(), b.copy())
        if error:
            return error
        value = as_number(value, "an effect size (one number)")
        expected = association_test(x, y, a, b, permutations=0).effect_size
        if abs(value - expected) <= 1e-6 * max(1, abs(expected)):
            continue
        if abs(value + expected) <= 1e-6 * max(1, abs(expected)):
            return "the sign is flipped: X's mean association minus Y's, A minus B"
        targets = np.concatenate([x, y])
        unit = targets / np.linalg.norm(targets, axis=1, keepdims=True)
        cos = ((unit @ (a / np.linalg.norm(a, axis=1, keepdims=True)).T).mean(1)
               - (unit @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T).mean(1))
        if abs(value - (cos[:n].mean() - cos[n:].mean()) / cos.std()) < 1e-6:
            return "divide by the sample standard deviation (ddof=1), as the test does"
        s = targets @ a.T
        dots = ((s.mean(1) - (targets @ b.T).mean(1)))
        if abs(value - (dots[:n].mean() - dots[n:].mean()) / dots.std(ddof=1)) < 1e-6:
            return "use cosine similarity, not the dot product: normalise every row first"
        return f"{value:.4f} is not the effect size for these embeddings (expected {expected:.4f})"
    return None
