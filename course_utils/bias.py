"""Measuring bias and brittleness (notebook 10): fill-mask templates, an embedding association
test with a permutation p-value, identity-term score gaps, counterfactual swaps, typos (tokens
per word is `course_utils.tokens.fertility`). Plain functions over a pipeline or numbers; no
torch import here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# word pairs swapped by `counterfactual`: each maps both ways. "her" is both "him" and "his":
# it becomes "his" before a word and "him" before punctuation or at the end.
GENDER_PAIRS: tuple[tuple[str, str], ...] = (
    ("he", "she"), ("him", "her"), ("his", "her"), ("himself", "herself"), ("man", "woman"),
    ("men", "women"), ("boy", "girl"), ("boys", "girls"), ("father", "mother"),
    ("fathers", "mothers"), ("dad", "mom"), ("son", "daughter"), ("sons", "daughters"),
    ("brother", "sister"), ("brothers", "sisters"), ("husband", "wife"), ("uncle", "aunt"),
    ("boyfriend", "girlfriend"), ("king", "queen"), ("mr", "mrs"), ("guy", "gal"),
    ("grandfather", "grandmother"), ("grandpa", "grandma"), ("nephew", "niece"),
    ("gentleman", "lady"), ("gentlemen", "ladies"), ("male", "female"),
)


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def counterfactual(text: str, pairs: Sequence[tuple[str, str]] = GENDER_PAIRS) -> str:
    """`text` with every word of `pairs` swapped for its partner (case kept): the counterfactual
    copy used for counterfactual data augmentation. Words not in `pairs` are left alone."""
    if not isinstance(text, str):
        raise TypeError(f"counterfactual() takes a string, got {type(text).__name__}")
    swap: dict[str, str] = {}
    for a, b in pairs:
        if not a or not b or " " in a or " " in b:
            raise ValueError(f"pairs hold single words, got {(a, b)!r}")
        swap.setdefault(a.lower(), b.lower())
        swap.setdefault(b.lower(), a.lower())
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(swap, key=len, reverse=True)))
                         + r")\b", re.IGNORECASE)

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        new = swap[word.lower()]
        if word.lower() == "her":  # his before a word, him before punctuation or at the end
            rest = text[match.end():]
            new = "his" if re.match(r"\s+[A-Za-z]", rest) else "him"
        return _match_case(new, word)

    return pattern.sub(replace, text)


def mentions(text: str, words: Iterable[str]) -> bool:
    """Whether `text` contains any of `words` as a whole word, ignoring case."""
    found = set(re.findall(r"[a-z']+", text.lower()))
    return any(w.lower() in found for w in words)


def augment_counterfactually(texts: Sequence[str], labels: Sequence[int],
                             pairs: Sequence[tuple[str, str]] = GENDER_PAIRS
                             ) -> tuple[list[str], list[int]]:
    """The texts and labels plus, for every text that mentions a word of `pairs`, its swapped
    copy with the same label."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels: pass one label per text")
    words = [w for pair in pairs for w in pair]
    out_texts, out_labels = list(texts), list(labels)
    for text, label in zip(texts, labels):
        if mentions(text, words):
            out_texts.append(counterfactual(text, pairs))
            out_labels.append(label)
    return out_texts, out_labels


def fill(templates: Sequence[str], terms: Sequence[str]) -> list[str]:
    """Every template filled with every term (templates hold one '{}'), sentence-cased."""
    for template in templates:
        if template.count("{}") != 1:
            raise ValueError(f"each template needs exactly one '{{}}' slot, got {template!r}")
    if not terms:
        raise ValueError("give at least one term to put in the templates")
    texts = [t.format(term) for t in templates for term in terms]
    return [s[:1].upper() + s[1:] for s in texts]


# ---------------------------------------------------------------- embedding association test
@dataclass(frozen=True)
class Association:
    """The result of an embedding association test (WEAT, Caliskan et al. 2017)."""

    effect_size: float  # Cohen's d of the targets' associations: beyond about 0.8 is large
    p_value: float  # share of equal-size re-splits of the targets with a statistic at least as big
    permutations: int


def _cosine_matrix(a: Any, b: Any) -> Any:
    import numpy as np

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def association_test(x: Any, y: Any, a: Any, b: Any, permutations: int = 10_000,
                     seed: int = 0) -> Association:
    """Do target embeddings `x` sit closer to attribute embeddings `a` than to `b`, compared with
    targets `y`? Rows are embeddings. The effect size is the difference of the mean association
    s(w) = mean cos(w, a) - mean cos(w, b) between X and Y, over the standard deviation of s on
    X and Y together; the p-value is one-sided, from random equal-size re-splits of X and Y."""
    import numpy as np

    arrays = [np.asarray(v, dtype=np.float64) for v in (x, y, a, b)]
    for name, array in zip("xyab", arrays):
        if array.ndim != 2 or len(array) < 2:
            raise ValueError(f"{name} must be a 2-D array of at least two embeddings (one per "
                             f"row), got shape {array.shape}")
    if len({array.shape[1] for array in arrays}) != 1:
        raise ValueError("x, y, a and b must come from the same model: their widths differ "
                         f"({[array.shape[1] for array in arrays]})")
    if len(arrays[0]) != len(arrays[1]):
        raise ValueError(f"x and y need the same number of words ({len(arrays[0])} vs "
                         f"{len(arrays[1])}) for the permutation test")
    xs, ys, as_, bs = arrays
    targets = np.concatenate([xs, ys])
    s = _cosine_matrix(targets, as_).mean(1) - _cosine_matrix(targets, bs).mean(1)
    n = len(xs)
    statistic = s[:n].sum() - s[n:].sum()
    effect = (s[:n].mean() - s[n:].mean()) / s.std(ddof=1)
    rng = np.random.default_rng(seed)
    at_least = 0
    for _ in range(permutations):
        order = rng.permutation(len(s))
        if s[order[:n]].sum() - s[order[n:]].sum() >= statistic - 1e-12:
            at_least += 1
    return Association(float(effect), (at_least + 1) / (permutations + 1), permutations)


# ---------------------------------------------------------------- classifier scores
def label_scores(classify: Callable[..., Any], texts: Sequence[str]) -> list[dict[str, float]]:
    """Each text's score for every label, from a text-classification pipeline."""
    outputs = classify(list(texts), top_k=None)
    return [{item["label"]: float(item["score"]) for item in output} for output in outputs]


def score_gaps(classify: Callable[..., Any], templates: Sequence[str],
               groups: Mapping[str, Sequence[str]], label: str) -> list[dict[str, Any]]:
    """Mean score for `label` of each identity term across the templates, and its gap to the
    mean of all terms: rows of group, term, score, gap, sorted by group then gap."""
    rows: list[dict[str, Any]] = []
    for group, terms in groups.items():
        for term in terms:
            scores = label_scores(classify, fill(templates, [term]))
            if label not in scores[0]:
                raise ValueError(f"the classifier has no label {label!r}; its labels are "
                                 f"{sorted(scores[0])}")
            rows.append({"group": group, "term": term,
                         "score": sum(s[label] for s in scores) / len(scores)})
    overall = sum(r["score"] for r in rows) / len(rows)
    for row in rows:
        row["gap"] = row["score"] - overall
    order = list(groups)
    return sorted(rows, key=lambda r: (order.index(r["group"]), -r["gap"]))


@dataclass(frozen=True)
class PairedGap:
    """How differently a classifier scores texts that differ only in the swapped words."""

    mean_gap: float  # mean of (swapped - original) score for the label: the direction
    mean_abs_gap: float  # mean of |swapped - original|: the size, whichever the direction
    flips: int  # pairs whose predicted label differs
    pairs: int


def paired_gap(classify: Callable[..., Any], texts: Sequence[str], label: str,
               pairs: Sequence[tuple[str, str]] = GENDER_PAIRS) -> PairedGap:
    """Score each text and its counterfactual copy; report the gap for `label` and the flips."""
    swapped = [counterfactual(t, pairs) for t in texts]
    same = [t for t, s in zip(texts, swapped) if t == s]
    if same:
        raise ValueError(f"{len(same)} texts have no word to swap, e.g. {same[0]!r}: every text "
                         "needs one of the paired words")
    before, after = label_scores(classify, texts), label_scores(classify, swapped)
    gaps = [b[label] - a[label] for a, b in zip(before, after)]
    flips = sum(max(a, key=a.get) != max(b, key=b.get) for a, b in zip(before, after))
    return PairedGap(sum(gaps) / len(gaps), sum(abs(g) for g in gaps) / len(gaps), flips,
                     len(texts))


# ---------------------------------------------------------------- brittleness
def add_typos(text: str, rate: float = 0.1, seed: int = 0) -> str:
    """`text` with about `rate` of its words (of four letters or more) given one typo: two
    neighbouring letters swapped inside the word. Deterministic for a seed."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate is a share of words between 0 and 1, got {rate}")
    rng = random.Random(f"{seed}:{text}")
    words = text.split(" ")
    for i, word in enumerate(words):
        letters = [j for j, c in enumerate(word) if c.isalpha()]
        if len(letters) >= 4 and rng.random() < rate:
            j = rng.choice(letters[1:-2])
            chars = list(word)
            chars[j], chars[j + 1] = chars[j + 1], chars[j]
            words[i] = "".join(chars)
    return " ".join(words)


def flips(classify: Callable[..., Any], texts: Sequence[str], changed: Sequence[str]
          ) -> list[int]:
    """Indices of the texts whose predicted label changes when the text is changed."""
    if len(texts) != len(changed):
        raise ValueError(f"{len(texts)} texts but {len(changed)} changed texts: pass one each")
    before, after = label_scores(classify, texts), label_scores(classify, changed)
    return [i for i, (a, b) in enumerate(zip(before, after))
            if max(a, key=a.get) != max(b, key=b.get)]

