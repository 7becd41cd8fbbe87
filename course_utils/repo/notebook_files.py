"""Notebook hygiene: outputs are committed only on the cells nbval checks.

A cell is checked when it is tagged `nbval-check-output` or has a `# NBVAL_CHECK_OUTPUT` line
(nbval reads the marker only as a comment line of its own).
`python -m course_utils strip-notebooks` (also a pre-commit hook) removes every other output,
the other cells' execution counts, and per-run metadata. To refresh the checked outputs,
execute the notebook offline first:
`HF_HUB_OFFLINE=1 jupyter nbconvert --to notebook --execute --inplace notebooks/NN_*.ipynb`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHECK_TAG = "nbval-check-output"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def source_of(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def is_checked(cell: dict[str, Any]) -> bool:
    """Whether nbval --nbval-lax compares this cell's output."""
    tags = cell.get("metadata", {}).get("tags", [])
    marked = any(line.strip().lstrip("#").strip() == CHECK_MARK.lstrip("# ")
                 for line in source_of(cell).splitlines() if line.strip().startswith("#"))
    return CHECK_TAG in tags or marked


def strip_notebook(nb: dict[str, Any]) -> dict[str, Any]:
    """Return nb with unchecked outputs, execution counts and run metadata removed.

    A checked cell keeps its outputs and gets its position among code cells as execution
    count (nbval skips a cell whose count is empty); the numbering is stable across runs.
    """
    position = 0
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            meta.pop(key, None)
        if cell.get("cell_type") != "code":
            continue
        position += 1
        checked = is_checked(cell) and bool(cell.get("outputs"))
        cell["execution_count"] = position if checked else None
        if not checked:
            cell["outputs"] = []
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = position
            if "metadata" in output:
                output["metadata"] = {}
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def notebook_paths(paths: list[str] | None = None) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def notebook_text(nb: dict[str, Any]) -> str:
    """A notebook as this repository stores it (Jupyter's own layout: indent 1, UTF-8)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def strip_notebooks(paths: list[str] | None = None) -> int:
    """Strip notebooks in place; exit status 1 when any file changed (as pre-commit expects)."""
    changed = 0
    for path in notebook_paths(paths):
        before = path.read_text(encoding="utf-8")
        nb = strip_notebook(json.loads(before))
        after = notebook_text(nb)
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"stripped {path}")
            changed += 1
    return 1 if changed else 0
