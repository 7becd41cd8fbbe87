"""tools/pack_for_gpu.py: the parts put back together are the archive, none is over its size,
and a package missing here is named (the packing itself is run by hand: it takes a minute)."""

from __future__ import annotations

import pytest

from tools import pack_for_gpu


def test_the_parts_together_are_the_archive_and_none_is_too_large(tmp_path):
    archive = tmp_path / "a.tgz"
    data = bytes(range(256)) * 41  # 10,496 bytes
    archive.write_bytes(data)
    parts = pack_for_gpu.split(archive, tmp_path / "pack", 4096)
    assert [p.parent.name for p in parts] == ["1", "2", "3"]
    assert all(p.stat().st_size <= 4096 for p in parts)
    assert b"".join(p.read_bytes() for p in parts) == data
    (tmp_path / "pack" / "9").mkdir()  # a part left from a larger archive is removed
    assert len(pack_for_gpu.split(archive, tmp_path / "pack", 8192)) == 2
    assert sorted(p.name for p in (tmp_path / "pack").iterdir()) == ["1", "2"]


def test_versions_are_the_installed_ones_and_a_missing_package_is_named():
    assert pack_for_gpu.pinned(["pytest"]) == [f"pytest=={pytest.__version__}"]
    with pytest.raises(SystemExit, match="no-such-course-package is not installed here"):
        pack_for_gpu.pinned(["no-such-course-package"])


def test_a_part_size_of_zero_is_refused(capsys):
    with pytest.raises(SystemExit):
        pack_for_gpu.main(["--part-mb", "0"])
    assert "--part-mb must be positive" in capsys.readouterr().err
