"""Fuzz a live server while honest bots play: ``python -m bench.fuzz --json --frames N``

Starts the real server in its own process (``python -m server --journal none
--generator seeds``, with a room password) and 4 honest bots in another, each streaming
a dancing body's pose at 30 Hz, pinging, and rolling a seed every 2-4 s. After a
baseline without fuzz, a third process opens hostile connections and sends N frames
from :mod:`bench.fuzz_frames`: before hello and after it, as players and as
spectators, reconnecting whenever it is closed -- malformed msgpack of every kind,
frames over 64 KiB, text frames, and valid messages a client may not send (a
spectator's seed, someone else's layer, a welcome, a layer or a snapshot), each
connection reading what it is sent; a player coming back now and then with the token
of its last seat. Two connections never say hello, and one flooder sends past the
rate limit's burst, again and again.

Measured: the bots' relay latency (a pose sent by one bot, received by another, both
stamped on this machine's CLOCK_MONOTONIC) in the baseline and during the fuzz; the
close codes the hostile connections got and the error messages they were sent; whether
the server is still up, and whether its log holds a traceback or an error line; and
whether the bots are intact afterwards: still connected with the ids they joined
with, every layer of theirs written from their own seeds, unmuted, the first still
host, and their mirrors of the room agreeing with a fresh spectator's snapshot.

``--rate`` paces the hostile sender (frames a second over all its connections; 0, the
default: as fast as it goes). On 2 cores an unpaced fuzzer takes a core of its own,
which the bots' latency then shows. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from bench.fuzz_frames import WELL_FORMED, FrameFuzzer, Fuzzed
from client import bot_pose
from client.bot import random_seed
from client.net import NetClient
from client.pose_features import PoseFeatures
from server.generator import pattern_from_dice, pattern_from_grid
from shared.codec import MAX_FRAME_BYTES, ProtocolError, decode, encode
from shared.drums import Pattern
from shared.messages import (
    Error,
    Hello,
    Layer,
    Leave,
    Message,
    Pose,
    Role,
    Seed,
    SeedSource,
    Welcome,
)

ROOM = "FUZZ"
PASSWORD = "sesame"
BOTS = 4
POSE_INTERVAL = 1 / 30
SEED_EVERY = (2.0, 4.0)  # seconds between a bot's seeds
CONCURRENCY = 16  # hostile fuzzing sessions at once
SILENT = 2  # hostile connections that never say hello
# In a hostile session, the share of frames drawn from the well-formed mutations (the
# rest from all of them, most of which the server refuses by closing the connection).
WELL_FORMED_SHARE = 0.6
FLOOD_FRAMES = 150  # the flooder's frames a connection: past the rate limit's burst (120)
WAIT = 10.0  # seconds for a welcome, or the close of a refused connection
# Every close code a hostile connection may see: ours for ending a session (1000) or
# dropping it (1006, no close frame); the server's for floods, huge frames, malformed
# frames, a first message that is no hello (or none), a hello of another protocol,
# password or room, a full room, a leave, and a seat taken back on a new connection.
EXPECTED_CLOSE_CODES = {1000, 1006, 1008, 1009, 4000, 4001, 4002, 4003, 4004, 4005, 4006, 4008}
SERVER_BAD_LINE = re.compile(r"Traceback|Unhandled|never retrieved| ERROR | CRITICAL ")


# -- the honest bots, in a process of their own ---------------------------------------


class TimedClient(NetClient):
    """A bot's connection that stamps every bot pose it receives and keeps every
    bot layer and error it is sent."""

    def __init__(self, url: str, hello: Hello, log: BotLog) -> None:
        super().__init__(url, hello)
        self.log = log
        self.errors = 0

    def _ingest(self, frame: bytes | str, arrived: float) -> Message:
        message = super()._ingest(frame, arrived)
        if isinstance(message, Pose) and message.player in self.log.ids:
            self.log.latencies.append((arrived, arrived - message.client_time))
        elif isinstance(message, Layer) and message.owner in self.log.ids:
            self.log.layers.append(message)
        elif isinstance(message, Error):
            self.errors += 1
        return message


@dataclass
class BotLog:
    ids: set[int] = field(default_factory=set)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (arrived, seconds)
    layers: list[Layer] = field(default_factory=list)
    seeds: dict[int, list[Seed]] = field(default_factory=dict)  # by sender


async def _play(client: TimedClient, log: BotLog, stop: asyncio.Event, seed: int) -> None:
    rng = random.Random(seed)
    features = PoseFeatures()
    phase = rng.random() * 4
    start = next_pose = time.monotonic()
    next_seed = start + rng.uniform(*SEED_EVERY)
    while not stop.is_set() and not client.closed.is_set():
        now = time.monotonic()
        body = bot_pose.body(now - start, phase=phase)
        vector = features.update(bot_pose.points(body), now - start)
        pose = Pose(time.monotonic(), tuple(vector.tolist()), bot_pose.quantize(body))
        try:
            await client.send(pose)
            if now >= next_seed:
                seed_message = random_seed(rng)
                log.seeds.setdefault(client.player_id, []).append(seed_message)
                await client.send(seed_message)
                next_seed = now + rng.uniform(*SEED_EVERY)
        except ConnectionClosed:
            return  # _verify says so
        next_pose = max(next_pose + POSE_INTERVAL, now)  # 30 a second, not 30 a second late
        await asyncio.sleep(next_pose - time.monotonic())


def seed_pattern(seed: Seed) -> Pattern:
    """The layer the seed generator writes from a seed."""
    if seed.source is SeedSource.GRID:
        return pattern_from_grid(seed.grid)
    return pattern_from_dice(seed.dice, seed.density)


async def _settled(bots: list[TimedClient], watcher: NetClient, ids: list[int]) -> bool:
    """Whether every bot's mirror of the bots' newest layers agrees with the watcher's,
    waiting up to 3 s for layers in flight to land."""
    for _ in range(30):
        want = [watcher.state.loops.latest(i) for i in ids]
        if all([b.state.loops.latest(i) for i in ids] == want for b in bots):
            return True
        await asyncio.sleep(0.1)
    return False


async def _verify(url: str, bots: list[TimedClient], log: BotLog, ids: list[int]) -> list[str]:
    """What is wrong with the bots after the fuzz (nothing, if they are intact)."""
    problems = []
    for bot, i in zip(bots, ids, strict=True):
        if bot.closed.is_set():
            problems.append(f"bot {i} was disconnected (close code {bot.close_code})")
        if bot.errors:
            problems.append(f"bot {i} was sent {bot.errors} errors")
    watcher = NetClient(url, Hello("verifier", Role.SPECTATOR, room=ROOM, password=PASSWORD))
    await watcher.connect()
    try:
        state = watcher.state
        for i, bot in zip(ids, bots, strict=True):
            info = state.players.get(i)
            if info is None or info.name != bot.hello.name or info.role is not Role.PLAYER:
                problems.append(f"the room has {info} for bot {i}")
        if state.host != ids[0]:
            problems.append(f"the host is {state.host}, not bot {ids[0]}")
        if muted := state.muted & set(ids):
            problems.append(f"bots {sorted(muted)} are muted")
        allowed = {
            i: {seed_pattern(s) for s in log.seeds.get(i, [])} for i in ids
        }  # every pattern a bot's own seeds can make
        snapshot_layers = [lay for i in ids for lay in state.loops.all() if lay.owner == i]
        for layer in [*log.layers, *snapshot_layers]:
            if layer.pattern not in allowed[layer.owner]:
                problems.append(
                    f"bot {layer.owner}'s layer v{layer.version} is not from its own seeds"
                )
                break
        if not await _settled(bots, watcher, ids):
            problems.append("the bots' mirrors of their layers disagree with the room's")
        for bot in bots:
            if not set(ids) <= set(bot.state.players) or bot.state.host != ids[0]:
                problems.append(f"bot {bot.player_id} lost sight of the other bots or the host")
    finally:
        await watcher.close()
    return problems


async def _run_bots(url: str, seed: int, conn: Connection) -> dict[str, Any]:
    log = BotLog()
    bots = []
    for i in range(BOTS):
        hello = Hello(f"bot {i + 1}", Role.PLAYER, room=ROOM, password=PASSWORD)
        bot = TimedClient(url, hello, log)
        await bot.connect()
        bots.append(bot)
    ids = [b.player_id for b in bots]
    log.ids.update(ids)
    stop = asyncio.Event()
    playing = [asyncio.create_task(_play(b, log, stop, seed * 100 + n)) for n, b in enumerate(bots)]
    conn.send(ids)
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
    stop.set()
    await asyncio.gather(*playing)
    problems = await _verify(url, bots, log, ids)
    for bot in bots:
        await bot.close()
    return {
        "ids": ids,
        "latencies": log.latencies,
        "layers": len(log.layers),
        "seeds": sum(len(s) for s in log.seeds.values()),
        "problems": problems,
    }


def _bots_process(url: str, seed: int, conn: Connection) -> None:
    conn.send(asyncio.run(_run_bots(url, seed, conn)))


# -- the hostile connections, in a process of their own -----------------------------


@dataclass
class HostileStats:
    frames: int = 0
    connections: int = 0
    connect_failures: int = 0
    errors_sent: int = 0  # error messages the server answered with
    close_codes: collections.Counter[str] = field(default_factory=collections.Counter)
    sent_by_how: collections.Counter[str] = field(default_factory=collections.Counter)
    sessions: collections.Counter[str] = field(default_factory=collections.Counter)


class Pacer:
    """Frames at ``rate`` a second over every connection (0: no pacing)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.next = time.monotonic()

    async def wait(self) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        self.next = max(self.next + 1.0 / self.rate, now - 1.0)  # at most 1 s of catching up
        if self.next > now:
            await asyncio.sleep(self.next - now)


def refused(fuzzed: Fuzzed) -> bool:
    """Whether the server will close the connection on this frame (a leave included)."""
    if isinstance(fuzzed.data, str) or len(fuzzed.data) > MAX_FRAME_BYTES:
        return True
    try:
        return isinstance(decode(fuzzed.data), Leave)
    except ProtocolError:
        return True


class Hostile:
    """The hostile connections: ``CONCURRENCY`` fuzzing sessions at a time, one flooder
    and a few that never say hello, sending ``frames`` frames in all."""

    def __init__(self, url: str, frames: int, seed: int, rate: float, bot_ids: list[int]) -> None:
        self.url = url
        self.remaining = frames
        self.seed = seed
        self.pacer = Pacer(rate)
        self.bot_ids = bot_ids
        self.stats = HostileStats()

    async def run(self) -> HostileStats:
        await asyncio.gather(
            *(self._worker(i) for i in range(CONCURRENCY)),
            self._flooder(),
            *(self._silent() for _ in range(SILENT)),
        )
        return self.stats

    async def _open(self) -> ClientConnection | None:
        try:
            ws = await connect(
                self.url,
                max_size=None,
                compression=None,
                proxy=None,
                open_timeout=WAIT,
                close_timeout=2,
                ping_interval=None,
            )
        except (OSError, TimeoutError, InvalidHandshake):
            self.stats.connect_failures += 1
            await asyncio.sleep(0.1)
            return None
        self.stats.connections += 1
        return ws

    async def _silent(self) -> None:
        """A connection that never says hello: closed at the server's hello timeout."""
        ws = await self._open()
        if ws is not None:
            self.stats.sessions["silent"] += 1
            await self._read(ws, asyncio.Event(), [])

    async def _read(self, ws: ClientConnection, welcomed: asyncio.Event, token: list[str]) -> None:
        """Read everything until the connection closes; book its close code."""
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                try:
                    message = decode(frame)
                except ProtocolError:
                    continue
                if isinstance(message, Welcome):
                    token[:] = [message.token] if message.token else []
                    welcomed.set()
                elif isinstance(message, Error):
                    self.stats.errors_sent += 1
        self.stats.close_codes[str(ws.close_code)] += 1

    async def _send(self, ws: ClientConnection, fuzzed: Fuzzed) -> bool:
        """Send a frame out of the budget; False when the budget is spent or the
        connection closed first (the frame then goes back to the budget)."""
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        await self.pacer.wait()
        try:
            await ws.send(fuzzed.data)
        except ConnectionClosed:
            self.remaining += 1
            return False
        self.stats.frames += 1
        self.stats.sent_by_how[fuzzed.how] += 1
        return True

    async def _connected(
        self,
        session: Callable[[ClientConnection, asyncio.Task[None], asyncio.Event], Awaitable[None]],
        token: list[str],
    ) -> None:
        """One connection: its reader, then ``session``, then wait for the end."""
        ws = await self._open()
        if ws is None:
            return
        welcomed = asyncio.Event()
        reader = asyncio.create_task(self._read(ws, welcomed, token))
        try:
            await session(ws, reader, welcomed)
        finally:
            if not reader.done():
                await ws.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader, WAIT)

    async def _hello(
        self,
        ws: ClientConnection,
        reader: asyncio.Task[None],
        welcomed: asyncio.Event,
        role: Role,
        token: str = "",
    ) -> bool:
        """Say a good hello; True once welcomed."""
        hello = Hello(
            f"hostile {self.stats.connections}", role, room=ROOM, password=PASSWORD, token=token
        )
        return await self._send(ws, Fuzzed(encode(hello), "hello")) and await self._until(
            reader, welcomed
        )

    async def _until(self, reader: asyncio.Task[None], welcomed: asyncio.Event) -> bool:
        """Wait for a welcome (True) or the connection's end (False)."""
        welcome = asyncio.create_task(welcomed.wait())
        await asyncio.wait({reader, welcome}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        welcome.cancel()
        return welcomed.is_set()

    async def _flooder(self) -> None:
        """Joins, then sends well-formed frames past the rate limit's burst at once:
        closed with 1008, again and again."""
        rng = random.Random(f"{self.seed}-flood")
        fuzzer = FrameFuzzer(f"{self.seed}-flood", players=self.bot_ids)
        token: list[str] = []

        async def flood(
            ws: ClientConnection, reader: asyncio.Task[None], welcomed: asyncio.Event
        ) -> None:
            self.stats.sessions["flood"] += 1
            role = rng.choice((Role.PLAYER, Role.SPECTATOR))
            if not await self._hello(ws, reader, welcomed, role, *token[:1]):
                return
            for _ in range(FLOOD_FRAMES):
                if not await self._send(ws, fuzzer.frame(rng.choice(("valid", "forbidden")))):
                    return
            await asyncio.wait({reader}, timeout=WAIT)

        while self.remaining > 0:
            await self._connected(flood, token)

    async def _worker(self, n: int) -> None:
        rng = random.Random(f"{self.seed}-session-{n}")
        fuzzer = FrameFuzzer(f"{self.seed}-frames-{n}", players=self.bot_ids)
        token: list[str] = []  # the last seat's token, to come back with now and then

        async def session(
            ws: ClientConnection, reader: asyncio.Task[None], welcomed: asyncio.Event
        ) -> None:
            await self._session(ws, reader, welcomed, rng, fuzzer, token)

        while self.remaining > 0:
            await self._connected(session, token)

    async def _session(
        self,
        ws: ClientConnection,
        reader: asyncio.Task[None],
        welcomed: asyncio.Event,
        rng: random.Random,
        fuzzer: FrameFuzzer,
        token: list[str],
    ) -> None:
        mode = rng.choice(("first", "player", "spectator"))
        self.stats.sessions[mode] += 1
        if mode == "first":  # anything at all as the first frame
            if not await self._send(ws, fuzzer.first_frame()) or not await self._until(
                reader, welcomed
            ):
                return
        else:
            role = Role.PLAYER if mode == "player" else Role.SPECTATOR
            back = token[:1] if role is Role.PLAYER and rng.random() < 0.5 else []
            if not await self._hello(ws, reader, welcomed, role, *back):
                return
        for _ in range(rng.choice((3, 10, 30, 100))):
            how = rng.choice(WELL_FORMED) if rng.random() < WELL_FORMED_SHARE else None
            fuzzed = fuzzer.frame(how)
            if not await self._send(ws, fuzzed):
                return
            if refused(fuzzed):  # the server closes it: wait for that, then reconnect
                await asyncio.wait({reader}, timeout=WAIT)
                return
            if reader.done():
                return
        ending = rng.random()
        if ending < 0.2:  # vanish without a close frame (a player's seat then waits 30 s)
            ws.transport.abort()
        elif ending < 0.6:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(encode(Leave()))  # not fuzz: the way out, not counted
            await asyncio.wait({reader}, timeout=WAIT)


def _hostile_process(
    url: str, frames: int, seed: int, rate: float, bot_ids: list[int], conn: Connection
) -> None:
    stats = asyncio.run(Hostile(url, frames, seed, rate, bot_ids).run())
    conn.send(stats)
    conn.recv()  # alive until its CPU time has been read


# -- the server, and the run ---------------------------------------------------------


class ServerLog:
    """Reads the server's stderr on a thread: its URL, and any line that must not be there."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.url: str | None = None
        self.started = threading.Event()
        self.tracebacks = 0
        self.bad: list[str] = []
        self.warnings = 0
        self.lines = 0
        assert proc.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines += 1
            if self.url is None and (found := re.search(r"listening on (ws://\S+)", line)):
                self.url = found.group(1).split(" ")[0]
                self.started.set()
            if "Traceback" in line:
                self.tracebacks += 1
            if SERVER_BAD_LINE.search(line):
                self.bad.append(line.rstrip()[:300])
            elif " WARNING " in line:
                self.warnings += 1
        self.started.set()

    def join(self) -> None:
        self._thread.join(10)


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time so far (Linux) of a process, or of the whole machine
    (every core, every process) without ``pid``; NaN where /proc cannot tell."""
    try:
        if pid is None:
            busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
            ticks = sum(int(v) for i, v in enumerate(busy[:8]) if i not in (3, 4))  # not idle
        else:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return math.nan
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU use of named processes and of the whole machine between two readings, as
    percent of one core (the machine's can reach cores x 100)."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self._last: tuple[float, dict[str, float]] = (time.monotonic(), {})

    def read(self) -> dict[str, float]:
        """Percentages since the last reading; ``others`` is what nobody named used."""
        now = time.monotonic()
        used = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        used["machine"] = cpu_seconds()
        then, before = self._last
        self._last = (now, used)
        percent = {
            name: round(100 * (used[name] - before.get(name, 0.0)) / (now - then), 1)
            for name in used
        }
        ours = sum(v for name, v in percent.items() if name != "machine")
        percent["others"] = round(max(0.0, percent["machine"] - ours), 1)
        return percent


def percentiles(samples: list[float]) -> tuple[float, float]:
    if not samples:
        return math.nan, math.nan
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return round(statistics.median(ordered) * 1000, 3), round(p99 * 1000, 3)


@dataclass
class Phases:
    """What the run saw, for :func:`summary`."""

    stats: HostileStats
    report: dict[str, Any]  # the bots'
    baseline: tuple[float, float]  # monotonic spans
    fuzz: tuple[float, float]
    cpu: dict[str, dict[str, float]]
    alive: bool


def _start_server() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", "0",
         "--room", ROOM, "--password", PASSWORD, "--journal", "none",
         "--generator", "seeds", "--advertise", "off"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def _stop(server: subprocess.Popen[str]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    server.wait()


def _run(
    server: subprocess.Popen[str], url: str, frames: int, baseline: float, seed: int, rate: float
) -> Phases:
    """The bots alone for ``baseline`` seconds, then the hostile process until it is done."""
    spawn = multiprocessing.get_context("spawn")
    bots_end, bots_conn = spawn.Pipe()
    hostile_end, hostile_conn = spawn.Pipe()
    bots = spawn.Process(target=_bots_process, args=(url, seed, bots_conn))
    hostile = None
    cpu = CpuMeter()
    try:
        bots.start()
        bots_conn.close()  # the child's end: its death then reads as EOF here
        bot_ids: list[int] = bots_end.recv()
        cpu.pids = {"server": server.pid, "bots": bots.pid or 0}
        cpu.read()
        time.sleep(baseline)  # the baseline: the bots alone
        baseline_span = (time.monotonic() - baseline, time.monotonic())
        baseline_cpu = cpu.read()
        hostile = spawn.Process(
            target=_hostile_process, args=(url, frames, seed, rate, bot_ids, hostile_conn)
        )
        started = time.monotonic()
        hostile.start()
        cpu.pids["hostile"] = hostile.pid or 0
        hostile_conn.close()
        stats: HostileStats = hostile_end.recv()
        fuzz_span = (started, time.monotonic())
        fuzz_cpu = cpu.read()
        hostile_end.send("bye")
        hostile.join()
        alive = server.poll() is None
        bots_end.send("stop")
        report: dict[str, Any] = bots_end.recv()
        bots.join()
    finally:
        for child in (bots, hostile):
            if child is not None and child.is_alive():
                child.kill()
    cpus = {"baseline": baseline_cpu, "fuzz": fuzz_cpu}
    return Phases(stats, report, baseline_span, fuzz_span, cpus, alive)


def summary(run: Phases, log: ServerLog, rate: float, seed: int) -> dict[str, Any]:
    stats, report = run.stats, run.report

    def within(span: tuple[float, float]) -> list[float]:
        return [lat for at, lat in report["latencies"] if span[0] <= at <= span[1]]

    base_p50, base_p99 = percentiles(within(run.baseline))
    fuzz_p50, fuzz_p99 = percentiles(within(run.fuzz))
    seconds = run.fuzz[1] - run.fuzz[0]
    return {
        "frames": stats.frames,
        "connections": stats.connections,
        "connect_failures": stats.connect_failures,
        "close_codes": dict(sorted(stats.close_codes.items())),
        "errors_sent": stats.errors_sent,
        "server_tracebacks": log.tracebacks,
        "server_bad_lines": log.bad[:10],
        "server_warnings": log.warnings,
        "server_alive": run.alive,
        "bots_intact": not report["problems"],
        "bot_problems": report["problems"],
        "bot_ids": report["ids"],
        "bot_layers": report["layers"],
        "bot_seeds": report["seeds"],
        "baseline_p50_ms": base_p50,
        "baseline_p99_ms": base_p99,
        "fuzz_p50_ms": fuzz_p50,
        "fuzz_p99_ms": fuzz_p99,
        "latency_ratio_p50": round(fuzz_p50 / base_p50, 2),
        "latency_ratio_p99": round(fuzz_p99 / base_p99, 2),
        "baseline_samples": len(within(run.baseline)),
        "fuzz_samples": len(within(run.fuzz)),
        "fuzz_seconds": round(seconds, 2),
        "frames_per_s": round(stats.frames / seconds, 1),
        "rate": rate,
        "server_cpu_percent": run.cpu["fuzz"]["server"],
        # Percent of one core, during each phase: this machine's cores are shared.
        "cpu_percent": run.cpu,
        "cores": os.cpu_count(),
        "sessions": dict(sorted(stats.sessions.items())),
        "sent_by_how": dict(sorted(stats.sent_by_how.items())),
        "seed": seed,
    }


def measure(frames: int, baseline: float, seed: int, rate: float) -> dict[str, Any]:
    server = _start_server()
    log = ServerLog(server)
    try:
        log.started.wait(30)
        if log.url is None:
            raise RuntimeError("the server did not start")
        run = _run(server, log.url, frames, baseline, seed, rate)
    finally:
        _stop(server)
        log.join()
    return summary(run, log, rate, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fuzz",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--frames", type=int, default=100_000, help="hostile frames to send (default: %(default)s)"
    )
    parser.add_argument(
        "--baseline",
        type=float,
        default=10.0,
        help="seconds the bots play alone first (default: %(default)s)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="hostile frames a second, 0 for as fast as they go (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.baseline <= 0 or args.rate < 0:
        parser.error("--frames must be 1 or more, --baseline above 0, --rate 0 or more")
    result = measure(args.frames, args.baseline, args.seed, args.rate)
    if not args.json:
        print(
            f"{result['frames']} frames on {result['connections']} connections in "
            f"{result['fuzz_seconds']} s; close codes {result['close_codes']}; "
            f"server alive {result['server_alive']}, tracebacks {result['server_tracebacks']}; "
            f"bots intact {result['bots_intact']}"
        )
        print(
            f"bot relay latency p50/p99: baseline {result['baseline_p50_ms']}/"
            f"{result['baseline_p99_ms']} ms, fuzz {result['fuzz_p50_ms']}/"
            f"{result['fuzz_p99_ms']} ms"
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
