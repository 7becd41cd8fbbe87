import re
import time

import pytest

from course_utils.speed import compare_batching, padding_cost


class FakePipe:
    def __init__(self):
        self.calls = []

    def __call__(self, texts, batch_size=None, **kwargs):
        self.calls.append((texts if isinstance(texts, str) else len(texts), batch_size))
        self.kwargs = kwargs
        return texts


class LengthTokenizer:
    def __call__(self, texts, truncation=True):
        return {"input_ids": [list(range(len(t))) for t in texts]}


def test_compare_batching_runs_each_way():
    pipe = FakePipe()
    timings = compare_batching(pipe, ["ccc", "a", "bb"], batch_sizes=(2,), repeat=1,
                               return_tensors=True)
    assert pipe.kwargs == {"return_tensors": True}
    assert [t.how for t in timings] == ["one at a time", "batches of 2", "batches of 2, sorted"]
    assert all(t.seconds > 0 and t.items_per_second > 0 for t in timings)
    assert ("a", None) in pipe.calls and (3, 2) in pipe.calls
    plain = compare_batching(FakePipe(), ["a", "b"], batch_sizes=(2,), repeat=1,
                             sort_by_length=False)
    assert len(plain) == 2


@pytest.mark.parametrize("bad, words", [
    ("one text", "list of strings"), ([], "empty"), (["a", ""], "texts[1] is empty"),
    (["a", 3], "texts[1] must be a string, got int")])
def test_bad_texts_are_refused_by_the_shared_check(bad, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        compare_batching(FakePipe(), bad)
    with pytest.raises(ValueError, match=re.escape(words)):
        padding_cost(LengthTokenizer(), bad, batch_size=2)


def test_bad_batch_sizes():
    with pytest.raises(ValueError, match="positive integers"):
        compare_batching(FakePipe(), ["a"], batch_sizes=(0,))
    with pytest.raises(ValueError, match="positive integer"):
        padding_cost(LengthTokenizer(), ["a"], batch_size=0)


def test_sorting_by_length_never_pads_more():
    texts = ["x" * n for n in (1, 9, 2, 8, 3, 7, 4, 6)]
    shuffled, ordered = padding_cost(LengthTokenizer(), texts, batch_size=2)
    assert shuffled.real_tokens == ordered.real_tokens == sum(range(1, 10)) - 5
    assert ordered.padded_tokens <= shuffled.padded_tokens
    assert ordered.padded_tokens == 2 * (2 + 4 + 7 + 9)  # sorted 1..9 without 5, in pairs
    assert 0 <= ordered.wasted < 1


def test_sentences_from():
    from course_utils.speed import sentences_from

    texts = ["One two three four. Too short. Five six seven eight!", "Nine ten eleven twelve?"]
    assert sentences_from(texts, 3) == ["One two three four.", "Five six seven eight!",
                                        "Nine ten eleven twelve?"]
    with pytest.raises(ValueError, match="only 3 sentences"):
        sentences_from(texts, 4)
    with pytest.raises(ValueError, match="positive integer"):
        sentences_from(texts, 0)


# Real tensors are large (512 MiB) and the bar is a quarter of that: a kernel may count a
# thread's page faults lazily (tens of huge pages at a time), so a small tensor can read as a few KiB.
HELD = 512 * 2**20


def _allocate_and_hold() -> float:
    import torch

    x = torch.ones(HELD // 4)
    time.sleep(0.05)
    return float(x[0])


def test_extra_memory_sees_a_large_temporary():
    from course_utils.speed import extra_memory

    assert extra_memory(_allocate_and_hold) > HELD // 4
    assert extra_memory(lambda: None) < 16 * 2**20


def test_extra_memory_is_not_fooled_by_garbage_freed_during_the_run():
    # A reference cycle holding as much as the run allocates, dropped but not yet collected: had
    # extra_memory not collected it before taking its baseline, the collection inside the run
    # would free as much as the run allocates and the peak would read near zero (as it once did).
    import gc

    import torch

    from course_utils.speed import extra_memory

    cycle: list = [torch.ones(HELD // 4)]
    cycle.append(cycle)
    del cycle

    def collect_then_allocate() -> float:
        gc.collect()
        return _allocate_and_hold()

    assert extra_memory(collect_then_allocate) > HELD // 4


class _ProcessWhoseMemoryTheTestSets:
    """Stands in for psutil.Process: the run raises `rss` and waits until it has been read."""

    def __init__(self, rss: int) -> None:
        import threading

        self.rss = rss
        self.base = rss
        self.read_while_raised = threading.Event()

    def memory_info(self):
        from types import SimpleNamespace

        rss = self.rss
        if rss > self.base:
            self.read_while_raised.set()
        return SimpleNamespace(rss=rss)


def test_extra_memory_sampling_fallback(monkeypatch):
    # Where the kernel's high-water mark cannot be reset (macOS, Windows), a thread samples the
    # resident size while the run runs. The resident size here is the test's own number, so what
    # is checked is the sampling, not how promptly a kernel counts pages.
    import psutil

    import course_utils.speed as speed

    process = _ProcessWhoseMemoryTheTestSets(rss=300 * 2**20)
    monkeypatch.setattr(psutil, "Process", lambda: process)
    monkeypatch.setattr(speed, "_reset_peak_resident", lambda: False)
    runs = []

    def raise_then_lower() -> None:
        runs.append(1)
        process.rss = process.base + 64 * 2**20
        seen = process.read_while_raised.wait(timeout=10)
        process.rss = process.base
        process.read_while_raised.clear()
        assert seen, "the sampling thread never read the raised resident size"

    assert speed.extra_memory(raise_then_lower, repeat=2) == 64 * 2**20
    assert len(runs) == 2
    assert speed.extra_memory(lambda: None) == 0


def test_extra_memory_refuses_bad_settings():
    from course_utils.speed import extra_memory

    with pytest.raises(ValueError, match="repeat must be at least 1"):
        extra_memory(lambda: None, repeat=0)
    with pytest.raises(ValueError, match="interval positive"):
        extra_memory(lambda: None, interval=0)
