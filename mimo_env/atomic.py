"""Atomic file writes: readers see either the old file or the complete new one, never a partial one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file through ``write(handle)`` into a temporary file beside ``path``, fsync it, then rename it.

    The rename (``os.replace``) is atomic on POSIX file systems, so an interrupted or failed write leaves any
    existing ``path`` untouched and no temporary file behind. The new file gets the permissions of an ordinary
    new file (``0o666`` less the umask), not ``mkstemp``'s ``0o600``.

    Args:
        path: the target file; its folder is created if needed.
        write: writes the whole content to the binary handle it is given.

    Returns:
        The target path.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
