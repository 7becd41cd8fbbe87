"""Notebook hygiene: outputs are committed only on the cells nbval checks.

A cell is checked when it is tagged `nbval-check-output` or contains `# NBVAL_CHECK_OUTPUT`.
`python -m course_utils strip-notebooks` (also a pre-commit hook) removes every other output,
all execution counts, and per-run metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECK_TAG = "nbval-check-output"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def source_of(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def is_checked(cell: dict[str, Any]) -> bool:
    """Whether nbval --nbval-lax compares this cell's output."""
    tags = cell.get("metadata", {}).get("tags", [])
    return CHECK_TAG in tags or CHECK_MARK in source_of(cell)


def strip_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """Return nb with unchecked outputs, execution counts and run metadata removed."""
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            meta.pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        cell["execution_count"] = None
        if not is_checked(cell):
            cell["outputs"] = []
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = None
            if "metadata" in output:
                output["metadata"] = {}
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def notebook_paths(paths: list[str] | None = None) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def strip_notebooks(paths: list[str] | None = None) -> int:
    """Strip notebooks in place; exit status 1 when any file changed (as pre-commit expects)."""
    changed = 0
    for path in notebook_paths(paths):
        before = path.read_text(encoding="utf-8")
        nb = strip_notebook(json.loads(before))
        after = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"stripped {path}")
            changed += 1
    return 1 if changed else 0
