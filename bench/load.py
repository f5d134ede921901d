"""How many players and spectators can one server carry? ``python -m bench.load --json``

Starts the real server in a process of its own (``python -m server --port 0
--journal none``), then ``--players`` players and ``--spectators`` spectators as
real websocket clients on loopback, spread over a few worker processes (each an
asyncio loop holding many connections), so that the clients' own work does not
starve on one core. Every client joins with a ``hello`` and pings for clock sync
as ``client.net.NetClient`` does (10 a second for 3 s, then a pair a second);
every player rolls one dice seed (so that the room writes it a layer, which its
body then steers through the drum model) and streams a ``pose`` 30 times a
second: the 12 features and the 33 quantized landmarks of the bots' dancer
(``client.bot_pose``), as a camera player sends them. A room holds at most 8
players, so more players fill more rooms of 8 on the same server (it then runs
from this module with ``--serve-rooms N``: the same server, lobby and drum model
as ``posejam server``, with N rooms), and the spectators are dealt over the rooms.

After ``--warmup`` seconds of streaming, for ``--seconds``: the latency of every
pose frame sent in that window, from the sending player's ``Pose.client_time``
(``time.monotonic`` when it was sent; the server relays it untouched, and
CLOCK_MONOTONIC is one clock for every process on Linux) to its arrival at each
client that receives it (every spectator, and every other player in the room:
the server relays a pose to all but its sender); the server's CPU (all its
threads and its drum model's process, from ``/proc/PID/stat``) and resident memory
(``/proc/PID/status``, both processes);
and ``messages_per_s``, the pose frames delivered to all those receivers per
second. A server that drops poses (64 KiB waiting for a client) must not
look fast by losing them: ``delivered_fraction`` is the share of the frames the
window's poses owed their receivers that arrived within a second after the
window, and ``send_fraction`` the share of 30 poses a second per player that the
players got sent. The clients read a frame's kind and ``client_time`` straight
from msgpack instead of the codec's full validation (27 us a pose here), which
at tens of thousands of frames a second would cost more CPU than the server
under test.

``--find`` looks for the largest load that keeps p99 within 10 ms with every
frame delivered (99 % or more) and nobody disconnected: for 8, 16 and 32
players, it halves the range of spectators (0-256, to 8) between a load that
passed and one that failed. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import ctypes
import itertools
import json
import logging
import math
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import msgpack
import numpy as np
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from bench.report import report
from client import bot_pose
from client.net import MAX_FRAME, ping_delay
from client.pose_features import PoseFeatures
from server.lobby import CODE_LETTERS
from server.room import RoomLimits
from shared.codec import decode, encode
from shared.messages import (
    CloseCode,
    Hello,
    Kind,
    Leave,
    Ping,
    Pose,
    Role,
    Seed,
    SeedSource,
    Snapshot,
    Welcome,
)

logger = logging.getLogger(__name__)

POSE_HZ = 30
POSE_INTERVAL = 1 / POSE_HZ
# The dancer's moves, computed once per worker and looped: 32 beats at its 110 bpm, so
# the loop closes on a whole phrase (its crouch comes every 16 beats).
CYCLE_FRAMES = round(32 * 60 / 110 * POSE_HZ)
PLAYERS_PER_ROOM = RoomLimits().max_players
SPECTATORS_PER_ROOM = RoomLimits().max_spectators
P99_LIMIT_MS = 10.0
MIN_DELIVERED = 0.99
# Poses sent at the end of the window may still be on their way: wait this long for them.
GRACE = 1.0
JOINS_AT_ONCE = 8  # per worker: a crowd joining at once should not look like an attack
START_AFTER = 0.3  # between the go and the first pose: every worker hears the go
FIND_PLAYERS = (8, 16, 32)
FIND_MAX_SPECTATORS = 256
FIND_STEP = 8
ERROR_LINE = re.compile(r" (ERROR|CRITICAL) |Traceback")
PR_SET_PDEATHSIG = 1


# -- processes -------------------------------------------------------------------------


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies, even by SIGKILL: a
    benchmark killed half-way must not leave servers and clients running."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads, from ``/proc/PID/stat``."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name (field 2) may hold spaces: count the fields after its ")".
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time every core of this machine has spent busy, from ``/proc/stat``."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """A process and all its descendants (the server's drum model runs in a child)."""
    found = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            for child in f.read().split():
                found += family(int(child))
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB, from ``/proc/PID/status``."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def family_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants: the server and its drum model."""
    return sum(rss_mb(p) for p in family(pid))


class ServerProcess:
    """A PoseJam server in a process of its own on 127.0.0.1, on a free port.

    Its log is read on a thread as it comes (a full pipe would stall the server), and
    every ERROR, CRITICAL or traceback line in it is kept in :attr:`errors`.
    """

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self.errors: list[str] = []
        self.port = 0
        self.returncode: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=die_with_parent,  # noqa: PLW1509 (no threads of ours run yet)
        )
        try:
            assert self._proc.stderr is not None
            for line in self._proc.stderr:
                self._check(line)
                if found := re.search(r"listening on ws://127\.0\.0\.1:(\d+)", line):
                    self.port = int(found.group(1))
                    break
            else:
                raise RuntimeError(f"the server did not start: {' '.join(self.errors)}")
            self._reader = threading.Thread(target=self._drain, daemon=True)
            self._reader.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _check(self, line: str) -> None:
        if ERROR_LINE.search(line):
            self.errors.append(line.rstrip())

    def _drain(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._check(line)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (every connection is closed with 1001), then SIGKILL if it hangs."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self.returncode = self._proc.wait()
        if self._reader is not None:
            self._reader.join(timeout)
        if self._proc.stderr is not None:
            self._proc.stderr.close()


def server_command(
    rooms: Sequence[str], generator: str = "auto", profile: str | None = None
) -> list[str]:
    """The command that serves ``rooms``: ``python -m server`` for one room, this
    module's ``--serve-rooms`` for more (``python -m server`` holds one); with
    ``profile``, under cProfile, its statistics written there when it stops."""
    prefix = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else [])]
    if len(rooms) == 1:
        return [
            *prefix,
            *("-m", "server", "--port", "0", "--journal", "none", "--room", rooms[0]),
            *("--generator", generator),
        ]
    return [
        *prefix,
        *("-m", "bench.load", "--serve-rooms", str(len(rooms)), "--generator", generator),
    ]


def room_codes(count: int) -> list[str]:
    pairs = itertools.product(CODE_LETTERS, repeat=2)
    return ["LD" + a + b for a, b in itertools.islice(pairs, count)]


def serve_rooms(count: int, generator_kind: str) -> int:
    """Run a server holding ``count`` rooms until SIGINT or SIGTERM: ``posejam server``'s
    server, lobby and drum model, with more rooms than its ``--room`` makes."""
    from server.app import PoseJamServer
    from server.lobby import Lobby
    from server.main import close_generator, make_generator, stop_on_signals

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    generator = make_generator(generator_kind, None)

    async def serve() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        lobby = Lobby()
        codes = room_codes(count)
        for code in codes:
            lobby.create(time.monotonic(), code)
        server = PoseJamServer(lobby, generator)
        port = await server.start("127.0.0.1", 0)
        logger.info("PoseJam server listening on ws://127.0.0.1:%d rooms %s", port, codes)
        await stop.wait()
        await server.stop()

    try:
        asyncio.run(serve())
    finally:
        close_generator(generator)
    return 0


# -- the load ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientSpec:
    name: str
    role: Role
    room: str
    index: int  # among all the clients; spreads the players' phases


UPGRADE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def masked_frame(payload: bytes) -> bytes:
    """One binary websocket frame from a client (RFC 6455 5.2), for payloads < 64 KiB."""
    mask = os.urandom(4)
    if len(payload) < 126:
        length = bytes([0x80 | len(payload)])
    else:
        length = b"\xfe" + len(payload).to_bytes(2, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return b"\x82" + length + mask + body


@contextlib.contextmanager
def stuck_spectators(url: str, rooms: Sequence[str], count: int) -> Iterator[None]:
    """``count`` spectators that join and then never read a byte nor answer a ping, as a
    laptop gone to sleep: the server must drop them and nobody else may notice."""
    host, port = url.removeprefix("ws://").rsplit(":", 1)
    sockets = []
    try:
        for i in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window
            sock.connect((host, int(port)))
            sockets.append(sock)
            sock.sendall(UPGRADE)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += sock.recv(1)  # byte by byte: not a byte past the handshake
            hello = Hello(f"asleep {i + 1}", Role.SPECTATOR, room=rooms[i % len(rooms)])
            sock.sendall(masked_frame(encode(hello)))
        yield
    finally:
        for sock in sockets:
            sock.close()


def plan(players: int, spectators: int) -> list[ClientSpec]:
    """Who joins where: rooms of up to 8 players, the spectators dealt over them in turn."""
    rooms = room_codes(max(1, math.ceil(players / PLAYERS_PER_ROOM)))
    if spectators > len(rooms) * SPECTATORS_PER_ROOM:
        raise ValueError(
            f"{len(rooms)} room(s) hold at most {len(rooms) * SPECTATORS_PER_ROOM} spectators"
        )
    specs = [
        ClientSpec(f"player {i + 1}", Role.PLAYER, rooms[i % len(rooms)], i) for i in range(players)
    ]
    specs += [
        ClientSpec(f"screen {i + 1}", Role.SPECTATOR, rooms[i % len(rooms)], players + i)
        for i in range(spectators)
    ]
    return specs


def pose_cycle() -> list[tuple[tuple[float, ...], tuple[int, ...]]]:
    """One phrase of the bots' dancer as a camera player sends it: features, landmarks."""
    features = PoseFeatures()
    frames = []
    for k in range(CYCLE_FRAMES):
        t = k / POSE_HZ
        body = bot_pose.body(t)
        vector = features.update(bot_pose.points(body), t)
        frames.append((tuple(vector.tolist()), bot_pose.quantize(body)))
    return frames


@dataclass(frozen=True, slots=True)
class Window:
    start: float  # when the first pose goes
    measure_from: float
    measure_to: float


class LoadClient(asyncio.Protocol):
    """One websocket: joins, pings, reads everything, and (a player) dances on cue.

    websockets' own protocol (its Sans-I/O ``ClientProtocol``: the handshake, frame
    parsing, pongs, the closing handshake) driven straight from the transport's
    callbacks: a frame costs a parse (4 us here) rather than the asyncio connection's
    futures and task switches (13 us), which on this machine's two cores is the CPU
    the server under test would otherwise lose to its own measuring clients."""

    def __init__(self, spec: ClientSpec, url: str) -> None:
        self.spec = spec
        self.protocol = ClientProtocol(parse_uri(url), max_size=MAX_FRAME)
        self.transport: asyncio.Transport | None = None
        self.window = Window(math.inf, math.inf, math.inf)
        self.latencies_ms = array.array("d")
        self.sent = 0  # poses sent in the window
        self.closing = False
        self.dropped_code: int | None = None  # the close code, if the server let it go
        self.joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._before_snapshot: list[type] = [Response, Welcome, Snapshot]
        self.tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def join(cls, url: str, spec: ClientSpec) -> LoadClient:
        host, port = url.removeprefix("ws://").rsplit(":", 1)
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(lambda: cls(spec, url), host, int(port))
        async with asyncio.timeout(60):
            await client.joined
        client.tasks.append(asyncio.create_task(client._ping()))
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def _flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            for data in self.protocol.data_to_send():
                if data:
                    self.transport.write(data)
                elif self.transport.can_write_eof():
                    self.transport.write_eof()

    def send(self, message: Any) -> None:
        if self.protocol.state is not State.OPEN:
            raise ConnectionClosed(None, None)
        self.protocol.send_binary(encode(message))
        self._flush()

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        self.protocol.receive_data(data)
        pose = Kind.POSE.value
        window = self.window
        for event in self.protocol.events_received():
            if self._before_snapshot:
                self._joining(event)
            elif isinstance(event, Frame) and event.opcode is Opcode.BINARY:
                # Only the kind and the sender's time: see the module docstring.
                message = msgpack.unpackb(event.data)
                if message["type"] == pose:
                    sent = message["client_time"]
                    if window.measure_from <= sent < window.measure_to:
                        self.latencies_ms.append((arrived - sent) * 1000.0)
        self._flush()  # pongs, and the answer to a close

    def _joining(self, event: object) -> None:
        """The handshake's response, then ``welcome`` and the room's ``snapshot``."""
        got: object
        if isinstance(event, Response):
            got = event if event.status_code == 101 else f"HTTP {event.status_code}"
        elif isinstance(event, Frame) and event.opcode is Opcode.BINARY:
            got = decode(bytes(event.data))
        elif isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
            got = f"closed {self.protocol.close_code} {self.protocol.close_reason!r}"
        else:
            return  # a ping: the protocol has answered it
        expected = self._before_snapshot.pop(0)
        if not isinstance(got, expected):
            if not self.joined.done():
                self.joined.set_exception(
                    RuntimeError(f"{self.spec.name}: expected {expected.__name__}, got {got!r}")
                )
            self._before_snapshot.clear()
        elif not self._before_snapshot:
            self.joined.set_result(None)
        elif isinstance(got, Response):
            self.send(Hello(self.spec.name, self.spec.role, room=self.spec.room))

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            self.dropped_code = self.protocol.close_code or 1006
        if not self.joined.done():
            self.joined.set_exception(RuntimeError(f"{self.spec.name}: connection lost"))
        if not self.lost.done():
            self.lost.set_result(None)

    async def _ping(self) -> None:
        rng = random.Random(self.spec.index)
        with contextlib.suppress(ConnectionClosed):
            for seq in itertools.count():
                self.send(Ping(seq, time.monotonic()))
                await asyncio.sleep(ping_delay(seq + 1, rng.random()))

    def go(self, window: Window, frames: list[tuple[tuple[float, ...], tuple[int, ...]]]) -> None:
        self.window = window
        if self.spec.role is Role.PLAYER:
            self.tasks.append(asyncio.create_task(self._dance(frames)))

    async def _dance(self, frames: list[tuple[tuple[float, ...], tuple[int, ...]]]) -> None:
        window, index = self.window, self.spec.index
        # Unsynchronized cameras: each player's frames come at its own phase.
        due = window.start + (index * 0.618034 % 1.0) * POSE_INTERVAL
        step = index * CYCLE_FRAMES // 7
        with contextlib.suppress(ConnectionClosed):
            self.send(Seed(SeedSource.DICE, dice=index, density=0.5))
            while True:
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = time.monotonic()
                if now >= window.measure_to:
                    return
                features, landmarks = frames[step % len(frames)]
                self.send(Pose(now, features, landmarks))
                if now >= window.measure_from:
                    self.sent += 1
                step += 1
                # A late frame is not made up for: a camera does not catch up either.
                due = max(due + POSE_INTERVAL, now)

    async def close(self) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(ConnectionClosed):
            self.send(Leave())
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(CloseCode.NORMAL)
            self._flush()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.lost
        if self.transport is not None:
            self.transport.abort()


async def _message(conn: Connection) -> Any:
    """The next message on a pipe from the parent, without a thread."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    loop.add_reader(conn.fileno(), ready.set)
    try:
        await ready.wait()
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv()


async def _work(url: str, specs: list[ClientSpec], conn: Connection) -> dict[str, Any]:
    frames = pose_cycle()
    gate = asyncio.Semaphore(JOINS_AT_ONCE)

    async def join(spec: ClientSpec) -> LoadClient:
        async with gate:
            return await LoadClient.join(url, spec)

    clients: list[LoadClient] = []
    joining = [asyncio.create_task(join(spec)) for spec in specs]
    try:
        for task in joining:
            clients.append(await task)
        conn.send(("joined", len(clients)))
        window = await _message(conn)
        if not isinstance(window, Window):
            return {}  # told to stop
        for client in clients:
            client.go(window, frames)
        # Until the window's last poses are in, or the parent says stop.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_message(conn), window.measure_to + GRACE - time.monotonic())
    finally:
        for task in joining:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    sent: Counter[str] = Counter()
    for client in clients:
        sent[client.spec.room] += client.sent
    latencies = array.array("d")
    for client in clients:
        latencies.extend(client.latencies_ms)
    return {
        "sent": dict(sent),
        "latencies_ms": latencies.tobytes(),
        "dropped": [c.dropped_code for c in clients if c.dropped_code is not None],
    }


def _worker(url: str, specs: list[ClientSpec], conn: Connection) -> None:
    """A worker process's life: its clients, until the parent says stop or goes."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops everyone
    try:
        conn.send(("result", asyncio.run(_work(url, specs, conn))))
    except Exception as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


@contextlib.contextmanager
def workers(
    url: str, specs: list[ClientSpec], count: int
) -> Iterator[list[tuple[multiprocessing.process.BaseProcess, Connection]]]:
    """``count`` worker processes sharing the clients; stopped (and killed if need be) on exit."""
    context = multiprocessing.get_context("spawn")
    started: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for i in range(count):
            mine, theirs = context.Pipe()
            worker = context.Process(target=_worker, args=(url, specs[i::count], theirs))
            worker.start()
            theirs.close()
            started.append((worker, mine))
        yield started
    finally:
        for _, conn in started:
            with contextlib.suppress(OSError):
                conn.send("stop")
        deadline = time.monotonic() + 15
        for proc, conn in started:
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
            conn.close()


def _answers(conns: list[Connection], kind: str, timeout: float) -> list[Any]:
    """One ``(kind, value)`` answer from every worker, in order; raises if one fails."""
    got: dict[int, Any] = {}
    deadline = time.monotonic() + timeout
    while len(got) < len(conns):
        pending = [c for i, c in enumerate(conns) if i not in got]
        ready = wait(pending, max(0.0, deadline - time.monotonic()))
        if not ready:
            raise RuntimeError(f"the clients did not report {kind!r} in {timeout:g} s")
        for conn in ready:
            assert isinstance(conn, Connection)
            try:
                what, value = conn.recv()
            except EOFError:
                raise RuntimeError("a client worker died") from None
            if what != kind:
                raise RuntimeError(f"a client worker failed: {value}")
            got[conns.index(conn)] = value
    return [got[i] for i in range(len(conns))]


def default_workers(clients: int) -> int:
    """One client process per 16 clients, at most 4: a loop with fewer connections
    stamps arrivals more promptly, but every process shares the machine's cores."""
    return min(4, max(1, math.ceil(clients / 16)))


def measure(
    players: int,
    spectators: int,
    seconds: float,
    warmup: float,
    worker_count: int | None = None,
    generator: str = "auto",
    profile: str | None = None,
    stuck: int = 0,
) -> dict[str, Any]:
    """One run: the server, the clients joined (and ``stuck`` spectators that never
    read), the warm-up, the window measured."""
    if players < 1:
        raise ValueError("at least one player is needed to send poses")
    specs = plan(players, spectators)
    rooms = sorted({s.room for s in specs})
    members = Counter(s.room for s in specs)
    count = min(len(specs), worker_count or default_workers(len(specs)))
    with (
        ServerProcess(server_command(rooms, generator, profile)) as server,
        stuck_spectators(server.url, rooms, stuck),
        workers(server.url, specs, count) as running,
    ):
        conns = [conn for _, conn in running]
        _answers(conns, "joined", 60 + 0.5 * len(specs))
        start = time.monotonic() + START_AFTER
        window = Window(start, start + warmup, start + warmup + seconds)
        for conn in conns:
            conn.send(window)
        time.sleep(max(0.0, window.measure_from - time.monotonic()))
        serving = family(server.pid)
        pids = serving + [proc.pid for proc, _ in running if proc.pid is not None]
        cpu_from = [machine_cpu_seconds()] + [cpu_seconds(pid) for pid in pids]
        time.sleep(max(0.0, window.measure_to - time.monotonic()))
        cpu_to = [machine_cpu_seconds()] + [cpu_seconds(pid) for pid in pids]
        server_rss = family_rss_mb(server.pid)
        results = _answers(conns, "result", GRACE + 30)
        server.stop()
        server_errors = len(server.errors)
    sent: Counter[str] = Counter()
    latencies = np.concatenate(
        [np.frombuffer(r["latencies_ms"], dtype=np.float64) for r in results]
    )
    for r in results:
        sent.update(r["sent"])
    owed = sum(n * (members[room] - 1) for room, n in sent.items())
    delivered = len(latencies)
    machine, *used = [(b - a) / seconds * 100 for a, b in zip(cpu_from, cpu_to, strict=True)]
    used = [sum(used[: len(serving)]), *used[len(serving) :]]  # the server's processes as one

    def percentile(q: float) -> float | None:
        return round(float(np.percentile(latencies, q)), 3) if delivered else None

    return {
        "players": players,
        "spectators": spectators,
        "stuck": stuck,
        "p50_ms": percentile(50),
        "p99_ms": percentile(99),
        "server_cpu_percent": round(used[0], 1),
        "server_rss_mb": round(server_rss, 1),
        # Pose frames that reached a receiver (spectators and the other players) per second.
        "messages_per_s": round(delivered / seconds),
        "max_ms": round(float(latencies.max()), 3) if delivered else None,
        "poses_sent": sum(sent.values()),
        "delivered": delivered,
        "delivered_fraction": round(delivered / owed, 4) if owed else None,
        "dropped": owed - delivered,
        "send_fraction": round(sum(sent.values()) / (players * POSE_HZ * seconds), 4),
        "disconnects": sum(len(r["dropped"]) for r in results),
        "server_errors": server_errors,
        "clients_cpu_percent": round(sum(used[1:]), 1),
        # What the rest of this (shared) machine used meanwhile, out of 100 % per core.
        "others_cpu_percent": round(max(0.0, machine - sum(used)), 1),
        "cores": os.cpu_count(),
        "rooms": len(rooms),
        "workers": count,
        "generator": generator,
        "seconds": seconds,
        "warmup_s": warmup,
    }


def passes(result: dict[str, Any]) -> bool:
    """Within the latency limit, without losing poses or anyone to get there."""
    return (
        result["p99_ms"] is not None
        and result["p99_ms"] <= P99_LIMIT_MS
        and (result["delivered_fraction"] or 0.0) >= MIN_DELIVERED
        and result["disconnects"] == 0
    )


def find(seconds: float, warmup: float, generator: str, json_only: bool) -> dict[str, Any]:
    """For 8, 16 and 32 players, the most spectators (to 8) that still pass."""
    runs: list[dict[str, Any]] = []
    best: tuple[int, int] | None = None

    def run(players: int, spectators: int) -> bool:
        result = measure(players, spectators, seconds, warmup, generator=generator)
        result["passes"] = passes(result)
        runs.append(result)
        if json_only:
            print(dict_line(result), flush=True)
        else:
            print(summary_line(result), flush=True)
        return bool(result["passes"])

    for players in FIND_PLAYERS:
        if not run(players, 0):
            break
        passed, failed = 0, FIND_MAX_SPECTATORS + FIND_STEP
        if run(players, FIND_MAX_SPECTATORS):
            passed = FIND_MAX_SPECTATORS
        else:
            failed = FIND_MAX_SPECTATORS
            while failed - passed > FIND_STEP:
                middle = (passed + failed) // 2 // FIND_STEP * FIND_STEP
                if run(players, middle):
                    passed = middle
                else:
                    failed = middle
        if best is None or players + passed > sum(best):
            best = (players, passed)
    return {
        "p99_limit_ms": P99_LIMIT_MS,
        "largest": (
            {"players": best[0], "spectators": best[1], "total": sum(best)} if best else None
        ),
        "runs": runs,
    }


def dict_line(result: dict[str, Any]) -> str:
    return json.dumps(result)


def summary_line(result: dict[str, Any]) -> str:
    return (
        f"{result['players']:>3} players {result['spectators']:>4} spectators: "
        f"p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms  "
        f"{result['messages_per_s']} poses/s delivered ({result['delivered_fraction']})  "
        f"server {result['server_cpu_percent']} % CPU {result['server_rss_mb']} MB  "
        f"{'passes' if result.get('passes', passes(result)) else 'fails'}"
    )


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument(
        "--players", type=_count, default=8, help="players streaming poses (default: %(default)s)"
    )
    parser.add_argument(
        "--spectators", type=_count, default=32, help="spectators (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="measuring time (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="streaming before measuring (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="client processes (default: one per 16 clients, at most 4)",
    )
    parser.add_argument(
        "--stuck",
        type=_count,
        default=0,
        help="spectators that join, then never read nor answer pings (default: %(default)s)",
    )
    parser.add_argument(
        "--find",
        action="store_true",
        help=f"search for the largest load with p99 <= {P99_LIMIT_MS:g} ms (several minutes; "
        "--players and --spectators are ignored)",
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "model", "seeds"),
        default="auto",
        help="who writes the server's layers, as posejam server's option: the drum model, or "
        "the seeds as they are (default: %(default)s, the model when its weights are there)",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        default=None,
        help="run the server under cProfile and write its statistics to PATH",
    )
    parser.add_argument(
        "--serve-rooms",
        type=int,
        default=None,
        metavar="N",
        help="instead of measuring, run a server with N rooms until SIGTERM (what the "
        "benchmark starts when the players need more than one room)",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    if args.serve_rooms is not None:
        return serve_rooms(args.serve_rooms, args.generator)
    try:
        if args.find:
            found = find(args.seconds, args.warmup, args.generator, args.json)
            if not args.json:
                print(f"largest load that passes: {found['largest']}")
            print(dict_line(found))
            return 0
        result = measure(
            args.players,
            args.spectators,
            args.seconds,
            args.warmup,
            args.workers,
            args.generator,
            args.profile,
            args.stuck,
        )
    except KeyboardInterrupt:
        return 130
    except (ValueError, RuntimeError) as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 1
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
