import subprocess
import sys

from course_utils.offline import prefetch
from course_utils.__main__ import main


def test_prefetch_offline_reports_each_item_and_fails(offline, capsys):
    assert prefetch.prefetch() == 1
    out = capsys.readouterr().out
    for hub_id, entry in prefetch.REGISTRY.items():
        assert (f"[FAIL] {hub_id}: offline" in out) != entry.optional
    assert "build-kit" in out


def test_prefetch_online_downloads_safetensors_only(online, monkeypatch, capsys):
    calls = []

    def fake_download(repo_id, repo_type, allow_patterns):
        calls.append((repo_id, repo_type))
        assert "*.safetensors" in allow_patterns and not any(".bin" in p for p in allow_patterns)
        return f"/cache/{repo_id}"

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_download)
    assert prefetch.prefetch() == 0
    assert {r for r, _ in calls} == {h for h, e in prefetch.REGISTRY.items() if not e.optional}
    assert "HuggingFaceTB/SmolLM2-1.7B-Instruct" not in {r for r, _ in calls}
    assert "larger options" in capsys.readouterr().out
    assert ("mteb/tweet_sentiment_extraction", "dataset") in calls


def test_unknown_stand_in_is_a_message_not_a_traceback(capsys):
    assert main(["build-kit", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "no offline stand-in called 'no-such-thing'" in err and "Traceback" not in err


def test_cli_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "course_utils", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("lab", "test", "doctor", "prefetch", "build-kit", "strip-notebooks"):
        assert command in out
