"""Exercises of notebook 08: normalising a text, locality-sensitive hashing's candidate pairs,
a leakage check."""

from __future__ import annotations

import math
from typing import Any

from course_utils.exercises.grading import WrongAnswer, as_function, as_text, exercise, run_learner


@exercise("08.1", "normalise_text('RT @nasa:  Launch   today! https://t.co/x1 ')",
          hint="links become 'http', handles '@user', runs of spaces one space, ends trimmed")
def normalised(answer: Any) -> str | None:
    text = as_text(answer, "the normalised text, a string")
    if text == "RT @user: Launch today! http":
        return None
    if "nasa" in text:
        return "user handles become '@user'"
    if "t.co" in text:
        return "links become 'http'"
    if "  " in text or text != text.strip():
        return "every run of whitespace becomes one space, and the ends are trimmed"
    return f"{text!r} is not it"


def candidate_pairs_reference(signatures: Any, bands: int) -> set[tuple[int, int]]:
    """Pairs (i, j), i < j, whose signatures agree on every number of at least one band."""
    rows = signatures.shape[1] // bands
    found: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        for i, part in enumerate(signatures[:, band * rows:(band + 1) * rows]):
            buckets.setdefault(part.tobytes(), []).append(i)
        found.update((i, j) for bucket in buckets.values() for n, i in enumerate(bucket)
                     for j in bucket[n + 1:])
    return found


# Texts for 08.2's check: near duplicates of several strengths among unrelated tweets.
CANDIDATE_TEXTS = [
    "cannot wait for the weekend to finally sleep in and watch movies",
    "cannot wait for the weekend to finally sleep in and watch films",
    "i cannot wait for the weekend to sleep in and watch movies",
    "my phone died again right before the bus came",
    "my phone died again right before the train came",
    "happy birthday to the best sister in the whole world",
    "happy birthday to the best brother in the whole world",
    "the coffee at the new place downtown is amazing",
    "rain all day, so i stayed home and read a book",
    "so tired of this rain, i want the sun back",
]


@exercise("08.2", "candidate_pairs(signatures, bands): the pairs (i, j), i < j, whose MinHash "
          "signatures agree on a whole band",
          hint="texts that agree on a whole band fall into the same bucket: key a dictionary by "
               "a band's numbers, one band at a time, and read the pairs off the buckets")
def candidate_pairs_function(answer: Any) -> str | None:
    import numpy as np

    from course_utils.curation import minhash_signatures

    as_function(answer, "candidate_pairs(signatures, bands)")
    signatures = minhash_signatures(CANDIDATE_TEXTS, num_perm=32, seed=8)
    rng = np.random.default_rng(8)
    noise = rng.integers(0, 5, (12, 12)).astype(np.uint32)  # small values: many partial matches
    for given, bands in [(signatures, 8), (signatures, 4), (noise, 6), (noise, 2)]:
        ours, error = run_learner(answer, given.copy(), bands)
        if error:
            return f"with bands={bands}: {error}"
        try:
            ours = {(int(i), int(j)) for i, j in ours}
        except (TypeError, ValueError):
            return f"candidate_pairs must return a set of pairs (i, j), got {ours!r:.60}"
        if any(i >= j for i, j in ours):
            return "give each pair once, as (i, j) with i < j"
        expected = candidate_pairs_reference(given, bands)
        if ours == expected:
            continue
        if ours == candidate_pairs_reference(given, given.shape[1] // bands):
            return (f"{bands} bands of {given.shape[1] // bands} numbers each, not "
                    f"{given.shape[1] // bands} bands of {bands}")
        extra, missed = len(ours - expected), len(expected - ours)
        if not missed:
            return (f"{extra} of your pairs agree on no whole band (bands={bands}): a band "
                    "counts only when all its numbers agree")
        return (f"with bands={bands} you miss {missed} of {len(expected)} pairs"
                + (f" and give {extra} that share no whole band" if extra else "")
                + "; a band is a run of consecutive numbers")
    return None


@exercise("08.3", "leaked(train_texts, test_texts): how many test texts are exact duplicates of "
          "a training text (ignoring case and punctuation)",
          hint="build a set of duplicate_key(t) for the training texts, count test texts in it")
def leaked_function(answer: Any) -> str | None:
    if not callable(answer):
        raise WrongAnswer(f"expected a function leaked(train_texts, test_texts), got "
                          f"{type(answer).__name__}: pass the function itself, without ()")
    cases = [
        (["Good morning!", "bad day"], ["good morning", "fine day", "BAD DAY!!"], 2),
        (["a b c"], ["a b", "c b a"], 0),
        (["Same text", "same text."], ["same TEXT"], 1),
    ]
    for train, test, expected in cases:
        try:
            got = answer(list(train), list(test))
        except Exception as error:  # the learner's code: report, never a traceback
            return f"leaked raised {type(error).__name__}: {error}"
        if got != expected:
            return (f"leaked({train}, {test}) gave {got!r}, expected {expected}: compare "
                    "duplicate_key(text), which ignores case and punctuation")
    return None
