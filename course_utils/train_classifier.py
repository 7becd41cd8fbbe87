"""Fine-tune the course's classifier from the command line, on one device or several.

    python -m course_utils.train_classifier --output runs/minilm            # CPU, MPS or one GPU
    accelerate launch -m course_utils.train_classifier --output runs/minilm # every GPU (DDP)

It trains on the curated tweets of notebook 08 (curating them first if they are missing) with the
recipe `course_utils.training.choose_recipe` picks for the hardware: the same code as notebook 09.
Rerun the same command after an interruption and it resumes from the last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from course_utils.curation import LABEL_NAMES, load_curated
from course_utils.offline.hub import resolve
from course_utils.training import choose_recipe, evaluate, fine_tune, is_main_process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.train_classifier",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="folder for checkpoints and the model")
    parser.add_argument("--model", default="distilbert/distilbert-base-uncased",
                        help="Hub ID of a pretrained encoder (MiniLM stands in offline), or a "
                             "local model folder")
    parser.add_argument("--data", default=None,
                        help="a saved DatasetDict (train, validation, test); by default the "
                             "curated tweets of notebook 08")
    parser.add_argument("--max-steps", type=int, default=None, help="training steps")
    parser.add_argument("--train-split", default="train", choices=["train", "raw_train"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true",
                        help="delete what --output holds and start again")
    args = parser.parse_args(argv)
    if args.max_steps is not None and args.max_steps < 1:
        parser.error("--max-steps must be at least 1")
    if args.data:
        from datasets import load_from_disk

        splits = load_from_disk(args.data)
    else:
        splits = load_curated()
    model = args.model if Path(args.model).is_dir() else resolve(args.model)
    recipe = choose_recipe(max_steps=args.max_steps)
    try:
        trainer, tokenized = fine_tune(model, splits, recipe, args.output,
                                       args.train_split, LABEL_NAMES, args.seed, args.overwrite)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    majority = Counter(splits[args.train_split]["label"]).most_common(1)[0][0]
    scores = evaluate(trainer, tokenized["test"], list(splits["test"]["text"]), LABEL_NAMES,
                      majority)
    if is_main_process():
        print(json.dumps({"accuracy": round(scores.accuracy, 4),
                          "macro_f1": round(scores.macro_f1, 4),
                          "baseline_macro_f1": round(scores.baseline_macro_f1, 4),
                          "steps": trainer.state.global_step}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
