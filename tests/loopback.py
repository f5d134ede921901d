"""A real PoseJam server on 127.0.0.1, on a free port, for integration tests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from server.app import PoseJamServer, ServerConfig
from server.generator import Generator
from server.lobby import Lobby


@contextlib.asynccontextmanager
async def running_server(
    code: str = "TEST",
    bpm: float = 240.0,
    password: str = "",
    config: ServerConfig | None = None,
    generator: Generator | None = None,
) -> AsyncIterator[str]:
    """Serve one room; yield its ws:// URL; stop (closing everyone with 1001) on exit."""
    lobby = Lobby()
    lobby.create(time.monotonic(), code, password, bpm)
    server = PoseJamServer(lobby, generator, config=config)
    port = await server.start("127.0.0.1", 0)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        await server.stop()
