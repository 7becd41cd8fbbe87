"""Instruction tuning a chat model with LoRA (notebook 12): the curated date set, chat messages
checked before they reach a template, the recipe chosen from the hardware, replies scored for
format, exactness and stopping, perplexity on general text, and adapters checked against their
base model.

torch, transformers, datasets, peft and trl are imported inside the functions that need them.
"""

from __future__ import annotations

import datetime
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils.evaluation import Accuracy, accuracy, share_correct

SYSTEM = "Write the date as YYYY-MM-DD."
ROLES = ("system", "user", "assistant")
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
FIRST_DAY = datetime.date(1950, 1, 1)
DAYS = 100 * 365  # dates from 1950 to 2049


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def date_phrases(day: datetime.date) -> list[str]:
    """The free-form ways the data set writes `day`; none is ambiguous (no 03/04/2021)."""
    month = MONTHS[day.month - 1]
    return [f"{day.day} {month} {day.year}",
            f"{month} {_ordinal(day.day)}, {day.year}",
            f"the {_ordinal(day.day)} of {month} {day.year}",
            f"{month[:3]} {day.day} {day.year}",
            f"{day.strftime('%A')}, {month} {day.day}, {day.year}"]


def date_example(phrase: str, answer: str, system: str = SYSTEM) -> dict[str, Any]:
    """One conversational prompt-completion example, the format TRL's SFTTrainer trains on
    with the loss on the completion only."""
    return {"prompt": [{"role": "system", "content": system}, {"role": "user", "content": phrase}],
            "completion": [{"role": "assistant", "content": answer}],
            "answer": answer}


def date_splits(train: int = 320, test: int = 40, seed: int = 0) -> Any:
    """The curated instruction set: free-form dates (1950-2049) to ISO 8601, a `DatasetDict`
    with `train` and `test`. Every date appears once, so no test date (in any wording) is in
    the training split; each is written in one of `date_phrases`, chosen at random."""
    from datasets import Dataset, DatasetDict

    if train < 1 or test < 1 or train + test > DAYS:
        raise ValueError(f"train={train}, test={test}: both must be at least 1 and together at "
                         f"most {DAYS} (the distinct dates there are)")
    rng = random.Random(seed)
    days = [FIRST_DAY + datetime.timedelta(days=d) for d in rng.sample(range(DAYS), train + test)]
    rows = [date_example(rng.choice(date_phrases(day)), day.isoformat()) for day in days]
    return DatasetDict({"train": Dataset.from_list(rows[:train]),
                        "test": Dataset.from_list(rows[train:])})


def check_messages(messages: Any) -> list[dict[str, str]]:
    """`messages` as a chat template needs them, or a ValueError that says what is wrong: a list
    of {'role', 'content'} with a known role and non-empty text."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise ValueError("messages must be a non-empty list of {'role': ..., 'content': ...} "
                         f"dicts, got {type(messages).__name__}")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise ValueError(f"message {i} ({message!r}) is not a dict with a 'role' and a "
                             "'content'")
        if message["role"] not in ROLES:
            raise ValueError(f"message {i} has role {message['role']!r}; a chat template knows "
                             f"{', '.join(ROLES)}")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"message {i} ({message['role']}) has no content: give it the text "
                             "the model should see")
    return list(messages)


def check_columns(dataset: Any, columns: Sequence[str] = ("prompt", "completion")) -> None:
    """Raise a ValueError naming what is missing when `dataset` lacks one of `columns`."""
    missing = [c for c in columns if c not in dataset.column_names]
    if missing:
        raise ValueError(f"the data set has no {', '.join(map(repr, missing))} column (it has "
                         f"{dataset.column_names}): SFTTrainer's prompt-completion format needs "
                         "'prompt' (the messages before the reply) and 'completion' (the reply)")
    for row in dataset.select(range(min(len(dataset), 8))):
        check_messages(row[columns[0]] + row[columns[1]])


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_iso_date(reply: str) -> bool:
    """Whether the whole reply (less surrounding spaces) is a real date written YYYY-MM-DD."""
    text = reply.strip()
    if not ISO_DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Reply:
    """A generated reply and whether the model ended it (the end-of-turn token came before the
    token limit)."""

    text: str
    stopped: bool


def chat_prompts(tokenizer: Any, conversations: Sequence[Any]) -> list[str]:
    """Each conversation through the chat template, ending where the assistant's reply starts."""
    return [tokenizer.apply_chat_template(check_messages(c), tokenize=False,
                                          add_generation_prompt=True) for c in conversations]


def generate_replies(model: Any, tokenizer: Any, conversations: Sequence[Any],
                     max_new_tokens: int = 16, batch_size: int = 8,
                     **generate_kwargs: Any) -> list[Reply]:
    """Greedy replies to each conversation, in batches, left-padded for this call only. Other
    `generate` settings pass through (`do_sample=True, num_return_sequences=8` gives eight
    sampled replies per conversation, one after another)."""
    import torch

    prompts = chat_prompts(tokenizer, conversations)
    stop = tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tokenizer.get_vocab() \
        else tokenizer.eos_token_id
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    replies: list[Reply] = []
    # generate() hands the output layer only each row's last position, a strided slice of the
    # hidden states. PyTorch's CPU bfloat16 linear with a frozen weight (as after LoRA training)
    # then allocates about 0.45 GB for SmolLM2's 49152-word head on every step (measured with
    # torch 2.13); the same product on a contiguous copy of that slice needs nothing extra.
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    hook = head.register_forward_pre_hook(_contiguous_input) if head is not None else None
    try:
        for start in range(0, len(prompts), batch_size):
            batch = tokenizer(prompts[start:start + batch_size], return_tensors="pt",
                              padding=True, add_special_tokens=False).to(model.device)
            with torch.no_grad():
                out = model.generate(**batch, **({"do_sample": False} | generate_kwargs),
                                     max_new_tokens=max_new_tokens, eos_token_id=stop,
                                     pad_token_id=tokenizer.pad_token_id)
            for row in out[:, batch["input_ids"].shape[1]:].tolist():
                ended = stop in row
                replies.append(Reply(tokenizer.decode(row[:row.index(stop)] if ended else row,
                                                      skip_special_tokens=True), ended))
    finally:
        tokenizer.padding_side = side
        if hook is not None:
            hook.remove()
    return replies


def _contiguous_input(module: Any, args: tuple) -> tuple:
    return (args[0].contiguous(), *args[1:])


@dataclass(frozen=True)
class ReplyScores:
    """Format compliance (the reply parses), exact match and stop rate, each with its interval."""

    compliance: Accuracy
    exact: Accuracy
    stop: Accuracy

    def __str__(self) -> str:
        return (f"compliance {self.compliance}\nexact match {self.exact}\n"
                f"stop rate  {self.stop}")


def score_replies(replies: Sequence[Reply], answers: Sequence[str]) -> ReplyScores:
    """Score replies against the expected ISO dates, in order."""
    if len(replies) != len(answers):
        raise ValueError(f"{len(replies)} replies for {len(answers)} answers: generate one "
                         "reply per held-out prompt, in order")
    return ReplyScores(share_correct([is_iso_date(r.text) for r in replies]),
                       accuracy([r.text.strip() for r in replies], list(answers)),
                       share_correct([r.stopped for r in replies]))


def perplexity(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 4) -> float:
    """exp of the mean next-token loss over every token of `texts` (padding left out)."""
    import math

    import torch

    total, count = 0.0, 0
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(list(texts[start:start + batch_size]), return_tensors="pt",
                          padding=True, padding_side="right").to(model.device)
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        with torch.no_grad():
            logits = model(**batch).logits[:, :-1].float()
        targets = labels[:, 1:]
        losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets,
                                                   ignore_index=-100, reduction="sum")
        total += float(losses)
        count += int((targets != -100).sum())
    if count == 0:
        raise ValueError("no tokens to score: give perplexity() some non-empty texts")
    return math.exp(total / count)


def general_texts(n: int = 32) -> list[str]:
    """Plain English sentences from Python's own documentation (no tweets, no dates): what the
    model should still predict as well after instruction tuning."""
    from course_utils.offline.corpora import local_sentences

    sentences = [s for s in local_sentences(4 * n) if s.endswith(".") and not s.startswith("@")]
    return sentences[:n]


# ---------------------------------------------------------------------------- the recipe
def cpu_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes in bfloat16 in hardware (AVX512-BF16 or AMX, Linux's flags);
    without them bfloat16 matrix products are emulated and several times slower.
    COURSE_CPU_BFLOAT=0 (or 1) overrides what the flags say, to try the other recipe."""
    import os

    if cpuinfo is None and os.environ.get("COURSE_CPU_BFLOAT") in ("0", "1"):
        return os.environ["COURSE_CPU_BFLOAT"] == "1"
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = set(cpuinfo.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


@dataclass
class LoraRecipe:
    """How to fine-tune with LoRA here: every choice that changes speed or memory, and why."""

    device: str
    dtype: str = "float32"  # the frozen base weights; the adapters always train in float32
    batch_size: int = 4
    gradient_accumulation: int = 1  # micro-batches per optimizer step
    max_steps: int = 40
    learning_rate: float = 1.5e-3
    rank: int = 16
    alpha: int = 32
    checkpointing: bool = True
    max_length: int = 64
    why: list[str] = field(default_factory=list)


def choose_lora_recipe(device: str | None = None, max_steps: int | None = None) -> LoraRecipe:
    """The course's LoRA recipe for this machine. On a CUDA GPU: bf16 base weights where the
    card has native bf16 (else float32), batch 16, no activation checkpointing. On a CPU:
    bf16 base weights where the CPU computes in bf16 (AVX512-BF16 or AMX), else float32;
    batch 4 with activation checkpointing, so a 2 GB machine has room."""
    from course_utils.env.device import kind, native_bf16, pick_device

    device = device or pick_device()
    if kind(device) == "cuda":
        bf16 = native_bf16(device)
        recipe = LoraRecipe(device, "bfloat16" if bf16 else "float32", batch_size=16,
                            max_steps=max_steps or 40, learning_rate=2e-3, checkpointing=False)
        recipe.why = [("bf16 base weights: the card computes in bf16 natively" if bf16 else
                       "float32 base weights: the card has no native bf16"),
                      "batch 16 and no activation checkpointing: GPU memory is plentiful here"]
    else:
        bf16 = kind(device) == "cpu" and cpu_bf16()
        recipe = LoraRecipe(device, "bfloat16" if bf16 else "float32",
                            batch_size=4 if bf16 else 2, gradient_accumulation=1 if bf16 else 2,
                            max_steps=max_steps or 40)
        recipe.why = [("bf16 base weights: this CPU computes in bf16 (AVX512-BF16/AMX), at "
                       "half the memory of float32 and the same speed" if bf16 else
                       "float32 base weights: this CPU has no bf16 arithmetic (emulated bf16 "
                       "is several times slower); they take 0.27 GB more memory"),
                      ("batch 4" if bf16 else "batch 4 as two micro-batches of 2 (gradient "
                       "accumulation), for the float32 weights' extra memory") +
                      " with activation checkpointing: each layer's activations are "
                      "computed again in the backward pass instead of kept",
                      "40 steps at a high learning rate (1.5e-3), which LoRA's few parameters "
                      "take; higher ones forgot more general text here"]
    recipe.why += [f"LoRA rank {recipe.rank} (alpha {recipe.alpha}) on every linear layer; the "
                   "adapters train in float32"]
    return recipe


def torch_dtype(recipe: LoraRecipe) -> Any:
    import torch

    return getattr(torch, recipe.dtype)


# ---------------------------------------------------------------------------- adapters
def adapter_base(adapter_dir: str | Path) -> str:
    """The base model an adapter folder was trained on (its adapter_config.json says)."""
    config = Path(adapter_dir) / "adapter_config.json"
    if not config.is_file():
        raise ValueError(f"{Path(adapter_dir).name} holds no adapter_config.json: it is not a "
                         "peft adapter folder (save one with model.save_pretrained(folder))")
    return str(json.loads(config.read_text()).get("base_model_name_or_path") or "")


def check_adapter_base(adapter_dir: str | Path, model_id: str) -> None:
    """Raise a ValueError when the adapter in `adapter_dir` was trained on another base model
    than `model_id`: its low-rank updates would load without complaint (same shapes) and mean
    nothing. Local folders count as the same model when their weights are (model_identity)."""
    from course_utils.training import model_identity

    base = adapter_base(adapter_dir)
    if base == str(model_id):
        return
    if Path(base).is_dir() and Path(model_id).is_dir() and \
            model_identity(base) == model_identity(model_id):
        return
    raise ValueError(f"the adapter in {Path(adapter_dir).name} was trained on "
                     f"{_name(base)}, not on {_name(model_id)}: load it onto the base model it "
                     "was trained on (nothing was loaded)")


def _name(model_id: str) -> str:
    folder = Path(model_id)
    return f"the local model {folder.name!r}" if folder.is_dir() else repr(model_id)


def fingerprint(dataset: Any) -> str:
    """A short hash of every row, in order: the same data gives the same value in any session."""
    import hashlib

    digest = hashlib.sha1()
    for row in dataset:
        digest.update(json.dumps(row, sort_keys=True).encode())
    return digest.hexdigest()[:16]
