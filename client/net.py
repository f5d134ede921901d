"""The network client: joins a room, keeps the clock in sync, keeps the room state.

Its clock is injectable (``clock``): everything it timestamps is local time on
that clock, and :meth:`NetClient.server_now` maps it to the server's clock
through :class:`shared.clock_sync.ClockSync`, fed by pings, 10 a second at first
(to sync fast), then 2 a second, in pairs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from client.room_state import RoomState
from shared.clock_sync import ClockSync
from shared.codec import ProtocolError, decode, encode
from shared.messages import (
    CloseCode,
    Hello,
    Kind,
    Leave,
    Message,
    Ping,
    Pong,
    Snapshot,
    Welcome,
    kind_of,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
M = TypeVar("M", bound=Message)

FAST_PINGS = 30  # the first 3 s at 10/s give a usable estimate at once
FAST_INTERVAL = 0.1
# Then 2 pings a second, sent as a pair 20 ms apart once a second: the first
# wakes every process, socket and radio on the way (an idle path is slower one
# way than the other), so the second finds them awake and comes back with the
# short, even round trip that the estimate trusts. NTP's burst mode does this.
PAIR_GAP = 0.02
PAIR_INTERVAL = 1.0
# Screens that joined together (a party starting, everyone back after a Wi-Fi blip)
# would ping in step for ever, and a server then answers hundreds of pings in the same
# few hundred ms each second, late for the poses meanwhile: the first pair comes at a
# random point of a second, and each next one up to this much early or late.
PAIR_JITTER = 0.1
MAX_FRAME = 1 << 20
INBOX_SIZE = 1024


def ping_delay(sent: int, draw: float) -> float:
    """Seconds to wait after the ``sent``-th ping before the next; ``draw`` is uniform
    in [0, 1)."""
    if sent < FAST_PINGS:
        return FAST_INTERVAL
    paired = sent - FAST_PINGS
    if paired % 2 == 1:  # the first of a pair went: its second follows
        return PAIR_GAP
    if paired == 0:
        return FAST_INTERVAL + draw * PAIR_INTERVAL
    return PAIR_INTERVAL - PAIR_GAP + PAIR_JITTER * (2.0 * draw - 1.0)


class ConnectError(Exception):
    """The server refused us or went away before welcoming us."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{reason} (close code {code})" if code else reason)
        self.code = code
        self.reason = reason


class NetClient:
    def __init__(
        self,
        url: str,
        hello: Hello,
        clock: Clock = time.monotonic,
        sync: ClockSync | None = None,
        keep_inbox: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.hello = hello
        self.clock = clock
        self.sync = sync or ClockSync()
        self.state = RoomState()
        self.received: Counter[Kind] = Counter()
        self.round_trip: float | None = None
        # With keep_inbox, every message is also queued for whoever awaits it (tests, bots).
        self.inbox: asyncio.Queue[Message] | None = (
            asyncio.Queue(INBOX_SIZE) if keep_inbox else None
        )
        self._ws: ClientConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pings_sent = 0
        self._rng = rng or random.Random()  # the pings' jitter
        self._outstanding: dict[int, float] = {}
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.token = ""  # the welcome's: this client's seat, to take back after a drop

    @property
    def player_id(self) -> int:
        if self.state.me is None:
            raise RuntimeError("not joined")
        return self.state.me.id

    def server_now(self) -> float:
        """The server's clock now, as far as the sync knows; raises before the first pong."""
        return self.sync.server_time(self.clock())

    async def connect(self) -> Welcome:
        """Open the socket, send hello, wait for welcome and snapshot, start pinging."""
        try:
            self._ws = await connect(self.url, max_size=MAX_FRAME, compression=None, proxy=None)
        except OSError as exc:
            raise ConnectError(None, f"cannot reach {self.url}: {exc.strerror or exc}") from exc
        await self._ws.send(encode(self.hello))
        welcome = await self._expect(Welcome)
        await self._expect(Snapshot)
        self.token = welcome.token
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]
        return welcome

    async def reconnect(self) -> Welcome:
        """After a drop: connect again to the same room with this client's token.

        Within the room's grace period the welcome names the same player (seat,
        colour, layer); after it, a new one. The room state is replaced by the new
        snapshot; the clock sync keeps what it learnt (the same server's clock).
        """
        await self.close(leave=False)
        self.hello = replace(self.hello, token=self.token, room=self.state.room or self.hello.room)
        self.closed.clear()
        self.close_code = None
        self.close_reason = ""
        self._outstanding.clear()
        return await self.connect()

    async def _expect(self, kind: type[M]) -> M:
        assert self._ws is not None
        try:
            message = self._ingest(await self._ws.recv(), self.clock())
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            reason = exc.rcvd.reason if exc.rcvd else "connection closed"
            raise ConnectError(code, reason) from exc
        except ProtocolError as exc:
            await self._ws.close(CloseCode.MALFORMED, "bad frame from server")
            raise ConnectError(None, f"the server sent a bad frame: {exc}") from exc
        if not isinstance(message, kind):
            raise ConnectError(None, f"expected {kind.__name__.lower()}, got {message!r}")
        return message

    def _ingest(self, frame: bytes | str, arrived: float) -> Message:
        message = decode(frame)
        self.received[kind_of(message)] += 1
        if isinstance(message, Pong):
            sent = self._outstanding.pop(message.seq, None)
            if sent is not None:  # an unknown seq is not ours to learn from
                self.sync.add(sent, message.server_time, arrived)
                self.round_trip = arrived - sent
        self.state.apply(message)
        if self.inbox is not None:
            if self.inbox.full():
                self.inbox.get_nowait()  # nobody is reading: keep the newest
            self.inbox.put_nowait(message)
        return message

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for frame in self._ws:
                try:
                    self._ingest(frame, self.clock())
                except ProtocolError as exc:
                    logger.warning("server sent a bad frame: %s", exc)
        except ConnectionClosed:
            pass
        finally:
            if self._ws.close_code is not None:
                self.close_code = self._ws.close_code
                self.close_reason = self._ws.close_reason or ""
            self.closed.set()

    async def _ping(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                seq = self._pings_sent
                self._pings_sent += 1
                sent = self.clock()
                self._outstanding[seq] = sent
                if len(self._outstanding) > 64:  # pongs lost for good: forget the oldest
                    self._outstanding.pop(min(self._outstanding))
                await self.send(Ping(seq, sent))
                await asyncio.sleep(ping_delay(self._pings_sent, self._rng.random()))

    async def send(self, message: Message) -> None:
        if self._ws is None:
            raise RuntimeError("not connected")
        await self._ws.send(encode(message))

    async def receive(self, timeout: float | None = None) -> Message:
        """The next message from the inbox (construct with ``keep_inbox=True``)."""
        if self.inbox is None:
            raise RuntimeError("construct with keep_inbox=True to await messages")
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def next(self, kind: type[M], timeout: float = 10.0) -> M:
        """The next inbox message of ``kind``; earlier ones of other kinds are skipped."""

        async def find() -> M:
            while True:
                message = await self.receive()
                if isinstance(message, kind):
                    return message

        return await asyncio.wait_for(find(), timeout)

    async def close(self, leave: bool = True) -> None:
        """Say leave (unless told not to), close the socket and stop the tasks."""
        for task in self._tasks[1:]:  # stop pinging first
            task.cancel()
        if self._ws is not None:
            if leave:
                with contextlib.suppress(ConnectionClosed):
                    await self._ws.send(encode(Leave()))
            await self._ws.close(CloseCode.NORMAL)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
