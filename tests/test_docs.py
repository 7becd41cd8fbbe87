"""The instructor guide's run times are the recorded ones: every time it gives for a notebook
(in its table and in both schedules) equals the latest budgets run in docs/benchmarks.md."""

from __future__ import annotations

import re

from course_utils.repo.notebook_files import ROOT, notebook_paths

BENCHMARKS = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
GUIDE = (ROOT / "docs" / "instructor-guide.md").read_text(encoding="utf-8")


def recorded() -> dict[str, tuple[int, str]]:
    """Notebook number -> (seconds, peak memory) from the budgets section of benchmarks.md."""
    section = BENCHMARKS.split("<!-- budgets:begin", 1)[1].split("<!-- budgets:end -->", 1)[0]
    rows = re.findall(r"^\| (\d\d)_\w+\.ipynb \| (\d+) s \| ([\d.]+ GB) \|", section, re.M)
    return {number: (int(seconds), peak) for number, seconds, peak in rows}


def test_the_budgets_run_covers_every_notebook():
    assert set(recorded()) == {p.name[:2] for p in notebook_paths()}


def test_guide_times_are_the_recorded_ones():
    times = recorded()
    table = re.findall(r"^\| (\d\d) · [^|]+\| (\d+) s \| ([\d.]+ GB) \|$", GUIDE, re.M)
    assert {n for n, _, _ in table} == set(times), "one row per notebook in the guide's table"
    for number, seconds, peak in table:
        assert (int(seconds), peak) == times[number], f"notebook {number}"
    in_schedules = re.findall(r"\| (\d\d) · [^|]+\| (\d+) s \|$", GUIDE, re.M)
    assert len(in_schedules) >= 2 * 8, "both schedules give run times"
    for number, seconds in in_schedules:
        assert int(seconds) == times[number][0], f"schedule row of notebook {number}"


def test_guide_has_no_placeholders_left():
    assert not re.search(r"\b(T\d\d|TIMES_TABLE|RUN_DATE|GPU_TIMES|DOCTOR_\w+|SCHEDULES)\b",
                         GUIDE)


def test_times_quoted_in_the_notebooks_are_the_recorded_ones():
    """A notebook's "What it needs" line that quotes its CPU time quotes the budgets run."""
    import json

    times = recorded()
    quoted = 0
    for path in notebook_paths():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for seconds in re.findall(r"\((\d+) s measured on 2 cores", text):
            assert int(seconds) == times[path.name[:2]][0], f"notebook {path.name[:2]}"
            quoted += 1
    assert quoted >= 5
