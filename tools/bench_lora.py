"""Benchmark: LoRA against full fine-tuning of SmolLM2-135M-Instruct, same data, same steps.

    HF_HUB_OFFLINE=1 python tools/bench_lora.py [steps]        (default 12 steps)
    HF_HUB_OFFLINE=1 python tools/bench_lora.py --seeds 0 1 2 3  (notebook 12's run, per seed)

Each setting trains in a fresh Python process with TRL's `SFTTrainer` on notebook 12's date
set (`instruction.date_splits`), the notebook's SFTConfig (batch 4 with activation checkpointing
on a CPU, batch 16 without on a GPU; completion-only loss, max_length 64; the recipe's learning
rate for LoRA, 1.5e-3 on a CPU, and 2e-5 for full fine-tuning; AdamW), no evaluation and no
checkpoints:

- full fine-tuning: every parameter trained, float32 weights (AdamW keeps two float32 moments
  per parameter);
- LoRA, float32 base: rank 16 on every linear layer, the base frozen in float32;
- LoRA, the course's recipe: `instruction.choose_lora_recipe()` for this machine (bfloat16 base
  weights where the CPU or card computes in bfloat16).

Prints a Markdown table: trainable parameters, seconds per optimizer step (the first step, which
warms caches up, left out) and the peak memory of the process: on a CPU its exact high-water
mark (VmHWM, what Binder's 2 GB limit is held against; the process's imports included), on a GPU
`torch.cuda.max_memory_allocated`.

With `--seeds`, notebook 12's training (the course's recipe, 40 steps) runs once per seed (the
seed sets the LoRA initialisation and the data order) and each adapter is measured as the
notebook measures it on the 40 held-out dates: format compliance, exact match, stop rate, and
the change in perplexity on general text. One table row per seed: how much of the notebook's
result is the recipe and how much is the seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

SETTINGS = ("full fine-tuning", "LoRA, float32 base", "LoRA, the course's recipe")


def peak_mib() -> float:
    """The process's resident high-water mark in MiB (Linux), or the GPU's allocated peak."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train_one(setting: str, steps: int) -> dict:
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from course_utils import instruction, quiet_logging
    from course_utils.env.device import pick_device
    from course_utils.offline.hub import resolve
    from course_utils.training import release_memory_each_step

    quiet_logging()
    device = pick_device()
    recipe = instruction.choose_lora_recipe(device, max_steps=steps)
    model_id = resolve("HuggingFaceTB/SmolLM2-135M-Instruct", announce=False)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    dtype = instruction.torch_dtype(recipe) if setting == SETTINGS[2] else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=dtype)
    lora = setting != SETTINGS[0]
    data = instruction.date_splits(train=320, test=40, seed=0)["train"].remove_columns("answer")
    times: list[float] = []

    class StepTimes(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            times.append(time.perf_counter() - self.started)

    with tempfile.TemporaryDirectory() as out:
        config = SFTConfig(
            output_dir=out, max_steps=steps, per_device_train_batch_size=recipe.batch_size,
            gradient_accumulation_steps=recipe.gradient_accumulation,
            learning_rate=recipe.learning_rate if lora else 2e-5,
            gradient_checkpointing=recipe.checkpointing, completion_only_loss=True,
            max_length=recipe.max_length, save_strategy="no", logging_strategy="no",
            report_to="none", seed=0, use_cpu=device == "cpu", disable_tqdm=True)
        trainer = SFTTrainer(
            model=model, args=config, train_dataset=data, processing_class=tokenizer,
            peft_config=LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha,
                                   target_modules="all-linear", task_type="CAUSAL_LM")
            if lora else None,
            callbacks=[StepTimes(), release_memory_each_step()])
        trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        trainer.train()
    return {"setting": setting, "dtype": str(dtype).removeprefix("torch."), "device": device,
            "batch": recipe.batch_size * recipe.gradient_accumulation, "trainable": trainable,
            "s_per_step": sum(times[1:]) / max(1, len(times) - 1), "peak_mib": peak_mib()}


def quality(seed: int) -> dict:
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from course_utils import instruction, quiet_logging
    from course_utils.env.device import pick_device
    from course_utils.offline.hub import resolve

    quiet_logging()
    device = pick_device()
    recipe = instruction.choose_lora_recipe(device)
    model_id = resolve("HuggingFaceTB/SmolLM2-135M-Instruct", announce=False)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=instruction.torch_dtype(recipe))
    model = model.to(device).eval()
    splits = instruction.date_splits(train=320, test=40, seed=0)
    general = instruction.general_texts(32)
    before = instruction.perplexity(model, tokenizer, general)
    with tempfile.TemporaryDirectory() as out:
        config = SFTConfig(
            output_dir=out, max_steps=recipe.max_steps,
            per_device_train_batch_size=recipe.batch_size,
            gradient_accumulation_steps=recipe.gradient_accumulation,
            learning_rate=recipe.learning_rate, lr_scheduler_type="linear", warmup_steps=0,
            gradient_checkpointing=recipe.checkpointing, completion_only_loss=True,
            max_length=recipe.max_length, save_strategy="no", logging_strategy="no",
            report_to="none", seed=seed, use_cpu=device == "cpu", disable_tqdm=True)
        trainer = SFTTrainer(
            model=model, args=config, train_dataset=splits["train"].remove_columns("answer"),
            processing_class=tokenizer,
            peft_config=LoraConfig(r=recipe.rank, lora_alpha=recipe.alpha,
                                   target_modules="all-linear", task_type="CAUSAL_LM"))
        trainer.train()
    tuned = trainer.model.eval()
    replies = instruction.generate_replies(tuned, tokenizer, splits["test"]["prompt"])
    scores = instruction.score_replies(replies, splits["test"]["answer"])
    after = instruction.perplexity(tuned, tokenizer, general)
    return {"seed": seed, "dtype": recipe.dtype, "lr": recipe.learning_rate,
            "compliance": scores.compliance.value, "exact": scores.exact.value,
            "stop": scores.stop.value, "ppl_before": before, "ppl_after": after}


def child(argv: list[str]) -> dict:
    return quality(int(argv[1])) if argv[0] == "--quality" else train_one(argv[0], int(argv[1]))


def run_child(args: list[str], script: str = __file__) -> dict | None:
    """Run `script --child args` in a fresh Python process; its last line of output, as JSON."""
    done = subprocess.run([sys.executable, script, "--child", *args], capture_output=True,
                          text=True, env=dict(os.environ))
    if done.returncode != 0:
        print(f"{' '.join(args)}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1:])))
        return 0
    if argv[:1] == ["--seeds"]:
        if not argv[1:] or not all(a.isdigit() for a in argv[1:]):
            print("give one or more seeds, for example: --seeds 0 1 2 3", file=sys.stderr)
            return 2
        rows = [run_child(["--quality", seed]) for seed in argv[1:]]
        if None in rows:
            return 1
        print(f"Notebook 12's LoRA run per seed ({rows[0]['dtype']} base, lr {rows[0]['lr']}, "
              "40 steps), on its 40 held-out dates and 32 general sentences")
        print("| seed | format compliance | exact match | stop rate | perplexity on general text |")
        print("|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['seed']} | {r['compliance']:.1%} | {r['exact']:.1%} | {r['stop']:.1%} | "
                  f"{r['ppl_before']:.2f} -> {r['ppl_after']:.2f} "
                  f"({r['ppl_after'] / r['ppl_before'] - 1:+.1%}) |")
        return 0
    steps = int(argv[0]) if argv else 12
    if steps < 2:
        print("give at least 2 steps: the first one is left out of the time", file=sys.stderr)
        return 2
    rows = [run_child([setting, str(steps)]) for setting in SETTINGS]
    if None in rows:
        return 1
    print(f"SmolLM2-135M-Instruct, notebook 12's date set, {steps} steps, {rows[0]['device']}, "
          f"{os.cpu_count()} cores")
    print("| setting | base weights | batch | trainable parameters | s / step | peak memory |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['setting']} | {r['dtype']} | {r['batch']} | {r['trainable'] / 1e6:.1f}M | "
              f"{r['s_per_step']:.2f} | {r['peak_mib'] / 1024 * 2**30 / 1e9:.2f} GB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
