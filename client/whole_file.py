"""Files written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def write_whole(out: Path, write: Callable[[Path], T]) -> T:
    """Have ``write`` fill a temporary file beside ``out``, then move it into place: a
    failed write leaves no half-written file, and an unwritable place fails before the
    work. The file gets the permissions a plainly created one would (a temporary file's
    are private to its owner). Raises OSError."""
    handle, temporary = tempfile.mkstemp(suffix=out.suffix, prefix=f".{out.stem}-", dir=out.parent)
    os.close(handle)
    try:
        result = write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return result


def _umask() -> int:
    # Reading the umask means setting it; it is set straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
