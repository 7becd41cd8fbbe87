"""Installed packages against the course's requirement files. Standard library only.

One place for three questions the doctor, the Colab setup cell, the environment line and the
launcher all ask: which version of a package is installed (`installed_version`), how two
versions compare (`version_tuple`), and what requirements.txt and constraints.txt say
(`requirements`, `read_requirements`, `read_pins`, `pinned`). The launcher imports this module
before any environment exists, so nothing here may import a package outside the standard library.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository root, in a checkout
DISTRIBUTION = "course-utils"
# a name, then optionally a lower bound: "torch>=2.11", "ipywidgets >= 7.7.1 ; python_version..."
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*(?:\[[^\]]*\])?\s*"
                          r"(?:>=\s*([0-9][0-9A-Za-z.]*))?")


def normalize(name: str) -> str:
    """A distribution name as pip compares it (PEP 503): 'Huggingface_Hub' -> 'huggingface-hub'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(package: str) -> str | None:
    """The installed version of the distribution `package` ('2.13.0+cpu'), or None if absent."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def version_tuple(text: str) -> tuple[int, ...]:
    """'2.13.0+cpu' -> (2, 13, 0): the numeric release part of a version, for comparisons."""
    parts = []
    for piece in re.split(r"[.+\-]", text):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def parse_requirement(line: str) -> tuple[str, str | None] | None:
    """(name, lower bound or None) of one requirement line; None for a blank or comment line.

    Comments, environment markers and extras are dropped: 'torch>=2.11  # note' ->
    ('torch', '2.11'); 'nbval' -> ('nbval', None).
    """
    text = line.split("#", 1)[0].split(";", 1)[0].strip()
    if not text or text.startswith("-"):
        return None
    match = _REQUIREMENT.match(text)
    return (match.group(1), match.group(2)) if match else None


def read_requirements(path: str | Path) -> list[tuple[str, str | None]]:
    """(name, lower bound) for each requirement in a requirements file, in file order."""
    found = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parsed = parse_requirement(line)
        if parsed:
            found.append(parsed)
    return found


def read_pins(path: str | Path) -> dict[str, str]:
    """{normalized name: version} for each 'name==version' line of a constraints file."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].split(";", 1)[0].partition("==")
        if sep and name.strip():
            pins[normalize(name.strip())] = version.strip()
    return pins


def pinned(package: str, constraints: str | Path = ROOT / "constraints.txt") -> str | None:
    """The version `constraints` (default: the repository's constraints.txt) pins for
    `package`, or None when it pins none."""
    return read_pins(constraints).get(normalize(package))


def requirements() -> list[tuple[str, str | None]]:
    """(name, lower bound) of each course requirement: from the installed course-utils, or from
    requirements.txt in a checkout where it is not installed. Empty when neither is found."""
    lines: list[str] = []
    try:
        lines = [r for r in metadata.requires(DISTRIBUTION) or [] if "extra ==" not in r]
    except metadata.PackageNotFoundError:
        pass
    if lines:
        return [parsed for line in lines if (parsed := parse_requirement(line))]
    file = ROOT / "requirements.txt"
    return read_requirements(file) if file.is_file() else []
