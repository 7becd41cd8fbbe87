"""Graders for each notebook's exercises, one module per notebook (nb00, nb01, ...)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4)
def course_pipeline(task: str, hub_id: str, **kwargs: Any) -> Any:
    """The pipeline a notebook builds for (task, hub_id), loaded once for grading."""
    from transformers import pipeline

    from course_utils.offline.hub import resolve

    return pipeline(task, model=resolve(hub_id, announce=False), device="cpu", **kwargs)


@lru_cache(maxsize=1)
def sentence_model() -> Any:
    """MiniLM as a SentenceTransformer (normalised embeddings), loaded once for grading."""
    from sentence_transformers import SentenceTransformer

    from course_utils.offline.hub import resolve

    return SentenceTransformer(resolve("sentence-transformers/all-MiniLM-L6-v2", announce=False),
                               device="cpu")


def grade_best_match(answer: Any, query: str, documents: list[str]) -> str | None:
    """Grade an index into `documents` that should be the one closest in meaning to `query`."""
    from sentence_transformers import util

    from course_utils.exercises.grading import WrongAnswer, as_int

    index = as_int(answer, f"an index from 0 to {len(documents) - 1}")
    if not 0 <= index < len(documents):
        raise WrongAnswer(f"{index} is not an index of DOCUMENTS (0 to {len(documents) - 1})")
    vectors = sentence_model().encode([query, *documents], convert_to_tensor=True)
    scores = util.cos_sim(vectors[:1], vectors[1:])[0]
    if index == int(scores.argmax()):
        return None
    return f"document {index} scores {float(scores[index]):.2f}; another scores higher"
