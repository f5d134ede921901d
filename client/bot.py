"""Headless bots: players that join, dance (stream poses at 30 Hz), roll seeds, and log.

``posejam bot --url ws://HOST:PORT --room CODE --count N [--spectators M] --seconds S``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from dataclasses import dataclass

from client import bot_pose
from client.net import ConnectError, NetClient
from client.pose_features import PoseFeatures
from shared.drums import DRUM_COUNT, GRID_STEPS
from shared.messages import Hello, Join, Layer, Leave, Pose, Role, Seed, SeedSource, Tempo

logger = logging.getLogger(__name__)

POSE_INTERVAL = 1 / 30
SEED_EVERY = (4.0, 8.0)  # seconds between a bot's seeds, drawn uniformly


@dataclass(frozen=True, slots=True)
class BotReport:
    name: str
    role: Role
    received: dict[str, int]
    poses_sent: int
    seeds_sent: int
    round_trip_ms: float | None
    sync_uncertainty_ms: float | None
    close_code: int | None


def random_seed(rng: random.Random) -> Seed:
    if rng.random() < 0.5:
        return Seed(SeedSource.DICE, dice=rng.randrange(2**31), density=round(rng.random(), 2))
    grid = tuple(
        rng.randrange(2**DRUM_COUNT) & rng.randrange(2**DRUM_COUNT) for _ in range(GRID_STEPS)
    )
    return Seed(SeedSource.GRID, grid=grid)


async def run_bot(
    url: str, room: str, name: str, role: Role, seconds: float, password: str = "", seed: int = 0
) -> BotReport:
    rng = random.Random(seed)
    client = NetClient(url, Hello(name, role, room=room, password=password), keep_inbox=True)
    await client.connect()
    logger.info("%s joined room %s as %s %d", name, client.state.room, role, client.player_id)
    poses = seeds = 0
    start = time.monotonic()
    next_seed = start + rng.uniform(*SEED_EVERY)
    phase = rng.random() * 4
    features = PoseFeatures()  # the same features a camera player's tracker sends
    logged = asyncio.create_task(_log_messages(client, name))
    try:
        while time.monotonic() - start < seconds and not client.closed.is_set():
            now = time.monotonic()
            if role is Role.PLAYER:
                t = now - start
                body = bot_pose.body(t, phase=phase)
                vector = features.update(bot_pose.points(body), t)
                await client.send(
                    Pose(client.clock(), tuple(vector.tolist()), bot_pose.quantize(body))
                )
                poses += 1
                if now >= next_seed:
                    await client.send(random_seed(rng))
                    seeds += 1
                    next_seed = now + rng.uniform(*SEED_EVERY)
            await asyncio.sleep(POSE_INTERVAL)
    finally:
        logged.cancel()
        await client.close()
    return BotReport(
        name,
        role,
        {k.value: n for k, n in sorted(client.received.items())},
        poses,
        seeds,
        client.round_trip * 1000 if client.round_trip is not None else None,
        client.sync.uncertainty() * 1000 if client.sync.ready else None,
        client.close_code,
    )


async def _log_messages(client: NetClient, name: str) -> None:
    while True:
        message = await client.receive()
        if isinstance(message, Layer):
            logger.info(
                "%s: layer v%d of player %d starts at bar %d",
                name,
                message.version,
                message.owner,
                message.starts_at_bar,
            )
        elif isinstance(message, Tempo):
            logger.info("%s: tempo %g bpm from bar %d", name, message.bpm, message.starts_at_bar)
        elif isinstance(message, Join):
            logger.info("%s: %s joined as %s", name, message.player.name, message.player.role)
        elif isinstance(message, Leave):
            logger.info("%s: player %d left", name, message.player)
        elif not isinstance(message, Pose):
            logger.debug("%s: %s", name, message)


async def run_bots(
    url: str, room: str, count: int, spectators: int, seconds: float, password: str = ""
) -> list[BotReport]:
    bots = [
        run_bot(url, room, f"bot {i + 1}", Role.PLAYER, seconds, password, seed=i)
        for i in range(count)
    ]
    bots += [
        run_bot(url, room, f"screen {i + 1}", Role.SPECTATOR, seconds, password, seed=1000 + i)
        for i in range(spectators)
    ]
    return list(await asyncio.gather(*bots))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default="ws://127.0.0.1:8765", help="server address (default: %(default)s)"
    )
    parser.add_argument(
        "--room", default="", metavar="CODE", help="room code (default: the server's default room)"
    )
    parser.add_argument("--password", default="", help="room password (default: none)")
    parser.add_argument(
        "--count", type=_count, default=3, help="bot players, 0-8 (default: %(default)s)"
    )
    parser.add_argument(
        "--spectators", type=_count, default=0, help="bot spectators (default: %(default)s)"
    )
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="how long they stay (default: %(default)s)"
    )


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        reports = asyncio.run(
            run_bots(
                args.url,
                args.room.upper(),
                args.count,
                args.spectators,
                args.seconds,
                args.password,
            )
        )
    except ConnectError as exc:
        logger.error("could not join: %s", exc)
        return 1
    log_reports(reports)
    return 0


def log_reports(reports: list[BotReport]) -> None:
    for r in reports:
        rtt = f"{r.round_trip_ms:.1f} ms" if r.round_trip_ms is not None else "-"
        unc = f"+-{r.sync_uncertainty_ms:.2f} ms" if r.sync_uncertainty_ms is not None else "-"
        logger.info(
            "%s (%s): sent %d poses, %d seeds; received %s; round trip %s; sync %s",
            r.name,
            r.role,
            r.poses_sent,
            r.seeds_sent,
            r.received,
            rtt,
            unc,
        )
