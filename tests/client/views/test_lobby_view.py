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
from client.views.drawing import ACCENT, DIM, EMPTY, POOR, TEXT, mix
from client.views.lobby import (
    CALIBRATE_BUTTON,
    DEVICE_BOX,
    DEVICE_NEXT,
    DEVICE_PREVIOUS,
    FIELD,
    JOIN_BUTTON,
    NAME_BOX,
    PANEL,
    PASSWORD_BOX,
    TARGET_BOX,
    VIDEO_BOX,
    WATCH_BUTTON,
    LobbyChoice,
    LobbyView,
    password_need,
    refusal,
    room_key,
    room_row,
    source_button,
    wrap,
)
from shared.messages import CloseCode
from tests.client.views.jam import count, near, pixel, region, screenshot

LEFT = arcade.MOUSE_BUTTON_LEFT
ROOMS = [
    FoundRoom("ABCD", "laptop", ("192.168.1.5",), 8765, False, 1, 3),
    FoundRoom("JAMS", "studio-pc", ("192.168.1.9",), 8765, True, 1, 1),
    FoundRoom("JAMS", "pi", ("10.0.0.2",), 9000, False, 1, None),
]
SAFE = FoundRoom("SAFE", "den", ("192.168.1.7",), 8765, True, 1, 2)  # needs a password
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
    hold: bool = False,
    **kwargs: object,
) -> tuple[LobbyView, list[LobbyChoice]]:
    """A lobby whose joins are noted in the list; with ``hold``, each stays under way."""
    joined: list[LobbyChoice] = []
    found = ROOMS if rooms is None else rooms

    def join(choice: LobbyChoice) -> None:
        joined.append(choice)
        if not hold:
            view.busy = ""  # as the app does when the join is over

    view = LobbyView(lambda: found, join, DEVICES, settings, **kwargs)  # type: ignore[arg-type]
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


# -- a room's password ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "need"),
    [
        ("", "unknown"),
        ("SAFE", "needed"),
        ("safe ", "needed"),  # as typed: any case, spaces around
        ("ws://192.168.1.7:8765", "needed"),  # its address
        ("ABCD", "open"),
        ("ws://192.168.1.5:8765", "open"),
        ("JAMS", "unknown"),  # two rooms have the code, one locked, one not
        ("ws://192.168.1.9:8765", "needed"),  # the locked JAMS, by its address
        ("WXYZ", "unknown"),  # not on the list
        ("ws://192.168.1.7:8765/", "unknown"),  # another URL than the announced one
        ("ABCDE", "unknown"),  # not a target yet
    ],
)
def test_whether_a_target_needs_a_password(target: str, need: str) -> None:
    assert password_need(target, [*ROOMS, SAFE]) == need


@pytest.mark.parametrize(
    ("target", "key"),
    [("", ""), (" safe", "SAFE"), ("ws://h:1", "ws://h:1"), ("ab", "ab"), ("  x ", "x")],
)
def test_room_key(target: str, key: str) -> None:
    assert room_key(target) == key


@pytest.mark.parametrize(
    ("target", "code", "reason", "password", "line"),
    [
        ("SAFE", 4003, "wrong room password", "hunter2", "wrong password for room SAFE"),
        ("SAFE", 4003, "wrong room password", "", "room SAFE needs a password"),
        (
            "ws://10.0.0.2:9000",
            4003,
            "wrong room password",
            "x",
            "wrong password for the room at ws://10.0.0.2:9000",
        ),
        ("SAFE", 4005, "room is full (8 players)", "", "room SAFE is full (8 players)"),
        ("SAFE", 4005, "full", "", "room SAFE is full"),
        ("SAFE", 4004, "no room SAFE here", "", "room SAFE is not open any more"),
        (
            "SAFE",
            4001,
            "protocol 3 is not supported; this server speaks 4",
            "",
            "room SAFE speaks another version of PoseJam (protocol 3 is not supported; "
            "this server speaks 4): update the older one",
        ),
        (
            "SAFE",
            1013,
            "the server is full: try again later",
            "",
            "room SAFE refused to let you in: the server is full: try again later",
        ),
        ("SAFE", 1011, "", "", "room SAFE refused to let you in: close code 1011"),
        (
            "ws://127.0.0.1:9",
            None,
            "cannot reach ws://127.0.0.1:9: Connect call failed",
            "",
            "cannot reach ws://127.0.0.1:9: Connect call failed",
        ),
    ],
)
def test_the_line_a_refusal_shows(
    target: str, code: int | None, reason: str, password: str, line: str
) -> None:
    assert refusal(target, code, reason, password) == line


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("short", ["short"]),
        ("aaa bbb ccc", ["aaa bbb", "ccc"]),
        ("aaa bbb ccc ddd eee", ["aaa bbb", "ccc ddd…"]),
        ("abcdefghijkl", ["abcdefgh", "ijkl"]),  # no space: cut where it must be
        ("abcdefghijklmnopqrstuvwxyz", ["abcdefgh", "ijklmno…"]),
    ],
)
def test_wrap_keeps_to_two_lines(text: str, lines: list[str]) -> None:
    assert wrap(text, 8, 2) == lines


def test_picking_a_locked_room_asks_for_its_password(window: arcade.Window) -> None:
    view, joined = make([*ROOMS, SAFE], name="Bob")
    click(view, room_row(3))
    assert (view.fields["target"], view.need(), view.focus) == ("SAFE", "needed", "password")
    view.on_key_press(arcade.key.ENTER, 0)  # no password typed: not even asked of the room
    assert joined == []
    assert view.error == "room SAFE needs a password: type it"
    assert view.focus == "password"
    view.on_text("hunter2")
    view.on_key_press(arcade.key.ENTER, 0)
    click(view, WATCH_BUTTON)  # a spectator is asked for it too
    assert joined == [
        LobbyChoice("SAFE", "Bob", "camera", None, False, 0.0, "hunter2"),
        LobbyChoice("SAFE", "Bob", "camera", None, True, 0.0, "hunter2"),
    ]
    assert view.passwords == {"SAFE": "hunter2"}  # remembered for the run, by room


def test_a_password_belongs_to_its_room(window: arcade.Window) -> None:
    passwords: dict[str, str] = {}
    view, joined = make([*ROOMS, SAFE], name="Bob", passwords=passwords)
    click(view, PASSWORD_BOX)  # typed before any room is named: it stays for the one picked
    view.on_text("hunter2")
    click(view, room_row(3))
    assert view.fields["password"] == "hunter2"
    click(view, room_row(0))  # an open room: the field is dimmed and empty, nothing is sent
    assert (view.fields["password"], view.need(), view.focus) == ("", "open", "target")
    click(view, PASSWORD_BOX)  # a dimmed field takes no caret
    assert view.focus == "target"
    view.focus = "password"  # even with the caret there (the list changed under it)
    view.on_text("nothing")
    assert view.fields["password"] == ""
    click(view, JOIN_BUTTON)
    assert joined == [LobbyChoice("ABCD", "Bob", "camera", None, False, 0.0, "")]
    click(view, room_row(3))  # back to SAFE: its password is back
    assert view.fields["password"] == "hunter2" and passwords == {"SAFE": "hunter2"}
    # Typing over the target keeps the password (nothing typed is lost) ...
    view.focus = "target"
    view.on_key_press(arcade.key.BACKSPACE, 0)
    view.on_text("E")
    assert (view.fields["target"], view.fields["password"], view.need()) == (
        "SAFE",
        "hunter2",
        "needed",
    )
    # ... and a typed target the list does not know may have one: the field stays open.
    view.fields["target"] = "ws://192.168.1.50:8765"
    assert view.need() == "unknown"
    view.on_key_press(arcade.key.ENTER, 0)
    assert joined[-1] == LobbyChoice(
        "ws://192.168.1.50:8765", "Bob", "camera", None, False, 0.0, "hunter2"
    )


def test_tab_visits_the_password_only_when_it_may_be_asked(window: arcade.Window) -> None:
    view, _ = make([*ROOMS, SAFE], name="Bob")
    order = []
    for _ in range(4):
        order.append(view.focus)
        view.on_key_press(arcade.key.TAB, 0)
    assert order == ["target", "password", "name", "target"]  # nothing typed: unknown
    click(view, room_row(0))
    view.focus = "target"
    order = []
    for _ in range(3):
        order.append(view.focus)
        view.on_key_press(arcade.key.TAB, 0)
    assert order == ["target", "name", "target"]


def test_a_wrong_password_comes_back_to_its_field(window: arcade.Window) -> None:
    view, joined = make([*ROOMS, SAFE], name="Bob")
    click(view, room_row(3))
    view.on_text("hunter3")
    view.on_key_press(arcade.key.ENTER, 0)
    assert view.passwords == {"SAFE": "hunter3"}
    view.focus = "name"  # wherever the caret was
    view.refused("SAFE", CloseCode.WRONG_PASSWORD, "wrong room password", "hunter3")
    assert view.error == "wrong password for room SAFE"
    assert view.focus == "password"
    assert (view.fields["target"], view.fields["password"], view.fields["name"]) == (
        "SAFE",
        "hunter3",
        "Bob",
    )
    assert view.passwords == {}  # not offered again for the room
    view.on_key_press(arcade.key.BACKSPACE, 0)
    view.on_text("2")
    view.on_key_press(arcade.key.ENTER, 0)
    assert view.error == ""
    assert joined[-1] == LobbyChoice("SAFE", "Bob", "camera", None, False, 0.0, "hunter2")


def test_other_refusals_leave_the_form_as_it_was(window: arcade.Window) -> None:
    view, _ = make([*ROOMS, SAFE], name="Bob")
    click(view, room_row(3))
    view.on_text("hunter2")
    view.focus = "name"
    view.refused("SAFE", CloseCode.ROOM_FULL, "room is full (8 players)", "hunter2")
    assert (view.error, view.focus, view.fields["password"]) == (
        "room SAFE is full (8 players)",
        "name",
        "hunter2",
    )
    assert view.passwords == {}  # not joined with yet: nothing remembered


def test_a_room_announced_open_that_asks_for_a_password_gets_the_field(
    window: arcade.Window,
) -> None:
    view, joined = make(name="Bob")
    click(view, room_row(0))
    assert view.need() == "open"
    view.refused("ABCD", CloseCode.WRONG_PASSWORD, "wrong room password", "")
    assert (view.error, view.need(), view.focus) == (
        "room ABCD needs a password",
        "needed",
        "password",
    )
    view.on_text("pw")
    view.on_key_press(arcade.key.ENTER, 0)
    assert joined == [LobbyChoice("ABCD", "Bob", "camera", None, False, 0.0, "pw")]


def test_a_join_says_it_is_under_way_until_it_is_refused(window: arcade.Window) -> None:
    view, joined = make(name="Bob", hold=True)
    click(view, room_row(0))
    view.on_key_press(arcade.key.ENTER, 0)
    assert (view.busy, view.error) == ("joining ABCD...", "")
    view.on_key_press(arcade.key.ENTER, 0)  # impatient: once is enough
    assert len(joined) == 1
    view.refused("ABCD", CloseCode.NO_SUCH_ROOM, "no room ABCD here", "")
    assert (view.busy, view.error) == ("", "room ABCD is not open any more")


def test_the_password_is_bounded(window: arcade.Window) -> None:
    view, _ = make()
    click(view, PASSWORD_BOX)
    view.on_text("p" * 100)
    assert view.fields["password"] == "p" * 64  # the wire's limit


def test_the_lobby_with_a_locked_room_and_its_password_field(window: arcade.Window) -> None:
    view, _ = make([*ROOMS, SAFE], name="Bob")
    click(view, room_row(3))
    view.on_text("hunter2")
    view.refused("SAFE", CloseCode.WRONG_PASSWORD, "wrong room password", "hunter2")
    image = screenshot(view)
    PIL.Image.fromarray(image.astype("uint8")).save(Path("/tmp/posejam_lobby_password.png"))
    # Locks on the two rooms that need a password, in the list.
    for index, locked in enumerate((False, True, False, True)):
        icon = arcade.LBWH(room_row(index).right - 36, room_row(index).bottom + 12, 20, 24)
        assert (count(region(image, icon), ACCENT, 3) > 100) == locked, index
    # And by the password field's label: this room asks for one.
    over = arcade.LBWH(PASSWORD_BOX.left, PASSWORD_BOX.top + 4, PASSWORD_BOX.width, 26)
    assert count(region(image, over), ACCENT, 3) > 100
    # The field is focused (an accent edge), open, and shows what was typed.
    assert near(pixel(image, PASSWORD_BOX.left - 1, PASSWORD_BOX.center_y), ACCENT)
    assert not near(pixel(image, TARGET_BOX.left - 1, TARGET_BOX.center_y), ACCENT)
    assert near(pixel(image, PASSWORD_BOX.right - 4, PASSWORD_BOX.bottom + 4), FIELD)
    inside = arcade.LBWH(PASSWORD_BOX.left + 8, PASSWORD_BOX.bottom + 6, 100, 28)
    assert count(region(image, inside), TEXT, 30) > 60
    # The wrong password in red, above the buttons.
    line = arcade.LBWH(lobby.FORM_LEFT, 116, lobby.FORM_WIDTH, 24)
    assert count(region(image, line), POOR, 30) > 100

    # An open room: no lock by the label, the field dimmed, "not needed" in grey.
    click(view, room_row(0))
    image = screenshot(view)
    PIL.Image.fromarray(image.astype("uint8")).save(Path("/tmp/posejam_lobby_open.png"))
    assert count(region(image, over), ACCENT, 3) == 0
    dimmed = mix(FIELD, PANEL, 0.6)
    assert near(pixel(image, PASSWORD_BOX.right - 4, PASSWORD_BOX.bottom + 4), dimmed)
    assert not near(pixel(image, PASSWORD_BOX.left - 1, PASSWORD_BOX.center_y), ACCENT)
    assert count(region(image, inside), DIM, 30) > 60
    assert count(region(image, inside), TEXT, 30) == 0
    assert count(region(image, line), POOR, 30) == 0  # picking a room clears the line
