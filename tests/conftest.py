"""Shared fixtures: a clean Hub state per test, no network ever, and a tiny random Llama."""

from __future__ import annotations

import socket

import pytest

from course_utils.offline import hub


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never touch the network: a connection attempt fails at once."""

    def refuse(*args: object, **kwargs: object) -> socket.socket:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(hub, "_online_cache", None)


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the Hub answers (the probe is faked, nothing is sent)."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_probe", lambda host, port, timeout: True)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "hub"
    folder.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_llama():
    """A 2-layer random Llama (vocabulary 97) with sharpened output weights, so that greedy
    choices, beams and label scores are clear-cut: decoding and evaluation test against it."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, bos_token_id=None, eos_token_id=None,
                         pad_token_id=None)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(40)
    model.generation_config = GenerationConfig(pad_token_id=0)
    return model
