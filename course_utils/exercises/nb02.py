"""Exercises of notebook 02: counting tokens, an attention mask by hand, fertility."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from course_utils.exercises.grading import (
    WrongAnswer, as_function, as_int, as_number, close_to, exercise, run_learner,
)

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
WORDS = "Unbelievably, the tokenizer's vocabulary handles hyphenated-words well."
BATCH = ["Hi!", "Attention masks mark padding.", "Tokens, not words."]
GERMAN = "Die Donaudampfschifffahrtsgesellschaft baut neue Schiffe."


@lru_cache(maxsize=2)
def _tokenizer(hub_id: str) -> Any:
    from transformers import AutoTokenizer

    from course_utils.offline.hub import resolve

    return AutoTokenizer.from_pretrained(resolve(hub_id, announce=False))


@exercise("02.1", f"How many WordPiece tokens (no special tokens) does MiniLM make of {WORDS!r}?",
          hint="ask the tokenizer for the pieces of the text alone: the special tokens come from "
               "encoding a sequence, not from cutting it")
def count_tokens(answer: Any) -> str | None:
    count = as_int(answer, "a whole number of tokens")
    tokenizer = _tokenizer(MINILM)
    expected = len(tokenizer.tokenize(WORDS))
    if count == expected:
        return None
    if count == expected + 2:
        return "that includes [CLS] and [SEP]; leave the special tokens out"
    if count == len(WORDS.split()):
        return "that is the number of words; count the pieces the tokenizer makes"
    return f"{count} is not the number of tokens"


@exercise("02.2", f"The attention mask of {BATCH} padded by MiniLM's tokenizer, by hand",
          hint="count each text's ids with special tokens, then 1s for them and 0s to the longest")
def attention_mask(answer: Any) -> str | None:
    rows = answer.tolist() if hasattr(answer, "tolist") else answer
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise WrongAnswer(f"expected a list of lists of 0 and 1, got {type(answer).__name__}")
    expected = _tokenizer(MINILM)(BATCH, padding=True)["attention_mask"]
    if len(rows) != len(expected):
        raise WrongAnswer(f"expected one row per text ({len(expected)} rows), got {len(rows)}")
    if any(v not in (0, 1) for r in rows for v in r):
        raise WrongAnswer("a mask holds only 0 (padding) and 1 (real token)")
    for i, (got, want) in enumerate(zip(rows, expected)):
        if len(got) != len(want):
            return (f"row {i} has length {len(got)}; every row is as long as the longest text "
                    f"with its special tokens ({len(want)})")
        if got != want:
            return f"row {i} is wrong: {sum(got)} ones, the text has {sum(want)} tokens"
    return None


@exercise("02.3", f"Fertility (tokens per word) of SmolLM2's tokenizer on {GERMAN!r}",
          hint="fertility is pieces per word: count the pieces the byte-level tokenizer cuts the "
               "text into, without special tokens, and the words between spaces")
def german_fertility(answer: Any) -> str | None:
    tokens = len(_tokenizer(SMOLLM2).tokenize(GERMAN))
    words = len(GERMAN.split())
    problem = close_to(answer, tokens / words, 1e-6, "a number of tokens per word")
    if problem and abs(float(answer) - words / tokens) < 1e-6:
        return "that is words per token; divide the other way round"
    return problem


@exercise("02.4", "fertility(tokenizer, text): tokens per word, without special tokens",
          hint="count the pieces the tokenizer cuts the text into, leaving out the markers it adds "
               "around a sequence, and divide by the words a split on spaces gives")
def fertility_function(answer: Any) -> str | None:
    as_function(answer, "fertility(tokenizer, text)")
    texts = ["Tokenizers disagree about compound words like Donaudampfschifffahrt.",
             "Le tokenizer coupe les mots rares en morceaux.", "short words only"]
    for name in (MINILM, SMOLLM2):
        tokenizer = _tokenizer(name)
        for text in texts:
            value, error = run_learner(answer, tokenizer, text)
            if error:
                return error
            got = as_number(value, "a number of tokens per word")
            expected = len(tokenizer.tokenize(text)) / len(text.split())
            if abs(got - expected) < 1e-6:
                continue
            with_special = len(tokenizer(text)["input_ids"]) / len(text.split())
            if abs(got - with_special) < 1e-6:
                return (f"{name.split('/')[-1]} adds special tokens around the text; they are "
                        "not pieces of it: leave them out")
            return f"{name.split('/')[-1]} on {text!r}: expected {expected:.4f}, got {got:.4f}"
    return None
