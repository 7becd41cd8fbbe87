"""Exercises of notebook 06: teacher forcing, cross-attention shapes, the trained date model."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import as_ints, as_text, exercise


@exercise("06.1", "Decoder input ids under teacher forcing for target [5, 9, 1], start token 0",
          hint="shift the target one place right and put the start token in front")
def shifted_right(answer: Any) -> str | None:
    ids = as_ints(answer, "a list of token ids")
    if ids == (0, 5, 9):
        return None
    if ids == (0, 5, 9, 1):
        return "as long as the target: drop the last token (</s> is predicted, never fed)"
    if ids == (5, 9, 1):
        return "that is the target itself; the decoder sees it shifted right, behind the start"
    if ids == (9, 1, 0):
        return "shift to the right, not the left: the start token comes first"
    return f"{list(ids)} is not it"


@exercise("06.2", "Shape of one layer's cross-attention: 8 heads, batch 2, source 16, target 10",
          hint="(batch, heads, target positions, source positions): queries come from the target")
def cross_shape(answer: Any) -> str | None:
    shape = as_ints(answer, "a tuple of 4 numbers")
    if shape == (2, 8, 10, 16):
        return None
    if shape == (2, 8, 16, 10):
        return "queries come from the decoder (target), keys from the encoder (source): swap"
    if sorted(shape) == sorted((2, 8, 10, 16)):
        return "the right numbers in the wrong order: (batch, heads, target, source)"
    return f"{shape} is not the shape"


@exercise("06.3", "The date model's output for 'MARCH 9 2031'",
          hint="translate(model, tokenizer, ['MARCH 9 2031'], max_new_tokens=12)[0]")
def date_output(answer: Any) -> str | None:
    text = as_text(answer, "the model's output, a string")
    if text == "2031-03-09":
        return None
    if text.replace(" ", "") == "2031-03-09":
        return "remove the spaces: the tokenizer's output should be joined without them"
    return (f"{text!r} is not 2031-03-09: if this is your model's output, it needs more "
            "training (rerun the training cell) or the decoding has a bug")
