"""Hiding what native libraries print on stderr when a player can do nothing about it.

mediapipe's C++ side announces its delegate and logging setup when a model is made
and first run; ALSA lists every sound card it cannot find when portaudio looks for
devices on a machine without one. Neither is an error the game has not already
turned into a clear message, so those calls run with file descriptor 2 pointed at
/dev/null -- unless debug logging is on (``posejam -v``), which shows everything.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_hidden(logger: logging.Logger) -> Iterator[None]:
    if logger.isEnabledFor(logging.DEBUG):
        yield
        return
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
