"""Benchmark: training throughput of a naive recipe against the course's, same data, same steps.

    HF_HUB_OFFLINE=1 python tools/bench_fine_tuning.py [steps]        (default 40 steps)

Naive: every text padded to 128 tokens, fp32, random batches of 8 (the Trainer's default
batch). Course: `choose_recipe()` for this machine (dynamic padding, length grouping, and on a
GPU bf16/fp16, a fused optimizer and a large batch). Both fine-tune the same encoder (MiniLM
offline, DistilBERT online) on the curated tweets of notebook 08 for the same number of
optimizer steps, without evaluation or checkpoints. Prints a Markdown table of samples/s and
tokens/s (real, unpadded tokens); on a GPU also the model FLOPs utilisation (6 x parameters x
tokens computed, padding included, per second) against the card's matmul peak measured here
in the course recipe's precision (bf16 on compute capability 8.0 and up, else fp16).
Targets: the course's recipe at least 2x the naive samples/s on CPU, 4x on a GPU.
"""

from __future__ import annotations

import sys
import tempfile
import time

import torch

from course_utils.curation import load_curated
from course_utils.offline.hub import resolve
from course_utils import pick_device, quiet_logging
from course_utils.training import build_trainer, choose_recipe, naive_recipe, tokenize


def measured_peak(precision: str) -> float:
    """FLOP/s of a large matrix product on this GPU in the recipe's precision (best of 5): bf16
    where the card has it natively, fp16 elsewhere (a T4 emulates bf16, slowly)."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    a = torch.randn(8192, 8192, device="cuda", dtype=dtype)
    b = torch.randn(8192, 8192, device="cuda", dtype=dtype)
    best = float("inf")
    for _ in range(5):
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(10):
            a @ b
        torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - started) / 10)
    return 2 * 8192**3 / best


def run(recipe, splits, model_id: str, steps: int) -> dict:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    recipe.max_steps = steps
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    tokenized = tokenize(splits, tokenizer, recipe)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(model_id, num_labels=3)
    with tempfile.TemporaryDirectory() as folder:
        trainer = build_trainer(model, tokenizer, tokenized, recipe, folder, eval_strategy="no",
                                save_strategy="no", disable_tqdm=True, logging_steps=steps)
        counted = {"real": 0, "computed": 0}
        collate = trainer.data_collator

        def counting(features):
            batch = collate(features)
            counted["real"] += int(batch["attention_mask"].sum())
            counted["computed"] += batch["attention_mask"].numel()
            return batch

        trainer.data_collator = counting
        started = time.perf_counter()
        trainer.train()
        if recipe.device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
    samples = steps * recipe.batch_size
    parameters = sum(p.numel() for p in model.parameters())
    return {"seconds": seconds, "samples/s": samples / seconds,
            "tokens/s": counted["real"] / seconds,
            "flops/s": 6 * parameters * counted["computed"] / seconds}


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    quiet_logging()
    from datasets import disable_progress_bars

    disable_progress_bars()
    device = pick_device()
    splits = load_curated()
    model_id = resolve("distilbert/distilbert-base-uncased", announce=False)
    results = {}
    for name, recipe in [("naive", naive_recipe(device, steps)),
                         ("course", choose_recipe(device, steps))]:
        run(recipe, splits, model_id, 2)  # warm up
        results[name] = (recipe, run(recipe, splits, model_id, steps))
    course_precision = results["course"][0].precision
    peak = measured_peak(course_precision) if device.startswith("cuda") else None
    from course_utils.offline.hub import hub_offline_flag

    stand_in = " (MiniLM offline)" if hub_offline_flag() else ""
    print(f"device {device}{' ' + torch.cuda.get_device_name(0) if peak else ''}, {steps} steps, "
          f"distilbert/distilbert-base-uncased{stand_in}")
    print("\n| recipe | batch | precision | padding | seconds | samples/s | tokens/s |"
          + (" MFU |" if peak else ""))
    print("|---|---:|---|---|---:|---:|---:|" + ("---:|" if peak else ""))
    for name, (recipe, r) in results.items():
        padding = "dynamic, grouped" if recipe.dynamic_padding else f"to {recipe.max_length}"
        row = (f"| {name} | {recipe.batch_size} | {recipe.precision} | {padding} | "
               f"{r['seconds']:.1f} | {r['samples/s']:.1f} | {r['tokens/s']:,.0f} |")
        if peak:
            row += f" {r['flops/s'] / peak:.1%} |"
        print(row)
    speedup = results["course"][1]["samples/s"] / results["naive"][1]["samples/s"]
    target = 4 if device.startswith("cuda") else 2
    print(f"\nspeed-up in samples/s: {speedup:.1f}x (target {target}x)"
          + (f"; measured {course_precision} peak {peak / 1e12:.0f} TFLOP/s" if peak else ""))


if __name__ == "__main__":
    main()
