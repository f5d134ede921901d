"""The game in one window: the menu, the lobby, the settings, then a room's play or spectate screen.

:class:`GameApp` owns the window's views, the player's saved
:class:`~client.settings.Settings` and a :class:`~client.game.Background` loop for
the network and audio. The menu shows at once while the drum model loads on a
thread (solo and host need it; its status is the menu's bottom line). Solo starts a
room in this process with the AI band; Host starts a room on the LAN in this process
(:class:`HostSession`: announced with mDNS, its code on the play screen's status
line) and plays in it; join and spectate go through the lobby, which lists the rooms
announced on the LAN as they appear; Settings opens the settings screen, and leaving
it saves them. The name, the pose source, the sound output, the latency offset and
the master volume every room is joined with are the saved ones; the lobby starts
from them, and what is joined with there, and every tap-along result, is saved too,
but not a room's password: that is kept by room for this run only. A join that does
not happen (a wrong password, a full room, a room gone, a server not answering) goes
back to the same lobby, everything typed still there, with the reason in red. A
settings file that cannot be used is said on the menu, in red. Closing the window
stops whatever runs, a hosted room with it.

Every view draws a 1280x720 screen; a window of another size (full screen, or
resized) shows it as big as fits, centred, with clicks mapped back onto it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import threading
import types
import weakref
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from client.audio_engine import CUTOFF_MAX_HZ, open_engine
from client.audio_types import AudioEngine, Hit
from client.calibration import Calibration
from client.challenge import Result
from client.discovery import DiscoveryError, FoundRoom, RoomBrowser, parse_target, resolve
from client.game import Background, GameClient, snapshot
from client.net import ConnectError
from client.settings import (
    LATENCY_RANGE_MS,
    Device,
    Settings,
    load,
    save,
    settings_path,
    with_pose_source,
)
from client.solo import SoloConfig, SoloSession
from client.views.screen_state import ScreenState
from server import main as server_main
from server.app import PoseJamServer
from server.discovery import WILDCARD_HOSTS, RoomAdvertiser
from server.generator import Generator
from server.journal import Journal
from shared.messages import Hello, Mute, Remove, Role, Seed, Tempo
from shared.tempo import DEFAULT_BPM

if TYPE_CHECKING:  # the views import arcade: only when a window shows them
    from client.views.lobby import LobbyView

logger = logging.getLogger(__name__)

CHALLENGES = (3, 4)  # a solo jam's challenges: how many, of how many bars each
SIZE = (1280, 720)  # the screen every view draws
BARS: tuple[int, int, int, int] = (0, 0, 0, 255)  # around a scaled screen
FRAME_WAIT = 0.05  # three frames at 60 a second: one of them is drawn before the work
JOIN_TIMEOUT = 30.0  # finding a room, connecting, being let in, opening the pose source

Box = tuple[float, float, float]  # a scaled screen's left and bottom edges, and its scale


# -- a window of any size ----------------------------------------------------------------


def letterbox(width: float, height: float) -> Box:
    """Where the 1280x720 screen goes in a window this size: as big as fits, centred."""
    scale = min(width / SIZE[0], height / SIZE[1])
    return (width - SIZE[0] * scale) / 2, (height - SIZE[1] * scale) / 2, scale


def to_window(x: float, y: float, box: Box) -> tuple[float, float]:
    """A point of the screen, in the window's pixels."""
    left, bottom, scale = box
    return left + x * scale, bottom + y * scale


def to_screen(x: float, y: float, box: Box) -> tuple[float, float]:
    """A point of the window (a click), on the screen the views draw: the inverse of
    :func:`to_window`."""
    left, bottom, scale = box
    return (x - left) / scale, (y - bottom) / scale


# -- the player's master volume ----------------------------------------------------------


class MasterVolume:
    """An engine whose every channel's gain is scaled by the player's master volume:
    a channel is set to it before its first hits, and every gain set later is scaled."""

    def __init__(self, engine: AudioEngine, volume: float) -> None:
        self.engine = engine
        self.volume = volume
        self.sample_rate = engine.sample_rate
        self.output_latency = engine.output_latency
        self._set: set[int] = set()

    @property
    def offset(self) -> float:
        return self.engine.offset

    @offset.setter
    def offset(self, seconds: float) -> None:
        self.engine.offset = seconds

    def now(self) -> float:
        return self.engine.now()

    def schedule(self, hits: Sequence[Hit]) -> None:
        for owner in sorted({hit.owner for hit in hits} - self._set):
            self.set_channel(owner, CUTOFF_MAX_HZ, 1.0, 0.0)  # the engine's own defaults
        self.engine.schedule(hits)

    def set_channel(self, owner: int, cutoff_hz: float, gain: float, pan: float) -> None:
        self._set.add(owner)
        self.engine.set_channel(owner, cutoff_hz, gain * self.volume, pan)

    def close(self) -> None:
        self.engine.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)  # what only some engines have (advance_to)


def sound_outputs() -> list[Device]:
    """The sound outputs portaudio finds; none when it cannot say (no pyo, no sound card)."""
    try:
        from client.audio_cli import devices
        from client.audio_engine import _pyo

        return [(device.index, device.name) for device in devices(_pyo())]
    except Exception as exc:  # whatever pyo raises, the default output is still there
        logger.warning("cannot list the sound outputs: %s", exc)
        return []


def after_a_frame(window: Any, work: Callable[[], None]) -> None:
    """Run ``work`` once ``window`` has drawn another frame, so that what a view says
    before a blocking step is seen; at once when the window is not shown (nothing is
    drawn for anyone to see)."""
    if not window.visible:
        work()
        return
    import arcade

    arcade.schedule_once(lambda _dt: work(), FRAME_WAIT)


def join_failure(target: str, exc: BaseException) -> tuple[int | None, str]:
    """Why joining ``target`` failed, as :func:`client.views.lobby.refusal` takes it:
    the server's close code and reason, or None and a line that says it all."""
    from client.views.lobby import room_label

    if isinstance(exc, ConnectError):
        return exc.code, exc.reason
    if isinstance(exc, DiscoveryError):
        return None, str(exc)
    if isinstance(exc, TimeoutError):
        return None, f"no answer from {room_label(target)} in {JOIN_TIMEOUT:g} s"
    return None, f"could not join {room_label(target)}: {str(exc) or type(exc).__name__}"


# -- hosting a room from the menu --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostConfig:
    listen: str = "0.0.0.0"  # where the room's server listens: the LAN
    port: int = server_main.DEFAULT_PORT  # any free one when it is taken; 0: any
    bpm: float = DEFAULT_BPM
    journal: Path | None = field(default_factory=server_main.default_journal)


def host_status(code: str, port: int, announced: bool | None, address: str, password: bool) -> str:
    """The host's status line: what friends do to join (short: the play screen gives it
    a third of its width). ``announced``: None while the name is claimed, then whether
    mDNS announces the room; ``address``: this machine's on the LAN ("" when none)."""
    if announced is False:
        if not address:
            return "not announced: this machine has no network address"
        return f"not announced: friends type ws://{address}:{port}"
    if password:
        return f"room code {code}: friends pick it in Join, with the password"
    return f"room code {code}: friends choose Join and pick it or type it"


class HostSession:
    """A room on the LAN served from this process, announced with mDNS (on
    ``interfaces``; the default: every network), and the host's own client in it."""

    def __init__(
        self,
        config: HostConfig,
        settings: Settings,
        generator: Generator,
        engine: AudioEngine,
        interfaces: list[str] | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.generator = generator
        self.engine = engine
        self.interfaces = interfaces
        self.journal: Journal | None = None
        self.server: PoseJamServer | None = None
        self.code = ""
        self.port = 0
        self.advertiser: RoomAdvertiser | None = None
        self.game: GameClient | None = None
        self._announcing: asyncio.Task[bool] | None = None

    async def start(self) -> None:
        config, settings = self.config, self.settings
        self.journal = server_main.open_journal(config.journal)
        try:
            opened = await self._open(config.port)
        except OSError as exc:
            if config.port == 0 or exc.errno != errno.EADDRINUSE:
                raise
            logger.warning("port %d is taken: the room listens on any free one", config.port)
            opened = await self._open(0)
        self.server, self.code, self.port = opened
        self.advertiser = RoomAdvertiser(
            self.code,
            self.port,
            config.listen,
            needs_password=bool(settings.password),
            interfaces=self.interfaces,
        )
        # In the background: claiming the name takes a second, and the host plays at once.
        self._announcing = asyncio.create_task(self.advertiser.start())
        local = "127.0.0.1" if config.listen in WILDCARD_HOSTS else config.listen
        hello = Hello(settings.name, Role.PLAYER, room=self.code, password=settings.password)
        self.game = GameClient(
            f"ws://{local}:{self.port}", hello, self.engine, settings.pose_source
        )
        await self.game.start()

    async def _open(self, port: int) -> tuple[PoseJamServer, str, int]:
        config = self.config
        return await server_main.open_server(
            config.listen, port, None, self.settings.password, config.bpm, self.generator,
            self.journal,
        )  # fmt: skip

    @property
    def announced(self) -> bool | None:
        """None while the name is claimed, then whether the room is announced."""
        announcing = self._announcing
        if announcing is None or not announcing.done():
            return None
        if announcing.cancelled() or announcing.exception() is not None:
            return False
        return announcing.result()

    def status_line(self) -> str:
        """The play screen's status line (read on the client's thread)."""
        address = self.config.listen
        if address in WILDCARD_HOSTS:  # the first LAN address it would be announced at
            found = self.advertiser.addresses if self.advertiser is not None else []
            address = found[0] if found else ""
        return host_status(
            self.code, self.port, self.announced, address, bool(self.settings.password)
        )

    async def stop(self) -> None:
        """The host leaves, the room's goodbye is said, the server closes everyone
        (1001); safe after a failed start too."""
        if self.game is not None:
            await self.game.stop()
        else:
            self.engine.close()
        if self._announcing is not None:
            with contextlib.suppress(Exception):
                await self._announcing
        if self.advertiser is not None:
            await self.advertiser.stop()
        if self.server is not None:
            await self.server.stop()
        if self.journal is not None:
            self.journal.close()


# -- the game ----------------------------------------------------------------------------


class GameApp:
    def __init__(
        self,
        window: Any,
        source: str | None = None,
        frames: int = 0,
        interfaces: list[str] | None = None,
        solo: SoloConfig | None = None,
        challenges: tuple[int, int] = CHALLENGES,
        settings_file: Path | None = None,
        host: HostConfig | None = None,
        devices: Callable[[], list[Device]] = sound_outputs,
    ) -> None:
        """``source``: the pose source for this run instead of the saved one (not
        saved unless the player saves settings); ``frames``: close the window after
        that many draws, whatever the screen (tests); ``interfaces``: where the lobby
        looks for rooms and a hosted room is announced (default: every network);
        ``solo``: the solo room's settings; ``challenges``: how many, of how many
        bars; ``settings_file``: where the settings are kept (default:
        :func:`client.settings.settings_path`); ``host``: where a hosted room listens
        and records; ``devices``: lists the sound outputs."""
        self.window = window
        self.frames = frames
        self.interfaces = interfaces
        self.solo_config = solo or SoloConfig()
        self.challenges = challenges
        self.host_config = host or HostConfig()
        self.devices = devices
        loaded = load(settings_file or settings_path())
        self.settings = loaded.settings
        if source is not None:
            self.settings = with_pose_source(self.settings, source)
        self.settings_found = loaded.found
        self._settings_path = loaded.path  # None: not saved, to keep a file it could not use
        self._unknown = loaded.unknown
        self._load_problem = loaded.problem
        self.notice = loaded.problem  # the menu's line in red
        self.background = Background()
        self.status = "loading the drum model..."
        self.generator: Generator | None = None
        self.game: GameClient | None = None
        self.solo: SoloSession | None = None
        self.hosting: HostSession | None = None
        self.results: list[Result] = []
        self.browser: RoomBrowser | None = None
        self.lobby: LobbyView | None = None  # the last one shown: a failed join goes back
        self.passwords: dict[str, str] = {}  # join passwords by room, for this run only
        self._wrapped: weakref.WeakSet[Any] = weakref.WeakSet()
        self._cameras: dict[tuple[int, int], Any] = {}
        threading.Thread(target=self._load_model, name="model-load", daemon=True).start()

    def _load_model(self) -> None:
        try:
            self.generator = server_main.make_generator("auto", None)
            self.status = "ready"
        except ValueError as exc:
            self.status = f"no drum model: {exc}"

    # -- settings ----------------------------------------------------------------------

    def save_settings(self, settings: Settings) -> None:
        """Play with ``settings`` from now on, and keep them for the next run; a file
        that cannot be written is said on the menu (the old one stays as it was)."""
        self.settings = settings
        if self._settings_path is None:
            return  # the menu already says why they are not saved
        try:
            save(self._settings_path, settings, self._unknown)
        except OSError as exc:
            logger.warning("settings not saved to %s: %s", self._settings_path, exc)
            self.notice = f"settings not saved: {exc.strerror or exc} ({self._settings_path})"
            return
        self.notice = self._load_problem

    def apply_screen(self) -> None:
        """Full screen or a window, as the settings say."""
        if bool(self.window.fullscreen) != self.settings.fullscreen:
            self.window.set_fullscreen(self.settings.fullscreen)

    def _engine(self, calibrated: bool = True) -> AudioEngine:
        """An engine on the saved sound output, at the saved volume; ``calibrated``: with
        the saved latency offset (the tap-along measures without it)."""
        settings = self.settings
        engine = open_engine("auto", device=settings.device)
        if calibrated:
            engine.offset = settings.latency_ms / 1000
        return engine if settings.volume == 1.0 else MasterVolume(engine, settings.volume)

    # -- screens -----------------------------------------------------------------------

    def show(self, view: Any) -> None:
        if view not in self._wrapped:  # a view shown again (after calibrating) is wrapped
            self._wrap(view)
            self._wrapped.add(view)
        self.window.show_view(view)

    def _wrap(self, view: Any) -> None:
        """Draw the view scaled to the window, map clicks back, and count frames."""
        draw, press, motion = view.on_draw, view.on_mouse_press, view.on_mouse_motion

        # Bound methods: pyglet holds view handlers through weak method references.
        def drawn(_: Any) -> None:
            self._draw_scaled(draw)
            if self.frames:
                self.frames -= 1
                if self.frames == 0:
                    self.window.close()

        def pressed(_: Any, x: float, y: float, button: int, modifiers: int) -> None:
            press(*to_screen(x, y, self._box()), button, modifiers)

        def moved(_: Any, x: float, y: float, dx: float, dy: float) -> None:
            scale = self._box()[2]
            motion(*to_screen(x, y, self._box()), dx / scale, dy / scale)

        view.on_draw = types.MethodType(drawn, view)
        view.on_mouse_press = types.MethodType(pressed, view)
        view.on_mouse_motion = types.MethodType(moved, view)

    def _box(self) -> Box:
        return letterbox(self.window.width, self.window.height)

    def _draw_scaled(self, draw: Callable[[], None]) -> None:
        size = (int(self.window.width), int(self.window.height))
        if size == SIZE:
            draw()
            return
        import arcade

        camera = self._cameras.get(size)
        if camera is None:
            left, bottom, scale = letterbox(*size)
            width, height = SIZE
            camera = arcade.Camera2D(
                viewport=arcade.LBWH(left, bottom, width * scale, height * scale),
                projection=arcade.LRBT(-width / 2, width / 2, -height / 2, height / 2),
                position=(width / 2, height / 2),
            )
            self._cameras = {size: camera}
        self.window.ctx.screen.clear(color=BARS)
        with camera.activate():
            draw()

    def show_menu(self) -> None:
        from client.views.menu import MenuView

        self.show(MenuView(self.choose, status=lambda: self.status, notice=lambda: self.notice))

    def choose(self, choice: str) -> None:
        if choice == "solo":
            self.start_solo()
        elif choice == "host":
            self.host()
        elif choice in ("join", "spectate"):
            self.show_lobby(spectate=choice == "spectate")
        elif choice == "settings":
            self.show_settings()

    def show_settings(self) -> None:
        """The settings screen; leaving it saves them and goes back to the menu."""
        from client.views.settings import SettingsView

        def back(settings: Settings) -> None:
            self.save_settings(settings)
            self.apply_screen()
            self.show_menu()

        view: SettingsView

        def measured(offset_ms: float | None) -> None:
            if offset_ms is not None:
                view.form.latency_ms = offset_ms
            self.show(view)

        view = SettingsView(
            self.settings, self.devices(), back, on_calibrate=lambda: self.calibrate(measured)
        )
        self.show(view)

    def show_lobby(self, spectate: bool) -> LobbyView:
        from client.views.lobby import LobbyChoice, LobbyView

        if self.browser is None:
            self.browser = (
                RoomBrowser(self.interfaces) if self.interfaces is not None else RoomBrowser()
            )
            self.background.submit(self.browser.start())
        browser = self.browser

        def rooms() -> list[FoundRoom]:
            return browser.rooms

        def join(choice: LobbyChoice) -> None:
            chosen = replace(
                self.settings, name=choice.name, device=choice.device, latency_ms=choice.latency_ms
            )
            self.save_settings(with_pose_source(chosen, choice.source))  # not the password
            # Finding and joining a room blocks the window for a moment (at worst the
            # join timeout): the lobby's "joining ..." line is drawn first.
            after_a_frame(
                self.window,
                lambda: self.join(
                    choice.target,
                    choice.name,
                    choice.source,
                    choice.spectate or spectate,
                    choice.password,
                ),
            )

        lobby: LobbyView

        def measured(offset_ms: float | None) -> None:
            if offset_ms is not None:
                lobby.latency_ms = offset_ms
            self.show(lobby)

        lobby = LobbyView(
            rooms,
            join,
            self.devices(),
            self.settings,
            on_calibrate=lambda: self.calibrate(measured),
            on_back=self.show_menu,
            passwords=self.passwords,
        )
        self.lobby = lobby
        self.show(lobby)
        return lobby

    def calibrate(self, then: Callable[[float | None], None]) -> None:
        """The tap-along screen; its offset is saved, and ``then`` gets it (None: none
        measured)."""
        from client.views.calibrate import CalibrateView

        engine = self._engine(calibrated=False)

        def done(result: Calibration | None) -> None:
            engine.close()
            offset_ms = None
            if result is not None:
                low, high = LATENCY_RANGE_MS
                offset_ms = min(high, max(low, result.offset_ms))
                self.save_settings(replace(self.settings, latency_ms=offset_ms))
            then(offset_ms)

        self.show(CalibrateView(engine, done, clock=engine.now))

    def start_solo(self) -> None:
        if self.generator is None:
            self.status = "still loading the drum model: one moment"
            return
        settings = self.settings
        config = replace(self.solo_config, source=settings.pose_source, name=settings.name)
        session = SoloSession(config, self._engine())
        count, bars = self.challenges

        async def start() -> None:
            await session.start()
            first = await session.first_layer_bar()
            session.start_challenges(first + 1, count, bars)  # a bar to hear the groove first

        if not self._started(start(), session.stop, "solo"):
            return
        self.solo = session
        assert session.game is not None
        self._play(
            session.game,
            message=lambda: session.screen_state().message,
            every_frame=self._solo_done,
        )

    def _solo_done(self) -> None:
        """After the last challenge's last bar: the results screen."""
        session = self.solo
        if session is None or session.run is None or not session.run.challenges:
            return
        last = session.run.challenges[-1]
        shot = self.background.run(self._now_bar(session), timeout=1.0)
        if shot is not None and shot >= last.first_bar + last.bars:
            self.show_results(session.run.results())

    @staticmethod
    async def _now_bar(session: SoloSession) -> int | None:
        state, sync = session.client.state, session.client.sync
        if state.tempo is None or not sync.ready:
            return None
        return int(state.tempo.bar_at(sync.server_time(session.client.clock())))

    def show_results(self, results: list[Result]) -> None:
        from client.views.results import ResultsView

        self.results = results
        self.show(ResultsView(results, self.after_results))

    def after_results(self, choice: str) -> None:
        """``again``: a new solo jam; ``menu``: back to the menu. The jam stops either way."""
        if self.solo is not None:
            self.background.run(self.solo.stop(), timeout=15.0)
            self.solo = None
        if choice == "again":
            self.start_solo()
        else:
            self.show_menu()

    def host(self) -> None:
        """A room on the LAN served from here, with the player in it, on the play screen."""
        if self.generator is None:
            self.status = "still loading the drum model: one moment"
            return
        session = HostSession(
            self.host_config, self.settings, self.generator, self._engine(), self.interfaces
        )
        if not self._started(session.start(), session.stop, "the room"):
            return
        self.hosting = session
        assert session.game is not None
        logger.info("hosting room %s on port %d", session.code, session.port)
        self._play(session.game, message=session.status_line)

    def _started(
        self,
        start: Coroutine[Any, Any, Any],
        stop: Callable[[], Coroutine[Any, Any, Any]],
        what: str,
    ) -> bool:
        """Start a session; if it fails (a camera, a port, the journal), say so on the menu,
        stop what it began, and stay there."""
        try:
            self.background.run(start, timeout=30.0)
        except Exception as exc:
            logger.exception("%s could not start", what)
            self.status = f"{what} could not start: {exc}"
            self.background.run(stop(), timeout=15.0)
            return False
        return True

    def stop_hosting(self) -> None:
        """Close the hosted room: everyone in it is told the server is going (1001)."""
        session, self.hosting = self.hosting, None
        if session is not None:
            self.background.run(session.stop(), timeout=15.0)

    def join(self, target: str, name: str, source: str, spectate: bool, password: str = "") -> None:
        """Join ``target`` (a code or a ws:// URL) and show its play or spectate screen;
        if that does not happen, the lobby says why (:meth:`LobbyView.refused`)."""
        role = Role.SPECTATOR if spectate else Role.PLAYER

        async def connect() -> GameClient:
            kind, value = parse_target(target)
            url, code = value, ""
            if kind == "code":  # looked up where the lobby looks
                found = await (
                    resolve(value, interfaces=self.interfaces)
                    if self.interfaces is not None
                    else resolve(value)
                )
                url, code = found.url, found.code
            hello = Hello(name, role, room=code, password=password)
            game = GameClient(url, hello, self._engine(), None if spectate else source)
            try:
                await game.start()
            except BaseException:  # refused, or in but without a body: leave, free the sound
                with contextlib.suppress(Exception):
                    await game.stop()
                raise
            return game

        try:
            game = self.background.run(
                asyncio.wait_for(connect(), JOIN_TIMEOUT), timeout=JOIN_TIMEOUT + 15.0
            )
        except Exception as exc:
            code, reason = join_failure(target, exc)
            logger.warning("could not join %s: %s", target, exc)
            lobby = self.lobby or self.show_lobby(spectate)
            lobby.refused(target, code, reason, password)
            self.show(lobby)
            return
        self.game = game
        if self.lobby is not None:
            self.lobby.busy = ""  # done: the lobby is as it was when it is next shown
        if spectate:
            from client.views.spectate import SpectateView

            self.show(SpectateView(self._state(game)))
        else:
            self._play(game)

    def _state(self, game: GameClient, message: Callable[[], str] | None = None) -> Any:
        """A function the view reads each frame: a snapshot taken on the client's thread
        (``message``, called there too, is its status line, unless the connection is
        down: then that is)."""

        async def take() -> ScreenState:
            shot = snapshot(game)
            if message is None or game.connection:
                return shot
            return replace(shot, message=message())

        return lambda: self.background.run(take(), timeout=1.0)

    def _play(
        self,
        game: GameClient,
        message: Callable[[], str] | None = None,
        every_frame: Callable[[], None] | None = None,
    ) -> None:
        from client.views.play import PlayView

        def send(message: Seed | Tempo | Mute | Remove) -> None:
            self.background.submit(game.send(message))

        def grid(cells: tuple[int, ...]) -> None:
            game.grid = cells

        view = PlayView(
            self._state(game, message),
            on_seed=send,
            on_tempo=lambda bpm: send(Tempo(bpm, 0)),
            on_grid=grid,
            on_mute=lambda player, muted: send(Mute(player, muted)),
            on_remove=lambda player: send(Remove(player)),
        )
        if every_frame is not None:
            update = view.on_update

            def updated(_: Any, delta_time: float) -> None:
                update(delta_time)
                every_frame()

            view.on_update = types.MethodType(updated, view)  # type: ignore[method-assign]
        self.show(view)

    def close(self) -> None:
        """Stop the room, the client and the browser (the window has closed)."""
        try:
            if self.solo is not None:
                self.background.run(self.solo.stop(), timeout=15.0)
            if self.game is not None:
                self.background.run(self.game.stop(), timeout=15.0)
            self.stop_hosting()
            if self.browser is not None:
                self.background.run(self.browser.close(), timeout=5.0)
        finally:
            self.background.close()
            server_main.close_generator(self.generator)


def run(source: str = "auto", frames: int = 0, then: str = "") -> int:
    """Open the game window on the menu. ``source``: the pose source for this run, or
    ``auto`` for the saved one (before anything is saved: the camera if one opens,
    else the demo dancer); ``then``: a menu choice to make at once."""
    import arcade

    window = arcade.Window(*SIZE, "PoseJam", resizable=True)
    app = GameApp(window, None if source == "auto" else source, frames=frames)
    if source == "auto" and not app.settings_found:
        from client.solo_cli import pick_source

        app.settings = with_pose_source(app.settings, pick_source("auto"))
    app.apply_screen()
    app.show_menu()
    if then:
        while app.generator is None and not app.status.startswith("no drum model"):
            threading.Event().wait(0.05)
        app.choose(then)
    try:
        arcade.run()
    finally:
        app.close()
    return 0
