"""Exercises of notebook 04: the 80/10/10 rule, mean pooling by hand, semantic search."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import WrongAnswer, close_to, exercise
from course_utils.exercises.shared import grade_best_match, sentence_model

SENTENCE = "Encoders read the whole sentence at once."
QUERY = "Which animal purrs?"
DOCUMENTS = [
    "Dogs bark at strangers.",
    "Cats purr when they are content.",
    "The stock market closed higher.",
    "Parrots can imitate human speech.",
]


@exercise("04.1", "Of the tokens the masked-LM collator selects, what fraction become [MASK]?",
          hint="BERT's rule: 80% [MASK], 10% a random token, 10% left unchanged")
def mask_fraction(answer: Any) -> str | None:
    problem = close_to(answer, 0.8, 1e-9, "a fraction between 0 and 1")
    if problem and abs(float(answer) - 0.15) < 1e-9:
        return "0.15 is the share of all tokens selected; the question is about the selected ones"
    if problem and abs(float(answer) - 80) < 1e-9:
        return "give a fraction (0.8), not a percentage"
    return problem


@exercise("04.2", f"The MiniLM sentence embedding of {SENTENCE!r} by mean pooling, normalised",
          hint="average the token vectors where attention_mask is 1, then divide by the length")
def mean_pooled(answer: Any) -> str | None:
    import torch

    if not isinstance(answer, torch.Tensor):
        raise WrongAnswer(f"expected a torch tensor, got {type(answer).__name__}")
    vector = answer.detach().float().cpu().reshape(-1)
    if vector.numel() != 384:
        raise WrongAnswer(f"expected 384 numbers (one sentence), got shape {tuple(answer.shape)}")
    expected = sentence_model().encode(SENTENCE, convert_to_tensor=True).cpu()
    if torch.allclose(vector, expected, atol=1e-4):
        return None
    if torch.allclose(vector / vector.norm(), expected, atol=1e-4):
        return "right direction, wrong length: normalise it to length 1"
    return f"off by up to {float((vector - expected).abs().max()):.3f}; did you leave out padding?"


@exercise("04.3", f"Index of the document in DOCUMENTS that best answers {QUERY!r}",
          hint="encode query and documents, cosine similarity, argmax")
def search(answer: Any) -> str | None:
    return grade_best_match(answer, QUERY, DOCUMENTS)
