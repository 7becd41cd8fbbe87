"""The device and what it can do: the one place that asks the hardware a question.

- `has_nvidia_gpu()`: is there an NVIDIA GPU, whatever torch can do (nvidia-smi or the driver);
  the launcher asks it before torch is installed, to choose a CPU or a CUDA build.
- `available_devices()`, `pick_device()`: the devices torch can use, best first, and the one
  the notebooks use (`setup()` prints it).
- `gpu()`, `native_bf16()`, `mixed_precision()`, `pin_memory()`, `describe()`: what a CUDA card
  is and what training on it should use, for `training.choose_recipe`, `setup()` and the doctor.

bf16 is decided by compute capability, never by `torch.cuda.is_bf16_supported()`: that call
counts emulated bf16 (`including_emulation=True` by default) and says True on a T4 (compute
capability 7.5, Colab's free GPU), where bf16 runs without tensor cores, several times slower
than fp16; transformers' `is_torch_bf16_gpu_available()` makes the same call. Native bf16
starts with Ampere, compute capability 8.0 (A100, RTX 30xx, L4, H100).

Standard library only at import time (the launcher imports this module with any Python);
torch is imported inside the functions that need it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

DEVICES = ("cuda", "mps", "cpu")
ENV = "COURSE_DEVICE"
BF16_CAPABILITY = (8, 0)  # Ampere: the first NVIDIA GPUs with bf16 tensor cores


def has_nvidia_gpu() -> bool:
    """Whether this machine has an NVIDIA GPU and driver (nvidia-smi on the PATH, or the Linux
    driver's /proc entry), whether or not the installed torch can use it. No torch needed."""
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia").exists()


def available_devices() -> list[str]:
    """Devices torch can use here, best first: 'cuda', then 'mps', then always 'cpu'."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def pick_device(prefer: str | None = None) -> str:
    """cuda, then mps, then cpu; `prefer` (or $COURSE_DEVICE) overrides when that device exists.

    'auto' (or nothing) takes the best available; 'cuda:1' names one GPU of several.
    """
    wanted = prefer if prefer is not None else os.environ.get(ENV) or None
    if wanted is None or wanted == "auto":
        return available_devices()[0]
    if not isinstance(wanted, str) or kind(wanted) not in DEVICES:
        raise ValueError(
            f"unknown device {wanted!r}: use one of {', '.join(DEVICES)} or 'auto' "
            f"(as an argument or in the {ENV} environment variable)")
    index = _index(wanted)
    available = available_devices()
    if kind(wanted) not in available:
        raise RuntimeError(
            f"device {wanted!r} was asked for but torch cannot use it here "
            f"(available: {', '.join(available)}). Pick one of those, or unset {ENV}; "
            "`python -m course_utils doctor` tells what is missing.")
    if kind(wanted) == "cuda" and index >= (count := _cuda_count()):
        raise RuntimeError(f"device {wanted!r} was asked for but this machine has {count} CUDA "
                           f"GPU(s), cuda:0 to cuda:{count - 1}; pick one of those or 'cuda'")
    return wanted


def _cuda_count() -> int:
    import torch

    return int(torch.cuda.device_count())


def kind(device: str) -> str:
    """'cuda:1' -> 'cuda'; 'mps' -> 'mps'."""
    return device.split(":", 1)[0]


def _index(device: str) -> int:
    """The device number in 'cuda:N' (0 for plain 'cuda', 'mps' or 'cpu')."""
    _, sep, number = device.partition(":")
    if sep and not number.isdigit():
        raise ValueError(f"device {device!r}: write a device as 'cuda' or 'cuda:N' (N a GPU "
                         "number from 0), 'mps' or 'cpu'")
    return int(number or 0)


@dataclass(frozen=True)
class Gpu:
    """What torch reports about one CUDA device."""

    name: str
    capability: tuple[int, int]
    memory_bytes: int
    count: int = 1  # CUDA devices torch sees on this machine

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / 2**30

    @property
    def native_bf16(self) -> bool:
        """bf16 in hardware (tensor cores): compute capability 8.0 or higher."""
        return self.capability >= BF16_CAPABILITY

    @property
    def precision(self) -> str:
        """The mixed precision to train in: 'bf16' with native bf16, else 'fp16'."""
        return "bf16" if self.native_bf16 else "fp16"

    def __str__(self) -> str:
        major, minor = self.capability
        many = f"{self.count} GPUs, the first " if self.count > 1 else ""
        return (f"{many}{self.name}, {self.memory_gib:.1f} GiB, "
                f"compute capability {major}.{minor}")


def gpu(device: str = "cuda") -> Gpu:
    """The CUDA card `device` ('cuda' or 'cuda:N') names, as torch reports it."""
    import torch

    if kind(device) != "cuda" or not torch.cuda.is_available():
        raise RuntimeError(f"{device!r} is not a CUDA device torch can use here "
                           f"(available: {', '.join(available_devices())})")
    index = _index(device)
    try:
        properties = torch.cuda.get_device_properties(index)
        major, minor = torch.cuda.get_device_capability(index)
        name = torch.cuda.get_device_name(index)
    except (RuntimeError, AssertionError) as error:  # a broken driver, a wrong GPU number
        raise RuntimeError(
            f"torch lists {device!r} but cannot query it ({error}): check the GPU and its driver "
            "with nvidia-smi, or use the CPU (setup(device='cpu') or COURSE_DEVICE=cpu)"
        ) from error
    return Gpu(name, (int(major), int(minor)), int(properties.total_memory),
               int(torch.cuda.device_count()))


def native_bf16(device: str = "cuda") -> bool:
    """Whether `device` computes in bf16 in hardware: a CUDA GPU of compute capability 8.0 or
    more. False on a T4 (7.5), although `torch.cuda.is_bf16_supported()` says True there
    (emulation); False on CPU and MPS, where the course trains in fp32."""
    return kind(device) == "cuda" and gpu(device).native_bf16


def mixed_precision(device: str) -> str:
    """The precision to train in on `device`: 'bf16' on CUDA with native bf16, 'fp16' on other
    CUDA GPUs (a T4, a V100), 'fp32' on CPU and MPS (little to gain there)."""
    return gpu(device).precision if kind(device) == "cuda" else "fp32"


def pin_memory(device: str) -> bool:
    """Whether data loaders should pin host memory: only for copies to a CUDA GPU (on CPU it
    does nothing, on MPS torch warns that it is unsupported)."""
    return kind(device) == "cuda"


def describe(device: str) -> str:
    """One phrase for `device`, printed by setup() and the doctor: 'cpu', 'mps (Apple silicon
    GPU)', 'cuda (Tesla T4, 14.7 GiB, compute capability 7.5; fp16 mixed precision, no native
    bf16)'."""
    if kind(device) == "cuda":
        card = gpu(device)
        why = "" if card.native_bf16 else ", no native bf16"
        return f"{device} ({card}; {card.precision} mixed precision{why})"
    if kind(device) == "mps":
        return f"{device} (Apple silicon GPU)"
    return device
