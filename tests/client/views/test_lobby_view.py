"""The lobby, drawn off-screen with rooms found, and what its clicks and typing ask for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import arcade
import PIL.Image
import pytest

from client.discovery import FoundRoom
from client.settings import Settings
from client.views import lobby
from client.views.drawing import ACCENT, EMPTY, POOR, mix
from client.views.lobby import (
    CALIBRATE_BUTTON,
    DEVICE_BOX,
    DEVICE_NEXT,
    DEVICE_PREVIOUS,
    JOIN_BUTTON,
    NAME_BOX,
    PANEL,
    TARGET_BOX,
    VIDEO_BOX,
    WATCH_BUTTON,
    LobbyChoice,
    LobbyView,
    room_row,
    source_button,
)
from tests.client.views.jam import count, near, pixel, region, screenshot

LEFT = arcade.MOUSE_BUTTON_LEFT
ROOMS = [
    FoundRoom("ABCD", "laptop", ("192.168.1.5",), 8765, False, 1, 3),
    FoundRoom("JAMS", "studio-pc", ("192.168.1.9",), 8765, True, 1, 1),
    FoundRoom("JAMS", "pi", ("10.0.0.2",), 9000, False, 1, None),
]
DEVICES = [(0, "HDA Intel PCH: ALC3246 Analog"), (4, "USB Audio")]  # portaudio's indexes


@pytest.fixture(scope="module")
def window() -> Iterator[arcade.Window]:
    window = arcade.Window(lobby.WIDTH, lobby.HEIGHT, "PoseJam lobby test")
    yield window
    window.close()


def make(
    rooms: list[FoundRoom] | None = None,
    settings: Settings | None = None,
    name: str = "",
    **kwargs: object,
) -> tuple[LobbyView, list[LobbyChoice]]:
    joined: list[LobbyChoice] = []
    found = ROOMS if rooms is None else rooms
    view = LobbyView(lambda: found, joined.append, DEVICES, settings, **kwargs)  # type: ignore[arg-type]
    if settings is None:
        view.fields["name"] = name
    return view, joined


def click(view: LobbyView, rect: arcade.types.Rect) -> None:
    view.on_mouse_press(rect.center_x, rect.center_y, LEFT, 0)


def test_rooms_show_with_a_lock_and_the_picked_one_lit(window: arcade.Window) -> None:
    view, _ = make(name="Bob", on_calibrate=lambda: None)
    view.latency_ms = 42
    click(view, room_row(0))
    view.focus = "name"
    view.error = "'ABCDE' is not a room code (4 letters, like ABCD) or a ws:// URL"
    image = screenshot(view)
    PIL.Image.fromarray(image.astype("uint8")).save(Path("/tmp/posejam_lobby.png"))
    picked = mix(lobby.PANEL, ACCENT, 0.28)
    assert near(pixel(image, room_row(0).left + 2, room_row(0).bottom + 3), ACCENT)  # stripe
    assert near(pixel(image, room_row(0).right - 3, room_row(0).bottom + 3), picked)
    assert near(pixel(image, room_row(1).right - 3, room_row(1).bottom + 3), EMPTY)
    # The lock: only on the room that needs a password.
    for index, locked in enumerate((False, True, False)):
        icon = arcade.LBWH(room_row(index).right - 36, room_row(index).bottom + 12, 20, 24)
        assert (count(region(image, icon), ACCENT, 3) > 100) == locked, index
    # The error line in red, above the buttons.
    line = arcade.LBWH(lobby.FORM_LEFT, 116, lobby.FORM_WIDTH, 24)
    assert count(region(image, line), POOR, 30) > 100
    assert near(pixel(image, JOIN_BUTTON.left + 4, JOIN_BUTTON.bottom + 4), ACCENT)
    # The focused field has an accent edge; the others do not.
    assert near(pixel(image, NAME_BOX.left - 1, NAME_BOX.center_y), ACCENT)
    assert not near(pixel(image, TARGET_BOX.left - 1, TARGET_BOX.center_y), ACCENT)
    # The first source is chosen.
    assert near(pixel(image, source_button(0, 3).left + 3, source_button(0, 3).bottom + 3), ACCENT)
    assert near(pixel(image, source_button(1, 3).left + 3, source_button(1, 3).bottom + 3), EMPTY)


def test_no_rooms_yet_still_draws(window: arcade.Window) -> None:
    image = screenshot(make([])[0])
    assert near(pixel(image, room_row(0).center_x, room_row(0).center_y), PANEL)


def test_picking_a_room_types_its_code_or_url_when_the_code_is_shared(
    window: arcade.Window,
) -> None:
    view, joined = make(name="Bob")
    click(view, room_row(0))
    assert view.fields["target"] == "ABCD"
    click(view, room_row(2))
    assert view.fields["target"] == "ws://10.0.0.2:9000"  # two rooms are called JAMS
    click(view, JOIN_BUTTON)
    assert joined == [LobbyChoice("ws://10.0.0.2:9000", "Bob", "camera", None, False, 0.0)]


def test_typing_a_code_a_name_and_joining(window: arcade.Window) -> None:
    view, joined = make()
    view.on_text("ab cd!")  # the space and the ! are not part of a target
    assert view.fields["target"] == "abcd"
    click(view, NAME_BOX)
    view.on_text("Zoë K")
    view.on_key_press(arcade.key.BACKSPACE, 0)
    view.on_key_press(arcade.key.BACKSPACE, 0)
    view.on_text("!")
    click(view, source_button(1, 3))
    click(view, DEVICE_NEXT)
    click(view, DEVICE_NEXT)
    view.latency_ms = -12.5
    click(view, WATCH_BUTTON)
    view.on_key_press(arcade.key.ENTER, 0)
    assert joined == [
        LobbyChoice("ABCD", "Zoë!", "demo", 4, True, -12.5),
        LobbyChoice("ABCD", "Zoë!", "demo", 4, False, -12.5),
    ]
    click(view, DEVICE_NEXT)
    assert view.device is None  # round to the default output
    click(view, DEVICE_PREVIOUS)
    click(view, DEVICE_BOX)
    assert view.device is None


def test_a_typed_url_and_a_video_file(window: arcade.Window) -> None:
    view, joined = make(name="Ann")
    view.on_text("ws://192.168.1.5:8765/")
    click(view, VIDEO_BOX)  # picks the video source and focuses its path
    assert view.source == 2 and view.focus == "video"
    view.on_text("~/dance clip.mp4")
    view.on_key_press(arcade.key.TAB, 0)
    assert view.focus == "target"
    view.on_key_press(arcade.key.ENTER, 0)
    assert joined == [
        LobbyChoice("ws://192.168.1.5:8765/", "Ann", "~/dance clip.mp4", None, False, 0.0)
    ]


@pytest.mark.parametrize(
    ("target", "name", "message"),
    [
        ("", "Bob", "give a room code (4 letters, like ABCD) or a ws:// URL"),
        ("ABCDE", "Bob", "'ABCDE' is not a room code (4 letters, like ABCD) or a ws:// URL"),
        (
            "host:8765",
            "Bob",
            "'host:8765' is not a room code or a URL: did you mean ws://host:8765?",
        ),
        ("ws://host", "Bob", "'ws://host' has no port: use ws://HOST:PORT"),
        ("ABCD", "  ", "type your name"),
    ],
)
def test_a_bad_form_shows_its_error_instead_of_joining(
    window: arcade.Window, target: str, name: str, message: str
) -> None:
    view, joined = make(name=name)
    view.on_text(target)
    click(view, JOIN_BUTTON)
    assert joined == []
    assert view.error == message
    view.fields["target"], view.fields["name"] = "ABCD", "Bob"
    click(view, WATCH_BUTTON)
    assert view.error == ""
    assert joined == [LobbyChoice("ABCD", "Bob", "camera", None, True, 0.0)]


def test_video_without_a_path_is_an_error(window: arcade.Window) -> None:
    view, joined = make(name="Bob")
    view.on_text("ABCD")
    click(view, source_button(2, 3))
    click(view, JOIN_BUTTON)
    assert joined == []
    assert view.error == "type the video file's path, or pick another pose source"


def test_calibrate_and_back_call_their_callbacks(window: arcade.Window) -> None:
    calls: list[str] = []
    view, _ = make(
        on_calibrate=lambda: calls.append("calibrate"), on_back=lambda: calls.append("back")
    )
    click(view, CALIBRATE_BUTTON)
    view.on_key_press(arcade.key.ESCAPE, 0)
    assert calls == ["calibrate", "back"]
    plain, _ = make()
    click(plain, CALIBRATE_BUTTON)  # no calibration offered: nothing happens
    plain.on_key_press(arcade.key.ESCAPE, 0)
    assert calls == ["calibrate", "back"]


def test_fields_are_bounded(window: arcade.Window) -> None:
    view, _ = make()
    click(view, NAME_BOX)
    view.on_text("x" * 40)
    assert view.fields["name"] == "x" * 24
    click(view, TARGET_BOX)
    view.on_text("a" * 200)
    assert len(view.fields["target"]) == lobby.MAX_TARGET_CHARS


def test_the_form_starts_from_the_saved_settings(window: arcade.Window) -> None:
    saved = Settings(
        name="Ann", source="video", camera=2, video="clip.mp4", device=4, latency_ms=31.0
    )
    view, joined = make(settings=saved)
    assert (view.fields["name"], view.fields["video"], view.source) == ("Ann", "clip.mp4", 2)
    view.on_text("ABCD")
    view.on_key_press(arcade.key.ENTER, 0)
    click(view, source_button(0, 3))  # the camera: the saved one, camera 2
    click(view, JOIN_BUTTON)
    assert joined == [
        LobbyChoice("ABCD", "Ann", "clip.mp4", 4, False, 31.0),
        LobbyChoice("ABCD", "Ann", "camera:2", 4, False, 31.0),
    ]
    image = screenshot(view)
    assert near(pixel(image, source_button(0, 3).left + 3, source_button(0, 3).bottom + 3), ACCENT)
    assert near(pixel(image, source_button(2, 3).left + 3, source_button(2, 3).bottom + 3), EMPTY)


def test_a_saved_device_that_is_gone_is_still_offered(window: arcade.Window) -> None:
    view, _ = make(settings=Settings(device=9))
    assert view.device == 9
    click(view, DEVICE_NEXT)
    assert view.device is None  # after 9, round to the default
    click(view, DEVICE_NEXT)
    click(view, DEVICE_NEXT)
    assert view.device == 4
    click(view, DEVICE_NEXT)
    assert view.device is None  # once another is picked, the missing one is no more offered
