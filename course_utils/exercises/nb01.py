"""Exercises of notebook 01: reading a classifier, counting entities, v5 pipeline tasks."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import WrongAnswer, as_int, as_text, exercise
from course_utils.exercises.shared import course_pipeline

SENTIMENT_ID = "cardiffnlp/twitter-roberta-base-sentiment-latest"
NER_ID = "dslim/bert-base-NER"
REVIEW = "The battery died after one day and support never answered."
TRAVEL = "Yuki Tanaka flew from Tokyo to Lagos, then took a train to Nairobi."
TASKS = ["summarization", "fill-mask", "translation", "zero-shot-classification",
         "question-answering", "token-classification"]


@exercise("01.1", f"Which label does the sentiment pipeline give to {REVIEW!r}?",
          hint="call sentiment(REVIEW) and read the 'label' of the first result")
def review_label(answer: Any) -> str | None:
    label = as_text(answer, "a label string such as 'positive'")
    expected = course_pipeline("text-classification", SENTIMENT_ID)(REVIEW)[0]["label"]
    if label == expected:
        return None
    if label.lower() == expected.lower():
        raise WrongAnswer(f"right label, wrong case: labels are written {expected!r}")
    return f"the pipeline does not say {label!r}"


@exercise("01.2", f"How many places (LOC entities) does the NER pipeline find in {TRAVEL!r}?",
          hint="use aggregation_strategy='simple' and count results whose entity_group is 'LOC'")
def count_places(answer: Any) -> str | None:
    count = as_int(answer, "a whole number")
    tagger = course_pipeline("token-classification", NER_ID, aggregation_strategy="simple")
    expected = sum(e["entity_group"] == "LOC" for e in tagger(TRAVEL))
    if count == expected:
        return None
    return f"{count} is not what the pipeline finds; did you count every group, or raw tokens?"


@exercise("01.3", f"Which of these are still pipeline tasks in transformers 5? {TASKS}",
          hint="try pipeline(task) for each, or look in transformers.pipelines.SUPPORTED_TASKS")
def v5_tasks(answer: Any) -> str | None:
    from transformers.pipelines import SUPPORTED_TASKS

    if isinstance(answer, str) or not isinstance(answer, (list, tuple, set)):
        raise WrongAnswer(f"expected a list of task names, got {type(answer).__name__}")
    given = {as_text(a, "task names as strings") for a in answer}
    unknown = given - set(TASKS)
    if unknown:
        raise WrongAnswer(f"only choose from the list; {sorted(unknown)} is not in it")
    expected = {t for t in TASKS if t in SUPPORTED_TASKS}
    if given == expected:
        return None
    gone = sorted(given - expected)
    missed = sorted(expected - given)
    parts = ([f"{gone} were removed in v5"] if gone else []) + (
        [f"you left out {missed}"] if missed else [])
    return "; ".join(parts)
