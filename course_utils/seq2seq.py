"""A tiny encoder-decoder task for notebook 06: free-form dates to ISO dates.

The data is generated, so it is the same everywhere and needs no download; the tokenizer works
on characters, so the learned cross-attention lines up output characters with input characters.
`match_report` makes the football reports the tiny-t5 stand-in learned to summarise.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from course_utils.offline import recipes
from course_utils.offline.corpora import match_report as match_report  # notebook 06 uses it

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FIRST_DAY, LAST_DAY = dt.date(1950, 1, 1), dt.date(2049, 12, 31)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# Each format writes a date the way people do; all of them name the month or order d.m.y
DATE_FORMATS = {
    "day month year": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "month day, year": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "short month": lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",
    "ordinal": lambda d: f"the {_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    "weekday": lambda d: f"{WEEKDAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "dotted": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "lower case": lambda d: f"{d.day} {MONTHS[d.month - 1].lower()} {d.year}",
    "upper case": lambda d: f"{MONTHS[d.month - 1].upper()} {d.day} {d.year}",
}


def random_date(rng: random.Random) -> dt.date:
    """A date drawn uniformly between 1950-01-01 and 2049-12-31."""
    return FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def date_pairs(count: int, seed: int = 0, exclude: set[str] | frozenset[str] = frozenset()
               ) -> list[tuple[str, str]]:
    """`count` (free-form date, ISO date) pairs in random formats, none of whose ISO dates is in
    `exclude` (pass a training set's targets to make held-out pairs of unseen dates)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a whole number, at least 1, got {count!r}")
    rng = random.Random(seed)
    names = sorted(DATE_FORMATS)
    pairs = []
    while len(pairs) < count:
        date = random_date(rng)
        if date.isoformat() in exclude:
            continue
        pairs.append((DATE_FORMATS[rng.choice(names)](date), date.isoformat()))
    return pairs


def char_tokenizer(texts: Sequence[str]) -> Any:
    """A character-level tokenizer (every character one token) for the characters in `texts`,
    with <pad>, </s> and <unk>, usable like any Hugging Face tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    if isinstance(texts, str) or not texts:
        raise ValueError("texts must be a non-empty list of strings: the tokenizer learns its "
                         "characters from them")
    specials = ["<pad>", "</s>", "<unk>"]
    characters = sorted({c for text in texts for c in text})
    vocab = {token: i for i, token in enumerate(specials + characters)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", vocab["</s>"])])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>",
                                   eos_token="</s>", unk_token="<unk>", model_max_length=64)


def tiny_t5(tokenizer: Any, width: int = 128, layers: int = 2, heads: int = 4) -> Any:
    """A freshly initialised T5 encoder-decoder sized for a CPU: `layers` encoder and decoder
    layers of `width` with `heads` heads (about 0.66M parameters with the defaults). Eager
    attention, so `output_attentions=True` returns the weights."""
    return recipes.tiny_t5(tokenizer, width=width, layers=layers, heads=heads,
                           attn_implementation="eager")


def encode_pairs(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A training batch: padded inputs and labels, with padding in the labels set to -100 so
    the loss ignores it."""
    if not pairs:
        raise ValueError("pairs is empty: give at least one (source, target) pair")
    batch = tokenizer([source for source, _ in pairs], padding=True, return_tensors="pt")
    labels = tokenizer([target for _, target in pairs], padding=True,
                       return_tensors="pt")["input_ids"]
    labels[labels == tokenizer.pad_token_id] = -100
    return {**batch, "labels": labels}


def translate(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 256,
              **generate_kwargs: Any) -> list[str]:
    """generate() over `texts` in batches, on the model's device; the decoded outputs without
    special tokens."""
    import torch

    outputs: list[str] = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(list(texts[start : start + batch_size]), padding=True,
                          return_tensors="pt").to(model.device)
        with torch.no_grad():
            generated = model.generate(**batch, **generate_kwargs)
        outputs += tokenizer.batch_decode(generated, skip_special_tokens=True)
    return outputs


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """The share of predictions equal to their reference, after stripping spaces at the ends."""
    if len(predictions) != len(references) or not references:
        raise ValueError(f"need as many predictions as references (and at least one): "
                         f"{len(predictions)} predictions, {len(references)} references")
    same = sum(p.strip() == r.strip() for p, r in zip(predictions, references))
    return same / len(references)
