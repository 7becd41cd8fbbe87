"""Tiny random models with a real tokenizer, for testing attention helpers without the kit."""

from __future__ import annotations

from pathlib import Path

WORDS = ("the animal didn ' t cross street because it was too tired . a cat sat on mat dog ran "
         "and big small red blue house tree bird sang sun rain day night").split()


def tiny_tokenizer(folder: Path | None = None):
    from transformers import BertTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    return BertTokenizer(vocab={word: i for i, word in enumerate(vocab)}, do_lower_case=True)


def tiny_bert(folder: Path, attn: str = "eager", labels: int | None = None):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(folder)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=3,
                        num_attention_heads=4, intermediate_size=64, max_position_embeddings=64,
                        attn_implementation=attn)
    if labels:
        config.num_labels = labels
        model = BertForSequenceClassification(config).eval()
    else:
        model = BertModel(config).eval()
    return model, tokenizer


def tiny_t5(folder: Path):
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(folder)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2,
                      num_heads=4, decoder_start_token_id=0, pad_token_id=0, eos_token_id=3)
    config._attn_implementation = "eager"
    return T5ForConditionalGeneration(config).eval(), tokenizer



# config arguments that make a tiny model of each architecture the course's classifiers have
TINY = {
    "bert": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=66),
    "roberta": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=64, max_position_embeddings=66),
    "distilbert": dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=66),
}


def tiny_classifier(folder: Path | None, architecture: str, labels: int = 3):
    """A random sequence classifier of a real architecture, on the tiny tokenizer. RoBERTa
    numbers positions from the input ids (a [PAD] gets the padding position and shifts nothing
    after it): the trap for attribution baselines made of [PAD]."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(folder)
    config = AutoConfig.for_model(architecture, vocab_size=len(tokenizer), num_labels=labels,
                                  pad_token_id=tokenizer.pad_token_id, initializer_range=0.3,
                                  **TINY[architecture])
    config._attn_implementation = "eager"
    return AutoModelForSequenceClassification.from_config(config).eval(), tokenizer
