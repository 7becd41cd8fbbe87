"""The package's layout holds: lessons on top, machinery below, no circles, every environment
variable documented, tests/ holding tests, and the README's tree naming every module."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
MACHINERY = ("offline", "env", "repo")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, top_level_only: bool) -> set[str]:
    """course_utils modules that `path` imports (with top_level_only, only at import time:
    module level, outside functions and TYPE_CHECKING blocks)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known = modules()
    found: set[str] = set()

    def visit(node: ast.AST, at_top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = at_top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.Lambda))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module and (inside or
                                                                       not top_level_only):
                base = child.module
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    found.add(candidate if candidate in known else base)
            elif isinstance(child, ast.Import) and (inside or not top_level_only):
                found.update(a.name for a in child.names)
            visit(child, inside)

    visit(tree, True)
    return {m for m in found if m.startswith("course_utils")}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in MACHINERY:
        return parts[1]
    if len(parts) > 1 and parts[1] in MACHINERY:
        return parts[1]
    return "lesson"


def test_machinery_never_imports_a_lesson_module():
    lessons = {m for m in modules() if layer(m) == "lesson" and m.count(".") == 1
               and not m.startswith(("course_utils.attention", "course_utils.exercises"))}
    wrong = []
    for name, path in modules().items():
        if layer(name) in MACHINERY:
            wrong += [f"{name} imports {m}" for m in imports_of(path, top_level_only=False)
                      if m in lessons]
    assert not wrong, "machinery reaching up into lessons:\n" + "\n".join(wrong)


def test_no_import_circle():
    """Not at import time, and not through imports inside functions either (a lazy import that
    closes a circle is still two modules that need each other)."""
    graph = {name: imports_of(path, top_level_only=False) & set(modules())
             for name, path in modules().items()}
    # a package's __init__ importing its own submodules is how re-exports work, not a circle
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".") or m == name}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = walk(node)
            assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_circle_detector_finds_a_circle(tmp_path, monkeypatch):
    """The check above can fail: two modules importing each other at import time are found."""
    package = tmp_path / "course_utils"
    (package / "offline").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "offline" / "__init__.py").write_text("")
    (package / "offline" / "kit.py").write_text(
        "def build():\n    from course_utils.offline import recipes\n")
    (package / "offline" / "recipes.py").write_text("from course_utils.offline.kit import x\n")
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "ROOT", tmp_path)
    monkeypatch.setattr(this, "PACKAGE", package)
    try:
        test_no_import_circle()
    except AssertionError as error:
        assert "course_utils.offline.kit" in str(error)
    else:
        raise AssertionError("the circle kit <-> recipes was not found")


def test_the_launcher_needs_only_the_standard_library():
    """`python -m course_utils lab/test` run before the environment exists."""
    allowed = set(sys.stdlib_module_names) | {"course_utils"}
    todo = ["course_utils.__main__", "course_utils.repo.launcher"]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules():
            continue
        seen.add(name)
        tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
        for node in tree.body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for imported in names:
                assert imported.split(".")[0] in allowed, f"{name} imports {imported}"
                if imported.startswith("course_utils"):
                    todo.append(imported)


def environment_variables() -> set[str]:
    found: set[str] = set()
    places = [*PACKAGE.rglob("*.py"), *(ROOT / "tools").glob("*.py"), ROOT / "conftest.py",
              *(ROOT / "tests").glob("*.py"),
              ROOT / ".ci" / "run", *(ROOT / "binder").iterdir()]
    for path in places:
        found |= set(re.findall(r"COURSE_[A-Z][A-Z_]*[A-Z]", path.read_text(encoding="utf-8")))
    return found


def documented_variables() -> set[str]:
    section = README.split("### Environment variables", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(COURSE_[A-Z_]+)`", section, flags=re.M))


def test_every_environment_variable_is_in_the_readme_table():
    used, documented = environment_variables(), documented_variables()
    assert used - documented == set(), f"undocumented: {sorted(used - documented)}"
    assert documented - used == set(), f"documented but unused: {sorted(documented - used)}"


def test_tests_folder_holds_only_tests():
    allowed = {"conftest.py", "attention_fixtures.py", "requirements.txt", "sanitize.cfg"}
    others = [p.name for p in (ROOT / "tests").iterdir()
              if p.is_file() and not p.name.startswith("test_") and p.name not in allowed]
    assert others == [], f"not tests, belong in tools/ or course_utils/repo/: {others}"


def test_the_readme_tree_names_every_module_and_folder():
    tree = README.split("## For contributors", 1)[1].split("```", 2)[1]
    missing = []
    for name, path in modules().items():
        parts = name.split(".")
        if path.name == "__init__.py" or parts[-1] == "__main__":
            continue
        if len(parts) == 2:
            if not re.search(rf"^\s+{parts[1]}\.py\s", tree, flags=re.M):
                missing.append(f"{parts[1]}.py")
        elif parts[1] != "exercises" or not parts[2].startswith("nb"):
            if not re.search(rf"^\s+{parts[1]}/", tree, flags=re.M):
                missing.append(f"{parts[1]}/")
            if not re.search(rf"\b{parts[2]}\b", tree):
                missing.append(".".join(parts[1:]))
    assert missing == [], f"README's tree misses: {missing}"
