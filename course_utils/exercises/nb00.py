"""Exercises of notebook 00: the registry, cosine similarity by hand, semantic search."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import (
    WrongAnswer, as_function, as_text, close_to, exercise, run_learner,
)
from course_utils.exercises.shared import grade_best_match, sentence_model
from course_utils.offline.hub import REGISTRY

PAIR = ("A cat sits on the mat.", "A kitten is resting on a rug.")
STRETCH = (2.0, 3.0)  # many models' embeddings are not unit length; MiniLM's are
QUERY = "How do I train a model on my own data?"
DOCUMENTS = [
    "Fine-tuning adapts a pretrained model to a new labelled data set.",
    "Paris is the capital of France.",
    "Attention lets every token look at every other token.",
    "The weather will be sunny tomorrow.",
]


def _embed(texts: tuple[str, ...]) -> Any:
    return sentence_model().encode(list(texts), convert_to_tensor=True)


@exercise("00.1", "Which Hub ID does the course use for zero-shot classification?",
          hint="print(registry_table()) and read the task column")
def zero_shot_id(answer: Any) -> str | None:
    text = as_text(answer, "a Hub ID string such as 'org/name'")
    expected = [e.hub_id for e in REGISTRY.values() if e.task == "zero-shot-classification"]
    if text in expected:
        return None
    if text not in REGISTRY:
        raise WrongAnswer(f"{text!r} is not in the course registry at all")
    return f"{text!r} is registered for {REGISTRY[text].task}, not zero-shot classification"


@exercise("00.2", f"Cosine similarity of {PAIR[0]!r} and {PAIR[1]!r} from embeddings "
          f"stretched {STRETCH[0]}x and {STRETCH[1]}x, by hand with torch",
          hint="cos(a, b) = (a . b) / (|a| |b|): torch.dot and torch.linalg.norm")
def cosine_by_hand(answer: Any) -> str | None:
    import torch

    a, b = _embed(PAIR)
    expected = float(torch.dot(a, b) / (torch.linalg.norm(a) * torch.linalg.norm(b)))
    problem = close_to(answer, expected, 1e-4, "one number between -1 and 1")
    dot = float(torch.dot(STRETCH[0] * a, STRETCH[1] * b))
    if problem and abs(float(answer) - dot) < 1e-3:
        return "that is the dot product; divide by both vectors' lengths"
    return problem


@exercise("00.3", f"Index of the document in DOCUMENTS closest in meaning to {QUERY!r}",
          hint="encode the query and the documents, then take the argmax of their similarities")
def best_document(answer: Any) -> str | None:
    return grade_best_match(answer, QUERY, DOCUMENTS)


@exercise("00.4", "search(model, query, documents): the documents' indices, closest in meaning "
          "to the query first",
          hint="embed the query and every document with the model, score each document by its "
               "cosine similarity to the query, and sort the indices by score, highest first")
def search_function(answer: Any) -> str | None:
    from sentence_transformers import util

    as_function(answer, "search(model, query, documents)")
    model = sentence_model()
    cases = [("Where can I buy fresh bread?",
              ["The bakery on the corner opens at seven.", "Trains leave every hour.",
               "Our library lends books for three weeks.", "The baker sells warm loaves daily."]),
             ("How cold does it get in winter?",
              ["Summer evenings are long and warm.", "In January the lake freezes over.",
               "The museum is closed on Mondays."])]
    for query, documents in cases:
        ranking, error = run_learner(answer, model, query, list(documents))
        if error:
            return error
        try:
            ranking = [int(i) for i in ranking]
        except (TypeError, ValueError):
            return "return a list of document indices (whole numbers), best match first"
        if sorted(ranking) != list(range(len(documents))):
            return (f"for {len(documents)} documents return each index 0 to "
                    f"{len(documents) - 1} once, best match first; got {ranking}")
        vectors = model.encode([query, *documents], convert_to_tensor=True)
        scores = util.cos_sim(vectors[:1], vectors[1:])[0]
        expected = scores.argsort(descending=True).tolist()
        if ranking == expected:
            continue
        if ranking == expected[::-1]:
            return "the order is reversed: the closest document comes first"
        return f"for {query!r} the order should follow cosine similarity: got {ranking}"
    return None
