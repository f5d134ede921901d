"""The game window's flow, drawn off-screen: the menu, solo from it, the lobby finding a
room announced on loopback and joining it."""

from __future__ import annotations

import threading

import arcade
import pytest

from client.app import GameApp
from client.views.lobby import LobbyView
from client.views.menu import MenuView
from client.views.play import PlayView
from server.discovery import RoomAdvertiser
from tests.loopback import server_process


def wait_for_model(app: GameApp) -> None:
    for _ in range(200):
        if app.generator is not None:
            return
        threading.Event().wait(0.05)
    raise AssertionError(app.status)


def test_the_menu_starts_a_solo_jam_in_the_same_window() -> None:
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, "demo", frames=40, interfaces=["127.0.0.1"])
    app.show_menu()
    assert isinstance(window.current_view, MenuView)
    wait_for_model(app)
    assert app.status == "ready"
    app.choose("solo")
    assert isinstance(window.current_view, PlayView)
    arcade.run()  # 40 frames of the play screen, then the window closes
    solo = app.solo
    assert solo is not None and solo.game is not None
    assert solo.game.net.state.players  # the band and the player are in the room
    app.close()


def test_the_lobby_finds_a_room_on_loopback_and_joins_it() -> None:
    with server_process("--journal", "none", "--room", "LOBY", "--generator", "seeds") as (_, url):
        port = int(url.rsplit(":", 1)[1])
        window = arcade.Window(1280, 720, "test", visible=False)
        app = GameApp(window, "demo", frames=20, interfaces=["127.0.0.1"])
        # Announced from the app's own loop, which keeps running to answer queries.
        advertiser = RoomAdvertiser("LOBY", port, "127.0.0.1", interfaces=["127.0.0.1"])
        assert app.background.run(advertiser.start())
        try:
            app.choose("join")
            assert isinstance(window.current_view, LobbyView)
            browser = app.browser
            assert browser is not None
            found = app.background.run(
                browser.wait_for(lambda rooms: any(r.code == "LOBY" for r in rooms), 5.0)
            )
            assert found
            app.join("LOBY", "Ann", "demo", spectate=False)
            assert isinstance(window.current_view, PlayView)
            arcade.run()
            assert app.game is not None and app.game.net.state.room == "LOBY"
        finally:
            app.background.run(advertiser.stop())
            app.close()


def test_a_solo_jam_ends_on_the_results_of_its_challenges() -> None:
    from client.solo import SoloConfig
    from client.views.results import ResultsView

    window = arcade.Window(1280, 720, "test", visible=False)
    # Fast: 240 bpm (a bar a second), one challenge of one bar.
    solo = SoloConfig(bpm=240.0, source="demo", journal=None)
    app = GameApp(window, "demo", frames=100_000, solo=solo, challenges=(1, 1))
    shown: list[str] = []
    show = app.show

    def spy(view: object) -> None:
        shown.append(type(view).__name__)
        show(view)
        if isinstance(view, ResultsView):
            app.after_results("menu")  # the player picks Menu: the jam stops
        if isinstance(view, MenuView):
            window.close()

    app.show = spy  # type: ignore[method-assign]
    wait_for_model(app)
    app.choose("solo")
    arcade.run()  # plays until the challenge's bar is over and the results show
    assert shown == ["PlayView", "ResultsView", "MenuView"]
    [result] = app.results
    assert result.challenge.bars == 1 and len(result.bars) == 1
    assert 0.0 <= result.score <= 1.0
    assert app.solo is None
    app.close()


def test_calibrating_from_the_lobby_sets_the_latency_the_game_joins_with() -> None:
    from client.calibration import Calibration
    from client.views.calibrate import CalibrateView

    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, "demo", interfaces=["127.0.0.1"])
    try:
        app.choose("join")
        lobby = window.current_view
        assert isinstance(lobby, LobbyView) and lobby.latency_ms == 0.0
        lobby.on_calibrate()
        view = window.current_view
        assert isinstance(view, CalibrateView)
        view.on_done(Calibration(offset=0.042, spread=0.004, used=16, ignored=0))
        lobby = window.current_view
        assert isinstance(lobby, LobbyView) and lobby.latency_ms == pytest.approx(42.0)
        assert app.latency_ms == pytest.approx(42.0)
    finally:
        app.close()
        window.close()
