"""Find PoseJam rooms on the LAN (mDNS/DNS-SD), and read what a player typed to join one.

:func:`find_rooms` lists the rooms that answer within a time; :func:`resolve`
turns a room code into a room's address; :class:`RoomBrowser` keeps a live list
(for a lobby screen that shows rooms as they appear and go). The rooms are the
ones :class:`server.discovery.RoomAdvertiser` announces.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

from zeroconf import Error as ZeroconfError
from zeroconf import InterfaceChoice, ServiceInfo, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from server.discovery import INSTANCE_PREFIX, SERVICE_TYPE, Interfaces
from shared.messages import PROTOCOL_VERSION

logger = logging.getLogger(__name__)

RESOLVE_TIMEOUT_MS = 3000
# Every responder answers a browse query after a random 20-120 ms (RFC 6762 §6),
# so a second room with the same code shows up within this window of the first.
SAME_CODE_WINDOW = 0.3
_CODE = re.compile(r"[A-Za-z]{4}")
_HOST_PORT = re.compile(r"[\w.-]+:\d+(/.*)?")
_INSTANCE = re.compile(rf"{INSTANCE_PREFIX} [A-Z]{{4}} on (.+)")

Target = tuple[Literal["code", "url"], str]


class DiscoveryError(Exception):
    """Rooms could not be looked up, or the answer does not name one room to join."""


class RoomNotFound(DiscoveryError):
    def __init__(self, code: str, found: Sequence[FoundRoom]) -> None:
        rooms = ", ".join(room.describe() for room in found) or "none"
        super().__init__(f"no room {code} on this network (found: {rooms})")
        self.code = code
        self.found = list(found)


@dataclass(frozen=True, slots=True)
class FoundRoom:
    code: str
    host: str  # the machine's name, as the room announces it
    addresses: tuple[str, ...]  # IPv4 first
    port: int
    needs_password: bool
    protocol: int
    players: int | None = None
    name: str = ""  # the service instance, e.g. "PoseJam ABCD on laptop"

    @property
    def urls(self) -> tuple[str, ...]:
        """One ws:// URL per address, in the order to try them."""
        return tuple(
            f"ws://{address}:{self.port}"
            if ipaddress.ip_address(address).version == 4
            else f"ws://[{address}]:{self.port}"
            for address in self.addresses
        )

    @property
    def url(self) -> str:
        return self.urls[0]

    def describe(self) -> str:
        return f"{self.code} on {self.host}"


def parse_target(text: str) -> Target:
    """What ``posejam join`` was given: ``("code", "ABCD")`` or ``("url", "ws://...")``.

    Raises ``ValueError`` saying what is wrong with anything else.
    """
    target = text.strip()
    if not target:
        raise ValueError("give a room code (4 letters, like ABCD) or a ws:// URL")
    if "://" in target:
        return "url", _check_url(target)
    if _CODE.fullmatch(target):
        return "code", target.upper()
    if _HOST_PORT.fullmatch(target):
        raise ValueError(f"{target!r} is not a room code or a URL: did you mean ws://{target}?")
    raise ValueError(f"{target!r} is not a room code (4 letters, like ABCD) or a ws:// URL")


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("ws", "wss"):
        raise ValueError(f"{url!r}: a room URL starts with ws:// or wss://, not {parts.scheme}://")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host: use ws://HOST:PORT")
    if port is None:
        raise ValueError(f"{url!r} has no port: use ws://HOST:PORT")
    if not 1 <= port <= 65535:
        raise ValueError(f"{url!r}: the port must be a number in range 1..65535")
    return url


def room_from_info(info: ServiceInfo) -> FoundRoom | None:
    """The room a resolved service announces; None (logged) if it is not a PoseJam room."""
    properties = info.decoded_properties
    code = properties.get("room") or ""
    protocol = properties.get("protocol") or ""
    password = properties.get("password")
    players = properties.get("players")
    addresses = tuple(info.parsed_addresses())
    port = info.port or 0
    problems = (
        (not re.fullmatch(r"[A-Z]{4}", code), "no valid room code"),
        (not protocol.isdecimal(), "no protocol number"),
        (password not in ("0", "1"), "no password flag"),
        (players is not None and not players.isdecimal(), "a bad player count"),
        (not port, "no port"),
        (not addresses, "no address"),
    )
    problem = next((why for bad, why in problems if bad), None)
    if problem:
        logger.debug("ignoring %r: %s", info.name, problem)
        return None
    label = info.name.removesuffix(f".{SERVICE_TYPE}")
    match = _INSTANCE.fullmatch(label)
    return FoundRoom(
        code=code,
        host=match[1] if match else label,
        addresses=addresses,
        port=port,
        needs_password=password == "1",
        protocol=int(protocol),
        players=int(players) if players is not None else None,
        name=label,
    )


class RoomBrowser:
    """A live list of the rooms on the network, while in ``async with``."""

    def __init__(self, interfaces: Interfaces = InterfaceChoice.All) -> None:
        self.interfaces = interfaces
        self._zeroconf: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._rooms: dict[str, FoundRoom] = {}
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()

    @property
    def rooms(self) -> list[FoundRoom]:
        """The rooms seen so far and not gone, by code then host."""
        return sorted(self._rooms.values(), key=lambda room: (room.code, room.host, room.name))

    async def __aenter__(self) -> RoomBrowser:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        if self._zeroconf is not None:
            raise RuntimeError("already started")
        try:
            self._zeroconf = AsyncZeroconf(interfaces=self.interfaces)
        except (OSError, ZeroconfError) as exc:
            reason = str(exc) or type(exc).__name__
            raise DiscoveryError(f"cannot look for rooms on this network: {reason}") from exc
        self._browser = AsyncServiceBrowser(
            self._zeroconf.zeroconf, SERVICE_TYPE, handlers=[self._on_change]
        )

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None
        tasks = list(self._resolving.values())
        self._resolving.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._zeroconf is not None:
            await self._zeroconf.async_close()
            self._zeroconf = None

    async def wait_for(
        self, predicate: Callable[[list[FoundRoom]], bool], timeout: float
    ) -> list[FoundRoom]:
        """The rooms, as soon as ``predicate(rooms)`` holds; ``TimeoutError`` if it never does."""
        async with asyncio.timeout(timeout):
            while True:
                changed = self._changed  # take it before looking: a change replaces it
                rooms = self.rooms
                if predicate(rooms):
                    return rooms
                await changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # zeroconf calls handlers by keyword: the parameter names are its.
    def _on_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        logger.debug("%s: %s", state_change.name.lower(), name)
        pending = self._resolving.pop(name, None)
        if pending is not None:
            pending.cancel()
        if state_change is ServiceStateChange.Removed:
            if self._rooms.pop(name, None) is not None:
                self._notify()
            return
        self._resolving[name] = asyncio.create_task(self._resolve(zeroconf, name))

    async def _resolve(self, zeroconf: Zeroconf, name: str) -> None:
        try:
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            if not await info.async_request(zeroconf, RESOLVE_TIMEOUT_MS):
                logger.debug("%r did not answer with its address", name)
                return
            room = room_from_info(info)
            if room is not None:
                self._rooms[name] = room
            elif self._rooms.pop(name, None) is None:
                return
            self._notify()
        except (OSError, ZeroconfError) as exc:
            logger.debug("cannot resolve %r: %s", name, exc)
        finally:
            if self._resolving.get(name) is asyncio.current_task():
                del self._resolving[name]


async def find_rooms(
    timeout: float = 2.0, interfaces: Interfaces = InterfaceChoice.All
) -> list[FoundRoom]:
    """Every room that answers within ``timeout`` seconds, by code then host."""
    async with RoomBrowser(interfaces) as browser:
        await asyncio.sleep(timeout)  # the listening window itself: nobody says "that is all"
        return browser.rooms


async def resolve(
    code: str, timeout: float = 3.0, interfaces: Interfaces = InterfaceChoice.All
) -> FoundRoom:
    """The room with this code (any case), as soon as it answers.

    Raises :class:`RoomNotFound` if none answers within ``timeout``, and
    :class:`DiscoveryError` if two hosts have the code or the room speaks
    another protocol version; ``ValueError`` (from :func:`parse_target`) if
    ``code`` is not 4 letters.
    """
    kind, want = parse_target(code)
    if kind != "code":
        raise ValueError(f"{code!r} is a URL, not a room code")

    def matches(rooms: list[FoundRoom]) -> list[FoundRoom]:
        return [room for room in rooms if room.code == want]

    async with RoomBrowser(interfaces) as browser:
        try:
            await browser.wait_for(lambda rooms: bool(matches(rooms)), timeout)
        except TimeoutError:
            raise RoomNotFound(want, browser.rooms) from None
        with contextlib.suppress(TimeoutError):
            await browser.wait_for(lambda rooms: len(matches(rooms)) > 1, SAME_CODE_WINDOW)
        found = matches(browser.rooms)
        if not found:  # it said goodbye within the window
            raise RoomNotFound(want, browser.rooms)
    if len(found) > 1:
        hosts = ", ".join(room.host for room in found)
        urls = ", ".join(room.url for room in found)
        raise DiscoveryError(
            f"room {want} is on {len(found)} hosts ({hosts}): join one by URL: {urls}"
        )
    room = found[0]
    if room.protocol != PROTOCOL_VERSION:
        raise DiscoveryError(
            f"room {want} on {room.host} speaks protocol {room.protocol}, "
            f"this PoseJam speaks {PROTOCOL_VERSION}: update the older one"
        )
    return room
