"""The sync benchmark and its delaying relay run, and report what they promise."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.relay import DelayRelay
from tests.bench.run import last_json

ROOT = Path(__file__).resolve().parents[2]


def test_the_relay_delays_each_direction_and_keeps_order() -> None:
    async def scenario() -> tuple[float, bytes]:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(1024):
                writer.write(data)
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        relay = DelayRelay("127.0.0.1", port, lambda: 0.05)
        reader, writer = await asyncio.open_connection("127.0.0.1", await relay.start())
        start = time.monotonic()
        for chunk in (b"one ", b"two ", b"three"):
            writer.write(chunk)
        got = b""
        while len(got) < len(b"one two three"):
            got += await reader.read(1024)
        elapsed = time.monotonic() - start
        writer.close()
        await relay.stop()
        server.close()
        return elapsed, got

    elapsed, got = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert got == b"one two three"
    assert 0.1 <= elapsed < 0.5  # 50 ms there and 50 ms back, at least


def test_bench_sync_prints_its_figures_as_the_last_line() -> None:
    result = last_json("bench.sync", "--seconds", "1", "--warmup", "4", timeout=60)
    assert (result["clients"], result["seconds"], result["warmup_s"]) == (8, 1.0, 4.0)
    for group in ("jitter", "clean"):
        figures = result[group]
        assert figures["samples"] > 400  # 8 clients, 100 times a second, for a second
        assert 0 <= figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        # Even after 4 s each client knows the server's clock to a few milliseconds.
        assert figures["max_ms"] < 10.0
