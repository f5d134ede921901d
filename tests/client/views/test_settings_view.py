"""The settings screen: its pure form (every row's keys and values), the view's clicks
and keys, and the screen drawn off-screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import arcade
import numpy as np
import PIL.Image
import pytest

from client.settings import Settings
from client.views import settings as screen
from client.views.drawing import ACCENT, EMPTY, PANEL, POOR, mix
from client.views.lobby import FIELD
from client.views.settings import (
    BACK_BUTTON,
    CALIBRATE_BUTTON,
    CAMERA_BOX,
    CAMERA_NEXT,
    CAMERA_PREVIOUS,
    DEVICE_BOX,
    DEVICE_NEXT,
    DEVICE_PREVIOUS,
    FULLSCREEN_BUTTON,
    LATENCY_DOWN,
    LATENCY_UP,
    NAME_BOX,
    PASSWORD_BOX,
    VIDEO_BOX,
    VOLUME_BOX,
    VOLUME_DOWN,
    VOLUME_UP,
    WINDOW_BUTTON,
    SettingsForm,
    SettingsView,
    row_rect,
    source_button,
)
from tests.client.views.jam import count, near, pixel, region, screenshot

LEFT = arcade.MOUSE_BUTTON_LEFT
SHIFT = arcade.key.MOD_SHIFT
DEVICES = [(0, "HDA Intel PCH: ALC3246 Analog"), (4, "USB Audio")]
NO_VIDEO = "type the video file's path, or pick another pose source"
ANN = Settings(name="Ann", latency_ms=42.3, volume=0.8, device=4, password="jam")


@pytest.fixture(scope="module")
def window() -> Iterator[arcade.Window]:
    window = arcade.Window(screen.WIDTH, screen.HEIGHT, "PoseJam settings test")
    yield window
    window.close()


def make(
    settings: Settings = ANN, calibrate: bool = True
) -> tuple[SettingsView, list[Settings], list[str]]:
    saved: list[Settings] = []
    calls: list[str] = []
    on_calibrate = (lambda: calls.append("calibrate")) if calibrate else None
    return SettingsView(settings, DEVICES, saved.append, on_calibrate), saved, calls


def click(view: SettingsView, rect: arcade.types.Rect, x: float | None = None) -> None:
    view.on_mouse_press(rect.center_x if x is None else x, rect.center_y, LEFT, 0)


# -- the form ------------------------------------------------------------------------


def test_an_untouched_form_gives_back_the_settings_it_was_given() -> None:
    for settings in (Settings(), ANN, Settings(source="video", video="clip.mp4", camera=3)):
        assert SettingsForm(settings, DEVICES).settings() == settings


def test_the_rows_follow_the_source_and_the_shell() -> None:
    form = SettingsForm(Settings(), DEVICES, can_calibrate=True)
    assert form.rows() == [
        "name", "source", "camera", "password",
        "device", "volume", "latency", "calibrate", "screen", "back",
    ]  # fmt: skip
    form.pick_source("video")
    assert form.rows()[2] == "video"
    form.pick_source("demo")
    assert form.rows()[:3] == ["name", "source", "password"]
    assert "calibrate" not in SettingsForm(Settings(), DEVICES).rows()


def test_moving_wraps_round_both_ways() -> None:
    form = SettingsForm(Settings(source="demo"), DEVICES)
    form.move(-1)
    assert form.focus == "back"
    form.move(+1)
    form.move(+1)
    assert form.focus == "source"
    form.move(+1)
    assert form.focus == "password"  # the demo dancer has no detail row


def test_each_row_changes_with_the_arrows() -> None:
    form = SettingsForm(ANN, DEVICES)
    form.focus = "source"
    form.change(+1)
    assert form.source == "demo"
    form.change(-1)
    form.change(-1)
    assert form.source == "video"  # round, backwards
    form.focus = "camera"
    form.change(-1)
    assert form.camera == 15  # round from camera 0
    form.focus = "device"
    form.change(+1)
    assert form.device is None  # after the last device, the default
    form.change(+1)
    assert form.device == 0
    form.focus = "volume"
    form.change(-1)
    assert form.volume == 0.75
    form.focus = "latency"
    form.change(+1)
    assert form.latency_ms == 43.0  # from the nearest whole millisecond
    form.change(-1, big=True)
    assert form.latency_ms == 33.0
    form.focus = "screen"
    form.change(+1)
    assert form.fullscreen is True
    form.change(-1)
    assert form.fullscreen is False
    form.focus = "name"
    form.change(+1)  # nothing to step in a text field
    assert form.name == "Ann"


@pytest.mark.parametrize(
    ("start", "step", "volume"),
    [(0.8, +1, 0.85), (0.73, +1, 0.8), (1.0, +1, 1.0), (0.05, -1, 0.0), (0.0, -1, 0.0)],
)
def test_the_volume_steps_by_five_percent_within_range(
    start: float, step: int, volume: float
) -> None:
    form = SettingsForm(Settings(volume=start), DEVICES)
    form.step_volume(step)
    assert form.volume == volume


@pytest.mark.parametrize(
    ("start", "ms", "latency"),
    [(42.3, 1, 43.0), (-0.4, -10, -10.0), (995.0, 10, 1000.0), (-1000.0, -1, -1000.0)],
)
def test_the_latency_steps_within_range(start: float, ms: int, latency: float) -> None:
    form = SettingsForm(Settings(latency_ms=start), DEVICES)
    form.step_latency(ms)
    assert form.latency_ms == latency


def test_a_saved_device_that_is_gone_is_offered_until_another_is_picked() -> None:
    form = SettingsForm(Settings(device=9), DEVICES)
    seen = []
    for _ in range(4):
        seen.append(form.device)
        form.step_device(+1)
    assert seen == [9, None, 0, 4]
    assert form.device is None  # 9 is no more offered


def test_typing_goes_to_the_focused_field_and_is_bounded() -> None:
    form = SettingsForm(Settings(name="A"), DEVICES)
    form.type("nn\n!")  # the line break is not printable
    assert form.name == "Ann!"
    form.erase()
    form.type("x" * 40)
    assert form.name == "Ann" + "x" * 21  # 24 characters, as a room holds
    form.focus = "password"
    form.type("p" * 70)
    assert form.password == "p" * 64
    form.focus = "volume"
    form.type("9")  # not a text row: nothing
    form.erase()
    assert (form.name, form.volume) == ("Ann" + "x" * 21, 1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "   "}, "type your name"),
        ({"source": "video", "video": " "}, NO_VIDEO),
    ],
)  # fmt: skip
def test_a_form_that_is_not_whole_says_what_to_fix(change: dict[str, str], message: str) -> None:
    form = SettingsForm(Settings(), DEVICES)
    for name, value in change.items():
        setattr(form, name, value)
    with pytest.raises(ValueError, match=message):
        form.settings()


def test_the_form_trims_what_was_typed() -> None:
    form = SettingsForm(Settings(), DEVICES)
    form.name, form.source, form.video = "  Ann ", "video", " clip.mp4 "
    assert form.settings() == Settings(name="Ann", source="video", video="clip.mp4")


# -- the view's keys and clicks ----------------------------------------------------------


def test_back_hands_over_the_settings_or_says_what_to_fix(window: arcade.Window) -> None:
    view, saved, _ = make()
    view.form.name = ""
    view.on_key_press(arcade.key.ESCAPE, 0)
    assert saved == [] and view.form.error == "type your name"
    view.on_text("Bob")
    assert view.form.error == ""
    click(view, BACK_BUTTON)
    assert saved == [Settings(**{**_as_dict(ANN), "name": "Bob"})]  # type: ignore[arg-type]


def _as_dict(settings: Settings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in Settings.__dataclass_fields__}


def test_every_control_answers_a_click(window: arcade.Window) -> None:
    view, saved, calls = make(Settings())
    form = view.form
    click(view, PASSWORD_BOX)
    assert form.focus == "password"
    view.on_text("jam")
    click(view, NAME_BOX)
    assert form.focus == "name"
    click(view, CAMERA_NEXT)
    click(view, CAMERA_NEXT)
    click(view, CAMERA_PREVIOUS)
    click(view, CAMERA_BOX)  # the value steps forwards too
    assert (form.focus, form.camera) == ("camera", 2)
    click(view, DEVICE_NEXT)
    click(view, DEVICE_BOX)
    click(view, DEVICE_NEXT)
    click(view, DEVICE_PREVIOUS)
    assert (form.focus, form.device) == ("device", 4)
    click(view, VOLUME_BOX, x=VOLUME_BOX.left + VOLUME_BOX.width * 0.62)  # nearest 5 %: 60
    assert (form.focus, form.volume) == ("volume", 0.6)
    click(view, VOLUME_UP)
    click(view, VOLUME_DOWN)
    click(view, VOLUME_DOWN)
    assert form.volume == 0.55
    click(view, LATENCY_UP)
    click(view, LATENCY_UP)
    click(view, LATENCY_DOWN)
    assert (form.focus, form.latency_ms) == ("latency", 1.0)
    click(view, FULLSCREEN_BUTTON)
    assert (form.focus, form.fullscreen) == ("screen", True)
    click(view, CALIBRATE_BUTTON)
    assert calls == ["calibrate"] and form.focus == "calibrate"
    click(view, source_button(2))  # the video file: its path field replaces the camera's
    assert (form.focus, form.source) == ("source", "video")
    click(view, VIDEO_BOX)
    view.on_text("me.mp4")
    click(view, WINDOW_BUTTON)
    click(view, BACK_BUTTON)
    assert saved == [
        Settings("Player", "video", 2, "me.mp4", 4, 1.0, 0.55, False, "jam"),
    ]
    view.on_mouse_press(NAME_BOX.center_x, NAME_BOX.center_y, arcade.MOUSE_BUTTON_RIGHT, 0)
    assert form.focus == "back"  # only the left button clicks


def test_the_keyboard_alone_can_set_everything(window: arcade.Window) -> None:
    view, saved, calls = make(Settings())
    press = view.on_key_press
    press(arcade.key.TAB, 0)  # to the source
    press(arcade.key.RIGHT, 0)  # the demo dancer
    press(arcade.key.TAB, 0)  # no detail row: the password
    view.on_text("a b")  # space types in a text field
    press(arcade.key.SPACE, 0)  # ... and is not a press there
    assert view.form.password == "a b" and saved == []
    press(arcade.key.DOWN, 0)
    press(arcade.key.RIGHT, 0)  # device 0
    press(arcade.key.DOWN, 0)
    press(arcade.key.LEFT, 0)  # volume 95 %
    press(arcade.key.DOWN, 0)
    press(arcade.key.RIGHT, SHIFT)  # latency +10 ms
    press(arcade.key.DOWN, 0)
    press(arcade.key.ENTER, 0)  # Calibrate
    assert calls == ["calibrate"]
    press(arcade.key.DOWN, 0)
    press(arcade.key.SPACE, 0)  # flips the screen
    assert view.form.fullscreen is True
    press(arcade.key.TAB, SHIFT)
    assert view.form.focus == "calibrate"
    press(arcade.key.UP, 0)
    assert view.form.focus == "latency"
    press(arcade.key.ENTER, 0)  # not a button: the next row
    press(arcade.key.ENTER, 0)  # Calibrate again
    press(arcade.key.TAB, 0)
    press(arcade.key.TAB, 0)
    assert view.form.focus == "back"
    press(arcade.key.ENTER, 0)
    assert calls == ["calibrate", "calibrate"]
    assert saved == [
        Settings(source="demo", device=0, latency_ms=10.0, volume=0.95, fullscreen=True,
                 password="a b"),
    ]  # fmt: skip


def test_without_calibration_the_button_does_nothing(window: arcade.Window) -> None:
    view, _, calls = make(calibrate=False)
    click(view, CALIBRATE_BUTTON)
    view.form.focus = "latency"
    view.on_key_press(arcade.key.DOWN, 0)
    assert calls == [] and view.form.focus == "screen"


# -- drawn ---------------------------------------------------------------------------------


def test_the_screen_shows_the_settings_and_the_focus(window: arcade.Window) -> None:
    view, _, _ = make(Settings(**{**_as_dict(ANN), "device": 9}))  # type: ignore[arg-type]
    view.form.focus = "volume"
    view.form.error = "type your name"
    image = screenshot(view)
    PIL.Image.fromarray(image.astype("uint8")).save(Path("/tmp/posejam_settings.png"))
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # not blank
    # Both panels, the camera lit among the sources, the window lit among the screens.
    assert near(pixel(image, screen.YOU_BOX.left + 6, screen.YOU_BOX.top - 6), PANEL)
    assert near(pixel(image, screen.SOUND_BOX.right - 6, screen.SOUND_BOX.bottom + 6), PANEL)
    corner = (source_button(0).left + 3, source_button(0).bottom + 3)
    assert near(pixel(image, *corner), ACCENT)
    assert near(pixel(image, source_button(1).left + 3, source_button(1).bottom + 3), EMPTY)
    assert near(pixel(image, WINDOW_BUTTON.left + 3, WINDOW_BUTTON.bottom + 3), ACCENT)
    assert near(pixel(image, FULLSCREEN_BUTTON.left + 3, FULLSCREEN_BUTTON.bottom + 3), EMPTY)
    # The volume: 80 % of its bar lit, the rest empty; the focused row framed.
    bar_left, bar_width = VOLUME_BOX.left + 8, VOLUME_BOX.width - 90
    y = VOLUME_BOX.center_y
    assert near(pixel(image, bar_left + bar_width * 0.78, y), ACCENT)
    assert near(pixel(image, bar_left + bar_width * 0.82, y), EMPTY)
    volume = row_rect("volume")
    assert near(pixel(image, volume.left - 3, volume.center_y), ACCENT)
    device = row_rect("device")
    assert near(pixel(image, device.left - 3, device.center_y), PANEL)  # not focused
    # The text fields hold their values; the device is named, though not found.
    name = arcade.LBWH(NAME_BOX.left + 8, NAME_BOX.bottom + 8, 80, 24)
    assert count(region(image, name), (238, 238, 246), 30) > 30  # "Ann"
    assert near(pixel(image, NAME_BOX.right - 6, NAME_BOX.center_y), FIELD)
    label = arcade.LBWH(DEVICE_BOX.left, DEVICE_BOX.bottom + 8, DEVICE_BOX.width, 24)
    assert count(region(image, label), (238, 238, 246), 30) > 150  # "device 9 (not found)"
    # Calibrate offered; the error in red by Back.
    assert near(pixel(image, CALIBRATE_BUTTON.left + 3, CALIBRATE_BUTTON.bottom + 3),
                mix(EMPTY, ACCENT, 0.35))  # fmt: skip
    line = arcade.LBWH(BACK_BUTTON.right + 20, 50, 400, 26)
    assert count(region(image, line), POOR, 30) > 60
    assert near(pixel(image, BACK_BUTTON.left + 4, BACK_BUTTON.bottom + 4), ACCENT)


def test_the_detail_row_follows_the_source(window: arcade.Window) -> None:
    view, _, _ = make(Settings(source="demo"), calibrate=False)
    image = screenshot(view)
    assert near(pixel(image, CAMERA_PREVIOUS.left + 3, CAMERA_PREVIOUS.bottom + 3), PANEL)
    assert near(pixel(image, CALIBRATE_BUTTON.left + 3, CALIBRATE_BUTTON.bottom + 3), EMPTY)
    view.form.pick_source("video")
    view.form.focus = "video"
    image = screenshot(view)
    assert near(pixel(image, VIDEO_BOX.left - 1, VIDEO_BOX.center_y), ACCENT)  # focused
    assert near(pixel(image, VIDEO_BOX.center_x, VIDEO_BOX.bottom + 3), FIELD)
    view.form.pick_source("camera")
    image = screenshot(view)
    assert near(pixel(image, CAMERA_PREVIOUS.left + 3, CAMERA_PREVIOUS.bottom + 3), EMPTY)
    assert near(pixel(image, CAMERA_BOX.left + 3, CAMERA_BOX.bottom + 3), FIELD)
