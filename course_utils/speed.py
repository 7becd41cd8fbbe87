"""Timing pipelines: one item at a time against batches, and what padding costs."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from course_utils.tokens import validate_texts


@dataclass(frozen=True)
class Timing:
    """How long one way of running a pipeline over all the texts took."""

    how: str
    batch_size: int
    seconds: float
    items_per_second: float


def sentences_from(texts: Sequence[str], count: int, min_words: int = 4) -> list[str]:
    """The first `count` sentences of at least `min_words` words found in `texts`."""
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    found = []
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
            if len(sentence.split()) >= min_words:
                found.append(sentence)
                if len(found) == count:
                    return found
    raise ValueError(f"only {len(found)} sentences of {min_words}+ words in the texts given; "
                     f"give more texts to get {count}")


def best_of(run: Callable[[], Any], repeat: int) -> float:
    """The fastest of `repeat` runs, in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def compare_batching(pipe: Callable[..., Any], texts: Sequence[str],
                     batch_sizes: Sequence[int] = (8, 32), repeat: int = 2,
                     sort_by_length: bool = True, **call_kwargs: Any) -> list[Timing]:
    """Time a per-item loop against batched calls of the same pipeline on the same texts.

    With `sort_by_length`, one more run uses the largest batch size on the texts sorted by
    length (less padding). `call_kwargs` go to every call (e.g. return_tensors=True).
    """
    items = validate_texts(texts)
    if not batch_sizes or any(not isinstance(b, int) or b < 1 for b in batch_sizes):
        raise ValueError(f"batch_sizes must be positive integers, got {batch_sizes!r}")
    pipe(items[:2], **call_kwargs)  # warm up: first calls pay for lazy initialisation
    results = []
    seconds = best_of(lambda: [pipe(text, **call_kwargs) for text in items], repeat)
    results.append(Timing("one at a time", 1, seconds, len(items) / seconds))
    for size in batch_sizes:
        seconds = best_of(lambda s=size: pipe(items, batch_size=s, **call_kwargs), repeat)
        results.append(Timing(f"batches of {size}", size, seconds, len(items) / seconds))
    if sort_by_length:
        size, ordered = max(batch_sizes), sorted(items, key=len)
        seconds = best_of(lambda: pipe(ordered, batch_size=size, **call_kwargs), repeat)
        results.append(Timing(f"batches of {size}, sorted", size, seconds,
                              len(items) / seconds))
    return results


@dataclass(frozen=True)
class Padding:
    """Tokens a batched run computes, and how many of them are padding."""

    order: str
    real_tokens: int
    padded_tokens: int

    @property
    def wasted(self) -> float:
        return 1 - self.real_tokens / self.padded_tokens


def padding_cost(tokenizer: Any, texts: Sequence[str], batch_size: int,
                 seed: int = 0) -> list[Padding]:
    """Padding in batches of shuffled texts against batches of texts sorted by length."""
    items = validate_texts(texts)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    lengths = [len(ids) for ids in tokenizer(items, truncation=True)["input_ids"]]
    shuffled = lengths[:]
    random.Random(seed).shuffle(shuffled)
    out = []
    for order, seq in (("shuffled", shuffled), ("sorted by length", sorted(lengths))):
        batches = [seq[i : i + batch_size] for i in range(0, len(seq), batch_size)]
        out.append(Padding(order, sum(seq), sum(max(b) * len(b) for b in batches)))
    return out


def extra_memory(run: Callable[[], Any], repeat: int = 3, interval: float = 0.0005) -> int:
    """Peak resident memory (bytes) above what the process held before `run`.

    Large torch tensors on the CPU are returned to the system when freed, so this sees the
    temporary tensors an operation makes. Garbage left by earlier code is collected first, and
    the collector is paused during `run`, so memory freed meanwhile cannot hide the peak.
    On Linux the kernel's own high-water mark (VmHWM, reset through /proc/self/clear_refs) gives
    the exact peak; elsewhere a thread samples the resident size every `interval` seconds over
    `repeat` runs, which can miss very short peaks.
    """
    import gc

    import psutil

    if repeat < 1 or interval <= 0:
        raise ValueError(f"repeat must be at least 1 and interval positive; got repeat={repeat}, "
                         f"interval={interval}")
    process = psutil.Process()
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        baseline = process.memory_info().rss
        if _reset_peak_resident():
            run()
            return max(0, _peak_resident() - baseline)
        return max(0, _sampled_peak(run, process, repeat, interval) - baseline)
    finally:
        if was_enabled:
            gc.enable()


def _reset_peak_resident() -> bool:
    """Set the kernel's high-water mark to the current resident size; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _peak_resident() > 0
    except OSError:
        return False


def _peak_resident() -> int:
    """VmHWM from /proc/self/status in bytes (0 if absent)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _sampled_peak(run: Callable[[], Any], process: Any, repeat: int, interval: float) -> int:
    """Largest resident size a sampling thread saw while `run` ran `repeat` times."""
    import threading

    peak = process.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        for _ in range(repeat):
            run()
    finally:
        done.set()
        sampler.join()
    return peak
