import os
import random

import pytest

from course_utils.env import device
from course_utils.env.device import pick_device
from course_utils.runtime import seed_everything, setup


@pytest.mark.parametrize("available, expected", [
    (["cuda", "mps", "cpu"], "cuda"), (["mps", "cpu"], "mps"), (["cpu"], "cpu")])
def test_best_device_first(monkeypatch, available, expected):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(device, "available_devices", lambda: available)
    assert pick_device() == expected
    assert pick_device("auto") == expected


def test_override_by_argument_and_environment(monkeypatch):
    monkeypatch.setattr(device, "available_devices", lambda: ["cuda", "cpu"])
    monkeypatch.setattr(device, "_cuda_count", lambda: 1)
    assert pick_device("cpu") == "cpu"
    assert pick_device("cuda:0") == "cuda:0"
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert pick_device() == "cpu"


def test_unavailable_device_says_what_is_available(monkeypatch):
    monkeypatch.setattr(device, "available_devices", lambda: ["cpu"])
    with pytest.raises(RuntimeError, match="available: cpu"):
        pick_device("cuda")


@pytest.mark.parametrize("bad", ["tpu", "gpu", 3])
def test_unknown_device_names_the_choices(bad):
    with pytest.raises(ValueError, match="cuda, mps, cpu"):
        pick_device(bad)


def test_seeding_repeats_numbers():
    import torch

    seed_everything(7)
    first = (random.random(), torch.rand(3))
    seed_everything(7)
    second = (random.random(), torch.rand(3))
    assert first[0] == second[0] and torch.equal(first[1], second[1])


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        seed_everything(bad)


def test_setup_prints_one_environment_line(offline, capsys):
    env = setup(seed=3)
    line = capsys.readouterr().out
    assert line.count("\n") == 1
    assert env.online is False and env.device in line and "offline" in line
    assert "transformers 5." in line and "seed 3" in line


def test_quiet_logging_hides_load_bars(offline, capfd):
    from transformers import AutoModel

    from course_utils.offline.kit import standin_path
    from course_utils.runtime import quiet_logging

    quiet_logging(True)
    AutoModel.from_pretrained(str(standin_path("minilm")))
    assert "Loading weights" not in capfd.readouterr().err
    quiet_logging(False)
    AutoModel.from_pretrained(str(standin_path("minilm")))
    assert "Loading weights" in capfd.readouterr().err
    quiet_logging(True)


def test_setup_makes_pyarrow_allocate_without_reserving_a_gibibyte(tmp_path):
    """In a fresh process: after setup(), pyarrow's pool is the system allocator, and a first
    allocation adds far less than mimalloc's reservation to the data segment (VmData)."""
    import subprocess
    import sys

    script = (
        "import os\n"
        "os.environ.pop('ARROW_DEFAULT_MEMORY_POOL', None)\n"
        "def data():\n"
        "    return int(next(l for l in open('/proc/self/status') if l.startswith('VmData')).split()[1])\n"
        "from course_utils import setup\n"
        "setup()\n"
        "import pyarrow as pa\n"
        "before = data()\n"
        "pa.array(list(range(1000)))\n"
        "print(pa.default_memory_pool().backend_name, (data() - before) // 1024)\n")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env | {"HF_HUB_OFFLINE": "1"}, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    backend, grown_mib = done.stdout.split()[-2:]
    assert backend == "system" and int(grown_mib) < 200
