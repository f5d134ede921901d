"""Do two screens play the groove at the same moment? ``python -m bench.audio_sync --json``

Starts the real server in its own process; two player clients join it through a
relay that delays every chunk by 20 ms +- 5 ms each way (as ``bench.sync``), each
with its own simulated local clock (a random offset up to +-10 s and drift up to
+-100 ppm). One rolls dice and the other sends a hand-made grid, so the room plays
two layers. After ``--warmup`` seconds of clock sync, each client plays the same
``--bars`` bars exactly as it would in real time: every 10 ms it reads its own clock,
asks its :class:`~client.scheduler.Scheduler` for the hits due (their local times
come from its own ``ClockSync`` estimate) and hands them to an
:class:`~client.audio_engine.OfflineEngine` whose time axis is that local clock.
Each then renders its WAV (offline, only to be fast and sample-exact).

The benchmark detects the onsets in both WAVs, maps each to server time through the
clock offset and drift it injected (the truth, which the clients never see), and
pairs each onset of one with the nearest of the other: the skew between them holds
every error of sync and scheduling. The last line printed is one JSON object,
``{"p50_ms", "p99_ms", "max_ms", "onsets", ...}``, with each client's error against
the tempo grid as well.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.onsets import onsets, pair
from bench.relay import DelayRelay, uniform_delay
from bench.report import report
from bench.sync import SimulatedClock, start_server, summary
from client.audio_engine import OfflineEngine
from client.kit import read_wav
from client.net import NetClient
from client.scheduler import Scheduler
from shared.drums import STEPS_PER_BAR
from shared.messages import Hello, Role, Seed, SeedSource

TICK = 0.01  # seconds between a client's scheduler calls, like an audio callback's period
PAIR_WITHIN = 0.03  # onsets further apart than this are not the same hit
GRID = (1, 0, 4, 0, 2, 0, 4, 1, 1, 0, 4, 0, 2, 0, 4, 0)  # kick, hats, snare: a plain groove


@dataclass
class Player:
    name: str
    client: NetClient
    clock: SimulatedClock
    engine: OfflineEngine | None = None
    scheduler: Scheduler | None = None


async def join(name: str, port: int, clock: SimulatedClock) -> Player:
    client = NetClient(f"ws://127.0.0.1:{port}", Hello(name, Role.PLAYER), clock=clock)
    await client.connect()
    return Player(name, client, clock)


async def play(players: list[Player], bars: int) -> tuple[float, float]:
    """Both clients play ``bars`` bars in real time; the bars' server times (truth)."""
    tempo = players[0].client.state.tempo
    assert tempo is not None
    first = tempo.next_bar(time.monotonic(), 4.0)  # a bar starting a beat or more ahead
    begin, end = tempo.time_at_bar(first), tempo.time_at_bar(first + bars)
    for p in players:
        # The file starts a quarter second before the first bar, on this client's clock.
        p.engine = OfflineEngine(start=p.clock.at(begin) - 0.25)
        p.scheduler = Scheduler()
    while time.monotonic() < end + 0.2:
        for p in players:
            assert p.engine is not None and p.scheduler is not None
            local = p.clock()
            p.engine.advance_to(max(local, p.engine.now()))  # the file starts ahead of now
            state = p.client.state
            assert state.tempo is not None
            due = p.scheduler.due(state.loops, state.tempo, p.client.sync, local)
            # The client's own idea of which hits belong to the bars: by its clock sync.
            steps = (state.tempo.step_at(p.client.sync.server_time(h.time)) for h in due)
            window = (first * STEPS_PER_BAR - 0.5, (first + bars) * STEPS_PER_BAR - 0.5)
            ours = [h for h, s in zip(due, steps, strict=True) if window[0] <= s < window[1]]
            p.engine.schedule(ours)
        await asyncio.sleep(TICK)
    return begin, end


def rendered_onsets(p: Player, begin: float, end: float, folder: Path) -> np.ndarray:
    """Server times (truth) of the onsets in this player's render."""
    assert p.engine is not None
    seconds = p.clock.at(end) - p.engine.start + 0.5
    info = p.engine.render(folder / f"{p.name}.wav", seconds)
    samples, rate = read_wav(info.path)
    local = p.engine.start + onsets(samples, rate) / rate
    return np.array([p.clock.true_time(t) for t in local])


async def session(
    port: int, seed: int, warmup: float, bars: int
) -> tuple[list[Player], tuple[float, float]]:
    """The two players' real-time session; the played bars' server times."""
    rng = random.Random(seed)
    relay = DelayRelay("127.0.0.1", port, uniform_delay(0.020, 0.005, rng))
    relayed = await relay.start()
    players: list[Player] = []
    try:
        for name in ("dice", "grid"):
            clock = SimulatedClock(rng.uniform(-10, 10), rng.uniform(-100e-6, 100e-6))
            players.append(await join(name, relayed, clock))
        await players[0].client.send(Seed(SeedSource.DICE, dice=seed, density=0.6))
        await players[1].client.send(Seed(SeedSource.GRID, grid=GRID))
        await asyncio.sleep(warmup)
        played = await play(players, bars)
    finally:
        for p in players:
            await p.client.close()
        await relay.stop()
    return players, played


def measure(seed: int, warmup: float, bars: int) -> dict[str, object]:
    proc, port = start_server()
    try:
        players, (begin, end) = asyncio.run(session(port, seed, warmup, bars))
    finally:
        proc.terminate()
        proc.wait()
    tempo = players[0].client.state.tempo
    assert tempo is not None
    with tempfile.TemporaryDirectory() as tmp:
        found = [rendered_onsets(p, begin, end, Path(tmp)) for p in players]
    pairs = pair(found[0], found[1], PAIR_WITHIN)
    skews = [(a - b) * 1000 for a, b in pairs]
    # Each client against the grid: the nearest step's server time.
    grid = []
    for times in found:
        steps = np.array([round(tempo.step_at(t)) for t in times])
        ideal = np.array([tempo.time_at_step(s) for s in steps])
        grid.append(summary(list((times - ideal) * 1000)))
    return {
        **summary(skews),
        "onsets": len(pairs),
        "unpaired": len(found[0]) + len(found[1]) - 2 * len(pairs),
        "grid_error": dict(zip(("dice", "grid"), grid, strict=True)),
        "bars": bars,
        "warmup_s": warmup,
        "uncertainty_ms": [round(p.client.sync.uncertainty() * 1000, 4) for p in players],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audio_sync", description=__doc__)
    parser.add_argument("--bars", type=int, default=8, help="bars played (default: %(default)s)")
    parser.add_argument(
        "--warmup", type=float, default=30.0, help="sync time first (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="clocks, delays, dice (default: %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    if args.bars < 1 or not math.isfinite(args.warmup) or args.warmup < 0:
        parser.error("--bars must be 1 or more and --warmup 0 or more")
    report(measure(args.seed, args.warmup, args.bars), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
