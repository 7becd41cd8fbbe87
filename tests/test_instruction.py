"""The helpers of instruction tuning (course_utils.instruction): the date set, chat messages,
reply scoring, perplexity against the model's own loss, the recipe and the adapter check."""

from __future__ import annotations

import datetime
import json
import math

import pytest
import torch

from course_utils import instruction


def test_date_splits_are_disjoint_balanced_and_fixed():
    splits = instruction.date_splits(train=50, test=10, seed=3)
    assert (len(splits["train"]), len(splits["test"])) == (50, 10)
    assert not set(splits["train"]["answer"]) & set(splits["test"]["answer"])
    again = instruction.date_splits(train=50, test=10, seed=3)
    assert instruction.fingerprint(splits["train"]) == instruction.fingerprint(again["train"])
    other = instruction.date_splits(train=50, test=10, seed=4)
    assert instruction.fingerprint(splits["train"]) != instruction.fingerprint(other["train"])
    for row in splits["test"]:
        day = datetime.date.fromisoformat(row["answer"])
        assert row["completion"] == [{"role": "assistant", "content": row["answer"]}]
        assert row["prompt"][1]["content"] in instruction.date_phrases(day)
        assert row["prompt"][0] == {"role": "system", "content": instruction.SYSTEM}


@pytest.mark.parametrize("train,test", [(0, 5), (5, 0), (instruction.DAYS, 1)])
def test_date_splits_refuse_impossible_sizes(train, test):
    with pytest.raises(ValueError, match="at least 1"):
        instruction.date_splits(train=train, test=test)


def test_date_phrases_name_the_day_and_no_ambiguous_numbers():
    phrases = instruction.date_phrases(datetime.date(2021, 3, 3))
    assert "March 3rd, 2021" in phrases and "the 3rd of March 2021" in phrases
    assert "Wednesday, March 3, 2021" in phrases
    assert instruction.date_phrases(datetime.date(2011, 11, 12))[1] == "November 12th, 2011"
    assert not any("/" in p for p in phrases)


@pytest.mark.parametrize("messages,message", [
    ("hello", "non-empty list"),
    ([], "non-empty list"),
    ([{"content": "hi"}], "'role'"),
    ([{"role": "bot", "content": "hi"}], "role 'bot'"),
    ([{"role": "user", "content": "  "}], "no content"),
    ([{"role": "user"}], "no content"),
    ([{"role": "system", "content": "x"}, {"role": "user", "content": None}], "message 1"),
])
def test_bad_messages_say_what_is_wrong(messages, message):
    with pytest.raises(ValueError, match=message):
        instruction.check_messages(messages)


def test_check_columns_names_the_missing_column():
    from datasets import Dataset

    good = instruction.date_splits(train=4, test=1)["train"]
    instruction.check_columns(good)
    with pytest.raises(ValueError, match="no 'completion' column"):
        instruction.check_columns(good.remove_columns("completion"))
    broken = Dataset.from_list([{"prompt": [{"role": "narrator", "content": "x"}],
                                 "completion": [{"role": "assistant", "content": "y"}]}])
    with pytest.raises(ValueError, match="role 'narrator'"):
        instruction.check_columns(broken)


@pytest.mark.parametrize("reply,expected", [
    ("2021-03-04", True), ("  2024-02-29\n", True), ("2023-02-29", False), ("2021-3-4", False),
    ("2021-03-04.", False), ("date: 2021-03-04", False), ("", False), ("٢٠٢١-03-04", False)])
def test_is_iso_date(reply, expected):
    assert instruction.is_iso_date(reply) is expected


def test_score_replies_counts_each_measure():
    replies = [instruction.Reply("2020-01-01", True), instruction.Reply("2020-01-02", False),
               instruction.Reply("Jan 3", True), instruction.Reply(" 2020-01-04 ", True)]
    scores = instruction.score_replies(replies, ["2020-01-01", "2020-01-01", "2020-01-03",
                                                 "2020-01-04"])
    assert scores.compliance.value == 0.75 and scores.exact.value == 0.5
    assert scores.stop.value == 0.75 and scores.exact.n == 4
    assert "stop rate" in str(scores)
    with pytest.raises(ValueError, match="one reply per held-out prompt"):
        instruction.score_replies(replies, ["2020-01-01"])


class CharTokenizer:
    """One token per character, right padding with id 0, like a fast tokenizer's call."""

    pad_token_id = 0

    def __call__(self, texts, return_tensors="pt", padding=True, padding_side="right"):
        assert padding_side == "right"
        ids = [[1 + ord(c) % 96 for c in t] for t in texts]
        width = max(len(i) for i in ids)

        class Batch(dict):
            def to(self, device):
                return self

        return Batch(input_ids=torch.tensor([i + [0] * (width - len(i)) for i in ids]),
                     attention_mask=torch.tensor([[1] * len(i) + [0] * (width - len(i))
                                                  for i in ids]))


@pytest.mark.parametrize("batch_size", [1, 2, 8])
def test_perplexity_is_exp_of_the_token_weighted_loss(tiny_llama, batch_size):
    texts = ["the cat sat.", "a much longer sentence than the first one.", "ok"]
    tok = CharTokenizer()
    total, count = 0.0, 0
    for text in texts:  # each text alone, no padding: the model's own mean loss
        ids = tok([text])["input_ids"]
        with torch.no_grad():
            loss = tiny_llama(input_ids=ids, labels=ids).loss.item()
        total += loss * (ids.shape[1] - 1)
        count += ids.shape[1] - 1
    assert instruction.perplexity(tiny_llama, tok, texts, batch_size=batch_size) == \
        pytest.approx(math.exp(total / count), rel=1e-4)


def test_general_texts_are_sentences_without_dates():
    texts = instruction.general_texts(16)
    assert len(texts) == 16 and all(t.endswith(".") for t in texts)
    assert len(set(texts)) == 16


def test_generate_replies_equals_generate_and_leaves_no_hook(offline):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from course_utils.offline.hub import resolve

    model_id = resolve("HuggingFaceTB/SmolLM2-135M-Instruct", announce=False)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    side = tokenizer.padding_side
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.bfloat16).eval()
    model.requires_grad_(False)  # frozen, as after LoRA training
    conversations = instruction.date_splits(train=2, test=3)["test"]["prompt"]
    replies = instruction.generate_replies(model, tokenizer, conversations, max_new_tokens=8,
                                           batch_size=2)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    for conversation, reply in zip(conversations, replies):  # one at a time: no padding at all
        ids = tokenizer(instruction.chat_prompts(tokenizer, [conversation]), return_tensors="pt",
                        add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=8, do_sample=False, eos_token_id=end,
                                 pad_token_id=tokenizer.pad_token_id)[0, ids["input_ids"].shape[1]:]
        row = out.tolist()
        assert reply.stopped == (end in row)
        assert reply.text == tokenizer.decode(row[:row.index(end)] if end in row else row,
                                              skip_special_tokens=True)
    assert not model.get_output_embeddings()._forward_pre_hooks  # the contiguity hook is gone
    assert tokenizer.padding_side == side  # left padding was for the call only


@pytest.mark.parametrize("cpuinfo,expected", [
    ("flags : fpu avx2 avx512f avx512_bf16 amx_tile", True), ("flags : amx_bf16", True),
    ("flags : fpu avx2 avx512f", False), ("", False)])
def test_cpu_bf16_reads_the_flags(cpuinfo, expected):
    assert instruction.cpu_bf16(cpuinfo) is expected


@pytest.mark.parametrize("value,expected", [("0", False), ("1", True)])
def test_cpu_bf16_can_be_overridden(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_CPU_BFLOAT", value)
    assert instruction.cpu_bf16() is expected
    assert instruction.choose_lora_recipe("cpu").dtype == ("bfloat16" if expected else "float32")


def test_cpu_recipe_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(instruction, "cpu_bf16", lambda cpuinfo=None: True)
    recipe = instruction.choose_lora_recipe("cpu")
    assert recipe.dtype == "bfloat16" and recipe.checkpointing and recipe.batch_size == 4
    assert instruction.torch_dtype(recipe) is torch.bfloat16
    monkeypatch.setattr(instruction, "cpu_bf16", lambda cpuinfo=None: False)
    recipe = instruction.choose_lora_recipe("cpu", max_steps=7)
    assert recipe.dtype == "float32" and recipe.max_steps == 7
    # float32 weights take more memory: the same 4 examples per step, as 2 micro-batches of 2
    assert recipe.batch_size * recipe.gradient_accumulation == 4 and recipe.batch_size == 2
    assert any("no bf16" in why for why in recipe.why)


@pytest.mark.parametrize("capability,dtype", [((9, 0), "bfloat16"), ((7, 5), "float32")])
def test_gpu_recipe_follows_the_card(monkeypatch, capability, dtype):
    from course_utils.env import device

    card = device.Gpu("Test card", capability, 80 * 2**30, 1)
    monkeypatch.setattr(device, "gpu", lambda name="cuda": card)
    recipe = instruction.choose_lora_recipe("cuda")
    assert recipe.dtype == dtype and not recipe.checkpointing and recipe.batch_size == 16


def _adapter(folder, base):
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    return folder


def _model(folder, weights):
    from safetensors.torch import save_file

    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    save_file({"w": torch.tensor(weights)}, str(folder / "model.safetensors"))
    return str(folder)


def test_adapter_base_check(tmp_path):
    adapter = _adapter(tmp_path / "adapter", "HuggingFaceTB/SmolLM2-135M-Instruct")
    instruction.check_adapter_base(adapter, "HuggingFaceTB/SmolLM2-135M-Instruct")
    with pytest.raises(ValueError, match="trained on 'HuggingFaceTB/SmolLM2-135M-Instruct', not "
                                         "on 'HuggingFaceTB/SmolLM2-360M-Instruct'"):
        instruction.check_adapter_base(adapter, "HuggingFaceTB/SmolLM2-360M-Instruct")
    with pytest.raises(ValueError, match="not a peft adapter folder"):
        instruction.check_adapter_base(tmp_path, "HuggingFaceTB/SmolLM2-135M-Instruct")


def test_adapter_base_check_compares_local_models_by_their_weights(tmp_path):
    base = _model(tmp_path / "base", [1.0, 2.0])
    moved = _model(tmp_path / "moved", [1.0, 2.0])
    other = _model(tmp_path / "other", [1.0, 3.0])
    adapter = _adapter(tmp_path / "adapter", base)
    instruction.check_adapter_base(adapter, moved)  # the same weights elsewhere
    with pytest.raises(ValueError, match="the local model 'other'"):
        instruction.check_adapter_base(adapter, other)


def test_generate_replies_passes_sampling_settings_through(tiny_llama):
    class Tok:
        padding_side = "right"
        pad_token_id = 0
        eos_token_id = 96

        def get_vocab(self):
            return {}

        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
            return messages[-1]["content"]

        def __call__(self, texts, return_tensors=None, padding=True, add_special_tokens=False):
            width = max(len(t) for t in texts)

            class Batch(dict):
                def to(self, device):
                    return self

            return Batch(input_ids=torch.tensor([[0] * (width - len(t)) + [ord(c) % 90 + 1 for c in t] for t in texts]),
                         attention_mask=torch.tensor([[0] * (width - len(t)) + [1] * len(t) for t in texts]))

        def decode(self, ids, skip_special_tokens=True):
            return " ".join(map(str, ids))

    conversations = [[{"role": "user", "content": "abc"}], [{"role": "user", "content": "hello"}]]
    greedy = instruction.generate_replies(tiny_llama, Tok(), conversations, max_new_tokens=5)
    assert len(greedy) == 2
    torch.manual_seed(0)
    sampled = instruction.generate_replies(tiny_llama, Tok(), conversations, max_new_tokens=5,
                                           do_sample=True, temperature=5.0, num_return_sequences=4)
    assert len(sampled) == 8  # four per conversation, one after another
    assert len({r.text for r in sampled[:4]}) > 1  # sampled, not four copies of the greedy reply
    torch.manual_seed(0)
    again = instruction.generate_replies(tiny_llama, Tok(), conversations, max_new_tokens=5,
                                         do_sample=True, temperature=5.0, num_return_sequences=4)
    assert [r.text for r in again] == [r.text for r in sampled]
