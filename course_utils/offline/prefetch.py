"""`python -m course_utils prefetch`: download every Hub model and data set the course names.

For a workshop in a room with poor network: run it once while online, and every notebook then
loads from the local Hub cache. Offline, it says so for each item and exits non-zero.
"""

from __future__ import annotations

from course_utils.offline.hub import REGISTRY, Entry, hub_offline_flag, is_cached, is_online

# Weights as safetensors only (never pickled .bin), plus configs, tokenizers and data files.
ALLOW = ["*.json", "*.safetensors", "*.txt", "*.model", "*.spm", "*.jinja", "*.tiktoken",
         "*.parquet", "*.csv", "*.jsonl", "*.md"]


def fetch(entry: Entry) -> str:
    """Download one entry into the Hub cache and return its local folder."""
    from huggingface_hub import snapshot_download

    return snapshot_download(entry.hub_id, repo_type=entry.kind, allow_patterns=ALLOW)


def prefetch() -> int:
    """Download every registry entry the notebooks run (not the larger options a learner may
    choose online); one line per item; exit status 1 if any failed."""
    online = is_online()
    failed = 0
    entries = [e for e in REGISTRY.values() if not e.optional]
    for entry in entries:
        if not online:
            cached = " (already cached)" if is_cached(entry.hub_id, entry.kind) else ""
            reason = "HF_HUB_OFFLINE=1 is set" if hub_offline_flag() else "the Hub is out of reach"
            print(f"[FAIL] {entry.hub_id}: offline ({reason}), not downloaded{cached}; "
                  f"the stand-in {entry.standin} is used instead")
            failed += 1
            continue
        try:
            print(f"[OK]   {entry.hub_id}: {fetch(entry)}", flush=True)
        except Exception as error:  # report every item, then fail at the end
            print(f"[FAIL] {entry.hub_id}: {type(error).__name__}: {error}")
            failed += 1
    total = len(entries)
    print(f"{total - failed} of {total} downloaded" + ("" if online else
          "; build the offline kit instead: python -m course_utils build-kit"))
    larger = [e.hub_id for e in REGISTRY.values() if e.optional]
    if larger and online:
        print("not downloaded, larger options the notebooks name for learners online: "
              + ", ".join(larger))
    return 1 if failed else 0
