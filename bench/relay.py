"""A TCP relay on loopback that delays each direction by a random amount per chunk.

``tc netem`` is not available here, so the jitter is added in user space: every
chunk read from one side is written to the other ``delay()`` seconds later, but
never before the chunk ahead of it (TCP stays in order, as netem's does when its
delay is not reordered).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable

Delay = Callable[[], float]


def uniform_delay(mean: float, spread: float, rng: random.Random) -> Delay:
    return lambda: rng.uniform(mean - spread, mean + spread)


class DelayRelay:
    def __init__(self, target_host: str, target_port: int, delay: Delay) -> None:
        self.target = (target_host, target_port)
        self.delay = delay
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        if self._server:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    dst.close()
                    return
                dst.write(data)

        writer = asyncio.create_task(deliver())
        last_due = 0.0
        try:
            while True:
                data = await src.read(65536)
                last_due = max(last_due, loop.time() + self.delay())
                queue.put_nowait((last_due, data))
                if not data:
                    break
            await writer
        finally:
            writer.cancel()
