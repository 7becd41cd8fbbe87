"""Exercises of notebook 01: reading a classifier, counting entities, v5 pipeline tasks, a long
text classified piece by piece, and tagged tokens merged into entity spans."""

from __future__ import annotations

from typing import Any

import random

from course_utils.exercises.grading import (WrongAnswer, as_function, as_int, as_text, exercise,
                                          run_learner)
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


# Sentences the long texts of exercise 01.4 are drawn from; the learner never sees the texts.
_CALM = ["The parcel arrived on Tuesday.", "The manual has forty pages.",
         "We set it up in the kitchen.", "The box was blue and square.",
         "It has two buttons and a small screen.", "My brother read the instructions."]
_ANGRY = ["It broke after a week and nobody answered my emails.",
          "This is the worst purchase I have ever made.", "The noise is unbearable and it smells.",
          "Support hung up on me twice, which was awful."]
_GLAD = ["I love it, the coffee is wonderful every morning.",
         "Brilliant design, and the staff were so kind.", "Best gift ever, we are delighted."]


def long_texts(seed: int = 14) -> list[str]:
    """Long reviews that open calmly: their opinion comes after the first pieces."""
    rng = random.Random(seed)
    texts = []
    for tail, sentences in [(_ANGRY + _GLAD, 18), (_ANGRY, 14), (_GLAD, 10)]:
        calm = [rng.choice(_CALM) for _ in range(sentences // 3)]
        opinion = [rng.choice(tail) for _ in range(sentences - len(calm))]
        texts.append(" ".join(calm + opinion))
    return texts


def classify_long_reference(text: str, classifier: Any, words: int) -> tuple[str, float]:
    pieces = text.split()
    chunks = [" ".join(pieces[i:i + words]) for i in range(0, len(pieces), words)]
    totals: dict[str, float] = {}
    for scores in classifier(chunks, top_k=None):
        for s in scores:
            totals[s["label"]] = totals.get(s["label"], 0.0) + s["score"]
    label = max(totals, key=totals.__getitem__)
    return label, totals[label] / len(chunks)


@exercise("01.4", "classify_long(text, classifier, words): the label with the highest mean score "
          "over pieces of `words` words, and that mean",
          hint="a classifier reads a bounded window: cut the text into pieces it can read, "
               "score every label on every piece, and let each piece count equally")
def classify_long_function(answer: Any) -> str | None:
    as_function(answer, "classify_long(text, classifier, words)")
    classifier = course_pipeline("text-classification", SENTIMENT_ID)
    for text, words in zip(long_texts(), (7, 12, 30)):
        ours, error = run_learner(answer, text, classifier, words)
        if error:
            return f"with words={words}: {error}"
        if not (isinstance(ours, (tuple, list)) and len(ours) == 2 and isinstance(ours[0], str)):
            return f"classify_long must return a pair (label, mean score), got {ours!r:.60}"
        label, score = classify_long_reference(text, classifier, words)
        if ours[0] != label:
            first = classifier(" ".join(text.split()[:words]))[0]["label"]
            if ours[0] == first:
                return ("that is the label of the first piece alone; this text's opinion "
                        "comes later: score every piece and average")
            return f"on a text of {len(text.split())} words and words={words}, the label is " \
                   f"not {ours[0]!r}"
        try:
            if abs(float(ours[1]) - score) > 1e-4:
                return (f"right label, but its mean score over the pieces is not {ours[1]:.4f} "
                        f"(words={words}): average each label's score over all pieces")
        except (TypeError, ValueError):
            return f"the score must be a number, got {ours[1]!r:.40}"
    return None


# Token-level tags for exercise 01.5: cases a simple merge gets wrong, one by one.
_TAGGED = [
    [("Ada", "B-PER"), ("Love", "I-PER"), ("##lace", "I-PER"), ("met", "O"), ("Babbage", "B-PER")],
    [("Rio", "B-LOC"), ("de", "I-LOC"), ("Janeiro", "I-LOC")],  # a span that ends the text
    [("Paris", "B-LOC"), ("Lyon", "B-LOC"), ("and", "O"), ("Nice", "B-LOC")],  # B after B: two
    [("the", "O"), ("Bank", "I-ORG"), ("of", "I-ORG"), ("Chile", "I-LOC")],  # I of another group
    [("Jo", "B-PER"), ("-", "O"), ("Ann", "I-PER"), ("sang", "O")],  # I after O starts anew
    [("nothing", "O"), ("here", "O")],
]


def tagged_tokens(words_and_tags: list[tuple[str, str]]) -> tuple[str, list[dict[str, Any]]]:
    """A sentence and its tokens as the raw token-classification pipeline gives them."""
    tokens, position = [], 0
    for index, (word, tag) in enumerate(words_and_tags, start=1):
        piece = word.removeprefix("##")
        start = position if word.startswith("##") else position + (1 if index > 1 else 0)
        tokens.append({"entity": tag, "score": 0.9, "index": index, "word": word,
                       "start": start, "end": start + len(piece)})
        position = start + len(piece)
    sentence = [" "] * position
    for token in tokens:
        sentence[token["start"]:token["end"]] = token["word"].removeprefix("##")
    return "".join(sentence), tokens


def merge_entities_reference(tokens: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    spans: list[tuple[str, int, int]] = []
    open_group = None
    for token in tokens:
        if token["entity"] == "O":
            open_group = None
            continue
        prefix, group = token["entity"].split("-", 1)
        if prefix == "I" and group == open_group:
            spans[-1] = (group, spans[-1][1], token["end"])
        else:
            spans.append((group, token["start"], token["end"]))
            open_group = group
    return spans


UNSEEN_SENTENCES = ["Angela Merkel visited the United Nations in New York with Barack Obama.",
                    "Wangari Maathai planted trees near Nairobi for the Green Belt Movement."]


@exercise("01.5", "merge_entities(tokens): the raw pipeline's tags (IOB2) merged into "
          "(group, start, end) spans",
          hint="walk the tokens in order, keeping the span that is open: a tag says whether its "
               "token begins a name or continues one, and what closes a span")
def merge_entities_function(answer: Any) -> str | None:
    as_function(answer, "merge_entities(tokens)")
    for words_and_tags in _TAGGED:
        sentence, tokens = tagged_tokens(words_and_tags)
        ours, error = run_learner(answer, [dict(t) for t in tokens])
        if error:
            return f"on {sentence!r}: {error}"
        expected = merge_entities_reference(tokens)
        try:
            ours = [(str(g), int(s), int(e)) for g, s, e in ours]
        except (TypeError, ValueError):
            return f"merge_entities must return a list of (group, start, end), got {ours!r:.60}"
        if ours != expected:
            tags = " ".join(f"{w}/{t}" for w, t in words_and_tags)
            return (f"for the tokens {tags} the names are "
                    f"{[(g, sentence[s:e]) for g, s, e in expected]}, yours "
                    f"{[(g, sentence[s:e]) for g, s, e in ours]}")
    raw = course_pipeline("token-classification", NER_ID)
    simple = course_pipeline("token-classification", NER_ID, aggregation_strategy="simple")
    for sentence in UNSEEN_SENTENCES:
        ours, error = run_learner(answer, raw(sentence, ignore_labels=[]))
        if error:
            return f"on {sentence!r}: {error}"
        expected = [(e["entity_group"], e["start"], e["end"]) for e in simple(sentence)]
        if [tuple(span) for span in ours] != expected:
            return f"on {sentence!r} your spans differ from aggregation_strategy='simple'"
    return None
