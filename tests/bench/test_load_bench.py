"""The capacity benchmark runs real clients against a real server and leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bench.load import (
    ServerProcess,
    cpu_seconds,
    plan,
    room_codes,
    rss_mb,
    server_command,
)
from client.net import NetClient
from shared.messages import Hello, Role

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "players",
    "spectators",
    "p50_ms",
    "p99_ms",
    "server_cpu_percent",
    "server_rss_mb",
    "messages_per_s",
    "delivered",
    "delivered_fraction",
    "dropped",
    "disconnects",
}


def processes_with(marker: str) -> list[int]:
    """The processes whose environment holds ``marker`` (every child inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile, or not ours to read
                pass
    return found


def test_plan_fills_rooms_of_eight_players_and_deals_the_spectators() -> None:
    specs = plan(20, 7)
    players = [s for s in specs if s.role is Role.PLAYER]
    spectators = [s for s in specs if s.role is Role.SPECTATOR]
    assert (len(players), len(spectators)) == (20, 7)
    codes = room_codes(3)
    assert [sum(s.room == code for s in players) for code in codes] == [7, 7, 6]
    assert [sum(s.room == code for s in spectators) for code in codes] == [3, 2, 2]
    assert len({s.index for s in specs}) == 27
    assert {s.room for s in plan(8, 256)} == {codes[0]}
    with pytest.raises(ValueError, match="at most 256 spectators"):
        plan(8, 257)


def test_the_proc_readers_see_this_process() -> None:
    before = cpu_seconds(os.getpid())
    end = time.process_time() + 0.05
    while time.process_time() < end:
        pass
    assert cpu_seconds(os.getpid()) > before
    assert 10 < rss_mb(os.getpid()) < 24_000


def test_more_rooms_than_one_are_served_by_the_same_server() -> None:
    codes = room_codes(2)

    async def join(url: str) -> str:
        client = NetClient(url, Hello("look", Role.SPECTATOR, room=codes[1]))
        welcome = await client.connect()
        await client.close()
        return welcome.room

    with ServerProcess(server_command(codes, "seeds")) as server:
        assert asyncio.run(asyncio.wait_for(join(server.url), 10)) == codes[1]
        server.stop()
    assert server.returncode == 0
    assert server.errors == []


def test_bench_load_measures_a_small_room_and_leaves_no_process_behind() -> None:
    marker = f"POSEJAM_LOAD_TEST={uuid.uuid4().hex}"
    name, value = marker.split("=")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench.load", "--json", "--players", "2", "--spectators", "2"),
            *("--seconds", "2", "--warmup", "1", "--generator", "seeds"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, name: value},
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result.keys() >= KEYS
    assert (result["players"], result["spectators"], result["rooms"]) == (2, 2, 1)
    assert result["delivered"] > 0
    # Each pose is owed to the other player and both spectators.
    assert result["delivered"] + result["dropped"] == 3 * result["poses_sent"]
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    assert result["server_rss_mb"] > 0
    assert result["disconnects"] == 0
    assert result["server_errors"] == 0
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []
