"""The game window's flow, drawn off-screen: the menu, solo from it, the lobby finding a
room announced on loopback and joining it, the settings saved on the way back, a room
hosted from the menu (announced on loopback only) that a friend joins."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import arcade
import numpy as np
import PIL.Image
import pytest

from client import app as app_module
from client.app import (
    FRAME_WAIT,
    GameApp,
    HostConfig,
    HostSession,
    MasterVolume,
    after_a_frame,
    host_status,
    join_failure,
    letterbox,
    to_screen,
    to_window,
)
from client.audio_engine import CUTOFF_MAX_HZ
from client.audio_types import Hit
from client.calibration import Calibration
from client.discovery import DiscoveryError, RoomNotFound, resolve
from client.game import Background
from client.net import ConnectError, NetClient
from client.settings import Loaded, Settings, load, save
from client.views import lobby as lobby_view
from client.views import menu
from client.views import settings as settings_view
from client.views.calibrate import CalibrateView
from client.views.drawing import ACCENT, BACKGROUND, POOR
from client.views.lobby import LobbyView, room_row
from client.views.menu import MenuView
from client.views.play import PlayView
from client.views.settings import SettingsView
from server.app import PoseJamServer
from server.discovery import RoomAdvertiser
from server.lobby import Lobby
from server.room import RoomLimits
from shared.messages import Hello, Role
from tests.client.views.jam import count, near, pixel, region
from tests.loopback import server_process

LOOPBACK = ["127.0.0.1"]
DEVICES = [(0, "Built-in Audio"), (5, "USB Audio")]
LEFT = arcade.MOUSE_BUTTON_LEFT


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


def test_a_blocking_step_waits_for_a_frame_only_where_frames_are_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scheduled: list[tuple[object, float]] = []
    monkeypatch.setattr(
        arcade, "schedule_once", lambda work, delay: scheduled.append((work, delay))
    )
    done: list[str] = []
    after_a_frame(SimpleNamespace(visible=False), lambda: done.append("hidden"))
    assert (done, scheduled) == (["hidden"], [])  # no frame to wait for
    after_a_frame(SimpleNamespace(visible=True), lambda: done.append("shown"))
    assert done == ["hidden"]
    [(work, delay)] = scheduled
    assert delay == FRAME_WAIT == 0.05
    work(delay)  # type: ignore[operator]
    assert done == ["hidden", "shown"]


def free_port() -> int:
    """A port on loopback that nothing listens on (it was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_room_with_a_password_is_joined_from_the_lobby(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save(path, Settings(name="Ann", source="demo"))
    # The room's machine: a real server on a loop of its own, announced on loopback.
    machine = Background()
    rooms = Lobby()
    rooms.create(time.monotonic(), "SAFE", "jam", 240.0, RoomLimits(max_players=2))
    server = PoseJamServer(rooms)
    port = machine.run(server.start("127.0.0.1", 0), timeout=10.0)
    url = f"ws://127.0.0.1:{port}"
    advertiser = RoomAdvertiser("SAFE", port, "127.0.0.1", needs_password=True, interfaces=LOOPBACK)
    bob = NetClient(url, Hello("Bob", Role.PLAYER, room="SAFE", password="jam"))
    cat = NetClient(url, Hello("Cat", Role.PLAYER, room="SAFE", password="jam"))
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, settings_file=path, interfaces=LOOPBACK, devices=lambda: DEVICES)
    try:
        assert machine.run(advertiser.start(), timeout=10.0)
        app.choose("join")
        lobby = window.current_view
        assert isinstance(lobby, LobbyView) and app.browser is not None
        app.background.run(
            app.browser.wait_for(lambda found: any(r.code == "SAFE" for r in found), 5.0)
        )
        # An address nothing answers at: said in the lobby.
        nowhere = f"ws://127.0.0.1:{free_port()}"
        lobby.on_text(nowhere)
        lobby.on_key_press(arcade.key.ENTER, 0)
        assert window.current_view is lobby
        assert lobby.error.startswith(f"cannot reach {nowhere}: "), lobby.error
        # The locked room, picked from the list, with a wrong password.
        [index] = [i for i, room in enumerate(lobby.rooms()) if room.code == "SAFE"]
        click(lobby, room_row(index))
        assert (lobby.fields["target"], lobby.need(), lobby.focus) == ("SAFE", "needed", "password")
        lobby.on_text("jab")
        lobby.on_key_press(arcade.key.ENTER, 0)
        assert window.current_view is lobby
        assert lobby.error == "wrong password for room SAFE"
        assert lobby.focus == "password"
        assert (lobby.fields["target"], lobby.fields["password"], lobby.fields["name"]) == (
            "SAFE",
            "jab",
            "Ann",
        )
        image = screenshot(window)
        PIL.Image.fromarray(image.astype("uint8")).save("/tmp/posejam_app_wrong_password.png")
        line = arcade.LBWH(lobby_view.FORM_LEFT, 116, lobby_view.FORM_WIDTH, 24)
        assert count(region(image, line), POOR, 30) > 100
        # The right one, while the room is full: said so.
        machine.run(bob.connect(), timeout=10.0)
        machine.run(cat.connect(), timeout=10.0)
        lobby.on_key_press(arcade.key.BACKSPACE, 0)
        lobby.on_text("m")
        lobby.on_key_press(arcade.key.ENTER, 0)
        assert window.current_view is lobby
        assert lobby.error == "room SAFE is full (2 players)"
        # A seat comes free: in, on the play screen.
        machine.run(bob.close(), timeout=10.0)

        async def players() -> int:
            return rooms.rooms["SAFE"].count(Role.PLAYER)

        for _ in range(100):  # until the server has let Bob's seat go
            if machine.run(players(), timeout=1.0) == 1:
                break
            threading.Event().wait(0.05)
        lobby.on_key_press(arcade.key.ENTER, 0)
        assert isinstance(window.current_view, PlayView), lobby.error
        assert app.game is not None and app.game.net.state.room == "SAFE"
        assert sorted(p.name for p in app.game.net.state.players.values()) == ["Ann", "Cat"]
        # The password is kept for this run only, never in the settings file.
        assert app.passwords == {"SAFE": "jam"}
        assert load(path).settings == Settings(name="Ann", source="demo")
        assert "jam" not in path.read_text()
    finally:
        app.close()
        window.close()
        machine.run(cat.close(), timeout=10.0)
        machine.run(advertiser.stop(), timeout=10.0)
        machine.run(server.stop(), timeout=10.0)
        machine.close()


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (ConnectError(4003, "wrong room password"), (4003, "wrong room password")),
        (
            ConnectError(None, "cannot reach ws://h:1: refused"),
            (None, "cannot reach ws://h:1: refused"),
        ),
        (RoomNotFound("SAFE", []), (None, "no room SAFE on this network (found: none)")),
        (DiscoveryError("room SAFE is on 2 hosts"), (None, "room SAFE is on 2 hosts")),
        (TimeoutError(), (None, "no answer from room SAFE in 30 s")),
        (
            OSError("no video file at x.mp4"),
            (None, "could not join room SAFE: no video file at x.mp4"),
        ),
        (RuntimeError(), (None, "could not join room SAFE: RuntimeError")),
    ],
)
def test_why_a_join_failed(error: Exception, why: tuple[int | None, str]) -> None:
    assert join_failure("SAFE", error) == why
    assert join_failure("ws://h:1", TimeoutError()) == (
        None,
        "no answer from the room at ws://h:1 in 30 s",
    )


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


def test_calibrating_from_the_lobby_sets_the_latency_the_game_joins_with(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, "demo", interfaces=LOOPBACK, settings_file=path)
    try:
        app.choose("join")
        lobby = window.current_view
        assert isinstance(lobby, LobbyView) and lobby.latency_ms == 0.0
        lobby.on_text("ABCD")
        assert lobby.on_calibrate is not None
        lobby.on_calibrate()
        view = window.current_view
        assert isinstance(view, CalibrateView)
        view.on_done(Calibration(offset=0.042, spread=0.004, used=16, ignored=0))
        # Back to the same lobby, the code still typed, the offset measured and saved.
        assert window.current_view is lobby and lobby.fields["target"] == "ABCD"
        assert lobby.latency_ms == 42.0 and app.settings.latency_ms == 42.0
        assert load(path).settings == Settings(source="demo", latency_ms=42.0)
    finally:
        app.close()
        window.close()


def click(view: arcade.View, rect: arcade.types.Rect) -> None:
    view.on_mouse_press(rect.center_x, rect.center_y, LEFT, 0)


def test_settings_from_the_menu_are_saved_on_the_way_back(tmp_path: Path) -> None:
    path = tmp_path / "posejam" / "settings.json"
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, settings_file=path, interfaces=LOOPBACK, devices=lambda: DEVICES)
    try:
        app.show_menu()
        window.current_view.on_key_press(arcade.key.T, 0)  # Settings, by its letter
        view = window.current_view
        assert isinstance(view, SettingsView)
        assert view.form.settings() == Settings()  # nothing saved yet: the defaults
        click(view, settings_view.NAME_BOX)
        for _ in range(len("Player")):
            view.on_key_press(arcade.key.BACKSPACE, 0)
        view.on_text("Ann")
        click(view, settings_view.source_button(1))  # the demo dancer
        click(view, settings_view.DEVICE_NEXT)
        click(view, settings_view.DEVICE_NEXT)  # the default, 0, then 5
        click(view, settings_view.VOLUME_DOWN)
        click(view, settings_view.VOLUME_DOWN)
        click(view, settings_view.LATENCY_UP)
        view.on_key_press(arcade.key.RIGHT, arcade.key.MOD_SHIFT)  # +10 ms more
        click(view, settings_view.PASSWORD_BOX)
        view.on_text("jam")
        # The tap-along from here: back to the same screen with what it measured.
        click(view, settings_view.CALIBRATE_BUTTON)
        calibrating = window.current_view
        assert isinstance(calibrating, CalibrateView)
        calibrating.on_done(Calibration(offset=0.031, spread=0.002, used=16, ignored=0))
        assert window.current_view is view and view.form.latency_ms == 31.0
        assert load(path).settings == Settings(latency_ms=31.0)  # saved at once
        view.on_key_press(arcade.key.ESCAPE, 0)  # back, saving
        assert isinstance(window.current_view, MenuView)
        expected = Settings(
            name="Ann", source="demo", device=5, latency_ms=31.0, volume=0.9, password="jam"
        )
        assert app.settings == expected
        assert load(path) == Loaded(expected, path, found=True)
    finally:
        app.close()
    # The next run starts from them, and so does its lobby.
    again = GameApp(window, settings_file=path, interfaces=LOOPBACK, devices=lambda: DEVICES)
    try:
        assert again.settings == expected and again.notice == ""
        again.choose("join")
        lobby = window.current_view
        assert isinstance(lobby, LobbyView)
        assert (lobby.fields["name"], lobby.sources[lobby.source]) == ("Ann", "demo")
        assert (lobby.device, lobby.latency_ms) == (5, 31.0)
    finally:
        again.close()
        window.close()


def test_a_settings_file_it_cannot_use_is_said_on_the_menu_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"name": "Ann",\n "volume": 0.5,,\n}')
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, "demo", settings_file=path, devices=lambda: DEVICES)
    try:
        problem = (
            "settings.json is not valid JSON (line 2, column 16): using the defaults; "
            "the file was kept as settings.json.bad"
        )
        assert app.notice == problem
        assert app.settings == Settings(source="demo")
        assert (tmp_path / "settings.json.bad").read_text().startswith('{"name": "Ann"')
        app.show_menu()
        image = screenshot(window)
        PIL.Image.fromarray(image.astype("uint8")).save("/tmp/posejam_menu_notice.png")
        line = image[720 - menu.NOTICE_Y - 14 : 720 - menu.NOTICE_Y + 2, 200:1080]
        red = (np.abs(line - np.array((255, 90, 95))) <= 40).all(axis=-1).sum()
        assert red > 200  # the notice, in red, above the status line
        # Saving works again: a fresh file, and the notice stays (the old file is aside).
        app.choose("settings")
        view = window.current_view
        assert isinstance(view, SettingsView)
        view.back()
        assert load(path).settings == Settings(source="demo")
        assert app.notice == problem
    finally:
        app.close()
        window.close()


def test_a_settings_file_that_cannot_be_written_is_said_on_the_menu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.json"
    save(path, Settings(name="Ann"))
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, "demo", settings_file=path, devices=lambda: [])
    try:

        def full(*_: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(app_module, "save", full)
        app.save_settings(Settings(name="Bob"))
        assert app.settings == Settings(name="Bob")  # played with for this run
        assert app.notice == f"settings not saved: No space left on device ({path})"
        assert load(path).settings == Settings(name="Ann")  # the old file as it was
        monkeypatch.setattr(app_module, "save", save)
        app.save_settings(Settings(name="Cat"))
        assert app.notice == "" and load(path).settings == Settings(name="Cat")
    finally:
        app.close()
        window.close()


def screenshot(window: arcade.Window) -> np.ndarray:
    """The current view drawn once through the app's wrapping, as RGB, row 0 at the top."""
    window.current_view.on_draw()
    return np.asarray(arcade.get_image().convert("RGB")).astype(int)


@pytest.mark.parametrize(
    ("size", "box"),
    [
        ((1280, 720), (0.0, 0.0, 1.0)),
        ((1920, 1080), (0.0, 0.0, 1.5)),
        ((1920, 1200), (0.0, 60.0, 1.5)),  # a 16:10 screen: bars above and below
        ((1000, 1000), (0.0, 218.75, 0.78125)),
        ((2000, 720), (360.0, 0.0, 1.0)),  # wide: bars left and right
    ],
)
def test_letterbox_fits_the_screen_centred(
    size: tuple[int, int], box: tuple[float, float, float]
) -> None:
    assert letterbox(*size) == box
    for x, y in ((0, 0), (1280, 720), (640, 360), (17.5, 702)):
        assert to_screen(*to_window(x, y, box), box) == pytest.approx((x, y))
    assert to_window(1280, 720, box) == pytest.approx(
        (size[0] - box[0], size[1] - box[1])
    )  # the top right corner touches the window's edges (or its bars)


def test_a_bigger_window_shows_the_screen_scaled_and_maps_clicks(tmp_path: Path) -> None:
    window = arcade.Window(1920, 1200, "test", visible=False)  # as full screen on 16:10
    app = GameApp(window, "demo", settings_file=tmp_path / "s.json", devices=lambda: DEVICES)
    try:
        app.show_menu()
        image = screenshot(window)
        PIL.Image.fromarray(image.astype("uint8")).save("/tmp/posejam_menu_scaled.png")
        box = letterbox(1920, 1200)
        solo = menu.button_rect(0)  # lit: the first button is selected
        assert near(pixel(image, *to_window(solo.left + 4, solo.bottom + 4, box)), ACCENT)
        assert near(pixel(image, *to_window(4, 4, box)), BACKGROUND)
        assert pixel(image, 960, 20) == (0, 0, 0)  # the bar under the screen
        assert pixel(image, 960, 1180) == (0, 0, 0)  # and over it
        # A click where the Settings button shows opens the settings.
        button = menu.button_rect(4)
        window.current_view.on_mouse_press(
            *to_window(button.center_x, button.center_y, box), LEFT, 0
        )
        assert isinstance(window.current_view, SettingsView)
    finally:
        app.close()
        window.close()


def test_full_screen_is_saved_and_applied(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, "demo", settings_file=path, devices=lambda: DEVICES)
    try:
        app.choose("settings")
        view = window.current_view
        assert isinstance(view, SettingsView)
        click(view, settings_view.FULLSCREEN_BUTTON)
        click(view, settings_view.BACK_BUTTON)
        assert window.fullscreen and load(path).settings.fullscreen
        assert isinstance(window.current_view, MenuView)
        app.choose("settings")
        view = window.current_view
        assert isinstance(view, SettingsView)
        while view.form.focus != "screen":  # from the name down to the screen row
            view.on_key_press(arcade.key.TAB, 0)
        view.on_key_press(arcade.key.LEFT, 0)  # a window
        view.on_key_press(arcade.key.ESCAPE, 0)
        assert not window.fullscreen and not load(path).settings.fullscreen
    finally:
        app.close()
        window.close()


class Recorder:
    """An engine that only records what it is asked."""

    sample_rate = 44100
    output_latency = 0.01

    def __init__(self) -> None:
        self.offset = 0.0
        self.calls: list[tuple[object, ...]] = []

    def now(self) -> float:
        return 1.0

    def schedule(self, hits: Sequence[Hit]) -> None:
        self.calls.append(("schedule", len(hits)))

    def set_channel(self, owner: int, cutoff_hz: float, gain: float, pan: float) -> None:
        self.calls.append(("channel", owner, cutoff_hz, gain, pan))

    def close(self) -> None:
        self.calls.append(("close",))

    def advance_to(self, time: float) -> None:
        self.calls.append(("advance", time))


def test_master_volume_scales_every_channel_from_its_first_hit() -> None:
    inner = Recorder()
    engine = MasterVolume(inner, 0.5)
    engine.offset = 0.042
    assert inner.offset == 0.042 and engine.offset == 0.042
    engine.set_channel(2, 800.0, 0.8, -0.5)
    engine.schedule([Hit(1.5, 1, 0, 100), Hit(1.5, 2, 1, 90), Hit(1.75, 1, 0, 100)])
    engine.schedule([Hit(2.0, 1, 0, 100)])
    engine.advance_to(3.0)  # what only some engines have goes through
    engine.close()
    assert inner.calls == [
        ("channel", 2, 800.0, 0.4, -0.5),
        ("channel", 1, CUTOFF_MAX_HZ, 0.5, 0.0),  # before owner 1's first hits
        ("schedule", 3),
        ("schedule", 1),
        ("advance", 3.0),
        ("close",),
    ]
    assert engine.now() == 1.0 and engine.sample_rate == 44100


@pytest.mark.parametrize(
    ("announced", "address", "password", "line"),
    [
        (None, "192.168.1.5", False, "room code JAMS: friends choose Join and pick it or type it"),
        (True, "192.168.1.5", True, "room code JAMS: friends pick it in Join, with the password"),
        (False, "192.168.1.5", True, "not announced: friends type ws://192.168.1.5:8765"),
        (False, "", False, "not announced: this machine has no network address"),
    ],
)
def test_the_hosts_status_line_says_how_to_join(
    announced: bool | None, address: str, password: bool, line: str
) -> None:
    assert host_status("JAMS", 8765, announced, address, password) == line


def test_hosting_from_the_menu_serves_a_room_a_friend_joins_on_loopback(tmp_path: Path) -> None:
    path, journal = tmp_path / "settings.json", tmp_path / "jams.sqlite"
    save(path, Settings(name="Ann", source="demo", password="jam"))
    window = arcade.Window(1280, 720, "test", visible=False)
    # Listening and announced on loopback only: nothing leaves this machine.
    host = HostConfig(listen="127.0.0.1", port=0, journal=journal)
    app = GameApp(window, settings_file=path, interfaces=LOOPBACK, host=host)
    try:
        app.show_menu()
        wait_for_model(app)
        window.current_view.on_key_press(arcade.key.H, 0)  # Host, by its letter
        view = window.current_view
        assert isinstance(view, PlayView), app.status
        hosting = app.hosting
        assert hosting is not None and re.fullmatch("[A-Z]{4}", hosting.code)
        code = hosting.code
        # A friend finds the room on the network by its code, and joins with the password.
        room = app.background.run(resolve(code, timeout=5.0, interfaces=LOOPBACK))
        assert (room.code, room.url, room.needs_password) == (
            code,
            f"ws://127.0.0.1:{hosting.port}",
            True,
        )
        bob = NetClient(room.url, Hello("Bob", Role.PLAYER, room=code, password="jam"))
        app.background.run(bob.connect(), timeout=10.0)
        for _ in range(100):  # until the host's screen has seen Bob come in
            state = view.state()
            if len(state.room.players) == 2:
                break
            threading.Event().wait(0.05)
        assert sorted(p.name for p in state.room.players.values()) == ["Ann", "Bob"]
        assert state.room.me is not None and state.room.host == state.room.me.id
        assert state.room.me.name == "Ann" and state.room.room == code
        assert state.message == f"room code {code}: friends pick it in Join, with the password"
        assert hosting.announced is True
        image = screenshot(window)
        PIL.Image.fromarray(image.astype("uint8")).save("/tmp/posejam_host_play.png")
        # Stopping closes the room: Bob is told the server is going away.
        app.stop_hosting()
        assert app.hosting is None
        app.background.run(asyncio.wait_for(bob.closed.wait(), 5.0))
        assert bob.close_code == 1001
        late = NetClient(room.url, Hello("Cat", Role.PLAYER, room=code, password="jam"))
        with pytest.raises(ConnectError, match="cannot reach"):
            app.background.run(late.connect(), timeout=10.0)
        assert journal.exists()  # the jam was recorded, as posejam host records it
    finally:
        app.close()
        window.close()


def test_a_room_that_cannot_start_is_said_on_the_menu_and_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, missing = tmp_path / "settings.json", tmp_path / "gone.mp4"
    save(path, Settings(name="Ann", source="video", video=str(missing)))
    window = arcade.Window(1280, 720, "test", visible=False)
    host = HostConfig(listen="127.0.0.1", port=0, journal=None)
    app = GameApp(window, settings_file=path, interfaces=LOOPBACK, host=host)
    stopped: list[int] = []
    stop = app_module.HostSession.stop

    async def spy(session: app_module.HostSession) -> None:
        await stop(session)
        stopped.append(session.port)

    monkeypatch.setattr(app_module.HostSession, "stop", spy)
    try:
        wait_for_model(app)
        app.show_menu()
        app.choose("host")
        assert isinstance(window.current_view, MenuView) and app.hosting is None
        assert app.status == f"the room could not start: no video file at {missing}"
        [port] = stopped  # the server it had opened is closed again
        late = NetClient(f"ws://127.0.0.1:{port}", Hello("Cat", Role.PLAYER))
        with pytest.raises(ConnectError, match="cannot reach"):
            app.background.run(late.connect(), timeout=10.0)
    finally:
        app.close()
        window.close()


def test_a_taken_port_gives_the_room_any_free_one() -> None:
    from client.audio_engine import open_engine
    from server.generator import SeedGenerator

    async def host_on_a_taken_port() -> tuple[int, int, str]:
        taken = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        busy = taken.sockets[0].getsockname()[1]
        config = HostConfig(listen="127.0.0.1", port=busy, journal=None)
        session = HostSession(
            config, Settings(name="Ann", source="demo"), SeedGenerator(),
            open_engine("silent"), LOOPBACK,
        )  # fmt: skip
        try:
            await session.start()
            assert session.game is not None
            return busy, session.port, session.game.net.state.room
        finally:
            await session.stop()
            taken.close()

    busy, port, room = asyncio.run(host_on_a_taken_port())
    assert port not in (0, busy) and re.fullmatch("[A-Z]{4}", room)


def test_host_waits_for_the_drum_model(tmp_path: Path) -> None:
    window = arcade.Window(1280, 720, "test", visible=False)
    app = GameApp(window, "demo", settings_file=tmp_path / "s.json")
    try:
        wait_for_model(app)  # its thread is done: nothing sets it again
        app.generator = None  # as while it loads
        app.show_menu()
        app.choose("host")
        assert isinstance(window.current_view, MenuView) and app.hosting is None
        assert app.status == "still loading the drum model: one moment"
    finally:
        app.close()
        window.close()
