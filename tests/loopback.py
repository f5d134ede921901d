"""A real PoseJam server on 127.0.0.1, on a free port, for integration tests."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from server.app import PoseJamServer, ServerConfig
from server.generator import Generator
from server.lobby import Lobby
from shared.messages import RECONNECT_GRACE


@contextlib.asynccontextmanager
async def running_server(
    code: str = "TEST",
    bpm: float = 240.0,
    password: str = "",
    config: ServerConfig | None = None,
    generator: Generator | None = None,
    reconnect_grace: float = RECONNECT_GRACE,
) -> AsyncIterator[str]:
    """Serve one room; yield its ws:// URL; stop (closing everyone with 1001) on exit."""
    lobby = Lobby()
    lobby.create(time.monotonic(), code, password, bpm).reconnect_grace = reconnect_grace
    server = PoseJamServer(lobby, generator, config=config)
    port = await server.start("127.0.0.1", 0)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        await server.stop()


@contextlib.contextmanager
def server_process(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m server --port 0 ARGS`` in a process of its own (``env``: its whole
    environment); yield it and its ws:// URL once it listens; kill it on exit if it
    still runs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", "0", *args],
        cwd=Path(__file__).resolve().parents[1],
        stderr=subprocess.PIPE,
        text=True,
        env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if found := re.search(r"listening on (ws://127\.0\.0\.1:\d+)", line):
                yield proc, found.group(1)
                break
        else:
            raise RuntimeError("the server process did not start")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
