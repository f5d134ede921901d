"""Solo practice: you and an AI band, with the room's server running in this process.

A :class:`SoloSession` starts a server on 127.0.0.1 (the drum model loaded and warmed
first), adds the AI band to its room, joins it as the player, rolls the player's first
layer, and then runs what a game client runs: the pose tracker streaming features to
the server 30 times a second, and the audio feed handing the scheduler's hits to the
engine every 10 ms, with every pose moving its player's channel at once. The server
is the same one a party uses, reached over loopback: solo is a room of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from client.audio_engine import OfflineEngine
from client.audio_types import AudioEngine
from client.export_cli import export
from client.mix import follow
from client.net import NetClient
from client.pose_source import open_source
from client.pose_tracker import Detector, Landmarker, PoseTracker, TrackedPose
from client.scheduler import Scheduler
from server import ai_band
from server import main as server_main
from server.app import PoseJamServer
from server.journal import Journal
from server.lobby import Lobby
from shared.codec import LANDMARK_COUNT
from shared.drums import BEATS_PER_BAR, STEPS_PER_BAR
from shared.messages import Hello, Pose, Role, Seed, SeedSource
from shared.tempo import check_bpm

logger = logging.getLogger(__name__)

# Seconds from the room opening to its first bar: enough for the band's and the
# player's first layers to be written in the beat before the bar's lead.
FIRST_BAR_AFTER = 1.2
POSE_INTERVAL = 1 / 30  # the wire's limit: 30 poses a second
FEED_INTERVAL = 0.01  # how often hits are handed to the engine (the scheduler looks 150 ms on)
QUANT = 65535


@dataclass(frozen=True, slots=True)
class SoloConfig:
    bpm: float = 120.0
    band: int = 2  # AI band members, 1..3
    seed: int = 0  # the band's styles and the first dice
    source: str = "demo"  # pose source: camera, camera:N, demo, or a video file
    pose_model: str = "lite"
    generator: str = "auto"  # the drum model, or the seeds as they are
    name: str = "You"
    journal: Path | None = None  # where the jam is recorded (None: not recorded)

    def __post_init__(self) -> None:
        ai_band.band(self.band)  # raises for a band of the wrong size
        check_bpm(self.bpm)


def quantize(landmarks: np.ndarray) -> tuple[int, ...]:
    """Landmarks ``[33, 4]`` (x, y, z, visibility) as the wire's 0..65535 (x, y, visibility)."""
    points = np.clip(np.nan_to_num(landmarks[:, (0, 1, 3)], nan=0.0), 0.0, 1.0)
    return tuple(int(v) for v in np.round(points * QUANT).astype(np.int64).reshape(-1))


class SoloSession:
    def __init__(self, config: SoloConfig, engine: AudioEngine) -> None:
        self.config = config
        self.engine = engine
        self.scheduler = Scheduler()
        self.server: PoseJamServer | None = None
        self.journal: Journal | None = None
        self.client: NetClient | None = None
        self.tracker: PoseTracker | None = None
        self.code = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._followed: dict[int, float] = {}  # player -> client time of the pose last applied
        self.first_sound: float | None = None  # when the first hits went to the engine

    async def start(self) -> None:
        config = self.config
        generator = server_main.make_generator(config.generator, None)  # loaded and warm
        # A count-in: the room's bar 0 began a little before now, so that bar 1 -- the
        # first with layers, which are written in the beat before its lead -- starts
        # FIRST_BAR_AFTER seconds from now instead of a whole bar and more.
        now = time.monotonic()
        bar = BEATS_PER_BAR * 60.0 / config.bpm
        lobby = Lobby()
        room = lobby.create(now - max(0.0, bar - FIRST_BAR_AFTER), bpm=config.bpm)
        self.code = room.code
        self.journal = Journal.open(config.journal) if config.journal is not None else None
        self.server = PoseJamServer(lobby, generator, journal=self.journal)
        port = await self.server.start("127.0.0.1", 0)
        self.server.announce(room, room.add_band(config.band, config.seed, now))
        self.client = NetClient(f"ws://127.0.0.1:{port}", Hello(config.name, Role.PLAYER))
        await self.client.connect()
        await self.client.send(Seed(SeedSource.DICE, dice=config.seed, density=0.5))
        source = open_source(config.source)
        detector = None if config.source == "demo" else self._detector
        self.tracker = PoseTracker(source, detector).start()
        self._tasks = [
            asyncio.create_task(self._stream_poses()),
            asyncio.create_task(self._feed_audio()),
        ]

    def _detector(self) -> Detector:
        return Landmarker(self.config.pose_model)

    async def stop(self) -> None:
        """Stop whatever was started (after a failed start too)."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.tracker is not None:
            await asyncio.to_thread(self.tracker.stop)
        if self.client is not None:
            await self.client.close()
        if self.server is not None:
            await self.server.stop()
        if self.journal is not None:
            self.journal.close()
        self.engine.close()

    @property
    def me(self) -> int:
        assert self.client is not None
        return self.client.player_id

    async def first_layer_bar(self, timeout: float = 15.0) -> int:
        """The bar the player's first layer starts on, once the server has written it."""
        assert self.client is not None
        deadline = time.monotonic() + timeout
        while (layer := self.client.state.loops.latest(self.me)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the server wrote no layer for the player in time")
            await asyncio.sleep(0.02)
        return layer.starts_at_bar

    def latest_pose(self) -> TrackedPose | None:
        return self.tracker.latest() if self.tracker is not None else None

    async def _stream_poses(self) -> None:
        assert self.client is not None and self.tracker is not None
        sent = -1
        while True:
            pose = self.tracker.latest()
            if pose is not None and pose.index != sent:
                sent = pose.index
                features = tuple(float(v) for v in pose.features)
                landmarks = () if pose.landmarks is None else quantize(pose.landmarks)
                assert len(landmarks) in (0, LANDMARK_COUNT * 3)
                await self.client.send(Pose(self.client.clock(), features, landmarks))
                follow(self.engine, self.me, features)  # my own sound moves at once
            await asyncio.sleep(POSE_INTERVAL)

    async def _feed_audio(self) -> None:
        assert self.client is not None
        state, sync = self.client.state, self.client.sync
        while True:
            if state.tempo is not None and sync.ready:
                local = self.client.clock()
                advance: Any = getattr(self.engine, "advance_to", None)
                if advance is not None:  # an offline engine runs on this clock too
                    advance(max(local, self.engine.now()))
                hits = self.scheduler.due(state.loops, state.tempo, sync, local)
                if hits and self.first_sound is None:
                    self.first_sound = time.monotonic()
                    # bench.startup reads this line: launch to first sound, the target 3 s
                    logger.info("first sound scheduled (it plays at %.3f local)", hits[0].time)
                self.engine.schedule(hits)
                for player, pose in state.poses.items():
                    if self._followed.get(player) != pose.client_time:
                        self._followed[player] = pose.client_time
                        follow(self.engine, player, pose.features)
            await asyncio.sleep(FEED_INTERVAL)

    def bar_times(self, first: int, bars: int) -> tuple[float, float]:
        """Local times at which bars ``first`` and ``first + bars`` start, by the clock sync."""
        assert self.client is not None and self.client.state.tempo is not None
        tempo, sync = self.client.state.tempo, self.client.sync
        return (
            sync.local_time(tempo.time_at_step(first * STEPS_PER_BAR)),
            sync.local_time(tempo.time_at_step((first + bars) * STEPS_PER_BAR)),
        )


@dataclass(frozen=True, slots=True)
class SoloResult:
    wav: Path
    midi: Path | None  # from the journal, when the jam was recorded
    first_bar: int
    bars: int
    seconds: float  # of audio rendered
    hits: int
    peak_dbfs: float
    layers: int  # layers the room played during the jam (every owner's versions)
    players: dict[int, str]  # who played: the player and the band, by id


async def play_headless(config: SoloConfig, bars: int, out: Path) -> SoloResult:
    """A whole solo jam of ``bars`` bars from the player's first layer, in real time,
    heard by an offline engine on this machine's clock: ``out/jam.wav``."""
    started = time.monotonic()
    engine = OfflineEngine(start=started)
    session = SoloSession(config, engine)
    try:
        await session.start()
        first = await session.first_layer_bar()
        _, end = session.bar_times(first, bars)
        while time.monotonic() < end + 0.2:
            await asyncio.sleep(0.05)
        assert session.client is not None and session.server is not None
        state = session.client.state
        players = {p.id: p.name for p in state.players.values() if p.role is not Role.SPECTATOR}
        layers = len(state.loops.all())
        jam = session.server.jams.get(session.code)
    finally:
        await session.stop()
    seconds = end - started + RING_OUT
    info = await asyncio.to_thread(engine.render, out / "jam.wav", seconds)
    midi = None
    if config.journal is not None and jam is not None:
        midi = out / "jam.mid"
        with Journal.open(config.journal, create=False) as journal:
            export(journal, jam, midi, bars=bars)
    return SoloResult(
        info.path, midi, first, bars, seconds, info.hits, info.peak_dbfs, layers, players
    )


RING_OUT = 1.5  # seconds of the last hits' tails after the last bar
