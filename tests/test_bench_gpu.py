"""The GPU run's script (tools/bench_gpu.py): refuses without a GPU, writes only between its
marks, reports a failing notebook and fails with it. No GPU is needed: torch's answer is faked."""

from __future__ import annotations

import pytest

from tools import bench_gpu


def test_without_a_gpu_it_refuses_and_says_what_to_do(monkeypatch, capsys):
    monkeypatch.setattr(bench_gpu, "gpu_name", lambda: None)
    monkeypatch.setattr(bench_gpu, "run_notebook", lambda *a: pytest.fail("a notebook ran"))
    assert bench_gpu.main([]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_on_a_gpu_it_runs_every_notebook_and_writes_both_docs(monkeypatch, tmp_path, capsys):
    docs = []
    for name in ("benchmarks.md", "guide.md"):
        path = tmp_path / name
        path.write_text(f"before\n{bench_gpu.BEGIN}\nold\n{bench_gpu.END}\nafter\n")
        docs.append(path)
    monkeypatch.setattr(bench_gpu, "DOCS", tuple(docs))
    monkeypatch.setattr(bench_gpu, "gpu_name", lambda: "Tesla T4, 15 GiB, compute capability 7.5")
    ran = []

    def fake_run(path, env):
        ran.append(path.name)
        assert env["COURSE_KERNEL_DATA_LIMIT"] == "0" and env["HF_HUB_OFFLINE"] == "1"
        return (path.name != "09_fine_tuning.ipynb", 12.0, "1 failed, 20 passed")

    monkeypatch.setattr(bench_gpu, "run_notebook", fake_run)
    monkeypatch.setattr(bench_gpu, "throughput_table", lambda env, steps: ["| course | 9 |"])
    monkeypatch.setattr(bench_gpu, "lora_table", lambda env: ["| LoRA, float32 base | 0.05 |"])
    monkeypatch.setattr(bench_gpu, "alignment_table", lambda env: ["| notebook | 0 | 0.0002 |"])
    assert bench_gpu.main([]) == 1  # notebook 09 failed
    assert len(ran) == len(list((bench_gpu.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    for path in docs:
        text = path.read_text()
        assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
        assert "Tesla T4" in text and "| course | 9 |" in text
        assert "| LoRA, float32 base | 0.05 |" in text and "| notebook | 0 | 0.0002 |" in text
        assert "| 09_fine_tuning.ipynb | 12 | FAILED: 1 failed, 20 passed |" in text


def test_a_cpu_trial_leaves_the_docs_alone(monkeypatch, tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(f"{bench_gpu.BEGIN}\nold\n{bench_gpu.END}\n")
    monkeypatch.setattr(bench_gpu, "DOCS", (path,))
    monkeypatch.setattr(bench_gpu, "gpu_name", lambda: None)
    monkeypatch.setattr(bench_gpu, "run_notebook", lambda path, env: (True, 1.0, "passed"))
    monkeypatch.setattr(bench_gpu, "throughput_table", lambda env, steps: [])
    monkeypatch.setattr(bench_gpu, "lora_table", lambda env: [])
    monkeypatch.setattr(bench_gpu, "alignment_table", lambda env: [])
    assert bench_gpu.main(["--allow-cpu", "notebooks/00_setup_and_tour.ipynb"]) == 0
    assert "old" in path.read_text()


def test_docs_without_the_marks_are_refused(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("no marks here\n")
    with pytest.raises(SystemExit, match="add the two marks"):
        bench_gpu.write_section("text", path)


def test_the_real_docs_have_one_marked_section_each():
    for doc in bench_gpu.DOCS:
        text = doc.read_text(encoding="utf-8")
        assert text.count(bench_gpu.BEGIN) == 1 and text.count(bench_gpu.END) == 1, doc
        assert text.index(bench_gpu.BEGIN) < text.index(bench_gpu.END), doc


def test_a_failing_notebook_keeps_its_report():
    output = "\n".join(["..F.", "=" * 10 + " FAILURES " + "=" * 10, "cell 37", "AssertionError: x",
                         "=" * 5 + " 1 failed, 3 passed " + "=" * 5])
    excerpt = bench_gpu.failure_excerpt(output)
    assert excerpt.startswith("=" * 10 + " FAILURES") and "AssertionError: x" in excerpt
    assert "..F." not in excerpt
    assert bench_gpu.failure_excerpt("\n".join(map(str, range(100))), most=5) == "95\n96\n97\n98\n99"
