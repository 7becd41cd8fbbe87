"""Shared fixtures: a clean Hub state per test, and no network ever."""

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
