"""RoomAdvertiser on loopback: what it announces, its goodbye, and how it fails.

The announcements are read back with plain zeroconf, as another program on
the network would. Each test uses a host name of its own, so rooms advertised
by anything else on loopback at the same time cannot be mistaken for ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

import ifaddr
import pytest
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from server.discovery import (
    SERVICE_TYPE,
    RoomAdvertiser,
    advertised_addresses,
    instance_name,
    room_properties,
    server_name,
)
from shared.messages import PROTOCOL_VERSION

LOOPBACK = ["127.0.0.1"]
WAIT = 5.0  # bound on every wait for the network; loopback answers in milliseconds


def unique_host() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


class Watcher:
    """Plain zeroconf browsing our service type on loopback, recording every change."""

    def __init__(self, zeroconf: AsyncZeroconf) -> None:
        self.zeroconf = zeroconf
        self.events: list[tuple[str, ServiceStateChange]] = []
        self._changed = asyncio.Event()
        self.browser = AsyncServiceBrowser(zeroconf.zeroconf, SERVICE_TYPE, handlers=[self._on])

    def _on(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        self.events.append((name, state_change))
        self._changed.set()

    async def wait_for(self, name: str, change: ServiceStateChange, timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while (name, change) not in self.events:
                self._changed.clear()
                await self._changed.wait()

    async def info(self, name: str) -> AsyncServiceInfo:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        assert await info.async_request(self.zeroconf.zeroconf, 3000)
        return info


@contextlib.asynccontextmanager
async def watching() -> AsyncIterator[Watcher]:
    async with AsyncZeroconf(interfaces=LOOPBACK) as zeroconf:
        watcher = Watcher(zeroconf)
        try:
            yield watcher
        finally:
            await watcher.browser.async_cancel()


def test_names_and_properties_are_exact() -> None:
    assert instance_name("ABCD", "laptop.example.org") == "PoseJam ABCD on laptop"
    long = instance_name("ABCD", "é" * 40)  # 80 bytes of UTF-8: cut on a character
    assert long == "PoseJam ABCD on " + "é" * 23
    assert len(long.encode()) == 62
    assert server_name("ABCD", "Ann's Laptop.lan") == "posejam-abcd-ann-s-laptop.local."
    assert server_name("ABCD", "---") == "posejam-abcd.local."
    assert len(server_name("ABCD", "x" * 100)) == 63 + len(".local.")
    assert room_properties("ABCD", True, None) == {
        "room": "ABCD",
        "protocol": str(PROTOCOL_VERSION),
        "password": "1",
    }
    assert room_properties("WXYZ", False, 3) == {
        "room": "WXYZ",
        "protocol": str(PROTOCOL_VERSION),
        "password": "0",
        "players": "3",
    }


def test_a_wildcard_server_is_advertised_on_its_lan_ipv4_addresses() -> None:
    adapters = [
        ifaddr.Adapter(
            "lo", "lo", [ifaddr.IP("127.0.0.1", 8, "lo"), ifaddr.IP(("::1", 0, 0), 128, "lo")]
        ),
        ifaddr.Adapter(
            "eth0",
            "eth0",
            [ifaddr.IP("192.168.1.20", 24, "eth0"), ifaddr.IP(("fe80::1", 0, 2), 64, "eth0")],
        ),
        ifaddr.Adapter("wlan0", "wlan0", [ifaddr.IP("10.0.0.7", 8, "wlan0")]),
        ifaddr.Adapter("br0", "br0", [ifaddr.IP("192.168.1.20", 24, "br0")]),
    ]
    assert advertised_addresses("0.0.0.0", adapters) == ["192.168.1.20", "10.0.0.7"]
    assert advertised_addresses("", adapters) == ["192.168.1.20", "10.0.0.7"]
    assert advertised_addresses("127.0.0.1", adapters) == ["127.0.0.1"]
    assert advertised_addresses("10.0.0.7", adapters) == ["10.0.0.7"]
    with pytest.raises(ValueError):
        advertised_addresses("laptop.local", adapters)


@pytest.mark.parametrize(
    ("code", "port", "message"),
    [
        ("abcd", 8765, "room code must be 4 letters A-Z, got 'abcd'"),
        ("ABC", 8765, "room code must be 4 letters A-Z, got 'ABC'"),
        ("ABCD", 0, "port must be in range 1..65535, got 0"),
    ],
)
def test_bad_arguments_are_refused(code: str, port: int, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        RoomAdvertiser(code, port)
    assert str(caught.value) == message


def test_a_room_is_announced_exactly_and_says_goodbye_on_stop() -> None:
    async def scenario() -> None:
        host = unique_host()
        advertiser = RoomAdvertiser(
            "QWER", 40123, "127.0.0.1", needs_password=True, interfaces=LOOPBACK, hostname=host
        )
        async with watching() as watcher:
            assert await advertiser.start()
            assert advertiser.advertising
            name = f"PoseJam QWER on {host}.{SERVICE_TYPE}"
            await watcher.wait_for(name, ServiceStateChange.Added)
            info = await watcher.info(name)
            assert info.port == 40123
            assert info.parsed_addresses() == ["127.0.0.1"]
            assert info.server == f"posejam-qwer-{host}.local."
            assert info.properties == {
                b"room": b"QWER",
                b"protocol": str(PROTOCOL_VERSION).encode(),
                b"password": b"1",
            }
            await advertiser.stop()
            assert not advertiser.advertising
            await watcher.wait_for(name, ServiceStateChange.Removed)
            await advertiser.stop()  # twice is harmless

    asyncio.run(scenario())


def test_a_new_player_count_is_announced() -> None:
    async def scenario() -> None:
        host = unique_host()
        advertiser = RoomAdvertiser(
            "ZXCV", 40124, "127.0.0.1", players=1, interfaces=LOOPBACK, hostname=host
        )
        async with watching() as watcher:
            assert await advertiser.start()
            name = f"PoseJam ZXCV on {host}.{SERVICE_TYPE}"
            await watcher.wait_for(name, ServiceStateChange.Added)
            assert (await watcher.info(name)).decoded_properties["players"] == "1"
            await advertiser.update_players(4)
            await watcher.wait_for(name, ServiceStateChange.Updated)
            assert (await watcher.info(name)).decoded_properties["players"] == "4"
            await advertiser.stop()

    asyncio.run(scenario())


def test_an_interface_that_is_not_ours_is_a_warning_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        # 192.0.2.0/24 is TEST-NET-1: never one of this machine's addresses.
        advertiser = RoomAdvertiser("ASDF", 40125, "127.0.0.1", interfaces=["192.0.2.254"])
        assert not await advertiser.start()
        assert not advertiser.advertising
        await advertiser.stop()

    with caplog.at_level(logging.WARNING, logger="server.discovery"):
        asyncio.run(scenario())
    # The reason is the OS's (on Linux: "[Errno 19] No such device").
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("room ASDF not advertised on the LAN: ")


def test_a_name_already_taken_is_a_warning_and_the_first_room_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = unique_host()

    async def scenario() -> None:
        first = RoomAdvertiser("HJKL", 40126, "127.0.0.1", interfaces=LOOPBACK, hostname=host)
        second = RoomAdvertiser("HJKL", 40127, "127.0.0.1", interfaces=LOOPBACK, hostname=host)
        async with watching() as watcher:
            assert await first.start()
            with caplog.at_level(logging.WARNING, logger="server.discovery"):
                assert not await second.start()
            name = f"PoseJam HJKL on {host}.{SERVICE_TYPE}"
            await watcher.wait_for(name, ServiceStateChange.Added)
            assert (await watcher.info(name)).port == 40126
            await second.stop()
            await first.stop()

    asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records] == [
        f"room HJKL not advertised: 'PoseJam HJKL on {host}' is taken on the LAN"
    ]


def test_posejam_server_announces_its_room_and_withdraws_it_on_sigterm() -> None:
    from client.discovery import RoomNotFound, resolve
    from tests.loopback import server_process

    args = ("--journal", "none", "--room", "ADVT", "--advertise", "on", "--generator", "seeds")
    with server_process(*args) as (proc, url):
        room = asyncio.run(resolve("advt", timeout=5.0, interfaces=["127.0.0.1"]))
        assert (room.code, room.url) == ("ADVT", url)
        proc.send_signal(15)
        assert proc.wait(timeout=10) == 0
        with pytest.raises(RoomNotFound, match="no room ADVT on this network"):
            asyncio.run(resolve("ADVT", timeout=1.0, interfaces=["127.0.0.1"]))
