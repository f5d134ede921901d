"""The game in one window: the menu, the lobby, then a room's play or spectate screen.

:class:`GameApp` owns the window's views and a :class:`~client.game.Background` loop
for the network and audio. The menu shows at once while the drum model loads on a
thread (solo and host need it; its status is the menu's bottom line). Solo starts a
room in this process with the AI band; host starts one on the LAN; join and spectate
go through the lobby, which lists the rooms announced on the LAN as they appear.
Closing the window stops whatever runs.
"""

from __future__ import annotations

import logging
import threading
import types
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from client.audio_engine import open_engine
from client.calibration import Calibration
from client.challenge import Result
from client.discovery import FoundRoom, RoomBrowser
from client.game import Background, GameClient, snapshot
from client.solo import SoloConfig, SoloSession
from client.views.screen_state import ScreenState
from server import main as server_main
from server.generator import Generator
from shared.messages import Hello, Mute, Remove, Role, Seed, Tempo

logger = logging.getLogger(__name__)

CHALLENGES = (3, 4)  # a solo jam's challenges: how many, of how many bars each


class GameApp:
    def __init__(
        self,
        window: Any,
        source: str,
        name: str = "Player",
        frames: int = 0,
        interfaces: list[str] | None = None,
        solo: SoloConfig | None = None,
        challenges: tuple[int, int] = CHALLENGES,
    ) -> None:
        """``frames``: close the window after that many draws, whatever the screen (tests);
        ``interfaces``: where the lobby looks for rooms (default: every network);
        ``solo``: the solo room's settings; ``challenges``: how many, of how many bars."""
        self.window = window
        self.frames = frames
        self.interfaces = interfaces
        self.solo_config = solo or SoloConfig(source=source)
        self.challenges = challenges
        self.source = source
        self.name = name
        self.background = Background()
        self.status = "loading the drum model..."
        self.generator: Generator | None = None
        self.game: GameClient | None = None
        self.solo: SoloSession | None = None
        self.results: list[Result] = []
        self.latency_ms = 0.0  # the tap-along calibration's offset
        self.browser: RoomBrowser | None = None
        self._stop: list[Coroutine[Any, Any, None]] = []
        threading.Thread(target=self._load_model, name="model-load", daemon=True).start()

    def _load_model(self) -> None:
        try:
            self.generator = server_main.make_generator("auto", None)
            self.status = "ready"
        except ValueError as exc:
            self.status = f"no drum model: {exc}"

    # -- screens -----------------------------------------------------------------

    def show(self, view: Any) -> None:
        if self.frames:
            draw = view.on_draw

            def counted(_: Any) -> None:
                draw()
                self.frames -= 1
                if self.frames == 0:
                    self.window.close()

            # A bound method: pyglet holds view handlers through weak method references.
            view.on_draw = types.MethodType(counted, view)
        self.window.show_view(view)

    def show_menu(self) -> None:
        from client.views.menu import MenuView

        self.show(MenuView(self.choose, status=lambda: self.status))

    def choose(self, choice: str) -> None:
        if choice == "solo":
            self.start_solo()
        elif choice in ("join", "spectate", "settings"):
            self.show_lobby(spectate=choice == "spectate")
        elif choice == "host":
            self.status = "host a party from a terminal: posejam host (it shows the room code)"

    def show_lobby(self, spectate: bool) -> None:
        from client.views.lobby import LobbyView

        if self.browser is None:
            self.browser = (
                RoomBrowser(self.interfaces) if self.interfaces is not None else RoomBrowser()
            )
            self.background.submit(self.browser.start())
        browser = self.browser

        def rooms() -> list[FoundRoom]:
            return browser.rooms

        def join(choice: Any) -> None:
            self.latency_ms = choice.latency_ms
            self.join(choice.target, choice.name, choice.source, choice.spectate or spectate)

        self.show(
            LobbyView(
                rooms,
                join,
                ["default output"],
                ["camera", "demo"],
                on_calibrate=lambda: self.calibrate(spectate),
                on_back=self.show_menu,
                name=self.name,
                latency_ms=self.latency_ms,
            )
        )

    def calibrate(self, spectate: bool) -> None:
        """The tap-along screen, then back to the lobby with the measured offset."""
        from client.views.calibrate import CalibrateView

        engine = open_engine("auto")

        def done(result: Calibration | None) -> None:
            engine.close()
            if result is not None:
                self.latency_ms = result.offset_ms
            self.show_lobby(spectate)

        self.show(CalibrateView(engine, done, clock=engine.now))

    def start_solo(self) -> None:
        if self.generator is None:
            self.status = "still loading the drum model: one moment"
            return
        session = SoloSession(self.solo_config, open_engine("auto"))
        count, bars = self.challenges

        async def start() -> None:
            await session.start()
            first = await session.first_layer_bar()
            session.start_challenges(first + 1, count, bars)  # a bar to hear the groove first

        try:
            self.background.run(start(), timeout=30.0)
        except Exception as exc:  # a camera, a port: say it on the menu, stay there
            logger.exception("solo could not start")
            self.status = f"solo could not start: {exc}"
            self.background.run(session.stop(), timeout=10.0)
            return
        self.solo = session
        assert session.game is not None
        self._play(session.game, state=session.screen_state, every_frame=self._solo_done)

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

    def join(self, target: str, name: str, source: str, spectate: bool) -> None:
        from client.party_cli import room_url

        role = Role.SPECTATOR if spectate else Role.PLAYER

        async def connect() -> GameClient:
            url, code = await room_url(target)
            engine = open_engine("auto")
            engine.offset = self.latency_ms / 1000  # the player's calibration
            game = GameClient(
                url,
                Hello(name, role, room=code),
                engine,
                None if spectate else source,
            )
            await game.start()
            return game

        try:
            game = self.background.run(connect(), timeout=30.0)
        except Exception as exc:
            self.status = f"could not join {target}: {exc}"
            self.show_menu()
            return
        self.game = game
        if spectate:
            from client.views.spectate import SpectateView

            self.show(SpectateView(self._state(game)))
        else:
            self._play(game)

    def _state(self, game: GameClient, state: Any = None) -> Any:
        """A function the view reads each frame: a snapshot taken on the client's thread."""

        async def take() -> ScreenState:
            shot = snapshot(game)
            return replace(shot, message=state().message) if state is not None else shot

        return lambda: self.background.run(take(), timeout=1.0)

    def _play(self, game: GameClient, state: Any = None, every_frame: Any = None) -> None:
        from client.views.play import PlayView

        def send(message: Seed | Tempo | Mute | Remove) -> None:
            self.background.submit(game.send(message))

        def grid(cells: tuple[int, ...]) -> None:
            game.grid = cells

        view = PlayView(
            self._state(game, state),
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
            if self.browser is not None:
                self.background.run(self.browser.close(), timeout=5.0)
        finally:
            self.background.close()


def run(source: str, frames: int = 0, then: str = "") -> int:
    """Open the game window on the menu (``then``: a menu choice to make at once)."""
    import arcade

    window = arcade.Window(1280, 720, "PoseJam")
    app = GameApp(window, source, frames=frames)
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
