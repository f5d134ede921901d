"""Finding rooms on loopback, resolving codes, and reading what a player typed.

Rooms are advertised by the real :class:`server.discovery.RoomAdvertiser` on
127.0.0.1 only. Each test uses a host name of its own, and looks only at rooms
on that host, so rooms advertised by anything else on loopback at the same
time cannot be mistaken for ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from zeroconf import ServiceInfo

from client.discovery import (
    DiscoveryError,
    FoundRoom,
    RoomBrowser,
    RoomNotFound,
    find_rooms,
    parse_target,
    resolve,
    room_from_info,
)
from client.net import NetClient
from server.discovery import SERVICE_TYPE, RoomAdvertiser
from server.main import open_server
from shared.messages import PROTOCOL_VERSION, Hello, Role

LOOPBACK = ["127.0.0.1"]
WAIT = 5.0  # bound on every wait for the network; loopback answers in milliseconds


def unique_host() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def room(code: str, host: str, port: int, needs_password: bool = False) -> FoundRoom:
    """The FoundRoom a loopback advertisement of these should come back as."""
    return FoundRoom(
        code=code,
        host=host,
        addresses=("127.0.0.1",),
        port=port,
        needs_password=needs_password,
        protocol=PROTOCOL_VERSION,
        name=f"PoseJam {code} on {host}",
    )


@contextlib.asynccontextmanager
async def advertising(*advertisers: RoomAdvertiser) -> AsyncIterator[None]:
    # Probing takes about a second each: probe side by side.
    started = await asyncio.gather(*(a.start() for a in advertisers))
    try:
        assert all(started)
        yield
    finally:
        await asyncio.gather(*(a.stop() for a in advertisers))


def on_loopback(code: str, port: int, host: str, needs_password: bool = False) -> RoomAdvertiser:
    return RoomAdvertiser(
        code, port, "127.0.0.1", needs_password, interfaces=LOOPBACK, hostname=host
    )


# -- what a player typed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("ABCD", ("code", "ABCD")),
        ("abcd", ("code", "ABCD")),
        ("  wXyZ\n", ("code", "WXYZ")),
        ("ws://192.168.1.20:8765", ("url", "ws://192.168.1.20:8765")),
        ("wss://party.example:443/room", ("url", "wss://party.example:443/room")),
        ("WS://[fe80::1]:8765", ("url", "WS://[fe80::1]:8765")),
    ],
)
def test_a_code_or_a_url_is_understood(text: str, target: tuple[str, str]) -> None:
    assert parse_target(text) == target


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give a room code (4 letters, like ABCD) or a ws:// URL"),
        ("   ", "give a room code (4 letters, like ABCD) or a ws:// URL"),
        ("ABC", "'ABC' is not a room code (4 letters, like ABCD) or a ws:// URL"),
        ("ABCDE", "'ABCDE' is not a room code (4 letters, like ABCD) or a ws:// URL"),
        ("AB1D", "'AB1D' is not a room code (4 letters, like ABCD) or a ws:// URL"),
        ("ÄBCD", "'ÄBCD' is not a room code (4 letters, like ABCD) or a ws:// URL"),
        (
            "192.168.1.20:8765",
            "'192.168.1.20:8765' is not a room code or a URL: did you mean ws://192.168.1.20:8765?",
        ),
        (
            "http://192.168.1.20:8765",
            "'http://192.168.1.20:8765': a room URL starts with ws:// or wss://, not http://",
        ),
        ("ws://:8765", "'ws://:8765' has no host: use ws://HOST:PORT"),
        ("ws://192.168.1.20", "'ws://192.168.1.20' has no port: use ws://HOST:PORT"),
        (
            "ws://192.168.1.20:99999",
            "'ws://192.168.1.20:99999': the port must be a number in range 1..65535",
        ),
        (
            "ws://192.168.1.20:0",
            "'ws://192.168.1.20:0': the port must be a number in range 1..65535",
        ),
        (
            "ws://192.168.1.20:port",
            "'ws://192.168.1.20:port': the port must be a number in range 1..65535",
        ),
    ],
)
def test_anything_else_is_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_target(text)
    assert str(caught.value) == message


# -- reading an announcement -----------------------------------------------------------------


def info(properties: dict[str, str], port: int | None = 8765) -> ServiceInfo:
    return ServiceInfo(
        SERVICE_TYPE,
        f"PoseJam ABCD on laptop.{SERVICE_TYPE}",
        port=port,
        properties=properties,
        server="posejam-abcd-laptop.local.",
        parsed_addresses=["192.168.1.20", "10.0.0.7"],
    )


GOOD = {"room": "ABCD", "protocol": "1", "password": "1", "players": "3"}


def test_an_announcement_reads_as_a_room() -> None:
    assert room_from_info(info(GOOD)) == FoundRoom(
        code="ABCD",
        host="laptop",
        addresses=("192.168.1.20", "10.0.0.7"),
        port=8765,
        needs_password=True,
        protocol=1,
        players=3,
        name="PoseJam ABCD on laptop",
    )


@pytest.mark.parametrize(
    "properties",
    [
        {**GOOD, "room": "abcd"},
        {**GOOD, "room": "ABCDE"},
        {k: v for k, v in GOOD.items() if k != "room"},
        {**GOOD, "protocol": "one"},
        {**GOOD, "password": "yes"},
        {k: v for k, v in GOOD.items() if k != "password"},
        {**GOOD, "players": "-1"},
    ],
)
def test_a_foreign_or_broken_announcement_is_not_a_room(properties: dict[str, str]) -> None:
    assert room_from_info(info(properties)) is None


def test_an_announcement_without_a_port_is_not_a_room() -> None:
    assert room_from_info(info(GOOD, port=0)) is None


def test_urls_put_ipv6_addresses_in_brackets() -> None:
    found = FoundRoom("ABCD", "laptop", ("192.168.1.20", "fd00::2"), 8765, False, 1)
    assert found.urls == ("ws://192.168.1.20:8765", "ws://[fd00::2]:8765")
    assert found.url == "ws://192.168.1.20:8765"


def test_room_not_found_lists_what_was_found() -> None:
    found = [room("BCDE", "alpha", 1), room("CDEF", "beta", 2)]
    assert str(RoomNotFound("ABCD", found)) == (
        "no room ABCD on this network (found: BCDE on alpha, CDEF on beta)"
    )
    assert str(RoomNotFound("ABCD", [])) == "no room ABCD on this network (found: none)"


# -- on loopback -----------------------------------------------------------------------------


def test_two_rooms_are_found_with_their_codes_ports_and_password_flags() -> None:
    host = unique_host()

    async def scenario() -> list[FoundRoom]:
        async with advertising(
            on_loopback("QWER", 40201, host, needs_password=True),
            on_loopback("TYUP", 40202, host),
        ):
            rooms = await find_rooms(timeout=1.0, interfaces=LOOPBACK)
        return [r for r in rooms if r.host == host]

    found = asyncio.run(scenario())
    assert found == [
        room("QWER", host, 40201, needs_password=True),
        room("TYUP", host, 40202),
    ]
    assert found[0].url == "ws://127.0.0.1:40201"


def test_a_code_resolves_in_any_case_and_an_unknown_one_lists_the_rooms_found() -> None:
    async def scenario() -> None:
        host = unique_host()
        async with advertising(
            on_loopback("GHJK", 40203, host), on_loopback("LMNP", 40204, host, True)
        ):
            assert await resolve("lmnp", timeout=WAIT, interfaces=LOOPBACK) == room(
                "LMNP", host, 40204, needs_password=True
            )
            assert await resolve("Ghjk", timeout=WAIT, interfaces=LOOPBACK) == room(
                "GHJK", host, 40203
            )
            # No room code is ever made with an I or an O (server.lobby).
            with pytest.raises(RoomNotFound) as caught:
                await resolve("IOIO", timeout=1.0, interfaces=LOOPBACK)
            message = str(caught.value)
            assert message.startswith("no room IOIO on this network (found: ")
            assert f"GHJK on {host}" in message
            assert f"LMNP on {host}" in message
            assert {r.code for r in caught.value.found if r.host == host} == {"GHJK", "LMNP"}

    asyncio.run(scenario())


def test_a_room_that_stopped_advertising_is_no_longer_found() -> None:
    async def scenario() -> None:
        host = unique_host()

        def ours(rooms: list[FoundRoom]) -> set[str]:
            return {r.code for r in rooms if r.host == host}

        staying = on_loopback("RSTV", 40205, host)
        leaving = on_loopback("WXYZ", 40206, host)
        async with advertising(staying, leaving), RoomBrowser(LOOPBACK) as browser:
            await browser.wait_for(lambda rooms: ours(rooms) == {"RSTV", "WXYZ"}, WAIT)
            # Stopped while its start-up announcements (3, 225 ms apart) are still going:
            # none may follow the goodbye and bring the room back.
            await leaving.stop()
            # Gone on its goodbye, not when its records would expire (75 min).
            await browser.wait_for(lambda rooms: ours(rooms) == {"RSTV"}, WAIT)
            with pytest.raises(RoomNotFound):
                await resolve("WXYZ", timeout=1.0, interfaces=LOOPBACK)
            assert (await resolve("RSTV", timeout=WAIT, interfaces=LOOPBACK)).port == 40205

    asyncio.run(scenario())


def test_a_room_on_another_protocol_is_refused_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("server.discovery.PROTOCOL_VERSION", PROTOCOL_VERSION + 1)

    host = unique_host()

    async def scenario() -> None:
        async with advertising(on_loopback("BCDF", 40207, host)):
            await resolve("BCDF", timeout=WAIT, interfaces=LOOPBACK)

    with pytest.raises(DiscoveryError) as caught:
        asyncio.run(scenario())
    assert not isinstance(caught.value, RoomNotFound)
    assert str(caught.value) == (
        f"room BCDF on {host} speaks protocol {PROTOCOL_VERSION + 1}, "
        f"this PoseJam speaks {PROTOCOL_VERSION}: update the older one"
    )


def test_a_code_on_two_hosts_is_refused_with_both_urls() -> None:
    alpha, beta = unique_host(), unique_host()

    async def scenario() -> None:
        async with advertising(on_loopback("DFGH", 40208, alpha), on_loopback("DFGH", 40209, beta)):
            await resolve("DFGH", timeout=WAIT, interfaces=LOOPBACK)

    with pytest.raises(DiscoveryError) as caught:
        asyncio.run(scenario())
    first, second = sorted([(alpha, 40208), (beta, 40209)])
    assert str(caught.value) == (
        f"room DFGH is on 2 hosts ({first[0]}, {second[0]}): join one by URL: "
        f"ws://127.0.0.1:{first[1]}, ws://127.0.0.1:{second[1]}"
    )


def test_resolve_wants_a_code() -> None:
    with pytest.raises(ValueError) as caught:
        asyncio.run(resolve("ws://127.0.0.1:8765", interfaces=LOOPBACK))
    assert str(caught.value) == "'ws://127.0.0.1:8765' is a URL, not a room code"


def test_a_real_server_is_joined_by_its_code() -> None:
    async def scenario() -> None:
        server, code, port = await open_server("127.0.0.1", 0, None, "", 120.0)
        try:
            advertiser = RoomAdvertiser(code, port, "127.0.0.1", interfaces=LOOPBACK)
            async with advertising(advertiser):
                found = await resolve(code.lower(), timeout=WAIT, interfaces=LOOPBACK)
            assert found.url == f"ws://127.0.0.1:{port}"
            client = NetClient(found.url, Hello("Ann", Role.PLAYER))
            welcome = await client.connect()
            assert welcome.room == code
            assert welcome.player.name == "Ann"
            await client.close()
        finally:
            await server.stop()

    asyncio.run(asyncio.wait_for(scenario(), 20))
