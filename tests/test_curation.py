"""Curation helpers: repair, normalisation, duplicates, MinHash, balance, splits, leakage, and
the messages for data that does not fit."""

from __future__ import annotations

import pytest
from datasets import Dataset

from course_utils import curation


def test_repair_fixes_known_damage_and_leaves_clean_text_alone():
    assert curation.repair_text("I donÕ¢_\x8aÎ_\x86¢t know") == "I don't know"
    assert curation.repair_text("rock &amp; roll") == "rock & roll"
    assert curation.repair_text("donâ€™t") == "don't"
    assert curation.repair_text("Itäó»s äóìgreatäó\x9d") == "It's \"great\""
    assert curation.repair_text("wow _ôÖ\x89_ôÖ\x89 nice").split() == ["wow", "nice"]
    for clean in ("A plain sentence.", "café au lait", "naïve façade", ""):
        assert curation.repair_text(clean) == clean


def test_normalise_links_handles_and_spaces():
    assert curation.normalise_text(" RT @bob_1:\r\nsee  https://t.co/x?y=1  www.a.org ") == \
        "RT @user: see http http"
    assert curation.normalise_text("mail me at a@b.com") == "mail me at a@b.com"


def test_duplicate_key_and_word_count():
    assert curation.duplicate_key("Hello,  WORLD!!") == curation.duplicate_key("hello world")
    assert curation.word_count("it's a dog-eat-dog world") == 7


def test_minhash_estimates_jaccard():
    a = "the quick brown fox jumps over the lazy dog near the river bank today"
    b = a.replace("today", "tonight")
    c = "completely different words about cooking pasta with fresh tomatoes and basil"
    signatures = curation.minhash_signatures([a, b, c], num_perm=256)
    same = (signatures[0] == signatures[1]).mean()
    assert 0.65 < same < 0.95  # true Jaccard of the 3-gram sets: 10/12
    assert (signatures[0] == signatures[2]).mean() < 0.1


def test_near_duplicates_found_within_and_across_lists():
    texts = ["the match was great fun and the crowd loved every minute of it",
             "the match was great fun and the crowd loved every minute of it!!! wow",
             "an unrelated note about the weather in the mountains this week"]
    pairs = curation.near_duplicate_pairs(texts, threshold=0.6)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]
    across = curation.near_duplicate_pairs(texts[:1], 0.6, against=texts[1:])
    assert [(i, j) for i, j, _ in across] == [(0, 0)]
    assert curation.duplicate_groups(4, [(0, 1, 1.0), (1, 3, 1.0)]) == [0, 0, 2, 0]


def data(rows):
    texts, labels = zip(*rows)
    return Dataset.from_dict({"text": list(texts), "label": list(labels)})


SAMPLE = [("I love this phone so much", 2), ("i LOVE this phone so much!", 2),
          ("The service was slow and cold", 0), ("ok", 1),
          ("The train leaves at noon today", 1), ("Worst delay of my whole life", 0),
          ("What a lovely sunny morning", 2), ("Meeting moved to Tuesday afternoon", 1)]


def test_curation_logs_every_step():
    steps = curation.Curation(data(SAMPLE))
    steps.filter("length", lambda r: curation.word_count(r["text"]) >= 3, "short")
    steps.drop_exact_duplicates()
    steps.balance(seed=0)
    table = steps.table()
    assert [(r["rows before"], r["rows after"]) for r in table] == [(8, 7), (7, 6), (6, 6)]
    assert sorted(steps.dataset["label"]) == [0, 0, 1, 1, 2, 2]


def test_split_is_stratified_and_leak_free():
    rows = [(f"sentence number {i} about topic {i % 7} and more words {i * 3}", i % 3)
            for i in range(60)]
    splits = curation.split(data(rows), (0.6, 0.2, 0.2), seed=1)
    assert {k: len(v) for k, v in splits.items()} == {"train": 36, "validation": 12, "test": 12}
    assert sorted(set(splits["test"]["label"])) == [0, 1, 2]
    assert all(v == 0 for v in curation.leakage(splits).values())
    leaky = dict(splits)
    leaky["test"] = splits["test"].add_item(splits["train"][0])
    assert curation.leakage(leaky)["train/test exact"] == 1


@pytest.mark.parametrize("call, words", [
    (lambda: curation.Curation(Dataset.from_dict({"sentence": ["a"], "label": [0]})),
     "no 'text' column"),
    (lambda: curation.validate_labels(data([("a b c", 0), ("d e f", 5)]), ["neg", "pos"]),
     "5 (1 rows)"),
    (lambda: curation.Curation(data(SAMPLE)).filter("all", lambda r: False, "everything"),
     "no rows are left after 'all'"),
    (lambda: curation.split(data(SAMPLE[:2]), seed=0), "split is empty"),
    (lambda: curation.split(data(SAMPLE), (0.5, 0.5, 0.5)), "adding up to 1"),
    (lambda: curation.near_duplicate_pairs(["a"], num_perm=10, bands=3), "multiple"),
])
def test_bad_data_gets_a_clear_message(call, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_raw_training_set_drops_what_leaks_into_held_out_texts():
    raw = data([("I LOVE this phone!!", 2), ("totally new text here for training", 0),
                ("http://x.co the service was slow", 0)])
    kept = curation.raw_training_set(raw, ["i love this phone", "http the service was slow"])
    assert list(kept["text"]) == ["totally new text here for training"]
