"""NetClient against the real server on loopback, with an injected clock."""

from __future__ import annotations

import asyncio
import random
import socket
import time

import pytest

from client.net import FAST_PINGS, ConnectError, NetClient, ping_delay
from shared.messages import CloseCode, Hello, Pong, Role
from tests.loopback import running_server


def test_server_now_maps_a_skewed_local_clock_onto_the_servers() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            await check_skewed_client(url)

    async def check_skewed_client(url: str) -> None:
        skew = 1234.5  # the client's clock reads 1234.5 s ahead of the server's
        client = NetClient(
            url,
            Hello("Ann", Role.PLAYER),
            clock=lambda: time.monotonic() + skew,
            keep_inbox=True,
        )
        await client.connect()
        for _ in range(10):
            await client.next(Pong)
        truth = time.monotonic()
        # Loopback round trips are well under a millisecond or two.
        assert abs(client.server_now() - truth) < 0.005
        assert client.sync.sample_count == 10
        assert client.round_trip is not None and client.round_trip < 0.05
        assert client.state.tempo is not None
        assert client.state.me is not None and client.state.me.name == "Ann"
        await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_pings_are_fast_at_first_then_in_pairs_once_a_second() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            await check_ping_rate(url)

    async def check_ping_rate(url: str) -> None:
        client = NetClient(url, Hello("Ann", Role.PLAYER), keep_inbox=True)
        await client.connect()
        start = time.monotonic()
        for _ in range(FAST_PINGS):
            await client.next(Pong)
        fast = time.monotonic() - start
        arrivals = []
        for _ in range(3):
            await client.next(Pong)
            arrivals.append(time.monotonic())
        # 30 pings at 10/s take about 3 s; then a pair 20 ms apart once a second.
        assert 2.5 < fast < 4.0
        assert 0.0 < arrivals[1] - arrivals[0] < 0.1
        assert 0.85 < arrivals[2] - arrivals[1] < 1.15
        await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_the_pairs_come_at_a_random_point_of_a_second_then_a_second_apart_give_or_take() -> None:
    fast = [ping_delay(sent, 0.9) for sent in range(1, FAST_PINGS)]
    assert fast == [0.1] * (FAST_PINGS - 1)
    # After the 30th: the first pair at a random point of the next second.
    assert [ping_delay(FAST_PINGS, draw) for draw in (0.0, 0.5, 0.999)] == [0.1, 0.6, 1.099]
    assert ping_delay(FAST_PINGS + 1, 0.7) == 0.02  # the pair's second
    # Then a pair a second, up to 0.1 s early or late.
    low, mid, high = (ping_delay(FAST_PINGS + 2, draw) for draw in (0.0, 0.5, 1.0))
    assert (round(low, 9), mid, round(high, 9)) == (0.88, 0.98, 1.08)
    assert ping_delay(FAST_PINGS + 3, 0.0) == 0.02


def test_screens_that_join_together_spread_their_pings_over_the_second() -> None:
    # 288 screens joined at the same instant: when does each ping in its 10th second?
    phases = []
    for screen in range(288):
        rng, at, sent = random.Random(screen), 0.0, 1
        while at < 9.0:
            at += ping_delay(sent, rng.random())
            sent += 1
        phases.append(at % 1.0)
    per_tenth = [sum(1 for p in phases if k / 10 <= p < (k + 1) / 10) for k in range(10)]
    assert max(per_tenth) < 2 * 288 / 10  # without the jitter: all 288 in one tenth


def test_a_refused_join_and_an_unreachable_server_raise_connect_error() -> None:
    async def scenario() -> None:
        async with running_server() as url:
            client = NetClient(url, Hello("Ann", Role.PLAYER, room="NOPE"))
            with pytest.raises(ConnectError) as refused:
                await client.connect()
            assert (refused.value.code, refused.value.reason) == (
                CloseCode.NO_SUCH_ROOM,
                "no room NOPE here",
            )
        with socket.socket() as s:  # a port that nothing listens on
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        nobody = NetClient(f"ws://127.0.0.1:{free}", Hello("Ann", Role.PLAYER))
        with pytest.raises(ConnectError, match=r"cannot reach ws://127\.0\.0\.1:\d+"):
            await nobody.connect()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_server_now_before_any_pong_is_an_error_not_a_guess() -> None:
    client = NetClient("ws://127.0.0.1:1", Hello("Ann", Role.PLAYER))
    with pytest.raises(RuntimeError, match="no clock sample yet"):
        client.server_now()
