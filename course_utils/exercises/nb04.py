"""Exercises of notebook 04: the 80/10/10 rule, mean pooling by hand, semantic search."""

from __future__ import annotations

from typing import Any

from course_utils.exercises.grading import WrongAnswer, as_function, close_to, exercise, run_learner
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


@exercise("04.4", "mask_tokens(input_ids, special_tokens_mask, mask_id, vocab_size): BERT's "
          "masked-LM corruption, returning (inputs, labels)",
          hint="pick about 15% of the ordinary tokens; of those, most become the mask token, some "
               "a random token, some stay; the loss only looks at the picked positions")
def mask_tokens_function(answer: Any) -> str | None:
    import torch

    as_function(answer, "mask_tokens(input_ids, special_tokens_mask, mask_id, vocab_size)")
    torch.manual_seed(44)
    vocab_size, mask_id = 3000, 103
    input_ids = torch.randint(1000, vocab_size, (64, 128))
    special = torch.zeros_like(input_ids, dtype=torch.bool)
    special[:, 0] = special[:, -1] = True
    input_ids[:, 0], input_ids[:, -1] = 101, 102
    result, error = run_learner(answer, input_ids.clone(), special.clone(), mask_id, vocab_size)
    if error:
        return error
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return "return two tensors: (inputs, labels)"
    inputs, labels = (torch.as_tensor(part) for part in result)
    if inputs.shape != input_ids.shape or labels.shape != input_ids.shape:
        return f"inputs and labels must be shaped like input_ids, {tuple(input_ids.shape)}"
    picked = labels != -100
    if picked.float().mean().item() > 0.5:
        return ("the labels are -100 wherever a token was not picked, so that the loss only "
                "looks at the picked ones")
    if not torch.equal(labels[picked], input_ids[picked]):
        return "at a picked position the label is the original token; everywhere else -100"
    if picked[special].any():
        return "special tokens ([CLS], [SEP]) are never picked"
    if not torch.equal(inputs[~picked], input_ids[~picked]):
        return "a position that is not picked must keep its token"
    share = picked.sum().item() / (~special).sum().item()
    if not 0.13 <= share <= 0.17:
        return f"{share:.1%} of the ordinary tokens were picked; BERT picks 15%"
    masked = (inputs[picked] == mask_id).float().mean().item()
    kept = (inputs[picked] == input_ids[picked]).float().mean().item()
    if not 0.75 <= masked <= 0.85:
        return f"{masked:.0%} of the picked tokens became the mask token; BERT masks 80% of them"
    if not 0.06 <= kept <= 0.14:
        return (f"{kept:.0%} of the picked tokens kept their token; BERT keeps 10% and replaces "
                "10% with a random token")
    randomised = inputs[picked][(inputs[picked] != mask_id) & (inputs[picked] != input_ids[picked])]
    if randomised.numel() and (randomised.min() < 0 or randomised.max() >= vocab_size):
        return "random replacements must be token ids from 0 to vocab_size - 1"
    return None
