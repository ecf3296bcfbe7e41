"""Atomic writes: all or nothing, no temporary file left, ordinary permissions."""

from __future__ import annotations

import os

import pytest

from mimo_env.atomic import write_atomic


def test_write_creates_folders_and_ordinary_permissions(tmp_path):
    path = write_atomic(tmp_path / "a" / "b.txt", lambda handle: handle.write(b"hello"))
    assert path.read_bytes() == b"hello"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_atomic(tmp_path / "f.bin", lambda handle: handle.write(b"old"))

    def fail_halfway(handle):
        handle.write(b"new but incomplete")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(path, fail_halfway)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
