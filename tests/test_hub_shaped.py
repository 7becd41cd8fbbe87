"""The online path without the Hub: COURSE_HUB_SHAPED=1 gives notebooks each registered data set
cut to the real item's columns and splits, and the notebooks that load one run on that. A
notebook that reads a column only the offline stand-in has (notebook 08 once read `confidence`,
which the Hub's copy lacks) fails here, as it would for every learner who is online."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.offline import hub

ROOT = Path(__file__).resolve().parent.parent
DATASETS = [e for e in hub.REGISTRY.values() if e.kind == "dataset"]


def loads_a_registered_data_set(path: Path) -> bool:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return any(f'resolve("{e.hub_id}")' in code for e in DATASETS)


NOTEBOOKS = [p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             if loads_a_registered_data_set(p)]


def test_every_registered_data_set_records_the_hub_interface():
    assert DATASETS
    for entry in DATASETS:
        assert entry.columns and entry.splits, entry.hub_id


def test_every_registered_model_records_its_hub_architecture():
    from transformers import CONFIG_MAPPING

    for entry in hub.REGISTRY.values():
        if entry.kind == "model":
            assert entry.architecture in CONFIG_MAPPING, entry.hub_id


@pytest.mark.slow
def test_each_classifier_stand_in_has_the_hub_labels_or_says_how_they_differ():
    from transformers import AutoConfig

    from course_utils.offline.kit import ensure_standin

    checked = 0
    for entry in hub.REGISTRY.values():
        if not entry.labels:
            continue
        config = AutoConfig.from_pretrained(str(ensure_standin(entry.standin)))
        ours = tuple(config.id2label[i] for i in range(len(config.id2label)))
        assert ours == entry.labels or "/".join(ours) in entry.differs, entry.hub_id
        checked += 1
    assert checked >= 3


def test_the_notebooks_that_load_one_are_found():
    assert "08_curating_datasets.ipynb" in {p.name for p in NOTEBOOKS}


@pytest.mark.slow
def test_the_shaped_data_set_has_exactly_the_hub_columns_and_splits(monkeypatch):
    from datasets import load_dataset

    from course_utils.offline.kit import ensure_standin

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for entry in DATASETS:
        standin = ensure_standin(entry.standin)
        shaped = load_dataset(str(hub.hub_shaped(entry, standin)))
        assert list(shaped) == list(entry.splits), entry.hub_id
        for split in shaped.values():
            assert split.column_names == list(entry.columns), entry.hub_id
        assert sum(len(s) for s in shaped.values()) == len(
            load_dataset(str(standin), split="train"))  # every row kept, none twice


def test_a_data_set_without_a_recorded_interface_is_refused(tmp_path):
    entry = hub.Entry("someone/unrecorded", "dataset", "text-classification", "tweets", "", "")
    with pytest.raises(ValueError, match="records no columns or splits"):
        hub.hub_shaped(entry, tmp_path)
    three = hub.Entry("someone/three", "dataset", "text-classification", "tweets", "", "",
                      columns=("text",), splits=("train", "validation", "test"))
    with pytest.raises(ValueError, match="3 splits"):
        hub.hub_shaped(three, tmp_path)


# nbclient runs every cell and stops at the first error; nbval's output checks are left out, since
# the counts they compare are the offline data's and change with the data, as they do online
RUN = """import sys
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_the_notebook_runs_on_data_shaped_like_the_hub(notebook, tmp_path):
    pytest.importorskip("nbclient")
    env = {**os.environ, hub.HUB_SHAPED: "1", "HF_HUB_OFFLINE": "1",
           "COURSE_RUNS": str(tmp_path / "runs"), "COURSE_STRICT_CHECKS": "1"}
    done = subprocess.run([sys.executable, "-c", RUN, str(notebook), str(notebook.parent)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-4000:]
