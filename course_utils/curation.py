"""Curating a text classification data set: repair, normalise, deduplicate, filter, balance,
split without leakage, and keep a log of every step for the data card.

Everything works on lists of strings and on `datasets.Dataset` objects; each step of
`Curation` records the rows before and after and why, so the table in notebook 08 and the data
card are written from what was measured.
"""

from __future__ import annotations

import html
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Byte sequences this corpus's export turned into nonsense, and what they stood for (read off
# the most frequent runs of non-ASCII characters in the tweets and the words around them).
BROKEN_SEQUENCES = {
    "Õ¢_\x8aÎ_\x86¢": "'", "Õ¢_\x8aÎ\x81Ð": '"', "Õ¢_\x8aÎë\x9d": '"', "Õ¢_\x8aÎë_": "...",
    "äó»": "'", "äóì": '"', "äó\x9d": '"', "äó_": "...", "äóñ": "-", "äóÖ": "-",
    "í©": "é", "â€™": "'", "â€œ": '"', "â€\x9d": '"', "â€“": "-", "â€”": "-", "â€¦": "...",
}
# After the known sequences, a run of non-ASCII characters with one of these in it is what is
# left of an emoji or symbol the export destroyed; it is removed.
_GARBAGE_MARKS = set("ÕäôÑÍÎÒ¢") | {chr(c) for c in range(0x80, 0xA0)}
_NON_ASCII_RUN = re.compile(r"_?[^\x00-\x7f][^\x00-\x7f_]*(?:_[^\x00-\x7f][^\x00-\x7f_]*)*_?")
_LINK = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def repair_text(text: str) -> str:
    """Undo the encoding damage in a text: HTML entities (&amp;), classic UTF-8-read-as-
    Windows-1252 mojibake, this corpus's broken quote and ellipsis sequences, and the remains of
    destroyed emoji (removed). Clean text comes back unchanged."""
    repaired = html.unescape(text)
    for broken, meant in BROKEN_SEQUENCES.items():
        repaired = repaired.replace(broken, meant)
    if any(ord(c) > 127 for c in repaired):
        try:  # text that was UTF-8, read as Windows-1252: encode back and decode properly
            repaired = repaired.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass

    def drop(match: re.Match) -> str:
        run = match.group()
        return " " if any(c in _GARBAGE_MARKS for c in run) else run

    return _NON_ASCII_RUN.sub(drop, repaired)


def normalise_text(text: str) -> str:
    """Links become 'http', user handles '@user' (the convention of Twitter-trained models),
    and every run of whitespace one space."""
    text = _LINK.sub("http", text)
    text = _HANDLE.sub("@user", text)
    return _SPACES.sub(" ", text).strip()


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def duplicate_key(text: str) -> str:
    """What two texts must share to count as exact duplicates: lower case, words only."""
    return " ".join(_WORD.findall(text.lower()))


def minhash_signatures(texts: Sequence[str], num_perm: int = 64, shingle: int = 3,
                       seed: int = 0) -> Any:
    """MinHash signatures, (len(texts), num_perm) uint32: two texts agree in a signature column
    with probability equal to the Jaccard similarity of their sets of word `shingle`-grams."""
    import numpy as np

    if num_perm < 1 or shingle < 1:
        raise ValueError(f"num_perm and shingle must be at least 1, got {num_perm}, {shingle}")
    prime = (1 << 61) - 1
    rng = np.random.default_rng(seed)
    a = rng.integers(1, prime, num_perm, dtype=np.uint64)
    b = rng.integers(0, prime, num_perm, dtype=np.uint64)
    signatures = np.empty((len(texts), num_perm), dtype=np.uint32)
    for row, text in enumerate(texts):
        words = duplicate_key(text).split() or [""]
        grams = {" ".join(words[i:i + shingle]) for i in range(max(1, len(words) - shingle + 1))}
        hashes = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64)
        # (a * h + b) mod p, in uint64 with wrap-around; good enough mixing for 32-bit hashes
        mixed = (hashes[:, None] * a[None, :] + b[None, :]) % np.uint64(prime)
        signatures[row] = (mixed.min(axis=0) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return signatures


def near_duplicate_pairs(texts: Sequence[str], threshold: float = 0.7, num_perm: int = 64,
                         bands: int = 16, shingle: int = 3,
                         against: Sequence[str] | None = None) -> list[tuple[int, int, float]]:
    """Pairs (i, j, estimated Jaccard) of near-duplicate texts, found with MinHash and locality-
    sensitive hashing (`bands` bands of num_perm/bands rows). With `against`, pairs (i in texts,
    j in against) only: a leakage check between two splits."""
    import numpy as np

    if num_perm % bands:
        raise ValueError(f"num_perm ({num_perm}) must be a multiple of bands ({bands})")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    first = minhash_signatures(texts, num_perm, shingle)
    second = first if against is None else minhash_signatures(against, num_perm, shingle)
    rows = num_perm // bands
    found: dict[tuple[int, int], float] = {}
    for band in range(bands):
        columns = slice(band * rows, (band + 1) * rows)
        buckets: dict[bytes, list[int]] = {}
        for j, signature in enumerate(second[:, columns]):
            buckets.setdefault(signature.tobytes(), []).append(j)
        for i, signature in enumerate(first[:, columns]):
            for j in buckets.get(signature.tobytes(), ()):
                if (against is None and j <= i) or (i, j) in found:
                    continue
                similarity = float(np.mean(first[i] == second[j]))
                if similarity >= threshold:
                    found[(i, j)] = similarity
    return sorted((i, j, s) for (i, j), s in found.items())


def duplicate_groups(size: int, pairs: Sequence[tuple[int, int, float]]) -> list[int]:
    """The group of each of `size` items once every pair is joined (union-find): items in one
    group are duplicates of each other, directly or through a chain."""
    parent = list(range(size))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(size)]


def validate_columns(dataset: Any, text: str = "text", label: str = "label") -> None:
    """Refuse a data set without the text and label columns the course expects."""
    columns = list(getattr(dataset, "column_names", []) or [])
    missing = [c for c in (text, label) if c not in columns]
    if missing:
        raise ValueError(
            f"the data set has no {' or '.join(repr(m) for m in missing)} column (it has "
            f"{columns}); rename yours with dataset.rename_column('yours', {missing[0]!r}) or "
            "pass text=/label= with the names it uses")


def validate_labels(dataset: Any, names: Sequence[str], label: str = "label") -> None:
    """Refuse labels outside 0..len(names)-1, saying which values and how many rows."""
    values = Counter(dataset[label])
    bad = {v: n for v, n in values.items() if not (isinstance(v, int) and 0 <= v < len(names))}
    if bad:
        shown = ", ".join(f"{v!r} ({n} rows)" for v, n in list(bad.items())[:5])
        raise ValueError(f"labels outside the label set {list(names)} (ids 0..{len(names) - 1}): "
                         f"{shown}; map them to an id or filter those rows out first")


@dataclass
class Step:
    name: str
    before: int
    after: int
    why: str


@dataclass
class Curation:
    """A data set going through curation steps, each one logged (rows before, after, why)."""

    dataset: Any
    text: str = "text"
    label: str = "label"
    steps: list[Step] = field(default_factory=list)

    def __post_init__(self) -> None:
        validate_columns(self.dataset, self.text, self.label)

    def _log(self, name: str, before: int, why: str) -> None:
        after = len(self.dataset)
        self.steps.append(Step(name, before, after, why))
        if after == 0:
            raise ValueError(f"no rows are left after '{name}' ({why}); loosen that step's "
                             "setting or check the data it received")

    def map_text(self, name: str, function: Callable[[str], str], why: str) -> int:
        """Rewrite every text with `function`; returns how many texts changed (rows stay)."""
        before = len(self.dataset)
        texts = list(self.dataset[self.text])
        rewritten = [function(t) for t in texts]
        changed = sum(a != b for a, b in zip(texts, rewritten))
        self.dataset = self.dataset.remove_columns(self.text).add_column(self.text, rewritten)
        self._log(f"{name} ({changed:,} texts changed)", before, why)
        return changed

    def keep(self, name: str, mask: Sequence[bool], why: str) -> None:
        """Keep the rows where `mask` is True."""
        before = len(self.dataset)
        if len(mask) != before:
            raise ValueError(f"the mask has {len(mask)} entries for {before} rows")
        self.dataset = self.dataset.select([i for i, k in enumerate(mask) if k])
        self._log(name, before, why)

    def filter(self, name: str, predicate: Callable[[dict], bool], why: str) -> None:
        before = len(self.dataset)
        self.dataset = self.dataset.filter(predicate)
        self._log(name, before, why)

    def drop_exact_duplicates(self) -> None:
        seen: set[str] = set()
        mask = []
        for text in self.dataset[self.text]:
            key = duplicate_key(text)
            mask.append(key not in seen)
            seen.add(key)
        self.keep("exact duplicates", mask, "same words, ignoring case and punctuation: "
                  "retweets and copies; the first copy is kept")

    def drop_near_duplicates(self, threshold: float = 0.7) -> list[tuple[int, int, float]]:
        texts = list(self.dataset[self.text])
        pairs = near_duplicate_pairs(texts, threshold)
        groups = duplicate_groups(len(texts), pairs)
        self.keep("near duplicates", [g == i for i, g in enumerate(groups)],
                  f"MinHash Jaccard of word 3-grams >= {threshold}: one text per group is kept")
        return pairs

    def balance(self, seed: int = 0, ratio: float = 1.0) -> None:
        """Cap every label at `ratio` times the rarest label's count, chosen at random."""
        labels = list(self.dataset[self.label])
        counts = Counter(labels)
        cap = int(min(counts.values()) * ratio)
        rng = random.Random(seed)
        by_label: dict[Any, list[int]] = {}
        for i, value in enumerate(labels):
            by_label.setdefault(value, []).append(i)
        chosen = sorted(i for rows in by_label.values()
                        for i in (rows if len(rows) <= cap else rng.sample(rows, cap)))
        before = len(self.dataset)
        self.dataset = self.dataset.select(chosen)
        self._log("label balance", before, f"each label capped at {cap:,} rows "
                  f"({ratio:g} x the rarest label's count), sampled with seed {seed}")

    def table(self) -> list[dict[str, Any]]:
        return [{"step": s.name, "rows before": s.before, "rows after": s.after,
                 "removed": s.before - s.after, "why": s.why} for s in self.steps]


def split(dataset: Any, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
          seed: int = 0, label: str = "label") -> dict[str, Any]:
    """Train/validation/test splits, stratified by label, shuffled with `seed`."""
    from datasets import DatasetDict

    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers adding up to 1, got "
                         f"{fractions}")
    rng = random.Random(seed)
    parts: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
    by_label: dict[Any, list[int]] = {}
    for i, value in enumerate(dataset[label]):
        by_label.setdefault(value, []).append(i)
    for rows in by_label.values():
        rng.shuffle(rows)
        n_validation = round(len(rows) * fractions[1])
        n_test = round(len(rows) * fractions[2])
        parts["validation"] += rows[:n_validation]
        parts["test"] += rows[n_validation:n_validation + n_test]
        parts["train"] += rows[n_validation + n_test:]
    for name, rows in parts.items():
        if not rows:
            raise ValueError(f"the {name} split is empty: the data set ({len(dataset)} rows) is "
                             "too small for these fractions")
    return DatasetDict({name: dataset.select(sorted(rows)) for name, rows in parts.items()})


def leakage(splits: dict[str, Any], threshold: float = 0.7,
            text: str = "text") -> dict[str, int]:
    """How many exact and near duplicates each pair of splits shares (all zero when clean)."""
    names = list(splits)
    found = {}
    for a_index, a in enumerate(names):
        for b in names[a_index + 1:]:
            keys = {duplicate_key(t) for t in splits[a][text]}
            exact = sum(duplicate_key(t) in keys for t in splits[b][text])
            near = near_duplicate_pairs(list(splits[a][text]), threshold,
                                        against=list(splits[b][text]))
            found[f"{a}/{b} exact"] = exact
            found[f"{a}/{b} near"] = len(near)
    return found


def data_card(name: str, source: str, curation: Curation, splits: dict[str, Any],
              label_names: Sequence[str], leaks: dict[str, int], text: str = "text",
              label: str = "label") -> str:
    """A Markdown data card written from measured statistics."""
    lines = [f"# Data card: {name}", "", f"**Source:** {source}", "",
             "## Curation", "", "| step | rows before | rows after | why |", "|---|---:|---:|---|"]
    for step in curation.steps:
        lines.append(f"| {step.name} | {step.before:,} | {step.after:,} | {step.why} |")
    lines += ["", "## Splits", "", "| split | rows | " + " | ".join(label_names)
              + " | median words |", "|---|---:|" + "---:|" * (len(label_names) + 1)]
    for split_name, part in splits.items():
        counts = Counter(part[label])
        words = sorted(word_count(t) for t in part[text])
        median = words[len(words) // 2] if words else 0
        lines.append(f"| {split_name} | {len(part):,} | "
                     + " | ".join(f"{counts.get(i, 0):,}" for i in range(len(label_names)))
                     + f" | {median} |")
    lines += ["", "## Leakage between splits", "",
              ", ".join(f"{k}: {v}" for k, v in leaks.items()), ""]
    return "\n".join(lines)


LABEL_NAMES = ("negative", "neutral", "positive")
MIN_CONFIDENCE = 0.6
WORDS = (3, 60)
SPLIT_SEED = 0


def curate_tweets(raw: Any, min_confidence: float = MIN_CONFIDENCE,
                  words: tuple[int, int] = WORDS, near_threshold: float = 0.7,
                  seed: int = SPLIT_SEED) -> Curation:
    """The whole curation of notebook 08, in the order the notebook explains it."""
    curation = Curation(raw)
    validate_labels(curation.dataset, LABEL_NAMES)
    curation.map_text("repair text encoding", repair_text,
                      "HTML entities, mojibake and destroyed emoji from the export")
    curation.map_text("normalise links, handles, spaces", normalise_text,
                      "links -> 'http', @handles -> '@user', one space between words")
    if "confidence" in curation.dataset.column_names:
        curation.filter("label confidence", lambda row: (row["confidence"] or 0) >= min_confidence,
                        f"annotators' confidence below {min_confidence} or not recorded")
    low, high = words
    curation.filter("length", lambda row: low <= word_count(row["text"]) <= high,
                    f"fewer than {low} or more than {high} words")
    curation.drop_exact_duplicates()
    curation.drop_near_duplicates(near_threshold)
    curation.balance(seed)
    return curation


def raw_training_set(raw: Any, held_out: Sequence[str], threshold: float = 0.7) -> Any:
    """The uncurated tweets (as loaded: unrepaired, duplicated, unbalanced) minus every text
    that is, once cleaned, an exact or near duplicate of a held-out text: the 'raw' arm of the
    curated-against-raw comparison, scored on the same clean test set without leakage."""
    keys = {duplicate_key(t) for t in held_out}
    cleaned = [normalise_text(repair_text(t)) for t in list(raw["text"])]
    near = {i for i, _, _ in near_duplicate_pairs(cleaned, threshold, against=list(held_out))}
    labels = list(raw["label"])
    keep = [i for i, t in enumerate(cleaned)
            if duplicate_key(t) not in keys and i not in near and labels[i] in (0, 1, 2)]
    return raw.select(keep)


def curated_dir() -> Path:
    from course_utils.offline.kit import kit_dir

    return kit_dir() / "curated-tweets"


def save_curated(splits: Any, card: str, folder: Path | None = None) -> Path:
    """Save the curated splits (and the raw arm, if in `splits`) and the data card."""
    folder = folder or curated_dir()
    splits.save_to_disk(str(folder))
    (folder / "DATA_CARD.md").write_text(card, encoding="utf-8")
    return folder


def load_curated(folder: Path | None = None) -> Any:
    """The curated splits notebook 08 saved; built now (about a minute) if they are missing."""
    from datasets import load_dataset, load_from_disk

    from course_utils.offline.hub import resolve

    folder = folder or curated_dir()
    if (folder / "dataset_dict.json").is_file():
        return load_from_disk(str(folder))
    print(f"no curated data set at {folder}: curating the tweets now, as notebook 08 does")
    raw = load_dataset(resolve("mteb/tweet_sentiment_extraction"), split="train")
    curation = curate_tweets(raw)
    splits = split(curation.dataset, seed=SPLIT_SEED)
    held_out = list(splits["validation"]["text"]) + list(splits["test"]["text"])
    splits["raw_train"] = raw_training_set(raw, held_out)
    card = data_card("curated tweets", "the course's tweets", curation, splits, LABEL_NAMES,
                     leakage({k: splits[k] for k in ("train", "validation", "test")}))
    save_curated(splits, card, folder)
    return splits
