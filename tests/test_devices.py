"""Every device-dependent decision on a simulated device matrix, without a GPU.

torch is made to report a T4, an L4, an A100 (40 and 80 GB), an H100, Apple's MPS or a plain
CPU: is_available, device_count, get_device_capability, get_device_properties, get_device_name,
is_bf16_supported (True on the T4 too, by emulation, as the real call answers there) and
torch.backends.mps.is_available. On each, the training recipe, setup()'s environment line and
the doctor's device line must be what that machine should get. The T4 is the case that matters:
Colab's free GPU has no native bf16 and must train in fp16.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from course_utils import runtime, training
from course_utils.env import device, doctor

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Machine:
    """What torch reports on one machine (memory as torch's total_memory, in bytes)."""

    gpu: str | None = None  # torch.cuda.get_device_name(); None: no CUDA
    capability: tuple[int, int] = (0, 0)
    memory: int = 0
    mps: bool = False
    gpus: int = 1


MACHINES = {
    "T4": Machine("Tesla T4", (7, 5), 15_828_320_256),  # Colab's free GPU: "15 GB"
    "L4": Machine("NVIDIA L4", (8, 9), 23_580_639_232),
    "A100-40GB": Machine("NVIDIA A100-SXM4-40GB", (8, 0), 42_505_273_344),
    "A100-80GB": Machine("NVIDIA A100-SXM4-80GB", (8, 0), 85_097_971_712),
    "H100": Machine("NVIDIA H100 80GB HBM3", (9, 0), 85_045_231_616),
    "MPS": Machine(mps=True),
    "CPU": Machine(),
}

FUSED = "adamw_torch_fused"
# machine: device, precision, batch size, optimizer, max steps, loader workers, pinned memory
RECIPES = {
    "T4": ("cuda", "fp16", 128, FUSED, 600, 0, True),
    "L4": ("cuda", "bf16", 128, FUSED, 600, 0, True),
    "A100-40GB": ("cuda", "bf16", 256, FUSED, 600, 0, True),
    "A100-80GB": ("cuda", "bf16", 256, FUSED, 600, 0, True),
    "H100": ("cuda", "bf16", 256, FUSED, 600, 0, True),
    "MPS": ("mps", "fp32", 16, "adamw_torch", 100, 0, False),
    "CPU": ("cpu", "fp32", 16, "adamw_torch", 100, 0, False),
}

# what setup() prints after "device " and the doctor after "device: "
PHRASES = {
    "T4": "cuda (Tesla T4, 14.7 GiB, compute capability 7.5; fp16 mixed precision, "
          "no native bf16)",
    "L4": "cuda (NVIDIA L4, 22.0 GiB, compute capability 8.9; bf16 mixed precision)",
    "A100-40GB": "cuda (NVIDIA A100-SXM4-40GB, 39.6 GiB, compute capability 8.0; "
                 "bf16 mixed precision)",
    "A100-80GB": "cuda (NVIDIA A100-SXM4-80GB, 79.3 GiB, compute capability 8.0; "
                 "bf16 mixed precision)",
    "H100": "cuda (NVIDIA H100 80GB HBM3, 79.2 GiB, compute capability 9.0; "
            "bf16 mixed precision)",
    "MPS": "mps (Apple silicon GPU)",
    "CPU": "cpu",
}


def simulate(monkeypatch: pytest.MonkeyPatch, machine: Machine) -> None:
    """Make torch report `machine` (and forget COURSE_DEVICE)."""
    monkeypatch.delenv(device.ENV, raising=False)
    cuda = machine.gpu is not None

    def index(which: object = None) -> int:
        number = 0 if which is None else which if isinstance(which, int) else \
            torch.device(which).index or 0
        if not cuda or number >= machine.gpus:
            raise AssertionError(f"Invalid device id {number}")  # what torch raises
        return number

    def properties(which: object = None) -> SimpleNamespace:
        index(which)
        major, minor = machine.capability
        return SimpleNamespace(name=machine.gpu, major=major, minor=minor,
                               total_memory=machine.memory)

    def bf16_supported(including_emulation: bool = True) -> bool:
        # torch's answer: native from 8.0, and emulated (True) below it by default
        return cuda and (machine.capability >= (8, 0) or including_emulation)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: machine.gpus if cuda else 0)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: index())
    monkeypatch.setattr(torch.cuda, "get_device_capability",
                        lambda which=None: (properties(which).major, properties(which).minor))
    monkeypatch.setattr(torch.cuda, "get_device_properties", properties)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda which=None: properties(which).name)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", bf16_supported)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: machine.mps)


@pytest.fixture(params=list(MACHINES))
def machine(request, monkeypatch) -> str:
    simulate(monkeypatch, MACHINES[request.param])
    return request.param


def test_the_simulation_reproduces_the_trap(monkeypatch):
    """On a T4, torch says bf16 is supported (emulated); only the capability tells."""
    simulate(monkeypatch, MACHINES["T4"])
    assert torch.cuda.is_bf16_supported() is True
    assert torch.cuda.is_bf16_supported(including_emulation=False) is False
    assert torch.cuda.get_device_capability() == (7, 5)
    assert device.native_bf16("cuda") is False and device.mixed_precision("cuda") == "fp16"


def test_the_recipe_fits_the_machine(machine):
    recipe = training.choose_recipe()
    place, precision, batch, optim, steps, workers, pinned = RECIPES[machine]
    got = (recipe.device, recipe.precision, recipe.batch_size, recipe.optim, recipe.max_steps,
           recipe.workers, recipe.pin_memory)
    assert got == (place, precision, batch, optim, steps, workers, pinned), machine
    assert recipe.why[0].startswith(f"{precision}:" if precision == "fp32" else
                                    f"{precision} mixed precision")


def test_the_trainer_gets_the_recipe(machine, monkeypatch, tmp_path):
    """What reaches TrainingArguments (its checks, which set up the device, are skipped)."""
    from transformers import TrainingArguments

    monkeypatch.setattr(TrainingArguments, "__post_init__", lambda self: None)
    recipe = training.choose_recipe()
    args = training.training_arguments(recipe, tmp_path)
    _, precision, batch, optim, steps, workers, pinned = RECIPES[machine]
    assert (args.bf16, args.fp16) == (precision == "bf16", precision == "fp16")
    assert (args.per_device_train_batch_size, args.optim, args.max_steps) == (batch, optim, steps)
    assert (args.dataloader_num_workers, args.dataloader_pin_memory) == (workers, pinned)
    assert args.use_cpu == (machine == "CPU")


def test_the_environment_line_names_the_device_and_its_precision(machine, offline, capsys):
    env = runtime.setup()
    line = capsys.readouterr().out
    assert line.startswith(f"device {PHRASES[machine]} | offline"), line
    assert env.device == RECIPES[machine][0]


def test_the_doctor_names_the_device_and_its_precision(machine, monkeypatch):
    monkeypatch.setattr(device, "has_nvidia_gpu", lambda: False)
    finding = doctor.examine_device()
    if machine == "CPU":
        assert finding.status == "WARN" and finding.detail.startswith("cpu only: ")
    else:
        assert (finding.status, finding.detail) == ("OK", PHRASES[machine])


@pytest.mark.parametrize("cuda_build", [None, "12.6"])
def test_the_doctor_tells_when_torch_cannot_reach_an_nvidia_gpu(monkeypatch, cuda_build):
    simulate(monkeypatch, MACHINES["CPU"])
    monkeypatch.setattr(device, "has_nvidia_gpu", lambda: True)
    monkeypatch.setattr(torch.version, "cuda", cuda_build)
    finding = doctor.examine_device()
    assert finding.status == "WARN" and "has an NVIDIA GPU" in finding.detail
    assert ("CPU-only build" in finding.detail) == (cuda_build is None)
    assert ("nvidia-smi" in finding.detail) == (cuda_build is not None)


def test_the_doctor_fails_a_gpu_torch_cannot_query(monkeypatch):
    simulate(monkeypatch, MACHINES["T4"])

    def broken(which=None):
        raise RuntimeError("CUDA error: no CUDA-capable device is detected")

    monkeypatch.setattr(torch.cuda, "get_device_properties", broken)
    finding = doctor.examine_device()
    assert finding.status == "FAIL" and "no CUDA-capable device" in finding.detail
    assert "nvidia-smi" in finding.detail


def test_a_gpu_of_several_is_named_by_number(monkeypatch):
    simulate(monkeypatch, Machine("NVIDIA A100-SXM4-80GB", (8, 0), 85_097_971_712, gpus=2))
    assert device.pick_device("cuda:1") == "cuda:1"
    assert training.choose_recipe("cuda:1").precision == "bf16"
    assert device.describe("cuda:1").startswith("cuda:1 (2 GPUs, the first NVIDIA A100")
    with pytest.raises(RuntimeError, match="2 CUDA GPU.*cuda:0 to cuda:1"):
        device.pick_device("cuda:2")
    with pytest.raises(ValueError, match="'cuda:N'"):
        device.pick_device("cuda:first")


def test_course_device_cannot_ask_for_a_missing_gpu(monkeypatch):
    simulate(monkeypatch, MACHINES["MPS"])
    monkeypatch.setenv(device.ENV, "cuda")
    with pytest.raises(RuntimeError, match="available: mps, cpu"):
        training.choose_recipe()


def test_the_nvidia_probe_needs_no_torch(monkeypatch):
    """nvidia-smi on the PATH or the driver's /proc entry; the launcher and the kernel limit
    ask the same function."""
    from course_utils.repo import kernel_limits, launcher

    assert launcher.has_nvidia_gpu is kernel_limits.has_nvidia_gpu is device.has_nvidia_gpu
    for smi, proc, expected in [("/usr/bin/nvidia-smi", False, True), (None, True, True),
                                (None, False, False)]:
        monkeypatch.setattr(device.shutil, "which", lambda name, smi=smi: smi)
        monkeypatch.setattr(device, "Path", lambda path, proc=proc: SimpleNamespace(
            exists=lambda: proc))
        assert device.has_nvidia_gpu() is expected


def test_one_pick_device_everywhere():
    import course_utils

    assert course_utils.pick_device is runtime.pick_device is device.pick_device


def test_no_code_asks_torch_whether_bf16_is_supported():
    """is_bf16_supported() and is_torch_bf16_gpu_available() say True on a T4 (emulation):
    the course decides by compute capability (course_utils.env.device) instead."""
    trap = {"is_bf16_supported", "is_torch_bf16_gpu_available"}
    found = []
    for path in [*(ROOT / "course_utils").rglob("*.py"), *(ROOT / "tools").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in trap:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
    assert found == [], "ask course_utils.env.device.native_bf16() instead: " + ", ".join(found)
