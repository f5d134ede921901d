"""Files written whole or not at all, with a plain file's permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from client.whole_file import write_whole


def test_the_file_appears_whole_with_the_permissions_a_plain_file_gets(tmp_path: Path) -> None:
    out = tmp_path / "jam.mid"
    previous = os.umask(0o027)
    try:
        assert write_whole(out, lambda path: path.write_bytes(b"MThd") and "done") == "done"
    finally:
        os.umask(previous)
    assert out.read_bytes() == b"MThd"
    assert out.stat().st_mode & 0o777 == 0o640  # 0o666 under the umask, not mkstemp's 0o600
    assert os.umask(previous) == previous  # the umask is as it was
    assert [p.name for p in tmp_path.iterdir()] == ["jam.mid"]


def test_a_failed_write_leaves_neither_a_half_file_nor_a_temporary_one(tmp_path: Path) -> None:
    out = tmp_path / "jam.wav"
    out.write_bytes(b"the old jam")

    def fail(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left on device"):
        write_whole(out, fail)
    assert out.read_bytes() == b"the old jam"
    assert [p.name for p in tmp_path.iterdir()] == ["jam.wav"]


def test_an_unwritable_place_fails_before_the_work(tmp_path: Path) -> None:
    called = []
    with pytest.raises(FileNotFoundError):
        write_whole(tmp_path / "missing" / "jam.wav", called.append)
    assert called == []
