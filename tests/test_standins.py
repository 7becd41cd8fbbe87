"""The built offline stand-ins behave as the registry says. Needs the kit: the test command
builds it first (python -m course_utils build-kit)."""

import pytest

from course_utils.env.reproducibility import quiet_logging
from course_utils.offline import corpora, recipes
from course_utils.offline.corpora import english_number, french_number, ner_sentences
from course_utils.offline.kit import STANDINS, ensure_standin, is_ready

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def quiet():
    """Quiet load reports here, and leave the environment as it was for the tests after these."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("TRANSFORMERS_VERBOSITY", "HF_HUB_DISABLE_PROGRESS_BARS"):
            patch.setenv(name, "")  # remembered, so it is put back (or removed) at the end
        quiet_logging()
        yield
        quiet_logging(False)


def path(name):
    if not is_ready(name):
        pytest.fail(f"stand-in {name} is not built: run python -m course_utils build-kit")
    return str(ensure_standin(name))


@pytest.mark.parametrize("n, english, french", [
    (1, "one", "un"), (17, "seventeen", "dix-sept"), (21, "twenty-one", "vingt et un"),
    (42, "forty-two", "quarante-deux"), (71, "seventy-one", "soixante et onze"),
    (77, "seventy-seven", "soixante-dix-sept"), (80, "eighty", "quatre-vingts"),
    (81, "eighty-one", "quatre-vingt-un"), (91, "ninety-one", "quatre-vingt-onze"),
    (99, "ninety-nine", "quatre-vingt-dix-neuf")])
def test_number_words(n, english, french):
    assert english_number(n) == english and french_number(n) == french


@pytest.mark.parametrize("bad", [0, 100, -5])
def test_number_words_range(bad):
    with pytest.raises(ValueError, match="1..99"):
        french_number(bad)


def test_ner_sentences_are_tagged_word_by_word():
    for words, tags in ner_sentences(50):
        assert len(words) == len(tags)
        assert all(t == "O" or t[:2] in ("B-", "I-") for t in tags)
        for prev, tag in zip(["O"] + tags, tags):
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:], (words, tags)


def test_tweets_keep_their_mess():
    rows = corpora.read_tweets()
    assert len(rows) == 38158
    assert sum(1 for r in rows if "Õ" in r["text"]) > 100, "mojibake is left in for notebook 08"


def test_tweets_data_set_loads_with_datasets():
    from datasets import load_dataset

    ds = load_dataset(path("tweets"), split="train")
    assert ds.num_rows == 38158
    assert {"text", "label", "label_text", "confidence"} <= set(ds.column_names)


def test_sentiment_stand_in():
    from transformers import pipeline

    classify = pipeline("text-classification", model=path("minilm-sentiment"))
    out = classify(["I love this, it is wonderful!", "This is awful, I hate it."])
    assert [o["label"] for o in out] == ["positive", "negative"]


def test_ner_stand_in_finds_people_places_and_organisations():
    from transformers import pipeline

    tag = pipeline("token-classification", model=path("minilm-ner"),
                   aggregation_strategy="simple")
    found = {(e["word"], e["entity_group"]) for e in tag("Grace Hopper works for Siemens in Oslo.")}
    assert found == {("grace hopper", "PER"), ("siemens", "ORG"), ("oslo", "LOC")}


def test_zero_shot_stand_in_knows_its_topics():
    from transformers import pipeline

    classify = pipeline("zero-shot-classification", model=path("minilm-nli"))
    labels = ["sports", "politics", "technology", "food"]
    assert classify("The goalkeeper saved a penalty in the final.", labels)["labels"][0] == "sports"
    assert classify("The new processor runs faster.", labels)["labels"][0] == "technology"


def test_fill_mask_stand_in_answers_in_words():
    from transformers import pipeline

    fill = pipeline("fill-mask", model=path("minilm-mlm"))
    out = fill("I went to the [MASK] yesterday.")
    assert len(out) == 5 and abs(sum(o["score"] for o in out)) <= 1.0
    assert all(o["sequence"].startswith("i went to the") for o in out)


def test_tiny_t5_translates_every_number():
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path("tiny-t5"))
    model = AutoModelForSeq2SeqLM.from_pretrained(path("tiny-t5"))
    numbers = range(1, 100)
    sources = [recipes.T5_PREFIX + english_number(n) for n in numbers]
    outputs = model.generate(**tokenizer(sources, return_tensors="pt", padding=True))
    got = tokenizer.batch_decode(outputs, skip_special_tokens=True)
    right = sum(g == french_number(n) for g, n in zip(got, numbers))
    assert right >= 95, f"{right}/99 exact"


def test_tiny_t5_summarises_unseen_match_reports():
    import random

    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path("tiny-t5"))
    model = AutoModelForSeq2SeqLM.from_pretrained(path("tiny-t5"))
    rng = random.Random(12345)  # not the seed the recipe trained on
    reports = [corpora.match_report(rng) for _ in range(100)]
    sources = [recipes.SUMMARY_PREFIX + text for text, _ in reports]
    outputs = model.generate(**tokenizer(sources, return_tensors="pt", padding=True),
                             num_beams=4)
    got = tokenizer.batch_decode(outputs, skip_special_tokens=True)
    right = sum(g == headline for g, (_, headline) in zip(got, reports))
    assert right >= 45, f"{right}/100 headlines exact"
    assert all(" beat " in g for g in got), "every summary is a headline"


def test_smollm2_replies_with_its_chat_template():
    from transformers import pipeline

    chat = pipeline("text-generation", model=path("smollm2"))
    reply = chat([{"role": "user", "content": "What is the capital of France?"}],
                 max_new_tokens=12, do_sample=False)[0]["generated_text"][-1]
    assert reply["role"] == "assistant" and "Paris" in reply["content"]
    # the real model's end and padding tokens, whichever transformers converted the GGUF
    assert chat.tokenizer.eos_token == chat.tokenizer.pad_token == "<|im_end|>"
    assert chat.tokenizer.eos_token_id == chat.model.generation_config.eos_token_id


def test_every_stand_in_is_built_and_whole():
    assert all(is_ready(name) for name in STANDINS)
