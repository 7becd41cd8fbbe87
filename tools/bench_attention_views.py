"""Benchmark: the size and build time of the attention views for inputs of growing length.

    HF_HUB_OFFLINE=1 python tools/bench_attention_views.py

MiniLM (6 layers, 12 heads) reads the first N word pieces of a paragraph; the script builds the
head view and the model view with their defaults and prints a Markdown table of output size
and build time. Target: the head view of a 40-token sentence at most 1.5 MB.
"""

from __future__ import annotations

import time

from course_utils.attention.data import attention_of
from course_utils.attention.views import head_view, model_view
from course_utils.offline.hub import resolve
from course_utils import quiet_logging

PARAGRAPH = (
    "The lighthouse keeper climbed the narrow stairs every evening, lit the great lamp and "
    "watched the ships pass far out at sea. One stormy night a small boat drifted towards the "
    "rocks, and he rowed out alone through the waves to bring its frightened crew safely home. "
    "The village remembered him for years, and children still tell the story on winter nights.")
LIMIT_40 = 1.5e6


def main() -> None:
    quiet_logging()
    from transformers import AutoModel, AutoTokenizer

    model_id = resolve("sentence-transformers/all-MiniLM-L6-v2", announce=False)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    model = AutoModel.from_pretrained(model_id, attn_implementation="eager").eval()
    pieces = tokenizer.tokenize(PARAGRAPH)
    print("| tokens | head view | build | model view | build |")
    print("|---:|---:|---:|---:|---:|")
    sizes = {}
    for count in (10, 20, 40, 64):
        text = tokenizer.convert_tokens_to_string(pieces[: count - 2])  # + [CLS] and [SEP]
        found = attention_of(model, tokenizer, text)
        row = [str(len(found.tokens))]
        for view in (head_view, model_view):
            started = time.perf_counter()
            built = view(found, max_tokens=count)
            row += [f"{built.size_bytes / 1e6:.2f} MB", f"{time.perf_counter() - started:.2f} s"]
            sizes[(view.__name__, len(found.tokens))] = built.size_bytes
        print("| " + " | ".join(row) + " |")
    size_40 = sizes[("head_view", 40)]
    verdict = "meets" if size_40 <= LIMIT_40 else "MISSES"
    print(f"\nhead view of 40 tokens: {size_40 / 1e6:.2f} MB, {verdict} the 1.5 MB target")


if __name__ == "__main__":
    main()
