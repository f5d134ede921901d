"""Announce a room on the LAN with mDNS/DNS-SD, so friends' clients see it appear.

One service per room, of type ``_posejam._tcp.local.``, named like
``PoseJam ABCD on laptop``. Its TXT properties say the room code, the protocol
version and whether a password is needed (never the password itself).

Discovery is a convenience: a room can always be joined by its ``ws://`` URL.
So when the advertisement cannot be made (no multicast, no usable interface, a
name clash) :meth:`RoomAdvertiser.start` logs a warning, returns False, and
the server runs on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Iterable, Sequence

import ifaddr
from zeroconf import Error as ZeroconfError
from zeroconf import InterfaceChoice, NonUniqueNameException
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from shared.messages import PROTOCOL_VERSION

logger = logging.getLogger(__name__)

SERVICE_TYPE = "_posejam._tcp.local."
INSTANCE_PREFIX = "PoseJam"
# DNS-SD instance names and DNS labels are at most 63 bytes (RFC 6763 §4.1.1, RFC 1035).
MAX_LABEL_BYTES = 63
WILDCARD_HOSTS = ("", "0.0.0.0", "::")
_ROOM_CODE = re.compile(r"[A-Z]{4}")

# Where zeroconf sends and listens: all interfaces, or these addresses.
Interfaces = Sequence[str] | InterfaceChoice


def instance_name(code: str, hostname: str) -> str:
    """``PoseJam ABCD on laptop``, cut to fit in one DNS-SD label."""
    text = f"{INSTANCE_PREFIX} {code} on {hostname.partition('.')[0]}"
    return text.encode()[:MAX_LABEL_BYTES].decode(errors="ignore")


def server_name(code: str, hostname: str) -> str:
    """The SRV target: a name of the room's own, never the machine's ``host.local.``.

    The machine's own name is answered by its OS responder (Avahi, Bonjour) with
    its own address set; announcing another set under it reads as a conflict to
    them, and they rename the machine.
    """
    label = re.sub(r"[^a-z0-9-]+", "-", hostname.partition(".")[0].lower()).strip("-")
    label = f"posejam-{code.lower()}-{label}".strip("-")[:MAX_LABEL_BYTES].rstrip("-")
    return f"{label}.local."


def room_properties(code: str, needs_password: bool, players: int | None) -> dict[str, str]:
    """The TXT properties of a room."""
    properties = {
        "room": code,
        "protocol": str(PROTOCOL_VERSION),
        "password": "1" if needs_password else "0",
    }
    if players is not None:
        properties["players"] = str(players)
    return properties


def lan_ipv4_addresses(adapters: Iterable[ifaddr.Adapter]) -> list[str]:
    """This machine's IPv4 addresses other than loopback, in interface order."""
    found: list[str] = []
    for adapter in adapters:
        for ip in adapter.ips:
            if ip.is_IPv4 and isinstance(ip.ip, str):
                address = ipaddress.IPv4Address(ip.ip)
                if not address.is_loopback and ip.ip not in found:
                    found.append(ip.ip)
    return found


def advertised_addresses(host: str, adapters: Iterable[ifaddr.Adapter]) -> list[str]:
    """The addresses a server listening on ``host`` can be reached at.

    A wildcard host is reachable on every LAN IPv4 address (IPv6 link-local
    addresses would need a scope id that a ws:// URL cannot carry); an address
    is reachable only at itself. Raises ``ValueError`` for a host name.
    """
    if host in WILDCARD_HOSTS:
        return lan_ipv4_addresses(adapters)
    return [str(ipaddress.ip_address(host))]


class RoomAdvertiser:
    """Advertises one room while it runs: ``await start()``, later ``await stop()``.

    ``host`` is the address the server listens on. ``interfaces`` are where the
    advertisement is sent (zeroconf's choice); by default every interface, except
    for a server on loopback only, which is announced on loopback only: other
    machines could do nothing with 127.0.0.1.
    """

    def __init__(
        self,
        code: str,
        port: int,
        host: str = "0.0.0.0",
        needs_password: bool = False,
        players: int | None = None,
        interfaces: Interfaces | None = None,
        hostname: str | None = None,
    ) -> None:
        if not _ROOM_CODE.fullmatch(code):
            raise ValueError(f"room code must be 4 letters A-Z, got {code!r}")
        if not 1 <= port <= 65535:
            raise ValueError(f"port must be in range 1..65535, got {port}")
        self.code = code
        self.port = port
        self.host = host
        self.needs_password = needs_password
        self.players = players
        self.interfaces = interfaces
        self.hostname = hostname or socket.gethostname()
        self.name = instance_name(code, self.hostname)
        self.addresses: list[str] = []
        self._zeroconf: AsyncZeroconf | None = None
        self._info: AsyncServiceInfo | None = None
        # Announcements go on after start() and update_players() return; a goodbye
        # must not be followed by one, or browsers would see the room come back.
        self._announcing: Awaitable[None] | None = None

    @property
    def advertising(self) -> bool:
        return self._info is not None

    async def start(self) -> bool:
        """Probe for the name, then announce the room; False (and a warning) if it cannot.

        Returns once the name is ours, about a second (RFC 6762 §8.1 probing);
        the announcements go on in the background.
        """
        if self._zeroconf is not None:
            raise RuntimeError("already started")
        try:
            self.addresses = await self._addresses()
            if not self.addresses:
                logger.warning("room %s not advertised: this machine has no LAN address", self.code)
                return False
            interfaces = self.interfaces
            if interfaces is None:
                on_loopback = all(ipaddress.ip_address(a).is_loopback for a in self.addresses)
                interfaces = ["127.0.0.1"] if on_loopback else InterfaceChoice.All
            self._zeroconf = AsyncZeroconf(interfaces=interfaces)
            info = self._service_info()
            self._announcing = await self._zeroconf.async_register_service(info)
        except NonUniqueNameException:
            logger.warning("room %s not advertised: %r is taken on the LAN", self.code, self.name)
            await self._close()
            return False
        except (OSError, ValueError, ZeroconfError) as exc:
            reason = str(exc) or type(exc).__name__
            logger.warning("room %s not advertised on the LAN: %s", self.code, reason)
            await self._close()
            return False
        self._info = info
        logger.info(
            "advertising room %s as %r at %s port %d",
            self.code,
            self.name,
            ", ".join(self.addresses),
            self.port,
        )
        return True

    async def update_players(self, players: int) -> None:
        """Announce a new player count (no-op when not advertising)."""
        self.players = players
        if self._zeroconf is None or self._info is None:
            return
        self._info = self._service_info()
        self._stop_announcing()
        try:
            self._announcing = await self._zeroconf.async_update_service(self._info)
        except (OSError, ZeroconfError) as exc:
            logger.warning("room %s: cannot update its advertisement: %s", self.code, exc)

    async def stop(self) -> None:
        """Say goodbye (so browsers drop the room at once) and close; safe to call twice."""
        self._stop_announcing()
        if self._zeroconf is not None and self._info is not None:
            try:
                goodbyes = await self._zeroconf.async_unregister_service(self._info)
                await goodbyes
            except (OSError, ZeroconfError) as exc:
                logger.warning("room %s: goodbye not sent: %s", self.code, exc)
        self._info = None
        await self._close()

    def _stop_announcing(self) -> None:
        announcing, self._announcing = self._announcing, None
        if isinstance(announcing, asyncio.Future):
            announcing.cancel()

    async def _close(self) -> None:
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is not None:
            await zeroconf.async_close()

    async def _addresses(self) -> list[str]:
        try:
            return advertised_addresses(self.host, ifaddr.get_adapters())
        except ValueError:  # a host name: the addresses it resolves to
            loop = asyncio.get_running_loop()
            found = await loop.getaddrinfo(self.host, self.port, family=socket.AF_INET)
            return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))

    def _service_info(self) -> AsyncServiceInfo:
        return AsyncServiceInfo(
            SERVICE_TYPE,
            f"{self.name}.{SERVICE_TYPE}",
            port=self.port,
            properties=room_properties(self.code, self.needs_password, self.players),
            server=server_name(self.code, self.hostname),
            parsed_addresses=self.addresses,
        )
