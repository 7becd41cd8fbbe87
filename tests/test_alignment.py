"""The helpers of preference alignment (course_utils.alignment): the pair rule and its checks,
completion log-probabilities against the model's own loss, the DPO loss, the reference taken
with the adapter disabled, GRPO's group advantages and the sum verifier."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from course_utils import alignment


def test_sentences_drop_a_piece_cut_by_the_token_limit():
    assert alignment.sentences("A bee is an insect. It makes honey! Does it sting? Some of") == \
        ["A bee is an insect.", "It makes honey!", "Does it sting?"]
    assert alignment.sentences("  One. 2024 was a year.  ") == ["One.", "2024 was a year."]
    assert alignment.sentences("no full stop at all") == []


def test_concise_pair_is_first_sentence_against_first_three():
    reply = "Tea is a drink. It is made from leaves. People drink it hot. It can be iced. And"
    assert alignment.concise_pair(reply) == (
        "Tea is a drink.", "Tea is a drink. It is made from leaves. People drink it hot.")
    assert alignment.concise_pair("Tea is a drink. It is old.") == (
        "Tea is a drink.", "Tea is a drink. It is old.")
    assert alignment.concise_pair("Tea is a drink. It is made from") is None  # one sentence
    assert alignment.concise_pair("") is None


@pytest.mark.parametrize("example,message", [
    ({"prompt": "q", "chosen": "Same.", "rejected": " Same. "}, "same reply"),
    ({"prompt": "q", "chosen": [{"role": "assistant", "content": ""}],
      "rejected": [{"role": "assistant", "content": "Long."}]}, "chosen completion is empty"),
    ({"prompt": "q", "chosen": "Short.", "rejected": "   "}, "rejected completion is empty"),
    ({"prompt": "q", "chosen": "Short."}, "needs 'prompt', 'chosen' and 'rejected'"),
])
def test_check_pair_says_what_is_wrong(example, message):
    with pytest.raises(ValueError, match=message):
        alignment.check_pair(example)


def test_check_pair_accepts_a_real_pair():
    alignment.check_pair({"prompt": [{"role": "user", "content": "q"}],
                          "chosen": [{"role": "assistant", "content": "A."}],
                          "rejected": [{"role": "assistant", "content": "A. B."}]})


def test_preference_splits_are_disjoint_by_topic_and_in_trl_format():
    questions = alignment.questions(seed=1)
    assert len(questions) == len(alignment.TOPICS) == len(set(alignment.TOPICS))
    replies = [f"{q['topic'].capitalize()} is a thing. It is {i}. It is nice. More" if i % 3 else
               "Only one sentence" for i, q in enumerate(questions)]
    splits = alignment.preference_splits(questions, replies, test=20, seed=0)
    assert len(splits["test"]) == 20
    assert len(splits["train"]) + 20 == sum(1 for i in range(len(questions)) if i % 3)
    assert not set(splits["train"]["topic"]) & set(splits["test"]["topic"])
    row = splits["train"][0]
    assert row["chosen"][0]["role"] == "assistant" and row["chosen"][0]["content"].endswith("thing.")
    assert row["rejected"][0]["content"].startswith(row["chosen"][0]["content"])
    assert row["prompt"][0] == {"role": "system", "content": alignment.SYSTEM}
    again = alignment.preference_splits(questions, replies, test=20, seed=0)
    assert again["test"]["topic"] == splits["test"]["topic"]


def test_preference_splits_refuse_bad_input():
    questions = alignment.questions()
    with pytest.raises(ValueError, match="one reply per question"):
        alignment.preference_splits(questions, ["A. B."])
    with pytest.raises(ValueError, match="made a pair"):
        alignment.preference_splits(questions, ["no pair"] * len(questions))


def test_completion_logps_is_the_models_own_loss(tiny_llama):
    ids = torch.randint(1, 97, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = tiny_llama(input_ids=ids).logits
        losses = [tiny_llama(input_ids=ids[i:i + 1], labels=ids[i:i + 1]).loss.item() for i in range(2)]
    everything = torch.ones_like(ids)
    got = alignment.completion_logps(logits, ids, everything)
    assert got.tolist() == pytest.approx([-loss * 8 for loss in losses], rel=1e-5)
    # the completion only: positions 5 to 8 count, the prompt's 0 to 4 do not
    mask = torch.zeros_like(ids)
    mask[:, 5:] = 1
    per_token = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
    assert alignment.completion_logps(logits, ids, mask).tolist() == \
        pytest.approx(per_token[:, 4:].sum(1).tolist(), rel=1e-5)


def test_dpo_loss_is_log_2_at_the_start_and_matches_the_formula():
    chosen, rejected = torch.tensor([-10.0, -4.0]), torch.tensor([-30.0, -3.0])
    start = alignment.dpo_loss(chosen, rejected, chosen, rejected, beta=0.1)
    assert start.loss.item() == pytest.approx(math.log(2))
    assert start.chosen_rewards.tolist() == [0.0, 0.0]
    terms = alignment.dpo_loss(chosen + 1, rejected - 2, chosen, rejected, beta=0.5)
    margin = 0.5 * 1 - 0.5 * (-2)
    assert terms.loss.item() == pytest.approx(-math.log(1 / (1 + math.exp(-margin))), rel=1e-6)
    assert terms.chosen_rewards.tolist() == [0.5, 0.5] and terms.rejected_rewards.tolist() == [-1.0, -1.0]
    worse = alignment.dpo_loss(chosen - 1, rejected + 2, chosen, rejected, beta=0.5)
    assert worse.loss > start.loss > terms.loss
    with pytest.raises(ValueError, match="beta=0"):
        alignment.dpo_loss(chosen, rejected, chosen, rejected, beta=0)


def _lora(model, b_std: float):
    import copy

    from peft import LoraConfig, get_peft_model

    wrapped = get_peft_model(copy.deepcopy(model), LoraConfig(r=4, lora_alpha=8,
                                                              target_modules=["q_proj", "v_proj"]))
    if b_std:
        torch.manual_seed(1)
        with torch.no_grad():
            for name, parameter in wrapped.named_parameters():
                if "lora_B" in name:
                    parameter.normal_(std=b_std)
    return wrapped.eval()


def _batch():
    generator = torch.Generator().manual_seed(2)
    ids = torch.randint(1, 97, (4, 7), generator=generator)  # 2 chosen rows, then 2 rejected
    mask = torch.zeros_like(ids)
    mask[:, 3:] = 1
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "completion_mask": mask}


def test_pair_logps_takes_the_reference_with_the_adapter_disabled(tiny_llama):
    batch = _batch()
    with torch.no_grad():
        base = alignment.completion_logps(tiny_llama(input_ids=batch["input_ids"]).logits,
                                          batch["input_ids"], batch["completion_mask"])
    fresh = alignment.pair_logps(_lora(tiny_llama, 0.0), batch)  # B = 0: policy is the reference
    assert torch.allclose(torch.cat(fresh[:2]), torch.cat(fresh[2:]))
    trained = alignment.pair_logps(_lora(tiny_llama, 0.5), batch)
    assert torch.allclose(torch.cat(trained[2:]), base, atol=1e-5)  # reference = the base model
    assert not torch.allclose(torch.cat(trained[:2]), base, atol=1e-3)  # the policy moved
    scores = alignment.preference_scores(_lora(tiny_llama, 0.0), [batch])
    assert scores.margins == [0.0, 0.0] and scores.accuracy.value == 0.0  # ties count as wrong


def test_preference_scores_count_pairs_ranked_right(tiny_llama):
    policy = _lora(tiny_llama, 0.5)
    batch = _batch()
    policy_chosen, policy_rejected, ref_chosen, ref_rejected = alignment.pair_logps(policy, batch)
    expected = (0.1 * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))).tolist()
    scores = alignment.preference_scores(policy, [batch, batch], beta=0.1)
    assert scores.margins == pytest.approx(expected * 2, abs=1e-6)
    assert scores.accuracy.value == sum(m > 0 for m in expected) / 2
    with pytest.raises(ValueError, match="at least one batch"):
        alignment.preference_scores(policy, [])


def test_group_advantages_as_trl_computes_them():
    rewards = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 2.0, 1.0]
    got = alignment.group_advantages(rewards, 4)
    grouped = torch.tensor(rewards).view(3, 4)
    expected = (grouped - grouped.mean(1, keepdim=True)) / (grouped.std(1, keepdim=True) + 1e-4)
    assert got == pytest.approx(expected.flatten().tolist(), abs=1e-6)
    assert got[4:8] == [0.0] * 4  # a group of equal rewards teaches nothing
    assert sum(got[:4]) == pytest.approx(0, abs=1e-9)
    assert alignment.group_advantages([2.0, 0.0], 2, scale=False) == [1.0, -1.0]
    assert statistics.fmean(alignment.group_advantages(rewards[8:], 4)) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("rewards,size,message", [
    ([1.0, 0.0, 1.0], 2, "do not split into groups of 2"),
    ([1.0, 0.0], 1, "at least two completions"),
])
def test_group_advantages_refuse_bad_groups(rewards, size, message):
    with pytest.raises(ValueError, match=message):
        alignment.group_advantages(rewards, size)


@pytest.mark.parametrize("reply,expected,reward", [
    ("12", 12, 1.0), ("The sum is 12.", 12, 1.0), ("5 + 7 = 12", 12, 1.0), ("5 + 7 = 13", 12, 0.0),
    ("-3", -3, 1.0), ("1,024", 1024, 1.0), ("twelve", 12, 0.0), ("", 12, 0.0),
])
def test_sum_reward_reads_the_last_number(reply, expected, reward):
    assert alignment.sum_reward(reply, expected) == reward


def test_verifier_says_what_is_wrong_with_a_non_answer():
    with pytest.raises(ValueError, match="no number in the reply 'twelve'"):
        alignment.final_number("twelve")
    with pytest.raises(ValueError, match="whole number"):
        alignment.sum_reward("12", "12")
    with pytest.raises(ValueError, match="whole number"):
        alignment.sum_reward("1", True)


def test_implicit_rewards_use_the_chat_template_and_the_reference(offline):
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from course_utils.offline.hub import resolve

    tokenizer = AutoTokenizer.from_pretrained(resolve("HuggingFaceTB/SmolLM2-135M-Instruct",
                                                      announce=False))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
    base = LlamaForCausalLM(config).eval()
    prompts = [[{"role": "user", "content": "What is tea?"}]] * 2
    replies = ["Tea is a drink.", ""]
    assert alignment.implicit_rewards(_lora(base, 0.0), tokenizer, prompts, replies) == [0.0, 0.0]
    policy = _lora(base, 0.5)
    logps = alignment.reply_logps(policy, tokenizer, prompts, replies)
    with policy.disable_adapter():
        reference = alignment.reply_logps(policy, tokenizer, prompts, replies)
    assert alignment.implicit_rewards(policy, tokenizer, prompts, replies, beta=0.2) == \
        pytest.approx((0.2 * (logps - reference)).tolist(), abs=1e-6)
    # by hand: the reply's tokens as the template writes them, end-of-turn included
    start = tokenizer.apply_chat_template(prompts[0], add_generation_prompt=True, tokenize=True,
                                          return_dict=True)["input_ids"]
    full = tokenizer.apply_chat_template(prompts[0] + [{"role": "assistant", "content": replies[0]}],
                                         tokenize=True, return_dict=True)["input_ids"]
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in full[len(start):]
    with torch.no_grad():
        logits = policy(input_ids=torch.tensor([full])).logits[0, :-1].float().log_softmax(-1)
    by_hand = sum(logits[t - 1, full[t]].item() for t in range(len(start), len(full)))
    assert logps[0].item() == pytest.approx(by_hand, rel=1e-5)
    with pytest.raises(ValueError, match="one reply per prompt"):
        alignment.reply_logps(policy, tokenizer, prompts, replies[:1])

