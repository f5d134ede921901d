"""The server shell: websockets in and out, the room logic in between.

It only receives, stamps the arrival time, calls the room and sends what the
room returns. Every message is framed once for all its receivers (server frames
are not masked, so the same bytes suit everyone), and each receiver's frames of
one event-loop pass go out in one write, in order, without waiting for anyone:
poses are most of the traffic (30 a second from each player to everyone else),
and a ``layer`` for each of a room's players at every bar must not cost a task
switch per receiver either. A slow reader never stalls the tick or anyone else:
once its socket holds :data:`POSE_BUFFER_LIMIT` bytes unsent it misses poses
(the next says where the body is anyway), and once it holds
``ServerConfig.send_buffer`` it is dropped.

With a :class:`~server.journal.Journal`, every room's jam is recorded as it goes:
the players who join it, each layer applied and each tempo change accepted, each
written before the message that announces it is sent. A journal that fails is
logged and skipped; the groove goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from server.generator import Generator, SeedGenerator
from server.journal import Journal, JournalError
from server.limits import TokenBucket
from server.lobby import Lobby
from server.room import GenerationBatch, JoinRefused, Outgoing, Room, RuleError
from shared.codec import MAX_FRAME_BYTES, ProtocolError, decode, encode
from shared.messages import (
    PROTOCOL_VERSION,
    CloseCode,
    Hello,
    Join,
    Layer,
    Leave,
    Pose,
    Role,
    Tempo,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], float]

# Bytes a receiver's socket may hold unsent before it misses poses: about 200 poses
# with landmarks, a few seconds of a whole room's bodies.
POSE_BUFFER_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class ServerConfig:
    hello_timeout: float = 5.0
    # Poses at 30/s, pings at up to 10/s, the odd seed or tempo: 60/s is ample.
    rate: float = 60.0
    burst: float = 120.0
    # Bytes that may wait unsent for one client before it is too slow to keep: far
    # more than the poses' limit, and room for the largest frame the codec allows.
    send_buffer: int = 1 << 20
    tick: float = 0.02
    keepalive_interval: float = 20.0
    keepalive_timeout: float = 20.0
    # How long a closing handshake may take before the socket is simply cut: a screen
    # that stopped reading never answers one.
    close_timeout: float = 5.0
    # Every room's seats (8 players, 256 spectators) and then some, for the hellos in
    # flight: more connections than this are somebody opening sockets to no end.
    max_connections: int = 1024


def _reason(text: str) -> str:
    """A close reason fits in 123 bytes of UTF-8 (RFC 6455)."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


class Client:
    """One connection's send side: the frames of this event-loop pass, written together."""

    def __init__(self, ws: ServerConnection, player: int, room: Room, send_buffer: int) -> None:
        self.ws = ws
        self.player = player
        self.room = room
        self.send_buffer = send_buffer
        self.dropped_poses = 0
        self.closing: asyncio.Task[None] | None = None
        self.pending: list[bytes] = []  # framed, for the write at the end of this pass
        self.pending_bytes = 0

    def backlog(self) -> int:
        """Bytes waiting to reach this client: this pass's and its socket's unsent."""
        return self.pending_bytes + self.ws.transport.get_write_buffer_size()

    def offer(self, wire: bytes) -> bool:
        """Take a framed message for this pass's write; False when the client is too
        slow to keep (its backlog would pass the send buffer)."""
        if self.backlog() + len(wire) > self.send_buffer:
            return False
        self._take(wire)
        return True

    def offer_pose(self, wire: bytes) -> bool:
        """Take a framed pose for this pass's write; False (missed) when backed up."""
        if self.backlog() > POSE_BUFFER_LIMIT:
            self.dropped_poses += 1
            return False
        self._take(wire)
        return True

    def _take(self, wire: bytes) -> None:
        self.pending.append(wire)
        self.pending_bytes += len(wire)

    def write(self) -> None:
        """Write this pass's frames in one go, if the connection is still open (after a
        close frame nothing may follow)."""
        if self.pending and self.ws.protocol.state is State.OPEN:
            self.ws.transport.write(b"".join(self.pending))
        self.pending.clear()
        self.pending_bytes = 0


class PoseJamServer:
    def __init__(
        self,
        lobby: Lobby,
        generator: Generator | None = None,
        clock: Clock = time.monotonic,
        config: ServerConfig | None = None,
        journal: Journal | None = None,
        wall_clock: Clock = time.time,
    ) -> None:
        self.lobby = lobby
        self.generator = generator or SeedGenerator()
        self.clock = clock
        self.config = config or ServerConfig()
        self.journal = journal
        self.wall_clock = wall_clock  # only for the journal's dates
        self.jams: dict[str, int] = {}  # journal jam id by room code
        self.clients: dict[str, dict[int, Client]] = {}  # by room code
        self._ws: WsServer | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.connections = 0  # open websockets, joined or not
        self._writing: set[Client] = set()  # who has frames to write at the end of this pass

    # -- lifecycle -------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; return the port (useful with port 0)."""
        self._ws = await serve(
            self._handle,
            host,
            port,
            max_size=MAX_FRAME_BYTES,
            max_queue=32,
            compression=None,
            ping_interval=self.config.keepalive_interval,
            ping_timeout=self.config.keepalive_timeout,
            close_timeout=self.config.close_timeout,
        )
        self._ticker = asyncio.create_task(self._tick_loop())
        bound: int = next(iter(self._ws.sockets)).getsockname()[1]
        return bound

    async def stop(self) -> None:
        """Close every connection with 1001 (going away) and stop listening."""
        if self._ticker:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._ws:
            self._ws.close(close_connections=True)
            await self._ws.wait_closed()

    # -- connections -----------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if self.connections >= self.config.max_connections:
            await ws.close(CloseCode.TRY_AGAIN_LATER, "the server is full: try again later")
            return
        self.connections += 1
        try:
            await self._member(ws)
        finally:
            self.connections -= 1

    async def _member(self, ws: ServerConnection) -> None:
        joined = await self._join(ws)
        if joined is None:
            return
        room, client = joined
        gone_for_good = True
        try:
            gone_for_good = await self._serve(ws, room, client)
        except ConnectionClosed:
            gone_for_good = False
        except Exception:
            logger.exception("unexpected error serving player %d", client.player)
            await ws.close(CloseCode.INTERNAL, "internal server error")
        finally:
            clients = self.clients.get(room.code, {})
            # Not when the seat has moved on: the host removed the player, or they came
            # back on a new connection that now holds it.
            if clients.get(client.player) is client:
                del clients[client.player]
                now = self.clock()
                if gone_for_good:
                    self._dispatch(room, room.leave(client.player, now))
                    logger.info("player %d left room %s", client.player, room.code)
                else:
                    self._dispatch(room, room.drop(client.player, now))
                    logger.info("player %d dropped from room %s", client.player, room.code)

    async def _join(self, ws: ServerConnection) -> tuple[Room, Client] | None:
        try:
            frame = await asyncio.wait_for(ws.recv(), self.config.hello_timeout)
            hello = decode(frame)
        except TimeoutError:
            await ws.close(CloseCode.HELLO_FIRST, "send hello first")
            return None
        except ProtocolError as exc:
            await ws.close(CloseCode.MALFORMED, _reason(str(exc)))
            return None
        except ConnectionClosed:
            return None
        if not isinstance(hello, Hello):
            await ws.close(CloseCode.HELLO_FIRST, "the first message must be hello")
            return None
        if hello.protocol != PROTOCOL_VERSION:
            await ws.close(
                CloseCode.PROTOCOL_VERSION,
                f"protocol {hello.protocol} is not supported; "
                f"this server speaks {PROTOCOL_VERSION}",
            )
            return None
        try:
            room = self.lobby.find(hello.room)
            info, outgoing = room.join(hello, self.clock())
        except JoinRefused as exc:
            await ws.close(exc.code, _reason(exc.reason))
            return None
        client = Client(ws, info.id, room, self.config.send_buffer)
        clients = self.clients.setdefault(room.code, {})
        previous = clients.get(info.id)
        if previous is not None:  # back (with its token) before its old connection was seen to drop
            self._close(previous, CloseCode.REPLACED, "this seat was taken on a new connection")
        clients[info.id] = client
        logger.info("%s joined room %s as %s %d", info.name, room.code, info.role, info.id)
        self._dispatch(room, outgoing)
        return room, client

    async def _serve(self, ws: ServerConnection, room: Room, client: Client) -> bool:
        """Serve one member until their connection ends; True if they are gone for good
        (they said leave, or broke the protocol), False if it merely dropped."""
        bucket = TokenBucket(self.config.rate, self.config.burst, self.clock())
        async for frame in ws:
            now = self.clock()  # stamped on arrival: pongs carry this time
            if not bucket.allow(now):
                await self._kick(
                    ws, client, CloseCode.POLICY, f"rate limit: at most {self.config.rate:g} msg/s"
                )
                return True
            try:
                message = decode(frame)
            except ProtocolError as exc:
                logger.info("closing player %d: %s", client.player, exc)
                await self._kick(ws, client, CloseCode.MALFORMED, str(exc))
                return True
            if isinstance(message, Leave):
                await self._kick(ws, client, CloseCode.LEFT, "goodbye")
                return True
            try:
                outgoing = room.handle(client.player, message, now)
            except RuleError as exc:
                outgoing = [Outgoing(exc.to_message(), to=client.player)]
            self._dispatch(room, outgoing)
        return False

    async def _kick(
        self, ws: ServerConnection, client: Client, code: CloseCode, reason: str
    ) -> None:
        """Close a connection that is done (it said leave, or broke the protocol): what
        this pass has for it first (the error its last request earned), while whatever it
        still sends is read and dropped, so that its answering close frame is read at
        once rather than after the close timeout (a flooder's frames fill the socket)."""
        closing = asyncio.create_task(self._drain_and_close(client, code, reason))
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass
        await closing

    def announce(self, room: Room, outgoing: Iterable[Outgoing]) -> None:
        """Send (and journal) what a room says of itself, not in answer to a message:
        an AI band joining it, say."""
        self._dispatch(room, outgoing)

    def _dispatch(self, room: Room, outgoing: Iterable[Outgoing]) -> None:
        outgoing = list(outgoing)
        if self.journal is not None:
            self._record(self.journal, room, outgoing)
        clients = self.clients.get(room.code, {})
        for out in outgoing:
            # Once, whatever the number of recipients: server frames are not masked.
            wire = Frame(Opcode.BINARY, encode(out.message)).serialize(mask=False)
            if out.to is not None:
                targets = [clients[out.to]] if out.to in clients else []
            else:
                targets = [c for p, c in clients.items() if p != out.exclude]
            pose = isinstance(out.message, Pose)
            for client in targets:
                if client.closing is not None:
                    continue
                if pose:
                    if not client.offer_pose(wire):
                        continue
                elif not client.offer(wire):
                    logger.warning("dropping player %d: send buffer full", client.player)
                    client.closing = asyncio.create_task(
                        client.ws.close(CloseCode.POLICY, "too slow: send buffer overflow")
                    )
                    continue
                if not self._writing:
                    asyncio.get_running_loop().call_soon(self._write)
                self._writing.add(client)
            if out.close is not None and out.to in clients:
                self._close(clients.pop(out.to), out.close, out.reason)

    def _write(self) -> None:
        writing, self._writing = self._writing, set()
        for client in writing:
            client.write()

    def _close(self, client: Client, code: CloseCode, reason: str) -> None:
        """Close a connection the room has let go (the host removed its player): it hears
        no more of the room, and its own handler's leave finds it already gone."""
        logger.info("closing player %d: %s", client.player, reason)
        if client.closing is None:
            client.closing = asyncio.create_task(self._drain_and_close(client, code, reason))

    async def _drain_and_close(self, client: Client, code: CloseCode, reason: str) -> None:
        # What this pass has for it (the leave naming it, the error its last request
        # earned) goes first: the close frame follows it on the same socket.
        client.write()
        await client.ws.close(code, _reason(reason))

    # -- the journal -------------------------------------------------------------

    def _record(self, journal: Journal, room: Room, outgoing: list[Outgoing]) -> None:
        """Journal what the room announces: a player joining (the room's first starts
        its jam), a layer applied, a tempo change accepted."""
        for out in outgoing:
            message = out.message
            try:
                if isinstance(message, Join) and message.player.role is not Role.SPECTATOR:
                    journal.player(self._jam(journal, room), message.player, self.wall_clock())
                elif isinstance(message, Layer):
                    journal.layer(self._jam(journal, room), message)
                elif isinstance(message, Tempo):
                    journal.tempo(self._jam(journal, room), message.bpm, message.starts_at_bar)
            except JournalError as exc:
                logger.error("journal: room %s: %s", room.code, exc)
            except Exception:  # a journal bug must not stop the groove either
                logger.exception("journal: room %s: cannot record %s", room.code, message)

    def _jam(self, journal: Journal, room: Room) -> int:
        jam = self.jams.get(room.code)
        if jam is None:
            jam = self.jams[room.code] = journal.start_jam(room.code, room.bpm, self.wall_clock())
            logger.info("journal: room %s is jam %d in %s", room.code, jam, journal.path)
        return jam

    # -- the tick: layers for the next bar ------------------------------------

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.config.tick)
            for room in list(self.lobby.rooms.values()):
                try:
                    self._dispatch(room, room.expire(self.clock()))
                    batch = room.generation_due(self.clock())
                    if batch is not None:
                        await self._generate(loop, room, batch)
                except Exception:  # one room's failure must not stop every room's tick
                    logger.exception("tick failed in room %s", room.code)

    async def _generate(
        self, loop: asyncio.AbstractEventLoop, room: Room, batch: GenerationBatch
    ) -> None:
        requests = list(batch.requests)
        try:
            # Off the event loop: a model call must not delay anyone's pong.
            patterns = await loop.run_in_executor(None, self.generator.generate, requests)
        except Exception:
            logger.exception("generator failed for bar %d in room %s", batch.bar, room.code)
            return
        self._dispatch(room, room.apply_generated(batch, patterns, self.clock()))
