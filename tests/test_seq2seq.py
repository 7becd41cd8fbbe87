"""The dates task of notebook 06: data, tokenizer, model size, batches and scoring."""

from __future__ import annotations

import datetime as dt

import pytest
import torch

from course_utils import seq2seq


def test_pairs_are_valid_dates_in_every_format():
    pairs = seq2seq.date_pairs(400, seed=3)
    for source, iso in pairs:
        date = dt.date.fromisoformat(iso)
        assert seq2seq.FIRST_DAY <= date <= seq2seq.LAST_DAY
        assert str(date.year) in source  # the year is always written in full
    sources = [source for source, _ in pairs]
    assert any("." in s for s in sources) and any(s.startswith("the ") for s in sources)
    assert any(s.isupper() for s in sources if any(c.isalpha() for c in s))


def test_each_format_writes_the_same_date_its_own_way():
    date = dt.date(2021, 3, 5)
    written = {name: write(date) for name, write in seq2seq.DATE_FORMATS.items()}
    assert written["day month year"] == "5 March 2021"
    assert written["ordinal"] == "the 5th of March 2021"
    assert written["dotted"] == "05.03.2021"
    assert written["weekday"] == "Friday, 5 Mar 2021"
    assert len(set(written.values())) == len(written)
    assert seq2seq.DATE_FORMATS["ordinal"](dt.date(2021, 3, 12)) == "the 12th of March 2021"
    assert seq2seq.DATE_FORMATS["ordinal"](dt.date(2021, 3, 22)) == "the 22nd of March 2021"


def test_pairs_are_reproducible_and_held_out_dates_are_unseen():
    train = seq2seq.date_pairs(2000, seed=1)
    assert train == seq2seq.date_pairs(2000, seed=1) != seq2seq.date_pairs(2000, seed=2)
    held = seq2seq.date_pairs(300, seed=2, exclude={iso for _, iso in train})
    assert not {iso for _, iso in held} & {iso for _, iso in train}


@pytest.mark.parametrize("count", [0, -1, 2.5, True])
def test_bad_count_is_refused(count):
    with pytest.raises(ValueError, match="count"):
        seq2seq.date_pairs(count)


def test_char_tokenizer_round_trips_and_ends_with_eos():
    tokenizer = seq2seq.char_tokenizer(["5 March 2021", "2021-03-05"])
    ids = tokenizer("5 March 2021")["input_ids"]
    assert len(ids) == len("5 March 2021") + 1 and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == "5 March 2021"
    assert tokenizer.tokenize("2021")[0] == "2"
    assert tokenizer("Z")["input_ids"][0] == tokenizer.unk_token_id  # unseen character
    with pytest.raises(ValueError, match="non-empty list"):
        seq2seq.char_tokenizer("5 March 2021")
    with pytest.raises(ValueError, match="non-empty list"):
        seq2seq.char_tokenizer([])


def test_tiny_t5_size_batches_and_attentions():
    tokenizer = seq2seq.char_tokenizer(["5 March 2021", "2021-03-05"])
    model = seq2seq.tiny_t5(tokenizer)
    assert 0.5e6 < model.num_parameters() < 0.8e6
    batch = seq2seq.encode_pairs(tokenizer, [("5 March 2021", "2021-03-05"), ("5 Mar", "03")])
    assert (batch["labels"][1] == -100).sum() == 8  # padding ignored by the loss
    out = model(**batch, output_attentions=True)
    assert out.cross_attentions[0].shape == (2, 4, 11, 13) and torch.isfinite(out.loss)
    with pytest.raises(ValueError, match="heads"):
        seq2seq.tiny_t5(tokenizer, width=130, heads=4)
    with pytest.raises(ValueError, match="pairs is empty"):
        seq2seq.encode_pairs(tokenizer, [])


def test_translate_returns_one_string_per_text():
    tokenizer = seq2seq.char_tokenizer(["5 March 2021", "2021-03-05"])
    model = seq2seq.tiny_t5(tokenizer).eval()
    out = seq2seq.translate(model, tokenizer, ["5 March", "2021", "03"], batch_size=2,
                            max_new_tokens=3)
    assert len(out) == 3 and all(isinstance(o, str) for o in out)


def test_translate_hands_generate_its_inputs_on_the_models_device():
    # no GPU here: the meta device stands in for one (tensors with a device and no data)
    tokenizer = seq2seq.char_tokenizer(["5 March 2021", "2021-03-05"])
    seen = []

    class OnAnotherDevice:
        device = torch.device("meta")

        def generate(self, input_ids, attention_mask, **kwargs):
            seen.append((input_ids.device.type, attention_mask.device.type))
            return torch.full((input_ids.shape[0], 2), tokenizer.eos_token_id)

    assert seq2seq.translate(OnAnotherDevice(), tokenizer, ["5 March", "2021"]) == ["", ""]
    assert seen == [("meta", "meta")]


def test_exact_match():
    assert seq2seq.exact_match(["a", "b ", "c"], ["a", "b", "x"]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="as many predictions"):
        seq2seq.exact_match(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="as many predictions"):
        seq2seq.exact_match([], [])


def test_tiny_t5_is_the_model_the_stand_in_trains_and_reports_are_shared():
    from course_utils.offline import corpora, recipes

    tokenizer = seq2seq.char_tokenizer(["5 March 2021", "2021-03-05"])
    lesson, stand_in = seq2seq.tiny_t5(tokenizer), recipes.tiny_t5(tokenizer)
    assert lesson.config.to_dict() == stand_in.config.to_dict()
    assert lesson.config._attn_implementation == "eager"
    assert seq2seq.match_report is corpora.match_report
