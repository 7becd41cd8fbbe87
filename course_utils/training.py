"""Fine-tuning a sequence classifier with `Trainer`: a recipe chosen from the hardware,
checkpoints that resume, a guard against mixing runs, and the evaluation notebook 09 reports.

The notebook and `python -m course_utils.train_classifier` (which `accelerate launch` runs on
several GPUs) share every function here.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUN_FILE = "course_run.json"


@dataclass
class Recipe:
    """How to train: every choice that changes speed or memory, and why it was made."""

    device: str
    precision: str = "fp32"  # "bf16", "fp16" or "fp32"
    batch_size: int = 32
    max_length: int = 128
    dynamic_padding: bool = True  # pad each batch to its longest text, not to max_length
    group_by_length: bool = True  # batches of texts of similar length: less padding
    optim: str = "adamw_torch"
    max_steps: int = 150
    learning_rate: float = 5e-5
    warmup_steps: int = 10
    eval_every: int | None = 50  # None: no evaluation during training
    save_every: int | None = None  # checkpoint interval; eval_every when None
    workers: int = 0  # data loader processes (0: batches are made in the training process)
    pin_memory: bool = False  # page-locked batches for faster copies to a CUDA GPU
    why: list[str] = field(default_factory=list)


# how a run is loaded, not what it computes: a run resumes whatever these say
LOADING_ONLY = ("workers", "pin_memory", "why")
# (GiB of GPU memory at least, batch size): a card sold as "40 GB" reports about 39.5 GiB
GPU_BATCHES = ((36, 256), (14, 128), (0, 64))


def choose_recipe(device: str | None = None, max_steps: int | None = None) -> Recipe:
    """The course's recipe for this machine. On a CUDA GPU: bf16 mixed precision where the card
    computes in bf16 natively (compute capability 8.0 and up: A100, L4, H100), fp16 below that
    (a T4), a fused optimizer, a batch sized by the card's memory and pinned batches. On CPU
    (or Apple's MPS): fp32 and a small budget that finishes in a few minutes on 2 cores. Both
    pad each batch only to its own longest text and group texts of similar length; both make
    batches in the training process (the texts are tokenized once, before training)."""
    from course_utils.env.device import gpu, kind, pick_device, pin_memory

    device = device or pick_device()
    if kind(device) == "cuda":
        card = gpu(device)
        batch = next(size for least, size in GPU_BATCHES if card.memory_gib >= least)
        recipe = Recipe(device, card.precision, batch, 128, optim="adamw_torch_fused",
                        max_steps=max_steps or 600, learning_rate=1e-4, warmup_steps=30,
                        eval_every=100, pin_memory=pin_memory(device))
        major, minor = card.capability
        recipe.why = [
            (f"bf16 mixed precision: {card.name} (compute capability {major}.{minor}) has bf16 "
             "tensor cores" if card.native_bf16 else
             f"fp16 mixed precision: {card.name} (compute capability {major}.{minor}) has no "
             "native bf16 (it needs 8.0), only a slow emulation"),
            f"batch {batch} for {card.memory_gib:.1f} GiB of GPU memory",
            "fused AdamW: one kernel for the whole update",
            "pinned memory: batches copy to the GPU without an extra host copy"]
    else:
        steps = max_steps or 100
        recipe = Recipe(device, batch_size=16, max_length=64, max_steps=steps, learning_rate=1e-4,
                        warmup_steps=max(1, steps // 10), eval_every=None,
                        save_every=max(1, steps // 2), pin_memory=pin_memory(device))
        recipe.why = ["fp32: CPUs gain little from half precision",
                      "100 steps of 16 texts, a higher learning rate to make the most of them: "
                      "about a minute on 2 cores",
                      "no evaluation during training (the test split is scored once after it), "
                      "a checkpoint halfway and at the end"]
    recipe.why += ["dynamic padding: each batch padded to its longest text",
                   "length grouping: similar lengths batched together, so little padding",
                   "no data loader workers: padding a tokenized batch takes microseconds, and "
                   "each worker would be another process holding memory"]
    return recipe


def naive_recipe(device: str = "cpu", max_steps: int = 150) -> Recipe:
    """What a first attempt often does: pad every text to 128, fp32, random batches of 8."""
    return Recipe(device, "fp32", 8, 128, dynamic_padding=False, group_by_length=False,
                  max_steps=max_steps, why=["the defaults of a first attempt"])


def tokenize(splits: Any, tokenizer: Any, recipe: Recipe, text: str = "text") -> Any:
    """Tokenize every split; with dynamic padding nothing is padded here (the collator pads per
    batch), otherwise every text is padded to recipe.max_length."""
    padding = False if recipe.dynamic_padding else "max_length"

    def encode(batch: dict) -> dict:
        return tokenizer(batch[text], truncation=True, max_length=recipe.max_length,
                         padding=padding)

    return splits.map(encode, batched=True, desc="tokenizing")


def training_arguments(recipe: Recipe, output_dir: str | Path, seed: int = 0,
                       save_steps: int | None = None, **overrides: Any) -> Any:
    """`TrainingArguments` for `recipe`, written for the transformers 5 names (and the older
    `group_by_length` where a release still has it)."""
    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    kwargs: dict[str, Any] = dict(
        output_dir=str(output_dir), max_steps=recipe.max_steps,
        per_device_train_batch_size=recipe.batch_size,
        per_device_eval_batch_size=recipe.batch_size * 2, learning_rate=recipe.learning_rate,
        warmup_steps=recipe.warmup_steps, weight_decay=0.01, optim=recipe.optim,
        bf16=recipe.precision == "bf16", fp16=recipe.precision == "fp16",
        use_cpu=recipe.device == "cpu", dataloader_num_workers=recipe.workers,
        dataloader_pin_memory=recipe.pin_memory,
        eval_strategy="steps" if recipe.eval_every else "no", eval_steps=recipe.eval_every,
        save_strategy="steps",
        save_steps=save_steps or recipe.save_every or recipe.eval_every or recipe.max_steps,
        save_total_limit=2, logging_steps=max(1, recipe.max_steps // 10), report_to="none",
        seed=seed,
        data_seed=seed, disable_tqdm=False)
    if recipe.group_by_length:
        if "train_sampling_strategy" in names:
            kwargs["train_sampling_strategy"] = "group_by_length"
        else:
            kwargs["group_by_length"] = True
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def data_fingerprint(dataset: Any, text: str = "text", label: str = "label") -> str:
    """A short hash of the texts and labels, in order: the same data gives the same value."""
    import hashlib

    digest = hashlib.sha1()
    for value, label_id in zip(dataset[text], dataset[label]):
        digest.update(f"{label_id}\t{value}\n".encode())
    return digest.hexdigest()[:16]


def runs_dir() -> Path:
    """Where the notebooks keep their training runs: $COURSE_RUNS, else `runs/` in the course
    cache. The test command points COURSE_RUNS at an empty folder, so tests always train."""
    import os

    from course_utils.offline.kit import kit_dir

    return Path(os.environ["COURSE_RUNS"]) if os.environ.get("COURSE_RUNS") else kit_dir() / "runs"


def _hash_files(digest: Any, files: Sequence[Path]) -> None:
    """Feed each file's name and bytes to `digest`, a few MB at a time."""
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 22), b""):
                digest.update(block)


def model_identity(model_id: str) -> str:
    """What names a model in a run record: a Hub ID as it is; a local folder by its model type and
    a hash of its config (less the transformers version that wrote it) and weights, so moving the
    folder, or saving it again with another release, keeps its runs resumable while other weights
    in the same place do not."""
    import hashlib

    folder = Path(model_id)
    if not folder.is_dir():
        return model_id
    digest = hashlib.sha256()
    config = folder / "config.json"
    kind = "model"
    if config.is_file():
        settings = json.loads(config.read_text())
        kind = settings.get("model_type", kind)
        # the version that saved it is not part of the model: the same weights saved by another
        # transformers release (the Colab lane resuming the main test's runs) are the same model
        settings.pop("transformers_version", None)
        digest.update(json.dumps(settings, sort_keys=True).encode())
    _hash_files(digest, sorted(folder.glob("*.safetensors")))
    return f"local {kind} {digest.hexdigest()[:12]}"


def _identity_before_2026_12_04(model_id: str) -> str | None:
    """How run records named a local model before the transformers version was left out of the
    hash (config.json's bytes as they are), so that their runs can be taken over."""
    import hashlib

    folder = Path(model_id)
    config = folder / "config.json"
    if not config.is_file():
        return None
    digest = hashlib.sha256()
    _hash_files(digest, [config] + sorted(folder.glob("*.safetensors")))
    kind = json.loads(config.read_text()).get("model_type", "model")
    return f"local {kind} {digest.hexdigest()[:12]}"


def update_old_record(output_dir: str | Path, model_id: str) -> None:
    """A run record that names `model_id` the old way is rewritten to name it the current way
    (the same model: only how its hash is computed changed), so its run still resumes."""
    record = Path(output_dir) / RUN_FILE
    if not record.is_file():
        return
    earlier = json.loads(record.read_text())
    old = _identity_before_2026_12_04(model_id)
    if old is not None and earlier.get("model") == old:
        earlier["model"] = model_identity(model_id)
        record.write_text(json.dumps(earlier, indent=1))


def run_info(model_id: str, label_names: Sequence[str], recipe: Recipe, data: str) -> dict:
    return {"model": model_identity(model_id), "labels": list(label_names), "data": data,
            "recipe": {k: v for k, v in dataclasses.asdict(recipe).items()
                       if k not in LOADING_ONLY}}


def prepare_output_dir(output_dir: str | Path, info: dict, overwrite: bool = False
                       ) -> str | None:
    """Make `output_dir` ready for the run described by `info` and return the checkpoint to
    resume from (None to start afresh). A folder holding another run (other model, labels, data
    or recipe) is refused with a message, never overwritten, unless `overwrite=True`."""
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(output_dir)
    if folder.exists() and overwrite:
        shutil.rmtree(folder)
    if folder.exists() and any(folder.iterdir()):
        record = folder / RUN_FILE
        if not record.is_file():
            raise ValueError(f"{folder} already holds files that are not a course run; choose "
                             "another output_dir (nothing was changed)")
        earlier = json.loads(record.read_text())
        if earlier != info:
            differs = []
            for key, value in info.items():
                old = earlier.get(key)
                if key == "recipe" and isinstance(old, dict):
                    differs += [f"recipe {k}: {old.get(k)} there, {v} here"
                                for k, v in value.items() if old.get(k) != v]
                elif old != value:
                    differs.append(f"{key}: {old} there, {value} here")
            raise ValueError(
                f"{folder} holds checkpoints of another run ({'; '.join(differs)}); choose "
                "another output_dir, or pass overwrite=True to delete it and start again "
                "(nothing was changed)")
        return get_last_checkpoint(str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_FILE).write_text(json.dumps(info, indent=1))
    return None


def stop_at(step: int) -> Any:
    """A callback that stops training at `step` (after that step's checkpoint is written), as
    if the session had been lost there."""
    from transformers import TrainerCallback

    class StopAt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if state.global_step >= step:
                control.should_save = True
                control.should_training_stop = True
            return control

    return StopAt()


def checkpoint_activations(model: Any) -> None:
    """Gradient (activation) checkpointing on: the forward pass keeps each layer's input only
    and the backward pass computes the layer again. transformers 5.25 renamed the model's
    switch from `gradient_checkpointing_enable` to `activation_checkpointing_enable`."""
    switch = getattr(model, "activation_checkpointing_enable", None)
    (switch or model.gradient_checkpointing_enable)()


def is_checkpointing(model: Any) -> bool:
    """Whether `checkpoint_activations` is on for `model` (either name of the flag)."""
    flag = getattr(type(model), "is_activation_checkpointing", None)
    return bool(model.is_activation_checkpointing if flag is not None
                else model.is_gradient_checkpointing)


def model_inputs(tokenized: Any) -> Any:
    """Only the columns the model takes (the text and other columns would reach its forward)."""
    wanted = ("input_ids", "attention_mask", "token_type_ids", "label")
    return tokenized.select_columns([c for c in wanted if c in tokenized.column_names])


def build_trainer(model: Any, tokenizer: Any, tokenized: Any, recipe: Recipe,
                  output_dir: str | Path, seed: int = 0, callbacks: Sequence[Any] = (),
                  **overrides: Any) -> Any:
    """A `Trainer` for `recipe`, with accuracy and macro-F1 at every evaluation."""
    from transformers import DataCollatorWithPadding, Trainer

    arguments = training_arguments(recipe, output_dir, seed, **overrides)
    return Trainer(
        model=model, args=arguments,
        train_dataset=model_inputs(tokenized["train"]),
        eval_dataset=model_inputs(tokenized["validation"]),
        data_collator=DataCollatorWithPadding(tokenizer) if recipe.dynamic_padding else None,
        processing_class=tokenizer, compute_metrics=classification_metrics,
        callbacks=list(callbacks))


def classification_metrics(prediction: Any) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    logits, labels = prediction
    predicted = logits.argmax(-1)
    return {"accuracy": float(accuracy_score(labels, predicted)),
            "macro_f1": float(f1_score(labels, predicted, average="macro"))}


@dataclass
class Evaluation:
    """Scores on a test set, a majority-class baseline, and what went wrong."""

    accuracy: float
    macro_f1: float
    baseline_accuracy: float
    baseline_macro_f1: float
    per_class_f1: list[float]
    confusion: Any  # (labels, labels): rows true, columns predicted
    report: str
    mistakes: list[dict[str, Any]]


def evaluate(trainer: Any, tokenized_test: Any, test_texts: Sequence[str],
             label_names: Sequence[str], majority: int, mistakes: int = 8) -> Evaluation:
    """Accuracy and macro-F1 on the test split against always predicting the training set's
    majority label, the confusion matrix, a per-class report and the most confident mistakes."""
    import numpy as np
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

    output = trainer.predict(model_inputs(tokenized_test))
    logits, labels = output.predictions, output.label_ids
    del output
    release_memory()
    probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    predicted = probabilities.argmax(-1)
    baseline = np.full_like(labels, majority)
    wrong = np.flatnonzero(predicted != labels)
    order = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:mistakes]
    ids = list(range(len(label_names)))
    return Evaluation(
        float(accuracy_score(labels, predicted)),
        float(f1_score(labels, predicted, average="macro")),
        float(accuracy_score(labels, baseline)),
        float(f1_score(labels, baseline, average="macro", labels=ids, zero_division=0)),
        [float(v) for v in f1_score(labels, predicted, average=None, labels=ids,
                                    zero_division=0)],
        confusion_matrix(labels, predicted, labels=ids),
        classification_report(labels, predicted, labels=ids, target_names=list(label_names),
                              digits=3, zero_division=0),
        [{"text": test_texts[i], "true": label_names[labels[i]],
          "predicted": label_names[predicted[i]],
          "confidence": round(float(probabilities[i, predicted[i]]), 3)} for i in order])


def is_main_process() -> bool:
    """True in a plain run and in the first process of `accelerate launch` / torchrun."""
    import os

    return os.environ.get("RANK", "0") == "0"


def fine_tune(model_id: str, splits: Any, recipe: Recipe, output_dir: str | Path,
              train_split: str = "train", label_names: Sequence[str] = (),
              seed: int = 0, overwrite: bool = False, callbacks: Sequence[Any] = (),
              quiet: bool = False, gradient_checkpointing: bool = False,
              **overrides: Any) -> tuple[Any, Any]:
    """Fine-tune `model_id` (a local path or resolved Hub ID) for sequence classification on
    `splits[train_split]`, evaluating on splits['validation']. Resumes from the last checkpoint
    in `output_dir` when it holds the same run; refuses a folder that holds another run. Saves
    the final model and tokenizer in output_dir/'final'. `quiet` drops the progress bars and
    the printed logs; `gradient_checkpointing` trades about a fifth more time for less memory
    (`checkpoint_activations`).
    `overrides` go to `TrainingArguments`. Returns (trainer, tokenized splits)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from course_utils.curation import validate_columns, validate_labels

    names = list(label_names) or list(splits[train_split].features["label"].names
                                      if hasattr(splits[train_split].features["label"], "names")
                                      else [])
    if not names:
        raise ValueError("pass label_names=[...]: the data set does not name its labels")
    for name in (train_split, "validation"):
        if name not in splits:
            raise ValueError(f"the data has no {name!r} split (it has {list(splits)})")
        validate_columns(splits[name])
        validate_labels(splits[name], names)
        if len(splits[name]) == 0:
            raise ValueError(f"the {name!r} split is empty: check the filtering that made it")
    info = run_info(str(model_id), names, recipe,
                    f"{train_split}:{data_fingerprint(splits[train_split])}")
    if is_main_process():
        update_old_record(output_dir, str(model_id))
    checkpoint = prepare_output_dir(output_dir, info, overwrite) if is_main_process() else None
    if checkpoint is None and not is_main_process():
        from transformers.trainer_utils import get_last_checkpoint

        checkpoint = get_last_checkpoint(str(output_dir)) if Path(output_dir).is_dir() else None
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_id, num_labels=len(names), id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)})
    if gradient_checkpointing:
        checkpoint_activations(model)
    parts = {k: splits[k] for k in (train_split, "validation", "test") if k in splits}
    from datasets import DatasetDict

    tokenized = tokenize(DatasetDict(parts), tokenizer, recipe)
    if train_split != "train":
        tokenized["train"] = tokenized.pop(train_split)
    if quiet:
        overrides["disable_tqdm"] = True
    trainer = build_trainer(model, tokenizer, tokenized, recipe, output_dir, seed, callbacks,
                            **overrides)
    if quiet:
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    if checkpoint and is_main_process():
        print(f"resuming from {Path(checkpoint).name} in {Path(output_dir).name}")
    trainer.train(resume_from_checkpoint=checkpoint)
    if trainer.state.global_step >= recipe.max_steps:
        trainer.save_model(str(Path(output_dir) / "final"))
    # training is over: drop the optimizer's state (twice the model's size with AdamW)
    trainer.optimizer = trainer.lr_scheduler = None
    trainer.accelerator.free_memory()
    release_memory()
    return trainer, tokenized


def notebook_09_classifier(device: str | None = None) -> Path:
    """The sentiment classifier notebook 09 trains (`runs/09-curated/final`); when it is missing,
    it is trained here the same way first (about 70 s on 2 CPU cores)."""
    from course_utils.curation import LABEL_NAMES, load_curated
    from course_utils.offline.hub import resolve

    folder = runs_dir() / "09-curated"
    if not (folder / "final" / "config.json").is_file():
        print("notebook 09's classifier is not in the runs folder yet: training it the same way "
              "(about a minute on a CPU)")
        # notebook 09 trains this folder with Trainer itself (no run record): checkpoints of an
        # interrupted run of it are started afresh, a run of fine_tune's resumes
        fine_tune(resolve("distilbert/distilbert-base-uncased", announce=False), load_curated(),
                  choose_recipe(device), folder, label_names=LABEL_NAMES, quiet=True,
                  overwrite=folder.is_dir() and not (folder / RUN_FILE).is_file())
    return folder / "final"


def release_memory() -> None:
    """Collect garbage and hand freed memory back to the system (glibc keeps it otherwise), so a
    notebook that trains several models stays within a small machine's memory."""
    import ctypes
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def return_large_blocks(threshold: int = 1 << 20) -> bool:
    """Ask glibc to serve allocations of `threshold` bytes and more with their own mapping, given
    back to the system when freed; True where that was done (Linux with glibc)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-3, threshold))  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def release_memory_each_step() -> Any:
    """A callback that calls `release_memory` after every training step: on a small machine the
    allocator's leftovers from one step otherwise add to the next step's peak. On Linux it also
    sends blocks of 1 MB and more straight to and from the system when training begins (glibc's
    mmap threshold, which otherwise grows to 32 MB and keeps such blocks in its heap): about
    0.1 GB less peak when training SmolLM2 with LoRA on a CPU, for a few percent of speed."""
    from transformers import TrainerCallback

    class ReleaseMemory(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            return_large_blocks()
            return control

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            release_memory()
            return control

    return ReleaseMemory()
