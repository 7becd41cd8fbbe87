import re

import pytest

from course_utils.tokens import (
    validate_text,
    validate_texts,
    fertility,
    highlight_tokens,
    round_trip,
)


class SpaceTokenizer:
    """A stand-in tokenizer: one token per whitespace word, lower-cased on decode."""

    def __call__(self, text, add_special_tokens=True):
        ids = list(range(len(text.split())))
        return {"input_ids": ([101] if add_special_tokens else []) + ids}

    def decode(self, ids, clean_up_tokenization_spaces=False):
        return " ".join(f"w{i}" for i in ids)


def test_fertility_counts_tokens_per_word():
    assert fertility(SpaceTokenizer(), "one two three") == 1.0


@pytest.mark.parametrize("bad, words", [("", "empty"), ("  ", "empty"), (3, "string"),
                                        (None, "string"), (["a"], "string")])
def test_fertility_bad_input(bad, words):
    with pytest.raises(ValueError, match=words):
        fertility(SpaceTokenizer(), bad)


@pytest.mark.parametrize("bad, words", [
    ("", "source is empty: give it at least one word"),
    (3, "source must be a string, got int 3; pass the text itself")])
def test_check_text_says_what_was_wrong_and_what_to_do(bad, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        validate_text(bad, "source")
    assert validate_text(" a ") == " a "


@pytest.mark.parametrize("bad, words", [
    ("one text", "texts must be a list of strings, got str; wrap a single text in a list"),
    (None, "list of strings"), ((), "texts is empty"), (["a", ""], "texts[1] is empty"),
    (["a", 3], "texts[1] must be a string, got int")])
def test_check_texts_names_the_bad_item(bad, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        validate_texts(bad)
    assert validate_texts(("a", "b")) == ["a", "b"]


def test_round_trip_reports_loss():
    decoded, same = round_trip(SpaceTokenizer(), "a b")
    assert decoded == "w0 w1" and same is False


def test_highlight_covers_tokens_and_marks_dropped_characters():
    out = highlight_tokens("ab cd!", [(0, 0), (0, 2), (3, 5), (0, 0)])
    assert out.count("<span") == 2 and ">ab</span>" in out and ">cd</span>" in out
    assert '<s style="color:#c00">!</s>' in out
    assert "<s" not in out.split("ab</span>")[1].split("<span")[0], "spaces are not struck"


def test_highlight_escapes_html():
    assert "&lt;b&gt;" in highlight_tokens("<b>", [(0, 3)])


def test_highlight_rejects_offsets_of_another_text():
    with pytest.raises(ValueError, match="outside the text"):
        highlight_tokens("short", [(0, 20)])


def test_real_tokenizers(offline):
    from transformers import AutoTokenizer

    from course_utils.offline.kit import standin_path

    tok = AutoTokenizer.from_pretrained(str(standin_path("minilm")))
    assert fertility(tok, "unbelievably") > 1
    assert round_trip(tok, "hello world") == ("hello world", True)
    assert round_trip(tok, "Hello") == ("hello", False)
    enc = tok("Hi there", return_offsets_mapping=True)
    assert highlight_tokens("Hi there", enc["offset_mapping"]).count("<span") == 2
