"""Preference alignment (notebook 13): preference pairs made from a model's own replies by a
programmatic rule, checked before training; the log-probability of a completion, the DPO loss
and the implicit reward it trains; group-relative advantages (GRPO) and a verifier for sums.

torch and datasets are imported inside the functions that need them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from course_utils.evaluation import Accuracy, share_correct

SYSTEM = "Answer the question."
WORDINGS = ("What is {}?", "Tell me about {}.", "Explain {}.", "Describe {}.")
TOPICS = tuple("""a volcano|photosynthesis|a rainbow|gravity|a compass|the moon|a glacier|an earthquake|
a battery|a bicycle|a library|a bridge|a thermometer|a telescope|the heart|a cloud|a desert|a river|
an island|a forest|a magnet|electricity|a vaccine|a bee|a dolphin|an owl|a spider|a whale|a tiger|
a penguin|a piano|a violin|a guitar|a drum|an orchestra|a poem|a novel|a museum|a newspaper|a map|
a computer|a keyboard|a password|the internet|an email|a website|a robot|a satellite|a rocket|
an airplane|a train|a ship|a car engine|a traffic light|a helmet|a raincoat|an umbrella|a candle|
a clock|a calendar|bread|cheese|coffee|tea|chocolate|honey|rice|salt|sugar|an apple|a banana|
a tomato|a potato|soup|a recipe|a kitchen|a refrigerator|an oven|a microwave|a kettle|a hospital|
a doctor|a nurse|a fever|sleep|exercise|a muscle|a bone|the brain|the lungs|a school|a teacher|
a textbook|homework|an exam|a university|a scholarship|a diploma|a lecture|a laboratory|a tree|
a flower|a seed|soil|a mountain|an ocean|a beach|a lake|a waterfall|a cave|wind|snow|rain|thunder|
lightning|a hurricane|a tornado|a drought|a flood|a season|money|a bank|a loan|a budget|a market|
a shop|a receipt|a tax|a salary|an invoice|a city|a village|a park|a road|a tunnel|a lighthouse|
a castle|a tower|a stadium|an airport|a friend|a family|a neighbour|a birthday|a wedding|a holiday|
a game|a puzzle|a sport|a team|chess|football|tennis|swimming|running|dancing|painting|
photography|gardening|cooking""".replace("\n", "").split("|"))


def questions(seed: int = 0) -> list[dict[str, Any]]:
    """One question per topic, in a wording chosen at random: {'topic', 'prompt'} with the prompt
    as chat messages (a short system message, then the user's question)."""
    rng = random.Random(seed)
    return [{"topic": topic,
             "prompt": [{"role": "system", "content": SYSTEM},
                        {"role": "user", "content": rng.choice(WORDINGS).format(topic)}]}
            for topic in TOPICS]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def sentences(text: str) -> list[str]:
    """The complete sentences of `text`, in order: a last piece that does not end with . ! or ?
    (a reply cut off by the token limit) is left out."""
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip()) if p.strip()]
    if parts and not parts[-1].endswith((".", "!", "?")):
        parts = parts[:-1]
    return parts


def concise_pair(reply: str, max_sentences: int = 3) -> tuple[str, str] | None:
    """The course's preference rule, answer first against rambling: from one reply, the chosen
    completion is its first sentence and the rejected one its first `max_sentences` sentences.
    None when the reply has fewer than two complete sentences (no preference to learn)."""
    found = sentences(reply)
    if len(found) < 2:
        return None
    return found[0], " ".join(found[:max_sentences])


def check_pair(example: dict[str, Any]) -> None:
    """Raise a ValueError that says what is wrong with one preference example: it needs a
    'prompt', a 'chosen' and a 'rejected' completion (strings, or lists of chat messages), both
    non-empty and different from each other."""
    for column in ("prompt", "chosen", "rejected"):
        if column not in example:
            raise ValueError(f"a preference example needs 'prompt', 'chosen' and 'rejected'; this "
                             f"one has {sorted(example)}")

    def text(value: Any) -> str:
        if isinstance(value, str):
            return value
        return "".join(str(m.get("content", "")) for m in value if isinstance(m, dict))

    chosen, rejected = text(example["chosen"]), text(example["rejected"])
    for name, value in (("chosen", chosen), ("rejected", rejected)):
        if not value.strip():
            raise ValueError(f"the {name} completion is empty: a pair compares two real replies "
                             "(drop the example, or write the reply)")
    if chosen.strip() == rejected.strip():
        raise ValueError(f"chosen and rejected are the same reply ({chosen[:60]!r}): the pair "
                         "says nothing about which is better and DPO's loss gets no signal from "
                         "it; drop it")


def preference_splits(questions: Sequence[dict[str, Any]], replies: Sequence[str], test: int = 32,
                      seed: int = 0) -> Any:
    """The preference data set: a `DatasetDict` with `train` and `test`, one pair per question
    whose reply `concise_pair` can split, in the conversational prompt/chosen/rejected format of
    TRL's DPOTrainer, plus its 'topic'. Each topic is asked once, so the splits share none."""
    from datasets import Dataset, DatasetDict

    if len(questions) != len(replies):
        raise ValueError(f"{len(questions)} questions and {len(replies)} replies: give one reply "
                         "per question, in order")
    rows = []
    for question, reply in zip(questions, replies):
        pair = concise_pair(reply)
        if pair is None:
            continue
        row = {"topic": question["topic"], "prompt": question["prompt"],
               "chosen": [{"role": "assistant", "content": pair[0]}],
               "rejected": [{"role": "assistant", "content": pair[1]}]}
        check_pair(row)
        rows.append(row)
    if len(rows) <= test:
        raise ValueError(f"only {len(rows)} replies made a pair, not more than test={test}: ask "
                         "more questions or let the replies run longer")
    random.Random(seed).shuffle(rows)
    return DatasetDict({"train": Dataset.from_list(rows[test:]),
                        "test": Dataset.from_list(rows[:test])})


# ---------------------------------------------------------------------------- DPO
def completion_logps(logits: Any, input_ids: Any, completion_mask: Any) -> Any:
    """Sum over each row's completion of log p(token | the tokens before it). The logits at
    position t predict the token at t + 1, so both are shifted by one; positions outside the
    completion (prompt, padding) count nothing. Computed in float32."""
    import torch

    logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    per_token = logprobs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (per_token * completion_mask[:, 1:]).sum(dim=1)


@dataclass(frozen=True)
class DPOTerms:
    """The DPO loss of a batch of pairs and the implicit rewards beta * log(pi / pi_ref) of
    each chosen and rejected completion."""

    loss: Any
    chosen_rewards: Any
    rejected_rewards: Any


def dpo_loss(policy_chosen: Any, policy_rejected: Any, reference_chosen: Any,
             reference_rejected: Any, beta: float = 0.1) -> DPOTerms:
    """The DPO loss (Rafailov et al., 2023) from the completions' summed log-probabilities under
    the policy and the reference: mean of -log sigmoid(beta * (chosen log-ratio - rejected
    log-ratio))."""
    import torch.nn.functional as F

    if beta <= 0:
        raise ValueError(f"beta={beta}: it must be positive (0.1 is usual; smaller lets the "
                         "policy move further from the reference)")
    chosen = beta * (policy_chosen - reference_chosen)
    rejected = beta * (policy_rejected - reference_rejected)
    return DPOTerms(-F.logsigmoid(chosen - rejected).mean(), chosen.detach(), rejected.detach())


def pair_logps(model: Any, batch: Any) -> tuple[Any, Any, Any, Any]:
    """For one batch of TRL's DPO collator (chosen rows, then rejected rows), the completions'
    log-probabilities under the model with its LoRA adapter (the policy) and with the adapter
    disabled (the reference: the same weights, no second copy)."""
    import torch

    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    policy = completion_logps(model(**inputs).logits, batch["input_ids"], batch["completion_mask"])
    with torch.no_grad(), model.disable_adapter():
        reference = completion_logps(model(**inputs).logits, batch["input_ids"],
                                     batch["completion_mask"])
    return (*policy.chunk(2), *reference.chunk(2))


@dataclass(frozen=True)
class PreferenceScores:
    """On held-out pairs: how often the implicit reward ranks chosen above rejected (ties count
    as wrong), with its interval, and the mean reward margin."""

    accuracy: Accuracy
    margin: float
    margins: list[float]

    def __str__(self) -> str:
        return f"preference accuracy {self.accuracy}; mean reward margin {self.margin:+.3f}"


def preference_scores(model: Any, batches: Any, beta: float = 0.1) -> PreferenceScores:
    """Implicit-reward margins (chosen minus rejected) over `batches` of TRL's DPO collator."""
    import torch

    margins: list[float] = []
    with torch.no_grad():
        for batch in batches:
            terms = dpo_loss(*pair_logps(model, batch), beta=beta)
            margins += (terms.chosen_rewards - terms.rejected_rewards).tolist()
    if not margins:
        raise ValueError("no pairs to score: give preference_scores at least one batch")
    return PreferenceScores(share_correct([m > 0 for m in margins]),
                            sum(margins) / len(margins), margins)


# ---------------------------------------------------------------------------- GRPO
def group_advantages(rewards: Sequence[float], group_size: int, scale: bool = True) -> list[float]:
    """GRPO's advantages: each reward minus the mean of its group (the completions sampled for
    the same prompt, consecutive in `rewards`), divided by the group's standard deviation when
    `scale` (the sample standard deviation plus 1e-4, as TRL computes it, so a group of equal
    rewards gives zeros)."""
    import statistics

    if group_size < 2:
        raise ValueError(f"group_size={group_size}: a group needs at least two completions of the "
                         "same prompt to compare")
    if len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}: give "
                         "every prompt the same number of completions, one after another")
    advantages: list[float] = []
    for start in range(0, len(rewards), group_size):
        group = [float(r) for r in rewards[start:start + group_size]]
        mean = statistics.fmean(group)
        spread = statistics.stdev(group) + 1e-4 if scale else 1.0
        advantages += [(r - mean) / spread for r in group]
    return advantages


_INTEGER = re.compile(r"-?\d[\d,]*")


def final_number(reply: str) -> int:
    """The last whole number in a reply ('12', 'The sum is 12.', '1,024'), or a ValueError when
    the reply holds none."""
    found = _INTEGER.findall(reply)
    if not found:
        raise ValueError(f"no number in the reply {reply[:60]!r}: a verifier can only check an "
                         "answer it can read")
    return int(found[-1].replace(",", ""))


def sum_reward(reply: str, expected: int) -> float:
    """The verifiable reward of a sum: 1.0 when the reply's last number is `expected`, else 0.0
    (a reply with no number is wrong, not an error: a policy must not crash its trainer)."""
    if isinstance(expected, bool) or not isinstance(expected, int):
        raise ValueError(f"expected={expected!r}: the verifier compares against the true sum, a "
                         "whole number")
    try:
        return float(final_number(reply) == expected)
    except ValueError:
        return 0.0


# ---------------------------------------------------------------------------- implicit rewards
def reply_logps(model: Any, tokenizer: Any, prompts: Sequence[Any], replies: Sequence[str]) -> Any:
    """log p(reply | prompt) under `model`, summed over the reply's tokens as the chat template
    writes them (its end-of-turn marker included), one conversation at a time."""
    import torch

    if len(prompts) != len(replies):
        raise ValueError(f"{len(prompts)} prompts and {len(replies)} replies: give one reply per "
                         "prompt, in order")
    totals = []
    for prompt, reply in zip(prompts, replies):
        start = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True,
                                              return_dict=True)["input_ids"]
        full = tokenizer.apply_chat_template(list(prompt) + [{"role": "assistant", "content": reply}],
                                             tokenize=True, return_dict=True)["input_ids"]
        ids = torch.tensor([full], device=model.device)
        mask = torch.zeros_like(ids)
        mask[0, len(start):] = 1
        with torch.no_grad():
            totals.append(completion_logps(model(input_ids=ids).logits, ids, mask)[0])
    return torch.stack(totals)


def implicit_rewards(model: Any, tokenizer: Any, prompts: Sequence[Any], replies: Sequence[str],
                     beta: float = 0.1) -> list[float]:
    """DPO's implicit reward beta * log(pi / pi_ref) of each reply: `model` with its LoRA adapter
    is the policy, the same model inside `disable_adapter()` the reference."""
    policy = reply_logps(model, tokenizer, prompts, replies)
    with model.disable_adapter():
        reference = reply_logps(model, tokenizer, prompts, replies)
    return (beta * (policy - reference)).tolist()
