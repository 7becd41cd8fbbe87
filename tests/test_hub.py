import os
import time

import pytest

from course_utils.offline import hub
from course_utils.offline.hub import REGISTRY, OfflineError, is_cached, is_online, resolve
from course_utils.offline.kit import STANDINS, standin_path

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def fake_snapshot(cache, hub_id, files, kind="models"):
    snap = cache / f"{kind}--{hub_id.replace('/', '--')}" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    for name in files:
        (snap / name).write_text("{}")
    return snap


def test_online_returns_the_hub_id(online, empty_hub_cache, capsys):
    assert resolve(MINILM) == MINILM
    assert resolve("someone/not-registered") == "someone/not-registered"
    assert capsys.readouterr().out == ""


def test_offline_returns_the_announced_stand_in(offline, empty_hub_cache, capsys):
    path = resolve(MINILM)
    assert path == str(standin_path("minilm"))
    assert os.path.isfile(os.path.join(path, "config.json"))
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, "the announcement is one line"
    assert MINILM in out and "->" in out and "identical" in out


def test_offline_with_a_cached_snapshot_uses_the_hub_id(offline, empty_hub_cache, capsys):
    fake_snapshot(empty_hub_cache, "google-bert/bert-base-uncased",
                  ["config.json", "model.safetensors"])
    assert resolve("google-bert/bert-base-uncased") == "google-bert/bert-base-uncased"
    assert "local Hub cache" in capsys.readouterr().out
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_unreachable_hub_with_a_cached_snapshot_turns_offline_mode_on(
        monkeypatch, empty_hub_cache):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    fake_snapshot(empty_hub_cache, "org/cached", ["config.json", "model.safetensors"])
    assert resolve("org/cached", announce=False) == "org/cached"
    assert os.environ.get("HF_HUB_OFFLINE") == "1", "loading must not wait for the network"


def test_a_half_cached_model_is_not_cached(empty_hub_cache):
    fake_snapshot(empty_hub_cache, "org/half", ["config.json"])
    assert not is_cached("org/half")
    fake_snapshot(empty_hub_cache, "org/data", ["train.parquet"], kind="datasets")
    assert is_cached("org/data", "dataset")


def test_unregistered_id_offline_says_what_and_how_to_fix(offline, empty_hub_cache):
    started = time.perf_counter()
    with pytest.raises(OfflineError) as error:
        resolve("someone/unknown-model")
    message = str(error.value)
    assert "someone/unknown-model" in message
    assert "offline" in message and "prefetch" in message and "REGISTRY" in message
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("bad", [None, 42, "", "no-slash", "/"])
def test_resolve_rejects_what_is_not_a_hub_id(bad):
    with pytest.raises(ValueError, match="Hub ID"):
        resolve(bad)


def test_offline_flag_skips_the_probe(offline, monkeypatch):
    def boom(*args):
        raise AssertionError("probed although HF_HUB_OFFLINE=1")

    monkeypatch.setattr(hub, "_probe", boom)
    assert is_online() is False


def test_probe_gives_up_quickly(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def hang(*args, **kwargs):
        time.sleep(3)
        raise OSError("timed out")

    monkeypatch.setattr(hub.socket, "create_connection", hang)
    started = time.perf_counter()
    assert is_online(timeout=0.3, refresh=True) is False
    assert time.perf_counter() - started < 1.0


def test_probe_follows_hf_endpoint(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.example:8080")
    seen = []
    monkeypatch.setattr(hub, "_probe", lambda host, port, timeout: seen.append((host, port)))
    is_online(refresh=True)
    assert seen == [("mirror.example", 8080)]


def test_every_entry_names_a_known_stand_in():
    for entry in REGISTRY.values():
        assert entry.standin in STANDINS, entry.hub_id
        assert entry.kind in ("model", "dataset")
        assert entry.why and entry.differs


def test_registry_table_lists_every_id():
    table = hub.registry_table()
    assert all(hub_id in table for hub_id in REGISTRY)
