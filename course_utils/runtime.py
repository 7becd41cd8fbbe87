"""What every notebook's first cell does: pick a device, seed, quiet the logs, say where we are."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from course_utils.env.device import describe, pick_device
from course_utils.env.packages import installed_version
from course_utils.env.reproducibility import quiet_logging, seed_everything

KEY_PACKAGES = ("torch", "transformers", "datasets")


@dataclass(frozen=True)
class Environment:
    """What setup() found: the device to use, whether the Hub is reachable, the seed."""

    device: str
    online: bool
    seed: int
    hardware: str = ""  # the device in a phrase (env.device.describe); the device name if empty

    def __str__(self) -> str:
        mode = "online (Hub IDs load from the Hub)" if self.online else (
            "offline (stand-ins replace Hub models, each announced)")
        versions = " ".join(f"{p} {installed_version(p) or 'missing'}" for p in KEY_PACKAGES)
        return (f"device {self.hardware or self.device} | {mode} | python "
                f"{platform.python_version()} {versions} | seed {self.seed}")


def setup(seed: int = 0, device: str | None = None, quiet: bool = True) -> Environment:
    """First cell of every notebook: print one environment line and return it.

    `device` (or $COURSE_DEVICE) overrides the best device (cuda, then mps, then cpu).
    """
    from course_utils.offline.hub import enter_offline_mode, is_online

    # pyarrow (under `datasets`) otherwise allocates through mimalloc, which reserves about 1 GiB
    # of address space at its first allocation: nothing a learner's RAM pays for, but half of
    # the 2 GiB data limit (RLIMIT_DATA) the course's tests hold each kernel to. Read once, when
    # pyarrow first allocates; the first cell comes before that.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    online = is_online()
    if not online:
        enter_offline_mode()  # loading then never waits for the network
    quiet_logging(quiet)
    seed_everything(seed)
    chosen = pick_device(device)
    env = Environment(device=chosen, online=online, seed=seed, hardware=describe(chosen))
    print(env)
    return env
