import re
import math

import pytest
import torch

from course_utils.exercises import grading as checks
from course_utils.exercises.grading import CheckFailed, WrongAnswer, check, exercise


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    monkeypatch.setattr(checks, "EXERCISES", {})

    @exercise("99.1", "What is six times seven?", hint="multiply")
    def grade(answer):
        return checks.close_to(answer, 42, 0.0, "a number")

    @exercise("99.2", "A grader with a bug", hint="none")
    def broken(answer):
        raise IndexError("bug in the grader")


def test_right_answer(toy, capsys):
    result = check("99.1", 42)
    assert result and result.passed
    assert "[correct]" in capsys.readouterr().out


def test_wrong_answer_gives_message_and_hint(toy, capsys):
    result = check("99.1", 41)
    out = capsys.readouterr().out
    assert not result and "off by 1" in out and "hint: multiply" in out


@pytest.mark.parametrize("answer, words", [
    ("42", "got str"), ([42], "got list"), (True, "bool"), (float("nan"), "NaN"),
    (None, "not answered"), (..., "not answered")])
def test_wrong_type_is_explained(toy, capsys, answer, words):
    assert not check("99.1", answer)
    assert words in capsys.readouterr().out


def test_tensor_answers(toy, capsys):
    import torch

    assert check("99.1", torch.tensor(42.0))
    assert not check("99.1", torch.ones(2, 3))
    assert "shape (2, 3)" in capsys.readouterr().out


def test_a_grader_bug_is_a_message_not_a_traceback(toy, capsys):
    assert not check("99.2", 1)
    assert "could not be graded (IndexError" in capsys.readouterr().out


def test_strict_mode_raises(toy, monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(CheckFailed, match="99.1"):
        check("99.1", 0)


def test_unknown_exercise(toy):
    with pytest.raises(KeyError, match="99.1"):
        check("99.7", 1)
    with pytest.raises(KeyError, match="look like"):
        check(7, 1)


def test_duplicate_registration_is_refused(toy):
    with pytest.raises(ValueError, match="twice"):
        exercise("99.1", "again", "")(lambda a: None)


def test_wrong_answer_helper():
    with pytest.raises(WrongAnswer):
        checks.as_int(2.5)
    assert checks.as_text("  x ") == "x"


# notebook 00's real graders
def test_nb00_registry_exercise(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    assert check("00.1", "facebook/bart-large-mnli")
    assert not check("00.1", "dslim/bert-base-NER")
    assert "token-classification" in capsys.readouterr().out
    assert not check("00.1", 5)


def test_nb00_embedding_exercises(offline, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)
    import torch

    from course_utils.exercises import nb00

    a, b = nb00._embed(nb00.PAIR)
    a, b = nb00.STRETCH[0] * a, nb00.STRETCH[1] * b
    assert check("00.2", torch.nn.functional.cosine_similarity(a, b, dim=0))
    assert not check("00.2", torch.dot(a, b))
    assert "dot product" in capsys.readouterr().out
    assert not check("00.2", torch.ones(3))
    assert check("00.3", 0)
    assert not check("00.3", 1) and not check("00.3", 9)
    assert "not an index" in capsys.readouterr().out


# notebook 01's graders: right and wrong answers
@pytest.fixture
def lenient(monkeypatch):
    monkeypatch.delenv("COURSE_STRICT_CHECKS", raising=False)


def test_nb01_sentiment_label(offline, lenient, capsys):
    from course_utils.exercises import nb01
    from course_utils.exercises.shared import course_pipeline

    label = course_pipeline("text-classification", nb01.SENTIMENT_ID)(nb01.REVIEW)[0]["label"]
    assert check("01.1", label)
    assert not check("01.1", label.upper())
    assert "wrong case" in capsys.readouterr().out
    other = next(x for x in ("negative", "neutral", "positive") if x != label)
    assert not check("01.1", other)
    assert not check("01.1", 0)


def test_nb01_count_places(offline, lenient, capsys):
    from course_utils.exercises import nb01
    from course_utils.exercises.shared import course_pipeline

    tagger = course_pipeline("token-classification", nb01.NER_ID, aggregation_strategy="simple")
    places = sum(e["entity_group"] == "LOC" for e in tagger(nb01.TRAVEL))
    assert places >= 2
    assert check("01.2", places)
    assert not check("01.2", places + 1)
    assert not check("01.2", "three")
    assert "whole number" in capsys.readouterr().out


def test_nb01_classify_long_function(offline, lenient, capsys):
    from course_utils.exercises import nb01

    def pieces(text, words):
        split = text.split()
        return [" ".join(split[i:i + words]) for i in range(0, len(split), words)]

    def right(text, classifier, words):
        totals = {}
        for scores in classifier(pieces(text, words), top_k=None):
            for s in scores:
                totals[s["label"]] = totals.get(s["label"], 0) + s["score"]
        best = max(totals, key=totals.get)
        return best, totals[best] / len(pieces(text, words))

    def first_piece(text, classifier, words):
        top = classifier(pieces(text, words)[0])[0]
        return top["label"], top["score"]

    def best_piece(text, classifier, words):
        tops = [r[0] for r in classifier(pieces(text, words))]
        top = max(tops, key=lambda r: r["score"])
        return top["label"], top["score"]

    assert check("01.4", right)
    assert not check("01.4", first_piece) and "first piece" in capsys.readouterr().out
    assert not check("01.4", best_piece)
    assert not check("01.4", lambda t, c, w: (right(t, c, w)[0], 1.0))
    assert "mean score" in capsys.readouterr().out
    assert not check("01.4", lambda t, c, w: {"label": right(t, c, w)[0]})
    assert "pair" in capsys.readouterr().out
    assert not check("01.4", lambda t, c: right(t, c, 10)) and "raised" in capsys.readouterr().out


def test_nb01_merge_entities_function(offline, lenient, capsys):
    def right(tokens):
        spans, group_open = [], None
        for t in tokens:
            prefix, _, group = t["entity"].partition("-")
            if prefix == "I" and group == group_open:
                spans[-1] = (group, spans[-1][1], t["end"])
            elif prefix in "BI" and group:
                spans.append((group, t["start"], t["end"]))
                group_open = group
            else:
                group_open = None
        return spans

    def by_group_only(tokens):  # merges neighbours of one group, whatever their prefix
        spans = []
        for t in tokens:
            group = t["entity"].partition("-")[2]
            if not group:
                spans.append(None)
            elif spans and spans[-1] and spans[-1][0] == group:
                spans[-1] = (group, spans[-1][1], t["end"])
            else:
                spans.append((group, t["start"], t["end"]))
        return [s for s in spans if s]

    def across_outside(tokens):  # an I- tag continues the last span even after an O
        spans = []
        for t in tokens:
            prefix, _, group = t["entity"].partition("-")
            if prefix == "I" and spans and spans[-1][0] == group:
                spans[-1] = (group, spans[-1][1], t["end"])
            elif group:
                spans.append((group, t["start"], t["end"]))
        return spans

    assert check("01.5", right)
    assert not check("01.5", by_group_only) and "Paris/B-LOC" in capsys.readouterr().out
    assert not check("01.5", across_outside) and "Jo/B-PER" in capsys.readouterr().out
    assert not check("01.5", lambda tokens: [(t["entity"][2:], t["start"], t["end"])
                                             for t in tokens if t["entity"][0] == "B"])
    assert not check("01.5", lambda tokens: "PER") and "list of" in capsys.readouterr().out


def test_nb01_v5_tasks(lenient, capsys):
    assert check("01.3", ["fill-mask", "zero-shot-classification", "token-classification"])
    assert check("01.3", ("token-classification", "fill-mask", "zero-shot-classification"))
    assert not check("01.3", ["fill-mask", "summarization", "zero-shot-classification",
                              "token-classification"])
    assert "removed in v5" in capsys.readouterr().out
    assert not check("01.3", ["fill-mask"])
    assert "left out" in capsys.readouterr().out
    assert not check("01.3", "fill-mask")
    assert not check("01.3", ["sentiment"])
    assert "not in it" in capsys.readouterr().out


# notebook 02's graders
def test_nb02_count_tokens(offline, lenient, capsys):
    from course_utils.exercises import nb02

    tokens = nb02._tokenizer(nb02.MINILM).tokenize(nb02.WORDS)
    assert check("02.1", len(tokens))
    assert not check("02.1", len(tokens) + 2)
    assert "[CLS] and [SEP]" in capsys.readouterr().out
    assert not check("02.1", len(nb02.WORDS.split()))
    assert "number of words" in capsys.readouterr().out


def test_nb02_attention_mask(offline, lenient, capsys):
    from course_utils.exercises import nb02

    mask = nb02._tokenizer(nb02.MINILM)(nb02.BATCH, padding=True)["attention_mask"]
    assert check("02.2", mask)
    import torch

    assert check("02.2", torch.tensor(mask))
    assert not check("02.2", [row[:-1] for row in mask])
    assert "length" in capsys.readouterr().out
    assert not check("02.2", mask[:2])
    assert not check("02.2", [[2] * len(r) for r in mask])
    assert "only 0" in capsys.readouterr().out
    flipped = [r[::-1] for r in mask]
    assert not check("02.2", flipped)
    assert not check("02.2", "1110")


def test_nb02_fertility(offline, lenient, capsys):
    from course_utils.exercises import nb02

    tokens = len(nb02._tokenizer(nb02.SMOLLM2).tokenize(nb02.GERMAN))
    words = len(nb02.GERMAN.split())
    assert check("02.3", tokens / words)
    assert not check("02.3", words / tokens)
    assert "divide the other way" in capsys.readouterr().out
    assert not check("02.3", "4.4")


# notebook 03's graders
def test_nb03_causal_mask(lenient, capsys):
    import torch

    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    assert check("03.1", mask)
    assert not check("03.1", mask.T)
    assert "future" in capsys.readouterr().out
    assert not check("03.1", mask.tril(-1))
    assert "diagonal" in capsys.readouterr().out
    assert not check("03.1", mask.int())
    assert "boolean" in capsys.readouterr().out
    assert not check("03.1", torch.ones(4, 4, dtype=torch.bool))
    assert not check("03.1", [[True]])


def test_nb03_shapes_and_sizes(lenient, capsys):
    assert check("03.2", (2, 12, 10, 32)) and check("03.2", [2, 12, 10, 32])
    assert not check("03.2", (2, 10, 12, 32))
    assert "wrong order" in capsys.readouterr().out
    assert not check("03.2", "2, 12, 10, 32")
    assert check("03.3", 9_000_000)
    assert not check("03.3", 3_000_000)
    assert "key/value" in capsys.readouterr().out
    assert not check("03.3", 1_000_000) and not check("03.3", 9.5e6)


# notebook 04's graders
def test_nb04_mask_fraction(lenient, capsys):
    assert check("04.1", 0.8)
    assert not check("04.1", 0.15)
    assert "selected" in capsys.readouterr().out
    assert not check("04.1", 80)
    assert "percentage" in capsys.readouterr().out


def test_nb04_mean_pooling_and_search(offline, lenient, capsys):
    import torch

    from course_utils.exercises import nb04
    from course_utils.exercises.shared import sentence_model

    expected = sentence_model().encode(nb04.SENTENCE, convert_to_tensor=True)
    assert check("04.2", expected.clone())
    assert not check("04.2", expected * 3)
    assert "normalise" in capsys.readouterr().out
    assert not check("04.2", torch.ones(3))
    assert "384" in capsys.readouterr().out
    assert not check("04.2", expected.tolist())
    assert check("04.3", 1)
    assert not check("04.3", 2) and not check("04.3", 7)


def test_nb05_top_p_and_cache(lenient, capsys):
    assert check("05.1", {"A", "B", "C"}) and check("05.1", ["a", "b", "c"])
    assert check("05.1", "ABC")
    assert not check("05.1", {"A", "B"}) and "0.70" in capsys.readouterr().out
    assert not check("05.1", {"A", "B", "C", "D"})
    assert not check("05.1", {"Z"}) and "not among" in capsys.readouterr().out
    assert check("05.2", 180) and check("05.2", 180.0)
    assert not check("05.2", 540) and "3, each shared" in capsys.readouterr().out
    assert not check("05.2", 90)
    assert not check("05.2", 180 * 2**20) and "bytes" in capsys.readouterr().out


def test_nb05_top_k_function(lenient, capsys):
    def good(logits, k):
        return logits.masked_fill(logits < logits.topk(k).values[-1], float("-inf"))

    def keeps_too_many(logits, k):
        return logits.masked_fill(logits < logits.topk(k + 1).values[-1], float("-inf"))

    def crashes(logits, k):
        raise RuntimeError("boom")

    assert check("05.3", good)
    assert not check("05.3", keeps_too_many) and "survive" in capsys.readouterr().out
    assert not check("05.3", crashes) and "boom" in capsys.readouterr().out
    assert not check("05.3", good(torch.zeros(3), 1)) and "without ()" in capsys.readouterr().out


def test_nb06_teacher_forcing_and_shapes(lenient, capsys):
    assert check("06.1", [0, 5, 9]) and check("06.1", torch.tensor([0, 5, 9]))
    assert not check("06.1", [0, 5, 9, 1]) and "drop the last" in capsys.readouterr().out
    assert not check("06.1", [5, 9, 1])
    assert check("06.2", (2, 8, 10, 16))
    assert not check("06.2", (2, 8, 16, 10)) and "swap" in capsys.readouterr().out
    assert check("06.3", "2031-03-09") and check("06.3", " 2031-03-09 ")
    assert not check("06.3", "2031-03-08") and "more training" in capsys.readouterr().out
    assert not check("06.3", 20310309)


def test_nb07_heads_entropy_and_first_token_share(offline, lenient, capsys):
    from course_utils.exercises.nb07 import next_token_head

    layer, head = next_token_head()
    assert (layer, head) != (0, 2)  # not the previous-token head of section 6
    assert check("07.1", (layer, head)) and check("07.1", torch.tensor([layer, head]))
    assert not check("07.1", (head, layer)) and "wrong order" in capsys.readouterr().out
    assert not check("07.1", (0, 2)) and "previous-token head" in capsys.readouterr().out
    assert not check("07.1", (layer, (head + 1) % 12))
    assert check("07.2", 3.0) and check("07.2", torch.tensor(3.0))
    assert not check("07.2", math.log(8)) and "nats" in capsys.readouterr().out
    assert not check("07.2", 0)
    assert check("07.3", lambda w: w[..., 1:, 0].mean(-1))
    assert not check("07.3", lambda w: w[..., :, 0].mean(-1))
    assert "leave out the first query" in capsys.readouterr().out
    assert not check("07.3", lambda w: w[..., 0, :].mean(-1))
    assert not check("07.3", lambda w: w.mean())
    assert not check("07.3", lambda w: 1 / 0) and "ZeroDivisionError" in capsys.readouterr().out
    assert not check("07.3", 0.5) and "pass the function" in capsys.readouterr().out


def test_nb11_continuation_score(offline, lenient, capsys):
    def right(model, tokenizer, prompt, continuation):
        context = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logprobs = model(torch.tensor([context + answer])).logits[0].log_softmax(-1)
        return sum(logprobs[len(context) - 1 + i, t].item() for i, t in enumerate(answer))

    def first_token_only(model, tokenizer, prompt, continuation):
        context = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        token = tokenizer(continuation, add_special_tokens=False)["input_ids"][0]
        with torch.no_grad():
            return model(torch.tensor([context])).logits[0, -1].log_softmax(-1)[token].item()

    def raw_logits(model, tokenizer, prompt, continuation):
        context = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([context + answer])).logits[0]
        return sum(logits[len(context) - 1 + i, t].item() for i, t in enumerate(answer))

    assert check("11.1", right)
    assert not check("11.1", first_token_only) and "every token" in capsys.readouterr().out
    assert not check("11.1", lambda *a: -right(*a)) and "sign" in capsys.readouterr().out
    assert not check("11.1", raw_logits)
    assert not check("11.1", lambda *a: 1 / 0) and "ZeroDivisionError" in capsys.readouterr().out
    assert not check("11.1", 0.5) and "without ()" in capsys.readouterr().out


def test_nb11_calibration_and_parsing(lenient, capsys):
    from course_utils.evaluation import calibrate, parse_label

    assert check("11.2", lambda probs, prior: calibrate(probs, prior).argmax(-1))
    assert not check("11.2", lambda probs, prior: probs.argmax(-1))
    assert "uncalibrated" in capsys.readouterr().out
    assert not check("11.2", lambda probs, prior: (probs * prior).argmax(-1))
    assert "divides" in capsys.readouterr().out
    assert not check("11.2", lambda probs, prior: probs.argmax())
    assert "one label index per item" in capsys.readouterr().out
    assert check("11.3", parse_label)
    assert not check("11.3", lambda reply, labels: next(
        (l for l in labels if l in reply.lower()), None)) and "expected" in capsys.readouterr().out
    assert not check("11.3", lambda reply, labels: next(  # first label word, not the earliest
        (l for l in labels if parse_label(reply, [l])), None))
    assert not check("11.3", lambda reply, labels: next(
        (l for l in labels if l in reply.lower().split()), None))


def test_nb12_reply_labels(lenient, capsys):
    def right(ids, mask, prompt_lengths):
        labels = ids.masked_fill(mask == 0, -100)
        for row, length in enumerate(prompt_lengths):
            labels[row, :length] = -100
        return labels

    def by_token_id(ids, mask, prompt_lengths):  # the classic bug: the end-of-turn is the pad id
        labels = ids.masked_fill(ids == 2, -100)
        for row, length in enumerate(prompt_lengths):
            labels[row, :length] = -100
        return labels

    assert check("12.1", right)
    assert not check("12.1", by_token_id) and "end-of-turn" in capsys.readouterr().out
    assert not check("12.1", lambda ids, mask, lengths: ids.masked_fill(mask == 0, -100))
    assert "prompt" in capsys.readouterr().out
    assert not check("12.1", lambda ids, mask, lengths: right(ids, mask, lengths)[:, 1:])
    assert "shape" in capsys.readouterr().out
    assert not check("12.1", lambda *a: 1 / 0) and "ZeroDivisionError" in capsys.readouterr().out


def test_nb12_merge_lora_and_iso_dates(lenient, capsys):
    from course_utils.instruction import is_iso_date

    assert check("12.2", lambda w, a, b, alpha: w + (alpha / a.shape[0]) * b @ a)
    assert not check("12.2", lambda w, a, b, alpha: w + b @ a)
    assert "not scaled" in capsys.readouterr().out
    assert not check("12.2", lambda w, a, b, alpha: w + alpha * b @ a)
    assert "rank too" in capsys.readouterr().out
    assert not check("12.2", lambda w, a, b, alpha: w + (alpha / b.shape[0]) * b @ a)
    assert not check("12.2", lambda w, a, b, alpha: a.T @ b.T) and "shape" in capsys.readouterr().out
    assert check("12.3", is_iso_date)
    assert not check("12.3", lambda reply: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", reply.strip())))
    assert "does not parse" in capsys.readouterr().out
    assert not check("12.3", lambda reply: reply.strip()[:4].isdigit())
    assert not check("12.3", lambda reply: 1 / 0) and "ZeroDivisionError" in capsys.readouterr().out


def test_nb13_mean_completion_logp(lenient, capsys):
    import torch

    def right(logits, ids, mask):
        per_token = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
        keep = mask[:, 1:].float()
        return (per_token * keep).sum(1) / keep.sum(1)

    def unshifted(logits, ids, mask):
        per_token = torch.log_softmax(logits, -1).gather(-1, ids[..., None])[..., 0]
        return (per_token * mask).sum(1) / mask.sum(1)

    def mask_off_by_one(logits, ids, mask):
        per_token = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
        keep = mask[:, :-1].float()
        return (per_token * keep).sum(1) / keep.sum(1)

    def summed(logits, ids, mask):
        return right(logits, ids, mask) * mask[:, 1:].sum(1)

    assert check("13.1", right)
    assert check("13.1", lambda *a: right(*a).tolist())  # a list of numbers is fine
    assert not check("13.1", unshifted) and "not shifted" in capsys.readouterr().out
    assert not check("13.1", mask_off_by_one) and "wrong way" in capsys.readouterr().out
    assert not check("13.1", summed) and "divide by each row" in capsys.readouterr().out
    assert not check("13.1", lambda *a: right(*a)[:, None]) and "one value per row" in capsys.readouterr().out


def test_nb13_group_advantages_and_sum_reward(lenient, capsys):
    import statistics

    import torch

    from course_utils.alignment import group_advantages, sum_reward

    assert check("13.2", group_advantages)
    as_rows = lambda rewards, size: ((torch.tensor(rewards).view(-1, size) - torch.tensor(rewards).view(-1, size).mean(1, keepdim=True))
                                     / (torch.tensor(rewards).view(-1, size).std(1, keepdim=True) + 1e-4))
    assert check("13.2", as_rows)  # a 2-D tensor, one row per group, is accepted
    whole = lambda rewards, size: [(r - statistics.fmean(rewards)) / (statistics.stdev(rewards) + 1e-4) for r in rewards]
    assert not check("13.2", whole) and "one group" in capsys.readouterr().out
    assert not check("13.2", lambda rewards, size: group_advantages(rewards, size, scale=False))
    assert "not divided" in capsys.readouterr().out
    population = lambda rewards, size: [
        (r - statistics.fmean(rewards[i // size * size:(i // size + 1) * size]))
        / (statistics.pstdev(rewards[i // size * size:(i // size + 1) * size]) + 1e-4) for i, r in enumerate(rewards)]
    assert not check("13.2", population) and "population" in capsys.readouterr().out
    no_epsilon = lambda rewards, size: [
        (r - statistics.fmean(rewards[i // size * size:(i // size + 1) * size]))
        / statistics.stdev(rewards[i // size * size:(i // size + 1) * size]) for i, r in enumerate(rewards)]
    assert not check("13.2", no_epsilon)  # a group of equal rewards divides by zero
    assert not check("13.2", lambda rewards, size: "no") and "flat list" in capsys.readouterr().out

    def safe(reply, expected):
        try:
            return sum_reward(reply, expected)
        except ValueError:
            return 0.0

    assert check("13.3", safe)
    assert not check("13.3", lambda reply, expected: float(str(expected) in reply))
    assert "expected" in capsys.readouterr().out
    assert not check("13.3", lambda reply, expected: float(int(reply.split()[-1].strip(".")) == expected))
    assert "raised" in capsys.readouterr().out
    assert not check("13.3", lambda reply, expected: float(re.findall(r"\d+", reply or "0")[0] == str(expected)))


def test_nb14_fit(lenient, capsys):
    import numpy as np

    def right(sizes, losses):
        slope, intercept = np.polyfit(np.log(sizes), np.log(losses), 1)
        return math.exp(intercept), -slope

    assert check("14.1", right)
    assert not check("14.1", lambda s, l: (right(s, l)[0], -right(s, l)[1]))
    assert "wrong sign" in capsys.readouterr().out
    assert not check("14.1", lambda s, l: (math.log(right(s, l)[0]), right(s, l)[1]))
    assert "exponential" in capsys.readouterr().out
    assert not check("14.1", lambda s, l: (np.polyfit(s, l, 1)[1], -np.polyfit(s, l, 1)[0]))
    assert "not their logarithms" in capsys.readouterr().out
    assert not check("14.1", lambda s, l: 2.0) and "two numbers" in capsys.readouterr().out


def test_nb14_reversed_sum(lenient, capsys):
    from course_utils.scaling import write_sum

    def right(a, b, width):
        return (f"{str(a).zfill(width)[::-1]}+{str(b).zfill(width)[::-1]}=",
                str(a + b).zfill(width + 1)[::-1])

    assert check("14.2", right)
    assert check("14.2", lambda a, b, w: list(right(a, b, w)))  # a list of the two is fine
    assert not check("14.2", lambda a, b, w: write_sum(a, b, w)) and "not reversed" in capsys.readouterr().out
    assert not check("14.2", lambda a, b, w: (f"{str(a)[::-1]}+{str(b)[::-1]}=", str(a + b)[::-1]))
    assert "not padded" in capsys.readouterr().out
    assert not check("14.2", lambda a, b, w: (right(a, b, w)[0], str(a + b).zfill(w + 1)))
    assert "reversed too" in capsys.readouterr().out
    assert not check("14.2", lambda a, b, w: (right(a, b, w)[0], str(a + b).zfill(w)[::-1]))
    assert "width + 1" in capsys.readouterr().out


def test_nb14_pass_at_k(lenient, capsys):
    def right(samples, correct, k):
        return 1 - math.comb(samples - correct, k) / math.comb(samples, k)

    assert check("14.3", right)
    assert not check("14.3", lambda n, c, k: c / n) and "pass@1" in capsys.readouterr().out
    assert not check("14.3", lambda n, c, k: 1 - (1 - c / n) ** k)
    assert "replacement" in capsys.readouterr().out
    assert not check("14.3", lambda n, c, k: 1 - right(n, c, k)) and "all k are wrong" in capsys.readouterr().out


# ---------------------------------------------------------------- exercises that ask for code
def test_nb02_fertility_function(offline, lenient, capsys):
    assert check("02.4", lambda tok, text: len(tok.tokenize(text)) / len(text.split()))
    assert not check("02.4", lambda tok, text: len(tok(text)["input_ids"]) / len(text.split()))
    assert "special tokens" in capsys.readouterr().out
    assert not check("02.4", lambda tok, text: len(text.split()) / len(tok.tokenize(text)))
    assert not check("02.4", lambda tok, text: len(tok.tokenize(text)))
    assert not check("02.4", 1.5) and "without ()" in capsys.readouterr().out


def test_nb03_repeat_kv_function(lenient, capsys):
    assert check("03.4", lambda x, n: x.repeat_interleave(n, dim=1))
    assert check("03.4", lambda x, n: x[:, :, None].expand(-1, -1, n, -1, -1).flatten(1, 2))
    assert not check("03.4", lambda x, n: x.repeat(1, n, 1, 1))
    assert "wrong order" in capsys.readouterr().out
    assert not check("03.4", lambda x, n: x) and "expected a tensor of shape" in capsys.readouterr().out
    assert not check("03.4", lambda x, n: x.repeat_interleave(n, dim=2))


def test_nb05_min_p_function(lenient, capsys):
    def right(logits, min_p):
        probs = logits.softmax(-1)
        return logits.masked_fill(probs < min_p * probs.max(), float("-inf"))

    assert check("05.4", right)
    assert not check("05.4", lambda logits, min_p: logits.masked_fill(
        logits.softmax(-1) < min_p, float("-inf")))
    assert "min_p times" in capsys.readouterr().out
    assert not check("05.4", lambda logits, min_p: logits)
    assert not check("05.4", lambda logits, min_p: right(logits, min_p) * 2)
    assert "unchanged" in capsys.readouterr().out
    assert not check("05.4", lambda logits: logits) and "raised TypeError" in capsys.readouterr().out


def test_nb06_shift_right_function(lenient, capsys):
    def right(labels, start_id, pad_id):
        inputs = torch.cat([torch.full_like(labels[:, :1], start_id), labels[:, :-1]], dim=1)
        return inputs.masked_fill(inputs == -100, pad_id)

    def keeps_ignore(labels, start_id, pad_id):
        return torch.cat([torch.full_like(labels[:, :1], start_id), labels[:, :-1]], dim=1)

    assert check("06.4", right)
    assert not check("06.4", keeps_ignore) and "-100 is left" in capsys.readouterr().out
    assert not check("06.4", lambda labels, s, p: labels)
    assert not check("06.4", lambda labels, s, p: torch.roll(labels, 1, dims=1))


def test_nb07_head_entropy_function(lenient, capsys):
    def right(weights):
        return -torch.special.xlogy(weights, weights).sum(-1).mean(-1) / math.log(2)

    assert check("07.4", right)
    assert check("07.4", lambda w: right(w.double()))  # float64 answers are graded too
    assert not check("07.4", lambda w: -(w * w.log2()).sum(-1).mean(-1))
    assert "NaN" in capsys.readouterr().out
    assert not check("07.4", lambda w: right(w) * math.log(2)) and "nats" in capsys.readouterr().out
    assert not check("07.4", lambda w: right(w).mean()) and "one value per head" in capsys.readouterr().out


def test_nb08_candidate_pairs_function(lenient, capsys):
    def right(signatures, bands):
        rows, pairs = signatures.shape[1] // bands, set()
        for band in range(bands):
            buckets = {}
            for i, part in enumerate(signatures[:, band * rows:(band + 1) * rows]):
                buckets.setdefault(tuple(part), []).append(i)
            for bucket in buckets.values():
                pairs |= {(i, j) for n, i in enumerate(bucket) for j in bucket[n + 1:]}
        return pairs

    def any_number(signatures, bands):
        n = len(signatures)
        return {(i, j) for i in range(n) for j in range(i + 1, n)
                if (signatures[i] == signatures[j]).any()}

    def swapped(signatures, bands):
        return right(signatures, signatures.shape[1] // bands)

    assert check("08.2", right)
    assert check("08.2", lambda s, b: sorted(right(s, b)))  # any collection of pairs
    assert not check("08.2", any_number) and "no whole band" in capsys.readouterr().out
    assert not check("08.2", swapped) and "bands of" in capsys.readouterr().out
    assert not check("08.2", lambda s, b: right(s, b) | {(j, i) for i, j in right(s, b)})
    assert "i < j" in capsys.readouterr().out
    assert not check("08.2", lambda s, b: set()) and "miss" in capsys.readouterr().out
    assert not check("08.2", lambda s: set()) and "raised TypeError" in capsys.readouterr().out


def test_nb09_linear_schedule_function(lenient, capsys):
    def right(step, peak, warmup, total):
        if step < warmup:
            return peak * step / warmup
        return peak * max(0.0, (total - step) / (total - warmup))

    assert check("09.4", right)
    assert not check("09.4", lambda s, p, w, t: p) and "warm-up" in capsys.readouterr().out
    assert not check("09.4", lambda s, p, w, t: p * s / w if s < w else p)
    assert "falling to 0" in capsys.readouterr().out
    assert not check("09.4", lambda s, p, w, t: p * s / w if s < w else p * (t - s) / t)


def test_nb10_effect_size_function(lenient, capsys):
    import numpy as np

    def right(x, y, a, b):
        def unit(m):
            return m / np.linalg.norm(m, axis=1, keepdims=True)

        targets = unit(np.concatenate([x, y]))
        s = (targets @ unit(a).T).mean(1) - (targets @ unit(b).T).mean(1)
        return (s[:len(x)].mean() - s[len(x):].mean()) / s.std(ddof=1)

    def with_dots(x, y, a, b):
        targets = np.concatenate([x, y])
        s = (targets @ a.T).mean(1) - (targets @ b.T).mean(1)
        return (s[:len(x)].mean() - s[len(x):].mean()) / s.std(ddof=1)

    assert check("10.4", right)
    assert not check("10.4", lambda x, y, a, b: -right(x, y, a, b)) and "flipped" in capsys.readouterr().out
    assert not check("10.4", with_dots) and "cosine" in capsys.readouterr().out
    assert not check("10.4", lambda x, y, a, b: right(x, y, a, b) * 1.1)

    def population_std(x, y, a, b):
        value = right(x, y, a, b)
        n = 2 * len(x)
        return value * ((n - 1) / n) ** -0.5

    assert not check("10.4", population_std) and "ddof=1" in capsys.readouterr().out


def test_nb00_search_function(offline, lenient, capsys):
    from sentence_transformers import util

    def right(model, query, documents):
        vectors = model.encode([query, *documents], convert_to_tensor=True)
        return util.cos_sim(vectors[:1], vectors[1:])[0].argsort(descending=True).tolist()

    assert check("00.4", right)
    assert not check("00.4", lambda m, q, d: right(m, q, d)[::-1]) and "reversed" in capsys.readouterr().out
    assert not check("00.4", lambda m, q, d: list(range(len(d))))
    assert not check("00.4", lambda m, q, d: right(m, q, d)[:1]) and "once" in capsys.readouterr().out


def test_nb04_mask_tokens_function(lenient, capsys):
    def right(input_ids, special, mask_id, vocab_size, rates=(0.15, 0.8, 0.5)):
        picked = (torch.rand(input_ids.shape) < rates[0]) & ~special
        labels = input_ids.masked_fill(~picked, -100)
        inputs = input_ids.clone()
        masked = picked & (torch.rand(input_ids.shape) < rates[1])
        inputs[masked] = mask_id
        randomised = picked & ~masked & (torch.rand(input_ids.shape) < rates[2])
        inputs[randomised] = torch.randint(vocab_size, input_ids.shape)[randomised]
        return inputs, labels

    assert check("04.4", right)
    assert not check("04.4", lambda i, s, m, v: right(i, s, m, v, (0.3, 0.8, 0.5)))
    assert "15%" in capsys.readouterr().out
    assert not check("04.4", lambda i, s, m, v: right(i, s, m, v, (0.15, 1.0, 0.5)))
    assert "80%" in capsys.readouterr().out
    assert not check("04.4", lambda i, s, m, v: right(i, s, m, v, (0.15, 0.8, 1.0)))
    assert "keeps 10%" in capsys.readouterr().out
    assert not check("04.4", lambda i, s, m, v: right(i, ~s & s, m, v))
    assert "never picked" in capsys.readouterr().out
    assert not check("04.4", lambda i, s, m, v: (right(i, s, m, v)[0], i))
    assert "-100" in capsys.readouterr().out


def test_nb06_seq2seq_greedy_function(offline, lenient, capsys):
    def right(model, input_ids, max_new_tokens):
        encoded = model.get_encoder()(input_ids=input_ids)
        tokens = [model.config.decoder_start_token_id]
        for _ in range(max_new_tokens):
            logits = model(encoder_outputs=encoded, decoder_input_ids=torch.tensor([tokens])).logits
            tokens.append(int(logits[0, -1].argmax()))
            if tokens[-1] == model.config.eos_token_id:
                break
        return tokens[1:]

    assert check("06.5", right)
    assert not check("06.5", lambda m, i, n: [m.config.decoder_start_token_id] + right(m, i, n))
    assert "start token" in capsys.readouterr().out
    assert not check("06.5", lambda m, i, n: right(m, i, n)[:-1])
    assert not check("06.5", lambda m, i, n: [0] * n)

    def encoder_every_step(model, input_ids, max_new_tokens):
        tokens = [model.config.decoder_start_token_id]
        for _ in range(max_new_tokens):
            logits = model(input_ids=input_ids, decoder_input_ids=torch.tensor([tokens])).logits
            tokens.append(int(logits[0, -1].argmax()))
            if tokens[-1] == model.config.eos_token_id:
                break
        return tokens[1:]

    assert not check("06.5", encoder_every_step) and "encoder ran" in capsys.readouterr().out


def test_nb09_collate_function(lenient, capsys):
    def right(rows, pad_id):
        longest = max(len(r["input_ids"]) for r in rows)
        return {"input_ids": torch.tensor([r["input_ids"] + [pad_id] * (longest - len(r["input_ids"]))
                                           for r in rows]),
                "attention_mask": torch.tensor([[1] * len(r["input_ids"])
                                                + [0] * (longest - len(r["input_ids"])) for r in rows]),
                "labels": torch.tensor([r["label"] for r in rows])}

    def fixed_length(rows, pad_id):
        batch = right(rows + [{"input_ids": [1] * 10, "attention_mask": [1] * 10, "label": 0}], pad_id)
        return {key: value[:-1] for key, value in batch.items()}

    assert check("09.5", right)
    assert not check("09.5", lambda rows, p: {("label" if k == "labels" else k): v
                                              for k, v in right(rows, p).items()})
    assert "labels" in capsys.readouterr().out
    assert not check("09.5", fixed_length) and "longest row" in capsys.readouterr().out
    assert not check("09.5", lambda rows, p: {**right(rows, p), "attention_mask": right(rows, p)["input_ids"]})
    assert not check("09.5", lambda rows, p: right(rows, 0)) and "pad_id (9)" in capsys.readouterr().out
