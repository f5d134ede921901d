"""The settings screen: who you are, where your body comes from, how the game sounds.

Left, YOU: your name, the pose source (a camera and which one, the demo dancer, or a
video file whose path is typed) and the password of a room you host. Right, SOUND AND
SCREEN: the sound output, the master volume, the latency offset (nudged by hand, or
measured by the tap-along through ``on_calibrate``) and window or full screen. Back
(Esc) hands the settings to ``on_back``, which saves them.

:class:`SettingsForm` is the screen's state and everything a key or a click does to
it, without arcade; :class:`SettingsView` maps keys and clicks onto it and draws it.
The view never touches files, the network or the audio.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import arcade

from client.settings import (
    LATENCY_RANGE_MS,
    MAX_CAMERA,
    MAX_PATH_CHARS,
    SOURCE_LABELS,
    SOURCES,
    VOLUME_STEP,
    Device,
    Settings,
    Source,
    device_label,
    device_options,
)
from client.views.drawing import (
    ACCENT,
    BACKGROUND,
    DIM,
    EMPTY,
    EMPTY_BEAT,
    PANEL,
    POOR,
    TEXT,
    Colour,
    ShapeBatch,
    TextCache,
    mix,
)
from client.views.lobby import FIELD, fits
from client.views.menu import BUTTON_TEXT, draw_button
from shared.codec import MAX_NAME_CHARS, MAX_PASSWORD_CHARS

WIDTH, HEIGHT = 1280, 720

Row = Literal[
    "name", "source", "camera", "video", "password",
    "device", "volume", "latency", "calibrate", "screen", "back",
]  # fmt: skip
TEXT_ROWS: dict[Row, int] = {
    "name": MAX_NAME_CHARS,
    "video": MAX_PATH_CHARS,
    "password": MAX_PASSWORD_CHARS,
}  # the rows typed into, and how many characters each holds
HINT = "saved as you leave  ·  Tab or arrows: next  ·  ← →: change  ·  type into a field"
BIG_STEP_MS = 10  # the latency's step with Shift held; 1 ms without

YOU_BOX = arcade.LBWH(20, 100, 610, 530)
SOUND_BOX = arcade.LBWH(650, 100, 610, 530)
LEFT, RIGHT, COLUMN = 40, 670, 570  # the columns' left edges and width
STEP = 44  # a < or > button's width
ROWS = (490, 395, 300, 205)  # each column's rows' bottoms, top down


def _stepper(left: float, bottom: float) -> tuple[arcade.types.Rect, ...]:
    """A row of ``<``, the value, ``>`` across a column."""
    return (
        arcade.LBWH(left, bottom, STEP, 40),
        arcade.LBWH(left + STEP + 8, bottom, COLUMN - 2 * STEP - 16, 40),
        arcade.LBWH(left + COLUMN - STEP, bottom, STEP, 40),
    )


NAME_BOX = arcade.LBWH(LEFT, ROWS[0], COLUMN, 40)
SOURCE_BOTTOM = ROWS[1]
CAMERA_PREVIOUS, CAMERA_BOX, CAMERA_NEXT = _stepper(LEFT, ROWS[2])
VIDEO_BOX = arcade.LBWH(LEFT, ROWS[2], COLUMN, 40)
PASSWORD_BOX = arcade.LBWH(LEFT, ROWS[3], COLUMN, 40)
DEVICE_PREVIOUS, DEVICE_BOX, DEVICE_NEXT = _stepper(RIGHT, ROWS[0])
VOLUME_DOWN, VOLUME_BOX, VOLUME_UP = _stepper(RIGHT, ROWS[1])
LATENCY_DOWN = arcade.LBWH(RIGHT, ROWS[2], STEP, 40)
LATENCY_BOX = arcade.LBWH(RIGHT + STEP + 8, ROWS[2], 170, 40)
LATENCY_UP = arcade.LBWH(LATENCY_BOX.right + 8, ROWS[2], STEP, 40)
CALIBRATE_BUTTON = arcade.LRBT(LATENCY_UP.right + 16, RIGHT + COLUMN, ROWS[2], ROWS[2] + 40)
WINDOW_BUTTON = arcade.LBWH(RIGHT, ROWS[3], (COLUMN - 10) / 2, 40)
FULLSCREEN_BUTTON = arcade.LBWH(RIGHT + (COLUMN + 10) / 2, ROWS[3], (COLUMN - 10) / 2, 40)
BACK_BUTTON = arcade.LBWH(20, 20, 300, 60)
ENTER = (arcade.key.ENTER, arcade.key.RETURN, arcade.key.NUM_ENTER)


def source_button(index: int) -> arcade.types.Rect:
    """Pose source ``index`` (of :data:`client.settings.SOURCES`), side by side."""
    gap = 10
    width = (COLUMN - gap * (len(SOURCES) - 1)) / len(SOURCES)
    return arcade.LBWH(LEFT + index * (width + gap), SOURCE_BOTTOM, width, 40)


def row_rect(row: Row) -> arcade.types.Rect:
    """The whole of a row's controls: where its focus is drawn."""
    spans: dict[Row, tuple[arcade.types.Rect, arcade.types.Rect]] = {
        "name": (NAME_BOX, NAME_BOX),
        "source": (source_button(0), source_button(len(SOURCES) - 1)),
        "camera": (CAMERA_PREVIOUS, CAMERA_NEXT),
        "video": (VIDEO_BOX, VIDEO_BOX),
        "password": (PASSWORD_BOX, PASSWORD_BOX),
        "device": (DEVICE_PREVIOUS, DEVICE_NEXT),
        "volume": (VOLUME_DOWN, VOLUME_UP),
        "latency": (LATENCY_DOWN, LATENCY_UP),
        "calibrate": (CALIBRATE_BUTTON, CALIBRATE_BUTTON),
        "screen": (WINDOW_BUTTON, FULLSCREEN_BUTTON),
        "back": (BACK_BUTTON, BACK_BUTTON),
    }
    first, last = spans[row]
    return arcade.LRBT(first.left, last.right, first.bottom, last.top)


class SettingsForm:
    """The screen's state: the settings as edited so far, the focused row, an error."""

    def __init__(
        self, settings: Settings, devices: Sequence[Device], can_calibrate: bool = False
    ) -> None:
        """``devices``: the sound outputs there are; ``can_calibrate``: whether the
        shell can run the tap-along (the Calibrate row is there only then)."""
        self.devices = list(devices)
        self.can_calibrate = can_calibrate
        self.name = settings.name
        self.source: Source = settings.source
        self.camera = settings.camera
        self.video = settings.video
        self.device = settings.device
        self.latency_ms = settings.latency_ms
        self.volume = settings.volume
        self.fullscreen = settings.fullscreen
        self.password = settings.password
        self.focus: Row = "name"
        self.error = ""

    def settings(self) -> Settings:
        """The form as settings; ``ValueError`` saying what to fix if it is not."""
        if not self.name.strip():
            raise ValueError("type your name")
        if self.source == "video" and not self.video.strip():
            raise ValueError("type the video file's path, or pick another pose source")
        return Settings(
            self.name.strip(),
            self.source,
            self.camera,
            self.video.strip(),
            self.device,
            self.latency_ms,
            self.volume,
            self.fullscreen,
            self.password,
        )

    # -- moving between rows ----------------------------------------------------------

    def rows(self) -> list[Row]:
        """The rows in focus order: only the source's own detail row, and Calibrate only
        when the shell can run it."""
        details: dict[Source, list[Row]] = {"camera": ["camera"], "video": ["video"], "demo": []}
        detail = details[self.source]
        calibrate: list[Row] = ["calibrate"] if self.can_calibrate else []
        return [
            "name", "source", *detail, "password",
            "device", "volume", "latency", *calibrate, "screen", "back",
        ]  # fmt: skip

    def move(self, step: int) -> None:
        rows = self.rows()
        now = rows.index(self.focus) if self.focus in rows else 0
        self.focus = rows[(now + step) % len(rows)]

    # -- changing a value -------------------------------------------------------------

    def change(self, step: int, big: bool = False) -> None:
        """What the left (-1) and right (+1) arrows do to the focused row."""
        match self.focus:
            case "source":
                self.pick_source(SOURCES[(SOURCES.index(self.source) + step) % len(SOURCES)])
            case "camera":
                self.step_camera(step)
            case "device":
                self.step_device(step)
            case "volume":
                self.step_volume(step)
            case "latency":
                self.step_latency(step * (BIG_STEP_MS if big else 1))
            case "screen":
                self.fullscreen = step > 0

    def pick_source(self, source: Source) -> None:
        self.source = source
        self.error = ""

    def step_camera(self, step: int) -> None:
        self.camera = (self.camera + step) % (MAX_CAMERA + 1)

    def step_device(self, step: int) -> None:
        """Cycle through the default output, each device and a saved one not found."""
        options = device_options(self.devices, self.device)
        self.device = options[(options.index(self.device) + step) % len(options)]

    def step_volume(self, step: int) -> None:
        """Up or down a step of 5 %, from the nearest step (no drifting decimals)."""
        steps = round(self.volume / VOLUME_STEP) + step
        self.volume = min(1.0, max(0.0, round(steps * VOLUME_STEP, 2)))

    def set_volume(self, share: float) -> None:
        """A click along the volume bar: the nearest step to ``share`` (0..1) of it."""
        self.volume = min(1.0, max(0.0, round(round(share / VOLUME_STEP) * VOLUME_STEP, 2)))

    def step_latency(self, ms: int) -> None:
        """Nudge by ``ms`` from the nearest whole millisecond, within the allowed range."""
        low, high = LATENCY_RANGE_MS
        self.latency_ms = float(min(high, max(low, round(self.latency_ms) + ms)))

    # -- typing -----------------------------------------------------------------------

    def type(self, text: str) -> None:
        """Printable characters into the focused text row, up to what it holds."""
        if self.focus not in TEXT_ROWS:
            return
        value = self._text(self.focus)
        for char in text:
            if char.isprintable() and len(value) < TEXT_ROWS[self.focus]:
                value += char
        self._set_text(self.focus, value)
        self.error = ""

    def erase(self) -> None:
        if self.focus in TEXT_ROWS:
            self._set_text(self.focus, self._text(self.focus)[:-1])

    def _text(self, row: Row) -> str:
        return {"name": self.name, "video": self.video, "password": self.password}[row]

    def _set_text(self, row: Row, value: str) -> None:
        if row == "name":
            self.name = value
        elif row == "video":
            self.video = value
        else:
            self.password = value


class SettingsView(arcade.View):
    def __init__(
        self,
        settings: Settings,
        devices: Sequence[Device],
        on_back: Callable[[Settings], None],
        on_calibrate: Callable[[], None] | None = None,
    ) -> None:
        """``on_back`` gets the settings when the player leaves (Back or Esc) and the
        form is whole; ``on_calibrate`` runs the tap-along, after which the shell sets
        ``form.latency_ms`` and shows this view again."""
        super().__init__()
        self.form = SettingsForm(settings, devices, can_calibrate=on_calibrate is not None)
        self.on_back = on_back
        self.on_calibrate = on_calibrate
        self._shapes = ShapeBatch()
        self._texts = TextCache()

    # -- what the buttons do ----------------------------------------------------------

    def back(self) -> None:
        try:
            settings = self.form.settings()
        except ValueError as exc:
            self.form.error = str(exc)
            return
        self.form.error = ""
        self.on_back(settings)

    def calibrate(self) -> None:
        if self.on_calibrate is not None:
            self.form.focus = "calibrate"
            self.on_calibrate()

    def activate(self) -> None:
        """Enter: press the focused button, flip the screen, or go to the next row."""
        form = self.form
        if form.focus == "back":
            self.back()
        elif form.focus == "calibrate":
            self.calibrate()
        elif form.focus == "screen":
            form.fullscreen = not form.fullscreen
        else:
            form.move(+1)

    # -- input ------------------------------------------------------------------------

    def on_mouse_press(self, x: float, y: float, button: int, modifiers: int) -> None:
        if button != arcade.MOUSE_BUTTON_LEFT:
            return
        form, point = self.form, (x, y)
        for row, box in (("name", NAME_BOX), ("password", PASSWORD_BOX)):
            if box.point_in_rect(point):
                form.focus = row  # type: ignore[assignment]
                return
        for index, source in enumerate(SOURCES):
            if source_button(index).point_in_rect(point):
                form.focus = "source"
                form.pick_source(source)
                return
        if form.source == "video" and VIDEO_BOX.point_in_rect(point):
            form.focus = "video"
        elif form.source == "camera" and row_rect("camera").point_in_rect(point):
            form.focus = "camera"
            form.step_camera(-1 if CAMERA_PREVIOUS.point_in_rect(point) else +1)
        elif row_rect("device").point_in_rect(point):
            form.focus = "device"
            form.step_device(-1 if DEVICE_PREVIOUS.point_in_rect(point) else +1)
        elif row_rect("volume").point_in_rect(point):
            form.focus = "volume"
            if VOLUME_DOWN.point_in_rect(point):
                form.step_volume(-1)
            elif VOLUME_UP.point_in_rect(point):
                form.step_volume(+1)
            else:
                form.set_volume((x - VOLUME_BOX.left) / VOLUME_BOX.width)
        elif LATENCY_DOWN.point_in_rect(point) or LATENCY_UP.point_in_rect(point):
            form.focus = "latency"
            form.step_latency(-1 if LATENCY_DOWN.point_in_rect(point) else +1)
        elif CALIBRATE_BUTTON.point_in_rect(point):
            self.calibrate()
        elif WINDOW_BUTTON.point_in_rect(point) or FULLSCREEN_BUTTON.point_in_rect(point):
            form.focus = "screen"
            form.fullscreen = FULLSCREEN_BUTTON.point_in_rect(point)
        elif BACK_BUTTON.point_in_rect(point):
            form.focus = "back"
            self.back()

    def on_text(self, text: str) -> None:
        self.form.type(text)

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        form = self.form
        shift = bool(modifiers & arcade.key.MOD_SHIFT)
        if symbol == arcade.key.ESCAPE:
            self.back()
        elif symbol == arcade.key.TAB:
            form.move(-1 if shift else +1)
        elif symbol == arcade.key.DOWN:
            form.move(+1)
        elif symbol == arcade.key.UP:
            form.move(-1)
        elif symbol in (arcade.key.LEFT, arcade.key.RIGHT):
            form.change(-1 if symbol == arcade.key.LEFT else +1, big=shift)
        elif symbol == arcade.key.BACKSPACE:
            form.erase()
        elif symbol in ENTER or (symbol == arcade.key.SPACE and form.focus not in TEXT_ROWS):
            self.activate()

    # -- drawing ----------------------------------------------------------------------

    def on_draw(self) -> None:
        self.clear(color=BACKGROUND)
        shapes, texts = self._shapes, self._texts
        title = texts.put("title", "PoseJam", 20, HEIGHT - 52, 24, TEXT, bold=True)
        texts.put("subtitle", "settings", 34 + title.content_width, HEIGHT - 50, 16, ACCENT)
        self._draw_you()
        self._draw_sound()
        form = self.form
        draw_button(shapes, texts, "back", BACK_BUTTON, "BACK  [Esc]", ACCENT, BUTTON_TEXT, 18)
        if form.focus == "back":
            self._focus_edge(BACK_BUTTON)
        texts.put("error", form.error, BACK_BUTTON.right + 24, 58, 13, POOR)
        texts.put(
            "hint", HINT, BACK_BUTTON.right + 24, 28, 11, DIM,
        )  # fmt: skip
        shapes.draw()
        texts.draw()

    def _label(self, key: str, text: str, left: float, over: arcade.types.Rect, hint: str) -> None:
        texts = self._texts
        texts.put(f"label-{key}", text, left, over.top + 10, 12, DIM, bold=True)
        texts.put(f"hint-{key}", hint, left + COLUMN, over.top + 10, 11, DIM, "right")

    def _focus_edge(self, rect: arcade.types.Rect) -> None:
        """An accent frame 2 px outside a focused row of buttons (drawn under them)."""
        shapes = self._shapes
        for left, right, bottom, top in (
            (rect.left - 4, rect.right + 4, rect.top + 2, rect.top + 4),
            (rect.left - 4, rect.right + 4, rect.bottom - 4, rect.bottom - 2),
            (rect.left - 4, rect.left - 2, rect.bottom - 4, rect.top + 4),
            (rect.right + 2, rect.right + 4, rect.bottom - 4, rect.top + 4),
        ):
            shapes.add(left, right, bottom, top, ACCENT)

    def _field(self, row: Row, box: arcade.types.Rect, value: str, placeholder: str) -> None:
        """A text field as the lobby draws one: an accent edge and a caret when focused."""
        shapes, texts = self._shapes, self._texts
        focused = self.form.focus == row
        shapes.add(box.left - 2, box.right + 2, box.bottom - 2, box.top + 2,
                   ACCENT if focused else EMPTY_BEAT)  # fmt: skip
        shapes.add(box.left, box.right, box.bottom, box.top, FIELD)
        shown = fits(value, 52) if value else placeholder
        text = texts.put(
            f"field-{row}", shown, box.left + 12, box.bottom + 12, 16, TEXT if value else DIM
        )
        if focused:
            x = box.left + 12 + (text.content_width if value else 0) + 2
            shapes.add(x, x + 2, box.bottom + 8, box.top - 8, ACCENT)

    def _stepper(
        self,
        row: Row,
        boxes: tuple[arcade.types.Rect, ...],
        value: str,
        share: float | None = None,
    ) -> None:
        """``<`` value ``>``; with ``share``, the value is a bar filled that far."""
        shapes, texts = self._shapes, self._texts
        previous, box, after = boxes
        if self.form.focus == row:
            self._focus_edge(row_rect(row))
        draw_button(shapes, texts, f"{row}-previous", previous, "<", EMPTY, TEXT, 16)
        draw_button(shapes, texts, f"{row}-next", after, ">", EMPTY, TEXT, 16)
        shapes.add(box.left, box.right, box.bottom, box.top, FIELD)
        if share is not None:
            shapes.bar(box.left + 8, box.bottom + 8, box.width - 90, 24, share, ACCENT, EMPTY)
            texts.put(f"{row}-value", value, box.right - 12, box.bottom + 12, 15, TEXT, "right",
                      True)  # fmt: skip
        else:
            texts.put(f"{row}-value", fits(value, 44), box.center_x, box.bottom + 12, 15, TEXT,
                      "center")  # fmt: skip

    def _choice(self, key: str, rect: arcade.types.Rect, label: str, on: bool) -> None:
        draw_button(
            self._shapes, self._texts, key, rect, label, ACCENT if on else EMPTY,
            BUTTON_TEXT if on else TEXT, 14,
        )  # fmt: skip

    def _draw_you(self) -> None:
        shapes, texts, form, box = self._shapes, self._texts, self.form, YOU_BOX
        shapes.add(box.left, box.right, box.bottom, box.top, PANEL)
        texts.put("you", "YOU", box.left + 20, box.top - 32, 14, DIM, bold=True)

        self._label("name", "YOUR NAME", LEFT, NAME_BOX, f"up to {MAX_NAME_CHARS} characters")
        self._field("name", NAME_BOX, form.name, "type your name")

        first = source_button(0)
        self._label("source", "POSE SOURCE", LEFT, first, "where your body comes from")
        if form.focus == "source":
            self._focus_edge(row_rect("source"))
        for index, source in enumerate(SOURCES):
            self._choice(f"source-{index}", source_button(index), SOURCE_LABELS[source],
                         source == form.source)  # fmt: skip

        if form.source == "camera":
            self._label("detail", "CAMERA", LEFT, CAMERA_BOX, "if this machine has several")
            self._stepper("camera", (CAMERA_PREVIOUS, CAMERA_BOX, CAMERA_NEXT),
                          f"camera {form.camera}")  # fmt: skip
        elif form.source == "video":
            self._label("detail", "VIDEO FILE", LEFT, VIDEO_BOX, "any video; it loops")
            self._field("video", VIDEO_BOX, form.video, "path of the video file to dance from")
        else:
            self._label("detail", "DEMO DANCER", LEFT, VIDEO_BOX, "")
            texts.put("demo", "a built-in dancer moves for you: no camera needed",
                      LEFT, VIDEO_BOX.bottom + 12, 15, DIM)  # fmt: skip

        self._label("password", "ROOM PASSWORD", LEFT, PASSWORD_BOX, "asked when you host")
        self._field("password", PASSWORD_BOX, form.password,
                    "none: anyone on the network may join")  # fmt: skip

    def _draw_sound(self) -> None:
        shapes, texts, form, box = self._shapes, self._texts, self.form, SOUND_BOX
        shapes.add(box.left, box.right, box.bottom, box.top, PANEL)
        texts.put("sound", "SOUND AND SCREEN", box.left + 20, box.top - 32, 14, DIM, bold=True)

        found = f"{len(form.devices)} found" if form.devices else "none found: playing silently"
        self._label("device", "SOUND OUTPUT", RIGHT, DEVICE_BOX, found)
        self._stepper("device", (DEVICE_PREVIOUS, DEVICE_BOX, DEVICE_NEXT),
                      device_label(form.devices, form.device))  # fmt: skip

        self._label("volume", "MASTER VOLUME", RIGHT, VOLUME_BOX, "")
        self._stepper("volume", (VOLUME_DOWN, VOLUME_BOX, VOLUME_UP), f"{form.volume:.0%}",
                      form.volume)  # fmt: skip

        self._label("latency", "LATENCY OFFSET", RIGHT, LATENCY_BOX, "tap along to measure it")
        if form.focus == "latency":
            self._focus_edge(row_rect("latency"))
        draw_button(shapes, texts, "latency-down", LATENCY_DOWN, "-", EMPTY, TEXT, 16)
        draw_button(shapes, texts, "latency-up", LATENCY_UP, "+", EMPTY, TEXT, 16)
        shapes.add(LATENCY_BOX.left, LATENCY_BOX.right, LATENCY_BOX.bottom, LATENCY_BOX.top,
                   FIELD)  # fmt: skip
        texts.put("latency", f"{form.latency_ms:+.0f} ms", LATENCY_BOX.center_x,
                  LATENCY_BOX.bottom + 11, 16, TEXT, "center", True)  # fmt: skip
        can = form.can_calibrate
        if form.focus == "calibrate":
            self._focus_edge(CALIBRATE_BUTTON)
        fill: Colour = mix(EMPTY, ACCENT, 0.35) if can else EMPTY
        draw_button(shapes, texts, "calibrate", CALIBRATE_BUTTON, "CALIBRATE", fill,
                    TEXT if can else DIM, 14)  # fmt: skip

        self._label("screen", "SCREEN", RIGHT, WINDOW_BUTTON, "")
        if form.focus == "screen":
            self._focus_edge(row_rect("screen"))
        self._choice("window", WINDOW_BUTTON, "window", not form.fullscreen)
        self._choice("fullscreen", FULLSCREEN_BUTTON, "full screen", form.fullscreen)
