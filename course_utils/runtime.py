"""What every notebook's first cell does: pick a device, seed, quiet the logs, say where we are."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib import metadata

from course_utils.env.reproducibility import quiet_logging, seed_everything

DEVICES = ("cuda", "mps", "cpu")
KEY_PACKAGES = ("torch", "transformers", "datasets")


def available_devices() -> list[str]:
    """Devices torch can use here, best first."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def pick_device(prefer: str | None = None) -> str:
    """cuda, then mps, then cpu; `prefer` (or $COURSE_DEVICE) overrides when that device exists."""
    wanted = prefer if prefer is not None else os.environ.get("COURSE_DEVICE") or None
    available = available_devices()
    if wanted is None or wanted == "auto":
        return available[0]
    if not isinstance(wanted, str) or wanted.split(":")[0] not in DEVICES:
        raise ValueError(
            f"unknown device {wanted!r}: use one of {', '.join(DEVICES)} or 'auto' "
            "(as an argument or in the COURSE_DEVICE environment variable)"
        )
    if wanted.split(":")[0] not in available:
        raise RuntimeError(
            f"device {wanted!r} was asked for but torch cannot use it here "
            f"(available: {', '.join(available)}). Pick one of those, or unset COURSE_DEVICE; "
            "`python -m course_utils doctor` tells what is missing."
        )
    return wanted


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


@dataclass(frozen=True)
class Environment:
    """What setup() found: the device to use and whether the Hub is reachable."""

    device: str
    online: bool
    seed: int

    def __str__(self) -> str:
        mode = "online (Hub IDs load from the Hub)" if self.online else (
            "offline (stand-ins replace Hub models, each announced)")
        versions = " ".join(f"{p} {version_of(p)}" for p in KEY_PACKAGES)
        return (f"device {self.device} | {mode} | python {platform.python_version()} "
                f"{versions} | seed {self.seed}")


def setup(seed: int = 0, device: str | None = None, quiet: bool = True) -> Environment:
    """First cell of every notebook: print one environment line and return it."""
    from course_utils.offline.hub import enter_offline_mode, is_online

    online = is_online()
    if not online:
        enter_offline_mode()  # loading then never waits for the network
    quiet_logging(quiet)
    seed_everything(seed)
    env = Environment(device=pick_device(device), online=online, seed=seed)
    print(env)
    return env
