"""Bots against the real server: players stream poses, spectators see them."""

from __future__ import annotations

import asyncio

from client.bot import BotReport, random_seed, run_bots
from shared.codec import decode, encode
from shared.messages import Role, SeedSource
from tests.loopback import running_server


def test_bots_stream_poses_that_the_spectators_receive() -> None:
    async def scenario() -> list[BotReport]:
        async with running_server("BOTS") as url:
            return await run_bots(url, "BOTS", 2, 1, seconds=1.0)

    reports = asyncio.run(asyncio.wait_for(scenario(), 20))
    players = [r for r in reports if r.role is Role.PLAYER]
    (screen,) = [r for r in reports if r.role is Role.SPECTATOR]
    assert [r.name for r in players] == ["bot 1", "bot 2"]
    for r in players:
        assert 20 <= r.poses_sent <= 31  # 30 Hz for a second
        assert r.received["welcome"] == 1 and r.received["snapshot"] == 1
        assert r.round_trip_ms is not None
    # The spectator saw most of both players' poses (the last few may be in flight).
    assert screen.poses_sent == 0
    assert screen.received["pose"] >= sum(r.poses_sent for r in players) - 10


def test_random_seeds_are_valid_messages_of_both_kinds() -> None:
    import random

    rng = random.Random(3)
    seeds = [random_seed(rng) for _ in range(50)]
    assert {s.source for s in seeds} == {SeedSource.GRID, SeedSource.DICE}
    assert all(decode(encode(s)) == s for s in seeds)
