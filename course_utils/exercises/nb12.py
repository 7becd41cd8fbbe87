"""Exercises of notebook 12: the labels a chat reply is trained on, merging a LoRA update into
its weight, and the format check of a reply; each a function graded on inputs the learner has
not seen."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import as_function, exercise

PAD = 2  # the grading batches pad with the end-of-turn id, as SmolLM2's tokenizer does



def _label_cases() -> list[tuple[Any, Any, list[int], Any]]:
    """Right-padded batches whose replies end with the end-of-turn id, which is also the pad id;
    with the labels the loss must see."""
    import torch

    generator = torch.Generator().manual_seed(121)
    cases = []
    for rows, width in [(3, 12), (4, 9), (2, 15)]:
        ids = torch.full((rows, width), PAD)
        mask = torch.zeros(rows, width, dtype=torch.long)
        prompt_lengths = []
        expected = torch.full((rows, width), -100)
        for row in range(rows):
            length = int(torch.randint(max(5, width - 5), width + 1, (1,), generator=generator))
            prompt = int(torch.randint(2, length - 1, (1,), generator=generator))
            ids[row, :length] = torch.randint(3, 500, (length,), generator=generator)
            ids[row, length - 1] = PAD  # the reply's end-of-turn token
            mask[row, :length] = 1
            prompt_lengths.append(prompt)
            expected[row, prompt:length] = ids[row, prompt:length]
        cases.append((ids, mask, prompt_lengths, expected))
    return cases


@exercise("12.1", "reply_labels(input_ids, attention_mask, prompt_lengths): the labels of a "
          "right-padded batch, -100 wherever the loss must not look",
          hint="the loss sees each row's reply, from its prompt length to its last real token "
               "(the end-of-turn included); which positions are padding is what the attention "
               "mask says, not what the token is")
def reply_labels(answer: Any) -> str | None:
    import torch

    as_function(answer, "reply_labels(input_ids, attention_mask, prompt_lengths)")
    for ids, mask, prompt_lengths, expected in _label_cases():
        try:
            got = torch.as_tensor(answer(ids.clone(), mask.clone(), list(prompt_lengths)))
        except Exception as error:  # the learner's code: report, never a traceback
            return f"reply_labels raised {type(error).__name__}: {error}"
        if got.shape != expected.shape:
            return (f"labels must have the batch's shape {tuple(expected.shape)}, got "
                    f"{tuple(got.shape)}")
        if torch.equal(got.long(), expected):
            continue
        real_end = (expected == PAD)
        if real_end.any() and bool((got[real_end] == -100).all()):
            return ("the reply's end-of-turn token is masked: it is also the pad id, so masking "
                    "by token id hides it and the model never learns to stop; use the "
                    "attention mask")
        for row, prompt in enumerate(prompt_lengths):
            if bool((got[row, :prompt] != -100).any()):
                return f"row {row}: the prompt's {prompt} tokens must be -100 (not trained on)"
            if bool((got[row][mask[row] == 0] != -100).any()):
                return f"row {row}: padding positions must be -100"
        return "some reply tokens are not their own labels: copy input_ids where the loss looks"
    return None


@exercise("12.2", "merge_lora(weight, A, B, alpha): the weight of a Linear layer with its LoRA "
          "update merged in",
          hint="the update is the product of the two small matrices, scaled as in section 4; "
               "the rank is not an argument: which shape holds it?")
def merge_lora(answer: Any) -> str | None:
    import torch

    as_function(answer, "merge_lora(weight, A, B, alpha)")
    generator = torch.Generator().manual_seed(122)
    for out_features, in_features, rank, alpha in [(12, 20, 4, 8), (7, 5, 2, 16), (30, 30, 8, 8)]:
        weight = torch.randn(out_features, in_features, generator=generator)
        a = torch.randn(rank, in_features, generator=generator)
        b = torch.randn(out_features, rank, generator=generator)
        expected = weight + (alpha / rank) * b @ a
        try:
            got = torch.as_tensor(answer(weight.clone(), a.clone(), b.clone(), alpha))
        except Exception as error:
            return f"merge_lora raised {type(error).__name__}: {error}"
        if got.shape != weight.shape:
            return (f"the merged weight has the layer's shape {tuple(weight.shape)}, got "
                    f"{tuple(got.shape)}")
        if torch.allclose(got, expected, atol=1e-4):
            continue
        if torch.allclose(got, weight + b @ a, atol=1e-4):
            return "the update is not scaled: LoRA multiplies B @ A by alpha / rank"
        if torch.allclose(got, weight + alpha * b @ a, atol=1e-4):
            return "scaled by alpha alone: divide by the rank too"
        return (f"for a {out_features}x{in_features} weight with rank {rank}, alpha {alpha}: the "
                "merged weight differs from weight + (alpha / rank) * B @ A")
    return None


ISO_CASES = [("2031-07-04", True), (" 1999-12-31\n", True), ("2024-02-29", True),
             ("2023-02-29", False), ("2021-13-01", False), ("2021-3-4", False),
             ("2021-03-04.", False), ("The date is 2021-03-04", False), ("", False),
             ("04-03-2021", False), ("2021/03/04", False), ("2021-03-04 2021-", False),
             ("２０２１-03-04", False)]


@exercise("12.3", "is_iso_date(reply): whether the whole reply, less surrounding whitespace, is a "
          "real date written YYYY-MM-DD",
          hint="two checks: the shape (four, two and two ASCII digits joined by hyphens, nothing "
               "else) and that such a day exists (datetime can tell)")
def is_iso_date(answer: Any) -> str | None:
    as_function(answer, "is_iso_date(reply)")
    for reply, expected in ISO_CASES:
        try:
            got = answer(reply)
        except Exception as error:
            return f"is_iso_date({reply!r}) raised {type(error).__name__}: {error}"
        if bool(got) == expected:
            continue
        if expected:
            return f"is_iso_date({reply!r}) gave {got!r}: that reply is a valid ISO date"
        return f"is_iso_date({reply!r}) gave {got!r}: that reply does not parse as YYYY-MM-DD"
    return None
