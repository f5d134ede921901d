"""A game client: one screen in a room. It joins, streams its body, plays the room's groove.

:class:`GameClient` is what every screen runs, whatever the room: a player's (with a
pose source) or a spectator's (without). It connects a :class:`~client.net.NetClient`,
streams the tracker's features and landmarks to the server 30 times a second, and
every 10 ms hands the scheduler's hits to the audio engine, moving each player's
channel the moment their pose arrives. :meth:`screen_state` gathers what the views
show. :func:`run_in_window` runs a client's asyncio side on a thread of its own while
arcade draws on the main thread, as a desktop game must.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, cast

import numpy as np
from websockets.exceptions import ConnectionClosed

from client.audio_types import AudioEngine
from client.mix import follow
from client.net import ConnectError, NetClient
from client.pose_source import open_source
from client.pose_tracker import Detector, Landmarker, PoseTracker, TrackedPose
from client.room_state import RoomState
from client.scheduler import Scheduler
from client.views.screen_state import EMPTY_GRID, ScreenState
from shared.codec import LANDMARK_COUNT
from shared.loop_stack import LoopStack
from shared.messages import (
    RECONNECT_GRACE,
    CloseCode,
    Hello,
    Layer,
    Mute,
    Pose,
    Remove,
    Seed,
    Tempo,
)

logger = logging.getLogger(__name__)

POSE_INTERVAL = 1 / 30  # the wire's limit: 30 poses a second
FEED_INTERVAL = 0.01  # how often hits are handed to the engine (the scheduler looks 150 ms on)
QUANT = 65535
# Closes that coming back cannot undo: said leave, removed, refused at the door.
FINAL_CLOSES = frozenset(
    {
        CloseCode.LEFT,
        CloseCode.REMOVED,
        CloseCode.WRONG_PASSWORD,
        CloseCode.NO_SUCH_ROOM,
        CloseCode.ROOM_FULL,
        CloseCode.PROTOCOL_VERSION,
        CloseCode.REPLACED,  # this seat plays on another connection now
    }
)
RETRY_FIRST = 0.25  # the first retry after a drop; then doubling, up to RETRY_MAX
RETRY_MAX = 2.0


def quantize(landmarks: np.ndarray) -> tuple[int, ...]:
    """Landmarks ``[33, 4]`` (x, y, z, visibility) as the wire's 0..65535 (x, y, visibility)."""
    points = np.clip(np.nan_to_num(landmarks[:, (0, 1, 3)], nan=0.0), 0.0, 1.0)
    return tuple(int(v) for v in np.round(points * QUANT).astype(np.int64).reshape(-1))


class GameClient:
    def __init__(
        self,
        url: str,
        hello: Hello,
        engine: AudioEngine,
        source: str | None = None,
        pose_model: str = "lite",
    ) -> None:
        """``source``: the body (camera, camera:N, demo, a video file); None to only watch."""
        self.net = NetClient(url, hello)
        self.engine = engine
        self.source = source
        self.pose_model = pose_model
        self.scheduler = Scheduler()
        self.tracker: PoseTracker | None = None
        self.grid = EMPTY_GRID
        self.first_sound: float | None = None  # when the first hits went to the engine
        self.changed_at: dict[int, float] = {}  # player -> server time their layer changed
        self._followed: dict[int, float] = {}  # player -> client time of the pose applied
        self._versions: dict[int, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.connection = ""  # "" while connected; else what the status line says
        self._pruned_bar = -1
        self.reconnects = 0
        self.grace = RECONNECT_GRACE

    async def start(self) -> None:
        await self.net.connect()
        if self.source is not None:
            detector = None if self.source == "demo" else self._detector
            self.tracker = PoseTracker(open_source(self.source), detector).start()
            self._tasks.append(asyncio.create_task(self._stream_poses()))
        self._tasks.append(asyncio.create_task(self._feed_audio()))
        self._tasks.append(asyncio.create_task(self._keep_connected()))

    async def _keep_connected(self) -> None:
        """Come back after a drop, with the token, for as long as the room keeps the
        seat. The groove plays on meanwhile from the room state this client has."""
        loop = asyncio.get_running_loop()
        while True:
            await self.net.closed.wait()
            code, reason = self.net.close_code, self.net.close_reason
            if code in FINAL_CLOSES:
                self.connection = f"disconnected: {reason or f'close code {code}'}"
                return
            me = self.net.state.me
            deadline = loop.time() + self.grace
            delay = RETRY_FIRST
            while True:
                self.connection = "connection lost: reconnecting..."
                try:
                    welcome = await self.net.reconnect()
                    break
                except ConnectError as exc:
                    if exc.code in FINAL_CLOSES or loop.time() + delay > deadline:
                        self.connection = f"disconnected: {exc.reason}"
                        return
                    logger.info("reconnect failed (%s); again in %.2f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
            self.reconnects += 1
            same = me is not None and welcome.player.id == me.id
            seat = "the same seat" if same else "a new seat"
            logger.info("reconnected as player %d, %s", welcome.player.id, seat)
            self.connection = ""

    def _detector(self) -> Detector:
        return Landmarker(self.pose_model)

    async def stop(self) -> None:
        """Stop whatever was started (after a failed start too)."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.tracker is not None:
            await asyncio.to_thread(self.tracker.stop)
        await self.net.close()
        self.engine.close()

    @property
    def me(self) -> int:
        return self.net.player_id

    async def send(self, message: Seed | Tempo | Mute | Remove) -> None:
        """Send a player's request; while the connection is down it cannot go (the status
        line says so) and is dropped rather than queued for a room that has moved on."""
        if self.connection:
            logger.info("not sent while %s: %s", self.connection, message)
            return
        await self.net.send(message)

    def latest_pose(self) -> TrackedPose | None:
        return self.tracker.latest() if self.tracker is not None else None

    def screen_state(self) -> ScreenState:
        sync = self.net.sync
        trip = self.net.round_trip
        return ScreenState(
            room=self.net.state,
            server_time=self.net.server_now() if sync.ready else None,
            own_pose=self.latest_pose(),
            grid=self.grid,
            round_trip_ms=None if trip is None else trip * 1000,
            uncertainty_ms=sync.uncertainty() * 1000 if sync.ready else None,
            changed_at=dict(self.changed_at),
            message=self.connection
            or (f"connected to {self.net.state.room}" if self.net.state.room else ""),
        )

    async def _stream_poses(self) -> None:
        assert self.tracker is not None
        sent = -1
        while True:
            pose = self.tracker.latest()
            if pose is not None and pose.index != sent:
                sent = pose.index
                features = tuple(float(v) for v in pose.features)
                landmarks = () if pose.landmarks is None else quantize(pose.landmarks)
                assert len(landmarks) in (0, LANDMARK_COUNT * 3)
                if not self.connection:  # a pose that cannot go is simply not sent
                    with contextlib.suppress(ConnectionClosed):
                        await self.net.send(Pose(self.net.clock(), features, landmarks))
                follow(self.engine, self.me, features)  # my own sound moves at once
            await asyncio.sleep(POSE_INTERVAL)

    async def _feed_audio(self) -> None:
        state, sync = self.net.state, self.net.sync
        while True:
            if state.tempo is not None and sync.ready:
                local = self.net.clock()
                bar = int(state.tempo.bar_at(sync.server_time(local)))
                if bar != self._pruned_bar:  # layers that no longer play: a long jam's pile
                    self._pruned_bar = bar
                    state.loops.prune(bar - 1)  # the bar just ended may still be sounding
                advance: Any = getattr(self.engine, "advance_to", None)
                if advance is not None:  # an offline engine runs on this clock too
                    advance(max(local, self.engine.now()))
                hits = self.scheduler.due(state.loops, state.tempo, sync, local, muted=state.muted)
                if hits and self.first_sound is None:
                    self.first_sound = time.monotonic()
                    # bench.startup reads this line: launch to first sound, the target 3 s
                    logger.info("first sound scheduled (it plays at %.3f local)", hits[0].time)
                self.engine.schedule(hits)
                for player, pose in state.poses.items():
                    if self._followed.get(player) != pose.client_time:
                        self._followed[player] = pose.client_time
                        follow(self.engine, player, pose.features)
                self._note_changes(state.loops.all(), state.tempo.time_at_bar)
            await asyncio.sleep(FEED_INTERVAL)

    def _note_changes(self, layers: tuple[Layer, ...], bar_time: Callable[[float], float]) -> None:
        """A player's new layer (after their first) lights them up when it starts."""
        for layer in layers:
            known = self._versions.get(layer.owner)
            if known is None or layer.version > known:
                self._versions[layer.owner] = layer.version
                if known is not None:
                    self.changed_at[layer.owner] = bar_time(layer.starts_at_bar)


class Background:
    """An asyncio loop on a thread of its own, for a window's network and audio."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="game-io", daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run ``work`` there and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def submit(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run ``work`` there without waiting (a click sending a seed)."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        future.add_done_callback(_log_failure)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5.0)
        self.loop.close()


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("sending failed: %s", future.exception())


def snapshot(game: GameClient) -> ScreenState:
    """The screen state with its own copy of the room: for a view drawing on another
    thread than the one the messages arrive on (call this on the client's thread)."""
    state = game.screen_state()
    room = state.room
    loops = LoopStack()
    for layer in room.loops.all():
        loops.schedule(layer)
    copied = RoomState(
        me=room.me,
        room=room.room,
        host=room.host,
        players=dict(room.players),
        loops=loops,
        tempo=room.tempo,
        poses=dict(room.poses),
        muted=set(room.muted),
    )
    return replace(state, room=copied)


def run_window(
    background: Background,
    game: GameClient,
    make_view: Callable[[Callable[[], ScreenState]], Any],
    title: str,
    frames: int = 0,
) -> None:
    """Show ``make_view(state)`` until the window closes (or ``frames`` draws pass): the
    view reads a fresh snapshot each frame, taken on the client's own thread."""
    import arcade

    async def take() -> ScreenState:
        return snapshot(game)

    def state() -> ScreenState:
        return cast(ScreenState, background.run(take(), timeout=1.0))

    window = arcade.Window(1280, 720, f"PoseJam: {title}")
    view = make_view(state)
    if frames:
        draw, drawn = view.on_draw, [0]

        def limited() -> None:
            draw()
            drawn[0] += 1
            if drawn[0] >= frames:
                window.close()

        view.on_draw = limited
    window.show_view(view)
    arcade.run()
