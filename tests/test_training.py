"""Fine-tuning helpers on a tiny random BERT: the recipe, resume after an interruption equal to
an uninterrupted run, the guard on output folders, evaluation, and bad data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from attention_fixtures import tiny_tokenizer
from datasets import Dataset, DatasetDict

from course_utils import training

NAMES = ["negative", "neutral", "positive"]
WORDS = {0: "rain night dog", 1: "the a on tree", 2: "sun day bird sang"}


@pytest.fixture
def tiny_model(tmp_path):
    """A 2-layer BERT saved to disk with its tokenizer: loadable by path like a Hub model."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, num_labels=3)
    folder = tmp_path / "tiny-bert"
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def splits(rows_per_label=12):
    def part(seed):
        texts, labels = [], []
        for label, words in WORDS.items():
            pool = words.split()
            for i in range(rows_per_label):
                texts.append(" ".join(pool[(i + seed + k) % len(pool)] for k in range(4)))
                labels.append(label)
        return Dataset.from_dict({"text": texts, "label": labels})

    return DatasetDict({"train": part(0), "validation": part(1), "test": part(2)})


def recipe(steps=6):
    return training.Recipe("cpu", batch_size=4, max_length=16, max_steps=steps,
                           warmup_steps=0, eval_every=3, learning_rate=1e-3)


def test_cpu_recipe_pads_dynamically_and_groups_lengths():
    chosen = training.choose_recipe("cpu")
    assert chosen.precision == "fp32" and chosen.dynamic_padding and chosen.group_by_length
    naive = training.naive_recipe()
    assert naive.max_length == 128 and not naive.dynamic_padding and naive.batch_size == 8
    arguments = training.training_arguments(chosen, "unused")
    assert arguments.use_cpu and arguments.report_to in ([], "none", ["none"])


def test_loader_settings_do_not_make_another_run():
    """Workers and pinned memory change how batches travel, not what is learnt: a run resumes
    whatever they say. Precision and batch size do make another run."""
    import dataclasses

    base = training.run_info("org/name", NAMES, recipe(), "train:x")
    moved = dataclasses.replace(recipe(), workers=2, pin_memory=True, why=["other"])
    assert training.run_info("org/name", NAMES, moved, "train:x") == base
    for change in ({"precision": "bf16"}, {"batch_size": 8}):
        other = dataclasses.replace(recipe(), **change)
        assert training.run_info("org/name", NAMES, other, "train:x") != base


def test_resumed_run_equals_an_uninterrupted_one(tiny_model, tmp_path):
    data = splits()
    whole, _ = training.fine_tune(tiny_model, data, recipe(), tmp_path / "whole", label_names=NAMES,
                                  disable_tqdm=True)
    cut, _ = training.fine_tune(tiny_model, data, recipe(), tmp_path / "cut", label_names=NAMES,
                                callbacks=[training.stop_at(3)], disable_tqdm=True)
    assert cut.state.global_step == 3 and not (tmp_path / "cut" / "final").exists()
    resumed, _ = training.fine_tune(tiny_model, data, recipe(), tmp_path / "cut",
                                    label_names=NAMES, disable_tqdm=True)
    assert resumed.state.global_step == 6 and (tmp_path / "cut" / "final").is_dir()
    for (name, a), (_, b) in zip(whole.model.state_dict().items(),
                                 resumed.model.state_dict().items()):
        assert torch.equal(a, b), name


def test_a_folder_of_another_run_is_refused_and_left_alone(tiny_model, tmp_path):
    data = splits()
    folder = tmp_path / "run"
    training.fine_tune(tiny_model, data, recipe(3), folder, label_names=NAMES, disable_tqdm=True)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(ValueError, match="another run .*model: "):
        training.fine_tune(tiny_model + "-other", data, recipe(3), folder, label_names=NAMES)
    with pytest.raises(ValueError, match="recipe max_steps: 3 there, 4 here"):
        training.fine_tune(tiny_model, data, recipe(4), folder, label_names=NAMES)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert json.loads((folder / training.RUN_FILE).read_text())["model"] == \
        training.model_identity(tiny_model)
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a course run"):
        training.fine_tune(tiny_model, data, recipe(3), stranger, label_names=NAMES)
    assert (stranger / "notes.txt").read_text() == "mine"


def test_a_moved_model_folder_keeps_its_runs_and_other_weights_do_not(tiny_model, tmp_path):
    moved = shutil.copytree(tiny_model, tmp_path / "elsewhere" / "model")
    assert training.model_identity(str(moved)) == training.model_identity(tiny_model)
    weights = next(Path(moved).glob("*.safetensors"))
    changed = bytearray(weights.read_bytes())
    changed[-1] ^= 1
    weights.write_bytes(bytes(changed))
    assert training.model_identity(str(moved)) != training.model_identity(tiny_model)
    assert training.model_identity("org/name") == "org/name"


def test_a_run_recorded_before_the_hash_changed_still_resumes(tiny_model, tmp_path):
    data = splits()
    folder = tmp_path / "run"
    training.fine_tune(tiny_model, data, recipe(3), folder, label_names=NAMES,
                       callbacks=[training.stop_at(2)])
    record = folder / training.RUN_FILE
    earlier = json.loads(record.read_text())
    old = training._identity_before_2026_12_04(tiny_model)
    assert old is not None and old != earlier["model"]
    record.write_text(json.dumps({**earlier, "model": old}))  # as the course wrote it before
    trainer, _ = training.fine_tune(tiny_model, data, recipe(3), folder, label_names=NAMES)
    assert trainer.state.global_step == 3
    assert json.loads(record.read_text())["model"] == training.model_identity(tiny_model)
    # another model's old-style hash is still another run
    record.write_text(json.dumps({**earlier, "model": "local bert 0123456789ab"}))
    with pytest.raises(ValueError, match="another run"):
        training.fine_tune(tiny_model, data, recipe(3), folder, label_names=NAMES)


def test_the_same_model_saved_by_another_release_keeps_its_runs(tiny_model, tmp_path):
    resaved = Path(shutil.copytree(tiny_model, tmp_path / "resaved"))
    config = json.loads((resaved / "config.json").read_text())
    config["transformers_version"] = "5.15.0"  # what the Colab lane's release writes
    (resaved / "config.json").write_text(json.dumps(config, indent=3))
    assert training.model_identity(str(resaved)) == training.model_identity(tiny_model)
    config["num_labels_note"] = "another setting"
    (resaved / "config.json").write_text(json.dumps(config))
    assert training.model_identity(str(resaved)) != training.model_identity(tiny_model)


def test_runs_dir_follows_course_runs(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_RUNS", str(tmp_path))
    assert training.runs_dir() == tmp_path
    monkeypatch.delenv("COURSE_RUNS")
    assert training.runs_dir().name == "runs"


@pytest.mark.parametrize("broken, words", [
    (lambda d: DatasetDict({**d, "train": d["train"].rename_column("text", "sentence")}),
     "no 'text' column"),
    (lambda d: DatasetDict({**d, "train": d["train"].map(lambda r: {"label": 7})}),
     "outside the label set"),
    (lambda d: DatasetDict({**d, "validation": d["validation"].select([])}),
     "'validation' split is empty"),
    (lambda d: DatasetDict({"train": d["train"]}), "no 'validation' split"),
])
def test_bad_data_is_refused_before_training(tiny_model, tmp_path, broken, words):
    with pytest.raises(ValueError, match=words):
        training.fine_tune(tiny_model, broken(splits()), recipe(), tmp_path / "x",
                           label_names=NAMES)
    assert not (tmp_path / "x").exists()


def test_evaluation_reports_baseline_confusion_and_mistakes(tiny_model, tmp_path):
    data = splits()
    trainer, tokenized = training.fine_tune(tiny_model, data, recipe(12), tmp_path / "run",
                                            label_names=NAMES, disable_tqdm=True)
    scores = training.evaluate(trainer, tokenized["test"], list(data["test"]["text"]), NAMES,
                               majority=0, mistakes=3)
    assert scores.baseline_accuracy == pytest.approx(1 / 3)
    assert scores.confusion.sum() == len(data["test"]) and scores.confusion.shape == (3, 3)
    assert "macro avg" in scores.report and len(scores.mistakes) <= 3
    assert all(m["true"] != m["predicted"] for m in scores.mistakes)
    confidences = [m["confidence"] for m in scores.mistakes]
    assert confidences == sorted(confidences, reverse=True)


def test_the_script_trains_resumes_and_reports(tiny_model, tmp_path, capsys):
    from course_utils import train_classifier as script

    data = tmp_path / "data"
    splits().save_to_disk(str(data))
    args = ["--data", str(data), "--model", tiny_model, "--output", str(tmp_path / "out"),
            "--max-steps", "4"]
    assert script.main(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["steps"] == 4 and 0 <= first["macro_f1"] <= 1
    assert script.main(args) == 0  # a rerun finds the finished run and resumes, not restarts
    assert "resuming from checkpoint-4" in capsys.readouterr().out
    assert script.main(args[:-1] + ["5"]) == 2  # another recipe: refused, folder untouched
    assert "another run" in capsys.readouterr().err


@pytest.mark.slow
def test_the_script_runs_under_accelerate_launch_on_two_processes(tiny_model, tmp_path):
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    splits().save_to_disk(str(data))
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes",
               "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "course_utils.train_classifier", "--data", str(data), "--model", tiny_model,
               "--output", str(tmp_path / "ddp"), "--max-steps", "4"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [line for line in result.stdout.splitlines() if line.startswith('{"')]
    assert len(reports) == 1 and json.loads(reports[0])["steps"] == 4  # printed once, by rank 0
    assert (tmp_path / "ddp" / "final").is_dir()


def test_gradient_checkpointing_is_switched_on_and_learns_the_same(tiny_model, tmp_path):
    data = splits()
    plain, _ = training.fine_tune(tiny_model, data, recipe(), tmp_path / "plain",
                                  label_names=NAMES, quiet=True)
    saving, _ = training.fine_tune(tiny_model, data, recipe(), tmp_path / "saving",
                                   label_names=NAMES, quiet=True, gradient_checkpointing=True)
    assert training.is_checkpointing(saving.model) and not training.is_checkpointing(plain.model)
    for (name, a), (_, b) in zip(plain.model.state_dict().items(),
                                 saving.model.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)


def test_notebook_09_classifier_trains_once_and_restarts_an_interrupted_trainer_run(
        tiny_model, tmp_path, monkeypatch):
    """Notebook 09 trains runs/09-curated with Trainer itself (no run record): what it left
    unfinished is started afresh; a finished classifier is reused as it is."""
    import course_utils.curation
    import course_utils.offline.hub

    monkeypatch.setenv("COURSE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(course_utils.offline.hub, "resolve", lambda *a, **k: tiny_model)
    monkeypatch.setattr(course_utils.curation, "load_curated", splits)
    monkeypatch.setattr(training, "choose_recipe", lambda device=None: recipe(3))
    left = tmp_path / "runs" / "09-curated" / "checkpoint-1"
    left.mkdir(parents=True)
    (left / "trainer_state.json").write_text("{}")
    final = training.notebook_09_classifier("cpu")
    assert final == tmp_path / "runs" / "09-curated" / "final"
    assert (final / "config.json").is_file() and not left.exists()
    stamp = (final / "config.json").stat().st_mtime_ns
    assert training.notebook_09_classifier("cpu") == final
    assert (final / "config.json").stat().st_mtime_ns == stamp  # not trained again


def test_release_memory_each_step_releases_after_every_step(monkeypatch):
    calls = []
    monkeypatch.setattr(training, "release_memory", lambda: calls.append(1))
    callback = training.release_memory_each_step()
    control = object()
    for _ in range(3):
        assert callback.on_step_end(None, None, control) is control
    assert len(calls) == 3
    blocks = []
    monkeypatch.setattr(training, "return_large_blocks", lambda: blocks.append(1) or True)
    assert callback.on_train_begin(None, None, control) is control and blocks == [1]


def test_return_large_blocks_sets_the_threshold_on_linux():
    import sys

    assert training.return_large_blocks() is sys.platform.startswith("linux")
