"""Looking at tokenizers: tokens per word, decode round trips, token spans drawn over the text;
and the course's one check of text input (`validate_text`, `validate_texts`), used by every helper
that takes text."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

PALETTE = ["#fde2e4", "#e2ece9", "#dfe7fd", "#fff1c1", "#e8dff5", "#d7f9f1"]


def validate_text(text: Any, what: str = "text") -> str:
    """`text` itself if it is a string with a word in it; otherwise a ValueError, naming the
    argument `what`, that says what was wrong and what to give instead."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a string, got {type(text).__name__} {text!r:.40}; "
                         'pass the text itself, e.g. "The cat sat on the mat."')
    if not text.strip():
        raise ValueError(f"{what} is empty: give it at least one word, e.g. "
                         '"The cat sat on the mat."')
    return text


def validate_texts(texts: Any, what: str = "texts") -> list[str]:
    """`texts` as a list when it is a non-empty list of texts that `validate_text` accepts; otherwise
    a ValueError that says which item is wrong."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ValueError(f"{what} must be a list of strings, got {type(texts).__name__}; "
                         "wrap a single text in a list: [text]")
    if not texts:
        raise ValueError(f"{what} is empty: give at least one string")
    return [validate_text(text, f"{what}[{i}]") for i, text in enumerate(texts)]


def fertility(tokenizer: Any, text: str) -> float:
    """Tokens per whitespace-separated word, special tokens left out (1.0 = a token a word)."""
    words = validate_text(text).split()
    tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
    return len(tokens) / len(words)


def round_trip(tokenizer: Any, text: str) -> tuple[str, bool]:
    """Encode then decode without special tokens; True when the text comes back unchanged."""
    ids = tokenizer(validate_text(text), add_special_tokens=False)["input_ids"]
    decoded = tokenizer.decode(ids, clean_up_tokenization_spaces=False)
    return decoded, decoded == text


def highlight_tokens(text: str, offsets: Sequence[Sequence[int]]) -> str:
    """HTML of `text` with each token's character span on its own background colour.

    `offsets` is what a fast tokenizer returns with return_offsets_mapping=True; (0, 0) spans
    (special tokens) are skipped; whitespace no token covers is shown plain, and any other
    character no token covers is struck through in red (the tokenizer dropped it).
    """
    validate_text(text)
    spans = [(int(s), int(e)) for s, e in offsets if e > s]
    if any(s < 0 or e > len(text) for s, e in spans):
        raise ValueError(f"an offset lies outside the text (length {len(text)}): "
                         "were these offsets made from another text?")
    parts, position = [], 0
    for i, (start, end) in enumerate(spans):
        start = max(start, position)  # byte-level tokens of one character can overlap
        if start > position:
            parts.append(_uncovered(text[position:start]))
        if end > start:
            colour = PALETTE[i % len(PALETTE)]
            parts.append(f'<span style="background:{colour};padding:1px 0;'
                         f'border-right:1px solid #999">{html.escape(text[start:end])}</span>')
        position = max(position, end)
    if position < len(text):
        parts.append(_uncovered(text[position:]))
    return '<div style="font-family:monospace;line-height:1.8">' + "".join(parts) + "</div>"


def _uncovered(piece: str) -> str:
    if piece.isspace():
        return html.escape(piece)
    return f'<s style="color:#c00">{html.escape(piece)}</s>'
