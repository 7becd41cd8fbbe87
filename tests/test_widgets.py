"""The sampling explorer: its table follows the sliders; bad input is explained."""

from __future__ import annotations

import pytest
import torch

from course_utils.widgets import next_token_table, sampling_explorer


class Letters:
    """A stand-in tokenizer: token i is the i-th letter."""

    def decode(self, ids):
        return "".join(chr(ord("a") + i) for i in ids)


@pytest.fixture
def logits():
    return torch.tensor([3.0, 2.0, 1.0, 0.0, -1.0])


def test_table_is_sorted_and_sums_to_one(logits):
    rows = next_token_table(logits, Letters(), top=5)
    assert [token for token, _ in rows] == ["a", "b", "c", "d", "e"]
    assert sum(p for _, p in rows) == pytest.approx(1.0)


def test_top_p_zeroes_the_tail_and_temperature_sharpens(logits):
    rows = dict(next_token_table(logits, Letters(), top_p=0.7, top=5))
    assert rows["a"] > 0 and rows["b"] > 0 and rows["d"] == 0 and rows["e"] == 0
    cold = dict(next_token_table(logits, Letters(), temperature=0.3, top=5))
    assert cold["a"] > rows["a"] * 0.9 > 0.5


def test_explorer_redraws_when_a_slider_moves(logits):
    explorer = sampling_explorer(logits[None], Letters(), prompt="abc", top=5)
    before = explorer.bars.value
    assert "5 tokens can be drawn" in before
    explorer.top_p.value = 0.5  # as a learner dragging the slider
    assert explorer.bars.value != before and "1 tokens can be drawn" in explorer.bars.value
    explorer.show(temperature=2.0, top_p=1.0)
    assert explorer.temperature.value == 2.0 and "temperature 2.00" in explorer.bars.value
    assert explorer.widget.children[1] is explorer.bars


def test_explorer_refuses_bad_input(logits):
    with pytest.raises(ValueError, match="one position"):
        sampling_explorer(torch.zeros(2, 5), Letters())
    with pytest.raises(ValueError, match="one position"):
        sampling_explorer([1.0, 2.0], Letters())
    explorer = sampling_explorer(logits, Letters())
    with pytest.raises(ValueError, match="top_p"):
        explorer.show(top_p=0)
    with pytest.raises(ValueError, match="temperature"):
        explorer.show(temperature=-1)
