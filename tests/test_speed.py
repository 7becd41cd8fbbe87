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


def test_extra_memory_sees_a_large_temporary():
    import torch

    from course_utils.speed import extra_memory

    def allocate():
        x = torch.ones(64 * 2**20 // 4)  # 64 MiB
        time.sleep(0.05)
        return float(x[0])

    assert extra_memory(allocate) > 32 * 2**20
    assert extra_memory(lambda: None) < 16 * 2**20


def _allocate_64_mib() -> float:
    import torch

    x = torch.ones(64 * 2**20 // 4)
    time.sleep(0.05)
    return float(x[0])


def test_extra_memory_is_not_fooled_by_garbage_freed_during_the_run():
    # A reference cycle holding 64 MiB, dropped but not yet collected: had extra_memory not
    # collected it before taking its baseline, the collection inside the run would free as much
    # as the run allocates and the peak would read near zero (as it once did in CI).
    import gc

    import torch

    from course_utils.speed import extra_memory

    cycle: list = [torch.ones(64 * 2**20 // 4)]
    cycle.append(cycle)
    del cycle

    def collect_then_allocate() -> float:
        gc.collect()
        return _allocate_64_mib()

    assert extra_memory(collect_then_allocate) > 32 * 2**20


def test_extra_memory_sampling_fallback(monkeypatch):
    # Where the kernel's high-water mark cannot be reset (macOS, Windows), a thread samples.
    import course_utils.speed as speed

    monkeypatch.setattr(speed, "_reset_peak_resident", lambda: False)

    def allocate_and_hold():  # long enough for a sampler that waits its turn on a busy machine
        import torch

        x = torch.ones(64 * 2**20 // 4)
        time.sleep(0.3)
        return float(x[0])

    assert speed.extra_memory(allocate_and_hold) > 32 * 2**20
    assert speed.extra_memory(lambda: None) < 16 * 2**20


def test_extra_memory_refuses_bad_settings():
    from course_utils.speed import extra_memory

    with pytest.raises(ValueError, match="repeat must be at least 1"):
        extra_memory(lambda: None, repeat=0)
    with pytest.raises(ValueError, match="interval positive"):
        extra_memory(lambda: None, interval=0)
