"""Exercises of notebook 09: a majority baseline, macro-F1 from a confusion matrix, steps."""

from __future__ import annotations

import math
from typing import Any

from course_utils.exercises.grading import as_function, as_int, as_number, exercise, run_learner

@exercise("09.1", "Accuracy of always predicting the majority label on a test set of 50 "
          "negative, 30 neutral and 20 positive texts",
          hint="the majority label is right on its own rows and wrong on every other")
def majority_accuracy(answer: Any) -> str | None:
    value = as_number(answer, "a number between 0 and 1")
    if math.isclose(value, 0.5, abs_tol=1e-6):
        return None
    if math.isclose(value, 50, abs_tol=1e-6):
        return "as a fraction, not a count or a percentage: 50 of 100 texts"
    if math.isclose(value, 1 / 3, abs_tol=1e-6):
        return "1/3 would be guessing at random among three labels; the majority label does better"
    return f"{value} is not it"


@exercise("09.2", "Macro-F1 of the confusion matrix [[8, 2], [4, 6]] (rows true, columns "
          "predicted)",
          hint="F1 per class = 2PR/(P+R) with P from the column, R from the row; then average")
def macro_f1(answer: Any) -> str | None:
    value = as_number(answer, "a number between 0 and 1")
    expected = (2 * 8 / (2 * 8 + 2 + 4) + 2 * 6 / (2 * 6 + 4 + 2)) / 2
    if math.isclose(value, expected, abs_tol=1e-3):
        return None
    if math.isclose(value, 14 / 20, abs_tol=1e-3):
        return "that is the accuracy (14 of 20); macro-F1 averages each class's F1"
    return f"{value:.4f} is not it"


@exercise("09.3", "Optimizer steps for 3 epochs over 1,000 examples in batches of 32",
          hint="each epoch takes ceil(1000 / 32) steps: the last, smaller batch counts too")
def steps(answer: Any) -> str | None:
    value = as_int(answer, "a whole number of steps")
    if value == 3 * math.ceil(1000 / 32):
        return None
    if value == 3 * (1000 // 32):
        return "the last batch of each epoch is smaller but still a step: round up"
    if value == math.ceil(1000 / 32):
        return "that is one epoch; there are three"
    return f"{value} is not it"


@exercise("09.4", "lr_at(step, peak, warmup, total): the learning rate Trainer's default "
          "schedule uses at a step",
          hint="it climbs in a straight line from 0 to the peak during the warm-up, then falls "
               "in a straight line to 0 at the last step")
def linear_schedule_function(answer: Any) -> str | None:
    as_function(answer, "lr_at(step, peak, warmup, total)")
    for peak, warmup, total in [(3e-4, 10, 50), (1e-3, 4, 9), (5e-5, 0, 20)]:
        for step in range(total + 1):
            value, error = run_learner(answer, step, peak, warmup, total)
            if error:
                return f"at step {step} (warmup {warmup}, total {total}): {error}"
            if step < warmup:
                expected = peak * step / warmup
            else:
                expected = peak * max(0.0, (total - step) / (total - warmup))
            got = as_number(value, "a learning rate")
            if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-12):
                continue
            if step < warmup:
                return (f"during the warm-up (step {step} of {warmup}) the rate should be "
                        f"{expected:.3g}, a share step / warmup of the peak; got {got:.3g}")
            return (f"after the warm-up (step {step}, total {total}) the rate should be "
                    f"{expected:.3g}, falling to 0 at the last step; got {got:.3g}")
    return None


@exercise("09.5", "my_collate(rows, pad_id): a batch padded to its longest row, as the "
          "model's inputs",
          hint="pad each row's ids on the right to the batch's longest, mark the real tokens in "
               "the attention mask, and name the labels the way the model's forward expects them")
def collate_function(answer: Any) -> str | None:
    import torch

    as_function(answer, "my_collate(rows, pad_id)")
    batches = [([[101, 7, 8, 102], [101, 9, 102], [101, 5, 6, 4, 3, 102]], [0, 2, 1], 0),
               ([[1, 2, 3], [4]], [1, 1], 9)]
    for ids, labels, pad_id in batches:
        rows = [{"input_ids": list(r), "attention_mask": [1] * len(r), "label": y}
                for r, y in zip(ids, labels)]
        batch, error = run_learner(answer, [dict(r) for r in rows], pad_id)
        if error:
            return error
        if not isinstance(batch, dict):
            return "return a dict of tensors: input_ids, attention_mask and labels"
        if "labels" not in batch:
            return ("the model computes its loss from a key named labels (the data's column is "
                    "label)")
        longest = max(map(len, ids))
        expected_ids = torch.tensor([r + [pad_id] * (longest - len(r)) for r in ids])
        expected_mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in ids])
        try:
            got = {key: torch.as_tensor(batch[key]) for key in ("input_ids", "attention_mask",
                                                                  "labels")}
        except KeyError as missing:
            return f"the batch has no {missing} key"
        if got["input_ids"].shape != expected_ids.shape:
            return (f"pad to the longest row of this batch, {longest} tokens: got shape "
                    f"{tuple(got['input_ids'].shape)}")
        if not torch.equal(got["input_ids"], expected_ids):
            return f"input_ids: each row's ids, then pad_id ({pad_id}) on the right"
        if not torch.equal(got["attention_mask"], expected_mask):
            return "attention_mask: 1 on real tokens, 0 on padding"
        if got["labels"].tolist() != labels:
            return "labels: one label per row, in order"
    return None
