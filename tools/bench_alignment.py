"""Benchmark: notebook 13's DPO run, and the same run pushed harder, on the same pairs.

    HF_HUB_OFFLINE=1 python tools/bench_alignment.py              (both recipes, seed 0)
    HF_HUB_OFFLINE=1 python tools/bench_alignment.py --seeds 0 1 2  (the notebook's, per seed)

Each row trains in a fresh Python process, as notebook 13 does: SmolLM2-135M-Instruct's greedy
replies to `alignment.questions()` (48 new tokens) made into pairs by `alignment.concise_pair`,
32 held-out pairs, TRL's `DPOTrainer` with LoRA rank 16 on every linear layer and the reference
taken with the adapter disabled, beta 0.1, the base in the precision of notebook 12's recipe.

- the notebook's recipe: learning rate 2e-4, 24 steps of 2 pairs;
- pushed harder: learning rate 5e-4, 60 steps of 2 pairs (2.5 times both).

Prints a Markdown table: preference accuracy of the implicit reward on the held-out pairs, the
mean reply length (tokens, greedy, at most 48) before and after, how many held-out replies are
empty, how often the learned reward scores an empty reply above the pair's chosen reply, the
change in perplexity on general text, training seconds and the process's exact peak memory
(VmHWM on a CPU, `torch.cuda.max_memory_allocated` on a GPU).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from bench_lora import peak_mib, run_child  # tools/ is on the path when this script runs

RECIPES = {"notebook": (2e-4, 24), "harder": (5e-4, 60)}


def run(recipe_name: str, seed: int) -> dict:
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from course_utils import alignment, instruction, quiet_logging
    from course_utils.env.device import pick_device
    from course_utils.offline.hub import resolve
    from course_utils.training import release_memory_each_step

    quiet_logging()
    device = pick_device()
    lora_recipe = instruction.choose_lora_recipe(device)
    learning_rate, steps = RECIPES[recipe_name]
    model_id = resolve("HuggingFaceTB/SmolLM2-135M-Instruct", announce=False)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=instruction.torch_dtype(lora_recipe))
    model = model.to(device).eval()
    questions = alignment.questions(seed=0)
    replies = instruction.generate_replies(model, tokenizer, [q["prompt"] for q in questions],
                                           max_new_tokens=48, batch_size=16)
    splits = alignment.preference_splits(questions, [r.text for r in replies], test=32, seed=0)
    test = splits["test"]
    general = instruction.general_texts(32)

    def lengths(found):
        return sum(len(tokenizer(r.text, add_special_tokens=False)["input_ids"])
                   for r in found) / len(found)

    before = instruction.generate_replies(model, tokenizer, test["prompt"], max_new_tokens=48,
                                          batch_size=16)
    ppl_before = instruction.perplexity(model, tokenizer, general)
    gpu = device != "cpu"
    with tempfile.TemporaryDirectory() as out:
        config = DPOConfig(
            output_dir=out, beta=0.1, max_length=96, pad_to_multiple_of=32,
            per_device_train_batch_size=8 if gpu else 1,
            gradient_accumulation_steps=1 if gpu else 2, learning_rate=learning_rate,
            max_steps=steps, lr_scheduler_type="linear", gradient_checkpointing=not gpu,
            save_strategy="no", logging_strategy="no", report_to="none", seed=seed,
            use_cpu=not gpu, disable_tqdm=True)
        trainer = DPOTrainer(
            model=model, args=config, train_dataset=splits["train"].remove_columns("topic"),
            processing_class=tokenizer,
            peft_config=LoraConfig(r=16, lora_alpha=32, target_modules="all-linear",
                                   task_type="CAUSAL_LM"),
            callbacks=[release_memory_each_step()])
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
        policy = trainer.model.eval()
        pairs = trainer._prepare_dataset(test.remove_columns("topic"), tokenizer, config, "eval")
        batches = [trainer.data_collator([pairs[j] for j in range(i, min(i + 2, len(pairs)))])
                   for i in range(0, len(pairs), 2)]
    scores = alignment.preference_scores(policy, batches)
    after = instruction.generate_replies(policy, tokenizer, test["prompt"], max_new_tokens=48,
                                         batch_size=16)
    empty = alignment.implicit_rewards(policy, tokenizer, test["prompt"], [""] * len(test))
    chosen = alignment.implicit_rewards(policy, tokenizer, test["prompt"],
                                        [c[0]["content"] for c in test["chosen"]])
    with torch.no_grad():
        ppl_after = instruction.perplexity(policy, tokenizer, general)
    return {"recipe": recipe_name, "seed": seed, "lr": learning_rate, "steps": steps,
            "dtype": lora_recipe.dtype, "device": device, "accuracy": scores.accuracy.value,
            "low": scores.accuracy.low, "high": scores.accuracy.high,
            "length_before": lengths(before), "length_after": lengths(after),
            "empty": sum(not r.text.strip() for r in after), "n": len(test),
            "empty_wins": sum(e > c for e, c in zip(empty, chosen)),
            "ppl_before": ppl_before, "ppl_after": ppl_after, "seconds": seconds,
            "peak_mib": peak_mib()}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(run(argv[1], int(argv[2]))))
        return 0
    if argv[:1] == ["--seeds"]:
        if not argv[1:] or not all(a.isdigit() for a in argv[1:]):
            print("give one or more seeds, for example: --seeds 0 1 2", file=sys.stderr)
            return 2
        jobs = [("notebook", seed) for seed in argv[1:]]
    elif argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    else:
        jobs = [("notebook", "0"), ("harder", "0")]
    rows = [run_child([name, seed], script=__file__) for name, seed in jobs]
    if None in rows:
        return 1
    print(f"Notebook 13's DPO run, SmolLM2-135M-Instruct ({rows[0]['dtype']} base), "
          f"{rows[0]['device']}, {os.cpu_count()} cores; {rows[0]['n']} held-out pairs")
    print("| recipe | seed | lr | steps | preference accuracy | reply length (tokens) | "
          "empty replies | empty reply scored above chosen | perplexity on general text | "
          "training | peak memory |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['recipe']} | {r['seed']} | {r['lr']:g} | {r['steps']} | "
              f"{r['accuracy']:.0%} [{r['low']:.0%}, {r['high']:.0%}] | "
              f"{r['length_before']:.1f} -> {r['length_after']:.1f} "
              f"({r['length_after'] / r['length_before'] - 1:+.0%}) | {r['empty']}/{r['n']} | "
              f"{r['empty_wins']}/{r['n']} | {r['ppl_before']:.2f} -> {r['ppl_after']:.2f} "
              f"({r['ppl_after'] / r['ppl_before'] - 1:+.1%}) | {r['seconds']:.0f} s | "
              f"{r['peak_mib'] / 1024 * 2**30 / 1e9:.2f} GB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
