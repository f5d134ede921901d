"""Solo practice: you and an AI band, with the room's server running in this process.

A :class:`SoloSession` starts a server on 127.0.0.1 (the drum model loaded and warmed
first), adds the AI band to its room, joins it with a :class:`~client.game.GameClient`
as the player -- the client every screen runs -- and rolls the player's first layer.
The server is the same one a party uses, reached over loopback: solo is a room of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from client.audio_engine import OfflineEngine
from client.audio_types import AudioEngine
from client.challenge import ChallengeRun, Result, challenges
from client.export_cli import export
from client.game import GameClient
from client.net import NetClient
from client.views.screen_state import ScreenState
from server import ai_band
from server import main as server_main
from server.app import PoseJamServer
from server.generator import Generator
from server.journal import Journal
from server.lobby import Lobby
from shared.drums import BEATS_PER_BAR, STEPS_PER_BAR
from shared.messages import Hello, Role, Seed, SeedSource
from shared.tempo import check_bpm

logger = logging.getLogger(__name__)

# Seconds from the room opening to its first bar: enough for the band's and the
# player's first layers to be written in the beat before the bar's lead.
FIRST_BAR_AFTER = 1.2


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


class SoloSession:
    """The room's server in this process, with the AI band, and the player's client."""

    def __init__(self, config: SoloConfig, engine: AudioEngine) -> None:
        self.config = config
        self.engine = engine
        self.server: PoseJamServer | None = None
        self.journal: Journal | None = None
        self.game: GameClient | None = None
        self.code = ""
        self.run: ChallengeRun | None = None
        self._judge: asyncio.Task[None] | None = None
        self.generator: Generator | None = None

    async def start(self) -> None:
        config = self.config
        generator = self.generator = server_main.make_generator(config.generator, None)  # warm
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
        hello = Hello(config.name, Role.PLAYER)
        self.game = GameClient(
            f"ws://127.0.0.1:{port}", hello, self.engine, config.source, config.pose_model
        )
        await self.game.start()
        await self.game.send(Seed(SeedSource.DICE, dice=config.seed, density=0.5))

    def start_challenges(self, first_bar: int, count: int, bars_each: int = 4) -> ChallengeRun:
        """``count`` challenges from ``first_bar``, each bar judged once it has played."""
        self.run = ChallengeRun(challenges(first_bar, bars_each, count, self.config.seed))
        self._judge = asyncio.create_task(self._judge_bars(self.run))
        return self.run

    async def _judge_bars(self, run: ChallengeRun) -> None:
        judged = -1
        while True:
            state, sync = self.client.state, self.client.sync
            if state.tempo is not None and sync.ready:
                now_bar = int(state.tempo.bar_at(sync.server_time(self.client.clock())))
                for bar in range(max(judged + 1, now_bar - 8), now_bar):
                    run.observe(state.loops, self.me, bar)
                judged = max(judged, now_bar - 1)
            await asyncio.sleep(0.1)

    def screen_state(self) -> ScreenState:
        """The client's screen, with the challenge to aim for as its status line."""
        assert self.game is not None
        state = self.game.screen_state()
        if self.run is None or state.room.tempo is None or state.server_time is None:
            return state
        bar = int(state.room.tempo.bar_at(state.server_time))
        return replace(state, message=self.run.status(bar) or state.message)

    async def stop(self) -> None:
        """Stop whatever was started (after a failed start too)."""
        if self._judge is not None:
            self._judge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._judge
        if self.game is not None:
            await self.game.stop()
        else:
            self.engine.close()
        if self.server is not None:
            await self.server.stop()
        server_main.close_generator(self.generator)
        if self.journal is not None:
            self.journal.close()

    @property
    def client(self) -> NetClient:
        assert self.game is not None
        return self.game.net

    @property
    def me(self) -> int:
        return self.client.player_id

    async def first_layer_bar(self, timeout: float = 15.0) -> int:
        """The bar the player's first layer starts on, once the server has written it."""
        deadline = time.monotonic() + timeout
        while (layer := self.client.state.loops.latest(self.me)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the server wrote no layer for the player in time")
            await asyncio.sleep(0.02)
        return layer.starts_at_bar

    def bar_times(self, first: int, bars: int) -> tuple[float, float]:
        """Local times at which bars ``first`` and ``first + bars`` start, by the clock sync."""
        tempo, sync = self.client.state.tempo, self.client.sync
        assert tempo is not None
        return (
            sync.local_time(tempo.time_at_step(first * STEPS_PER_BAR)),
            sync.local_time(tempo.time_at_step((first + bars) * STEPS_PER_BAR)),
        )


@dataclass(frozen=True, slots=True)
class SoloResult:
    wav: Path
    midi: Path | None  # from the journal, when the jam was recorded
    screen: Path | None  # the play view as the jam ended (needs arcade's off-screen drawing)
    first_bar: int
    bars: int
    seconds: float  # of audio rendered
    hits: int
    peak_dbfs: float
    layers: int  # layers the room played during the jam (every owner's versions)
    players: dict[int, str]  # who played: the player and the band, by id
    challenges: list[Result]  # how the player's layer met each challenge


async def play_headless(
    config: SoloConfig, bars: int, out: Path, screenshot: bool = True
) -> SoloResult:
    """A whole solo jam of ``bars`` bars from the player's first layer, in real time,
    heard by an offline engine on this machine's clock: ``out/jam.wav``, ``out/jam.mid``
    (when the jam is journaled) and the play view at its end, ``out/screen.png``."""
    started = time.monotonic()
    engine = OfflineEngine(start=started)
    session = SoloSession(config, engine)
    try:
        await session.start()
        first = await session.first_layer_bar()
        # A bar to hear the groove, then a challenge every 4 bars that fit in the jam.
        run = session.start_challenges(first + 1, (bars - 1) // 4)
        _, end = session.bar_times(first, bars)
        while time.monotonic() < end + 0.2:
            await asyncio.sleep(0.05)
        results = run.results()
        assert session.server is not None
        state = session.client.state
        players = {p.id: p.name for p in state.players.values() if p.role is not Role.SPECTATOR}
        layers = len(state.loops.all())
        jam = session.server.jams.get(session.code)
        screen = out / "screen.png" if screenshot else None
        if screen is not None and session.game is not None:
            capture_play(session.screen_state(), screen)
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
        info.path,
        midi,
        screen,
        first,
        bars,
        seconds,
        info.hits,
        info.peak_dbfs,
        layers,
        players,
        results,
    )


def capture_play(state: ScreenState, path: Path) -> Path:
    """The play view of this screen state, drawn off-screen into ``path``."""
    from client.views.capture import capture  # arcade: only a job that draws pays for it
    from client.views.play import PlayView

    return capture(lambda: PlayView(lambda: state, on_seed=lambda seed: None), path)


RING_OUT = 1.5  # seconds of the last hits' tails after the last bar
