import pytest

from course_utils.speed import compare_batching, padding_cost, validate_texts


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
    timings = compare_batching(pipe, ["a", "b", "c"], batch_sizes=(2,), repeat=1,
                               return_tensors=True)
    assert pipe.kwargs == {"return_tensors": True}
    assert [t.how for t in timings] == ["one at a time", "batches of 2"]
    assert all(t.seconds > 0 and t.items_per_second > 0 for t in timings)
    assert ("a", None) in pipe.calls and (3, 2) in pipe.calls


@pytest.mark.parametrize("bad, words", [
    ("one text", "list of strings"), ([], "empty"), (["a", ""], "texts[1] is an empty"),
    (["a", 3], "texts[1] is int"), (None, "list of strings")])
def test_validation_messages(bad, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        validate_texts(bad)


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
