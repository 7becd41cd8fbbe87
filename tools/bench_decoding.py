"""Benchmark: SmolLM2 writing 200 new tokens greedily on CPU, with and without the KV cache.

    HF_HUB_OFFLINE=1 python tools/bench_decoding.py [new_tokens]

Both runs use course_utils.decoding.generate_by_hand (the loop notebook 05 writes), so they must
produce the same tokens; the script checks that, then prints a Markdown table. Target: the cache
at least 3x faster for 200 new tokens. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import os
import sys
import time

import torch

from course_utils.decoding import generate_by_hand, seconds_per_token
from course_utils.offline.hub import resolve
from course_utils import quiet_logging

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def main() -> None:
    new_tokens = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    quiet_logging()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_id = resolve("HuggingFaceTB/SmolLM2-135M-Instruct", announce=False)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32).eval()
    text = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], tokenize=False,
                                         add_generation_prompt=True)
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    generate_by_hand(model, ids, 4)  # warm up

    seconds, outputs = {}, {}
    for use_cache in (True, False):
        started = time.perf_counter()
        outputs[use_cache] = generate_by_hand(model, ids, new_tokens, use_cache=use_cache)
        seconds[use_cache] = time.perf_counter() - started
    made = outputs[True].shape[1] - ids.shape[1]
    assert made == new_tokens, f"stopped after {made} tokens"  # no eos: always the full count
    assert torch.equal(outputs[True], outputs[False]), "cache changed the tokens"

    print(f"SmolLM2-135M float32, {os.cpu_count()} CPU threads, torch "
          f"{torch.__version__}, prompt of {ids.shape[1]} tokens\n")
    print(f"| {new_tokens} new tokens, greedy | seconds | tokens/s | speed-up |")
    print("|---|---|---|---|")
    for use_cache, name in ((False, "no cache (rerun the whole sequence)"),
                            (True, "KV cache (one token per step)")):
        print(f"| {name} | {seconds[use_cache]:.1f} | {new_tokens / seconds[use_cache]:.1f} | "
              f"{seconds[False] / seconds[use_cache]:.1f}x |")
    lengths = [32, 64, 128, 256]
    cached = seconds_per_token(model, lengths, use_cache=True)
    full = seconds_per_token(model, lengths, use_cache=False)
    print("\n| tokens so far | ms per new token, no cache | ms per new token, cache |")
    print("|---|---|---|")
    for n, a, b in zip(lengths, full, cached):
        print(f"| {n} | {a * 1e3:.0f} | {b * 1e3:.0f} |")
    ratio = seconds[False] / seconds[True]
    print(f"\nspeed-up {ratio:.1f}x (target at least 3x): {'met' if ratio >= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
