"""Helpers for the Transformers course notebooks.

Importing this package is cheap and silent: it loads no torch, transformers or matplotlib and
changes no settings. Each function imports what it needs when it is called.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it; loaded on first use (PEP 562)
_EXPORTS = {
    "setup": "runtime",
    "pick_device": "env.device",
    "seed_everything": "env.reproducibility",
    "quiet_logging": "env.reproducibility",
    "resolve": "offline.hub",
    "is_online": "offline.hub",
    "registry_table": "offline.hub",
    "REGISTRY": "offline.hub",
    "check": "exercises.grading",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
