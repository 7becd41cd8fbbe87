"""Exercises of notebook 06: teacher forcing, cross-attention shapes, the trained date model."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from course_utils.exercises.grading import as_function, as_ints, as_text, exercise, run_learner


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
          hint="run the model that section 4 trained as it was scored on its test dates: "
               "greedy, long enough for a whole ISO date")
def date_output(answer: Any) -> str | None:
    text = as_text(answer, "the model's output, a string")
    if text == "2031-03-09":
        return None
    if text.replace(" ", "") == "2031-03-09":
        return "remove the spaces: the tokenizer's output should be joined without them"
    return (f"{text!r} is not 2031-03-09: if this is your model's output, it needs more "
            "training (rerun the training cell) or the decoding has a bug")


@exercise("06.4", "shift_right(labels, start_id, pad_id): a batch of targets (with -100 where "
          "the loss ignores a position) turned into the decoder's inputs",
          hint="at each step the decoder reads the token that should have come out one step "
               "earlier; -100 is a flag for the loss, not a token the model can read")
def shift_right_function(answer: Any) -> str | None:
    import torch

    as_function(answer, "shift_right(labels, start_id, pad_id)")
    cases = [(torch.tensor([[5, 9, 1]]), 0, 0),
             (torch.tensor([[7, 3, 8, 1, -100], [4, 1, -100, -100, -100]]), 0, 0),
             (torch.tensor([[12, 40, 2], [33, 2, -100]]), 11, 1)]
    for labels, start_id, pad_id in cases:
        ours, error = run_learner(answer, labels.clone(), start_id, pad_id)
        if error:
            return error
        expected = torch.full_like(labels, pad_id)
        expected[:, 0] = start_id
        expected[:, 1:] = labels[:, :-1]
        expected = expected.masked_fill(expected == -100, pad_id)
        if not isinstance(ours, torch.Tensor) or ours.shape != labels.shape:
            return f"return a tensor shaped like labels, {tuple(labels.shape)}"
        if torch.equal(ours, expected):
            continue
        if (ours == -100).any():
            return "-100 is left in the inputs: the embedding has no row -100; use pad_id there"
        if not torch.equal(ours[:, 0], torch.full_like(ours[:, 0], start_id)):
            return f"every row must start with start_id ({start_id})"
        return f"for labels {labels.tolist()} the inputs are not the labels shifted one place right"
    return None


@lru_cache(maxsize=1)
def _course_t5() -> tuple[Any, Any]:
    """The course's T5 (the tiny stand-in offline) and its tokenizer, loaded once for grading."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from course_utils.offline.hub import resolve

    model_id = resolve("google-t5/t5-small", announce=False)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_id).eval()
    return model, AutoTokenizer.from_pretrained(model_id)


@exercise("06.5", "seq2seq_greedy(model, input_ids, max_new_tokens): an encoder-decoder's greedy "
          "answer, by hand, as the list of new token ids",
          hint="the encoder reads the input once; the decoder starts from its start token and "
               "appends its most likely next token each step, reading the encoder's output every "
               "time, until the end token or the limit")
def seq2seq_greedy_function(answer: Any) -> str | None:
    import torch

    as_function(answer, "seq2seq_greedy(model, input_ids, max_new_tokens)")
    model, tokenizer = _course_t5()
    for text, limit in [("translate English to French: The house is small.", 12),
                        ("summarize: The meeting moved to Friday because the room was booked.", 7)]:
        input_ids = tokenizer(text, return_tensors="pt")["input_ids"]
        encoder_runs = []
        counting = model.get_encoder().register_forward_hook(lambda *_: encoder_runs.append(1))
        try:
            with torch.no_grad():
                ours, error = run_learner(answer, model, input_ids.clone(), limit)
        finally:
            counting.remove()
        with torch.no_grad():
            expected = model.generate(input_ids, max_new_tokens=limit, do_sample=False,
                                      num_beams=1)[0, 1:]
        if error:
            return error
        expected = [t for t in expected.tolist() if t != model.config.pad_token_id]
        try:
            got = [int(t) for t in torch.as_tensor(ours).flatten().tolist()]
        except (TypeError, ValueError):
            return "return the new token ids as a list or a 1-D tensor"
        start = model.config.decoder_start_token_id
        if got and got[0] == start and got[1:] == expected[:len(got) - 1]:
            return "leave out the decoder's start token: return only the tokens the model chose"
        if got == expected:
            if len(encoder_runs) != 1:
                return (f"right tokens, but the encoder ran {len(encoder_runs)} times: it should "
                        "read the input once, and each step pass its output as encoder_outputs=")
            continue
        if got[:len(expected)] == expected:
            return "stop at the end token (keep it), as generate() does"
        return f"for {text!r} the tokens differ from greedy decoding's {expected}"
    return None
