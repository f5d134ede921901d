"""The lobby: pick a room found on the network or type one, then join it or watch it.

Left, the rooms :class:`client.discovery.RoomBrowser` sees (read each frame through
``rooms``): code, host, players, a lock when the room needs a password; a click
puts the room into the target field. Right, the form: the target (a room code or a
ws:// address) and the room's password beside it, the player's name, the pose source
(the camera, the demo dancer or a video file whose path is typed), the sound device,
the latency offset (with a calibrate button for a shell that runs the tap-along), and
Join / Watch; the name, source, device and latency start as the player's saved
:class:`client.settings.Settings` have them. The target is checked with
:func:`client.discovery.parse_target` before anything is called: a bad one shows its
message in red.

The password field asks for a password when the picked room is announced with one
(a lock by its label), is dimmed and sends nothing when the room is announced without
one, and is open for a room the list does not know (a typed code or address: it may
or may not have one). A join password belongs to its room: the view remembers it by
room in ``passwords`` (a dict the shell keeps for the run, never saved), so picking
another room does not send it there and picking the room again brings it back. When
the room refuses (:meth:`LobbyView.refused`), the reason is the red line and a wrong
password puts the caret back in its field, with what was typed still there. The view
never touches the network or the audio.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import arcade

from client.discovery import FoundRoom, parse_target
from client.settings import (
    MAX_PATH_CHARS,
    SOURCE_LABELS,
    SOURCES,
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
    WHITE,
    Colour,
    ShapeBatch,
    TextCache,
    mix,
)
from client.views.menu import BUTTON_TEXT, draw_button
from shared.codec import MAX_NAME_CHARS, MAX_PASSWORD_CHARS
from shared.messages import CloseCode

WIDTH, HEIGHT = 1280, 720
MAX_TARGET_CHARS = 120
TARGET_CHARS = set(":/.-_[]")  # besides ASCII letters and digits: codes, hosts, URLs

Field = Literal["target", "password", "name", "video"]
# Whether the target's room needs a password: announced with one, announced without
# one, or not known (typed, not on the list, or two announced rooms that disagree).
Need = Literal["needed", "open", "unknown"]

ROOMS_BOX = arcade.LBWH(20, 20, 560, 610)
FORM_BOX = arcade.LBWH(600, 20, 660, 610)
ROOM_ROW = 58
MAX_ROOMS = 9  # rows the rooms list has room for; more are counted under it
FORM_LEFT, FORM_WIDTH = 620, 620
TARGET_BOX = arcade.LBWH(FORM_LEFT, 548, 380, 40)
PASSWORD_BOX = arcade.LBWH(FORM_LEFT + 400, 548, FORM_WIDTH - 400, 40)
NAME_BOX = arcade.LBWH(FORM_LEFT, 466, FORM_WIDTH, 40)
SOURCE_TOP = 424  # the source buttons' top; the video path field under them
VIDEO_BOX = arcade.LBWH(FORM_LEFT, 330, FORM_WIDTH, 40)
DEVICE_PREVIOUS = arcade.LBWH(FORM_LEFT, 248, 44, 40)
DEVICE_BOX = arcade.LBWH(FORM_LEFT + 52, 248, FORM_WIDTH - 104, 40)
DEVICE_NEXT = arcade.LBWH(FORM_LEFT + FORM_WIDTH - 44, 248, 44, 40)
LATENCY_BOX = arcade.LBWH(FORM_LEFT, 166, 300, 40)
CALIBRATE_BUTTON = arcade.LBWH(FORM_LEFT + 320, 166, 300, 40)
JOIN_BUTTON = arcade.LBWH(FORM_LEFT, 40, 300, 60)
WATCH_BUTTON = arcade.LBWH(FORM_LEFT + 320, 40, 300, 60)
FIELD: Colour = (20, 20, 32)
FOCUS: Colour = ACCENT
ENTER = (arcade.key.ENTER, arcade.key.RETURN, arcade.key.NUM_ENTER)
ERROR_CHARS = 66  # a line of the red error; two lines at most
CHAR_WIDTH = 10.6  # about how wide a field's 16-point character is, to fit its value
PASSWORD_PLACEHOLDERS: dict[Need, str] = {
    "needed": "type it here",
    "open": "not needed",
    "unknown": "if it has one",
}


@dataclass(frozen=True, slots=True)
class LobbyChoice:
    target: str  # a room code ("ABCD") or a ws:// URL, as parse_target gives it
    name: str
    source: str  # as open_source takes it: camera, camera:N, demo, or a video file's path
    device: int | None  # the sound output (portaudio's index); None: the default output
    spectate: bool
    latency_ms: float  # the audio offset from calibration
    password: str = ""  # the room's, as typed; "" for a room announced without one


class FormError(ValueError):
    """What to fix in the form, and the field to fix it in."""

    def __init__(self, message: str, field: Field) -> None:
        super().__init__(message)
        self.field: Field = field


def room_row(index: int) -> arcade.types.Rect:
    """Where row ``index`` of the rooms list is."""
    top = ROOMS_BOX.top - 56 - index * ROOM_ROW
    return arcade.LBWH(ROOMS_BOX.left + 12, top - ROOM_ROW + 6, ROOMS_BOX.width - 24, ROOM_ROW - 6)


def source_button(index: int, count: int) -> arcade.types.Rect:
    """Source option ``index`` of ``count``, side by side across the form."""
    gap = 10
    width = (FORM_WIDTH - gap * (count - 1)) / count
    return arcade.LBWH(FORM_LEFT + index * (width + gap), SOURCE_TOP - 40, width, 40)


def room_target(room: FoundRoom, rooms: Sequence[FoundRoom]) -> str:
    """What picking ``room`` types: its code, or its URL when another host has that code
    (a code then names no single room)."""
    same = sum(1 for other in rooms if other.code == room.code)
    return room.code if same == 1 else room.url


def fits(text: str, chars: int) -> str:
    """The end of ``text`` that a field ``chars`` characters wide shows."""
    return text if len(text) <= chars else "…" + text[-(chars - 1) :]


def room_key(target: str) -> str:
    """The room a target names, as join passwords are remembered by: a code in capitals
    (as typed in any case) or the address as typed; "" for no target."""
    try:
        return parse_target(target)[1]
    except ValueError:
        return target.strip()


def password_need(target: str, rooms: Sequence[FoundRoom]) -> Need:
    """Whether the room ``target`` names needs a password, as the rooms announce it."""
    key = room_key(target)
    if not key:
        return "unknown"
    named = [room for room in rooms if key in (room.code, *room.urls)]
    if named and all(room.needs_password for room in named):
        return "needed"
    if named and not any(room.needs_password for room in named):
        return "open"
    return "unknown"


def room_label(target: str) -> str:
    """How the red line names the room of a target: ``room ABCD`` or ``the room at ws://...``."""
    key = room_key(target)
    return f"the room at {key}" if "://" in key else f"room {key}"


def refusal(target: str, code: int | None, reason: str, password: str) -> str:
    """The red line for a join of ``target`` that did not happen: the server closed with
    ``code`` and ``reason`` (``code`` None: it did not answer, or was not found, or
    something on this side failed, and ``reason`` says so as it is); ``password``: the
    one that was sent."""
    room = room_label(target)
    if code == CloseCode.WRONG_PASSWORD:
        return f"wrong password for {room}" if password else f"{room} needs a password"
    if code == CloseCode.ROOM_FULL:
        count = re.search(r"\(\d+ \w+\)$", reason)  # "room is full (8 players)"
        return f"{room} is full" + (f" {count[0]}" if count else "")
    if code == CloseCode.NO_SUCH_ROOM:
        return f"{room} is not open any more"
    if code == CloseCode.PROTOCOL_VERSION:
        return f"{room} speaks another version of PoseJam ({reason}): update the older one"
    if code is not None:
        return f"{room} refused to let you in: {reason or f'close code {code}'}"
    return reason


def wrap(text: str, chars: int, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of at most ``chars`` characters, broken at
    spaces where it can be, the last one cut with an ellipsis if it must be."""
    out: list[str] = []
    rest = text
    while rest and len(out) < lines:
        cut = len(rest) if len(rest) <= chars else rest.rfind(" ", 0, chars + 1)
        cut = cut if cut > 0 else chars
        out.append(rest[:cut])
        rest = rest[cut:].lstrip(" ")
    if rest:
        last = out[-1]
        out[-1] = last[: chars - 1].rstrip() + "…" if len(last) >= chars else last + "…"
    return out


class LobbyView(arcade.View):
    def __init__(
        self,
        rooms: Callable[[], list[FoundRoom]],
        on_join: Callable[[LobbyChoice], None],
        devices: Sequence[Device],
        settings: Settings | None = None,
        on_calibrate: Callable[[], None] | None = None,
        on_back: Callable[[], None] | None = None,
        passwords: dict[str, str] | None = None,
    ) -> None:
        """``rooms`` is read every frame. ``devices``: the sound outputs there are;
        ``settings``: the saved ones the form starts from (its camera is the one the
        camera option means). ``on_calibrate`` runs the tap-along; the shell then sets
        :attr:`latency_ms`. ``on_back`` is called on Esc. ``passwords``: the join
        passwords typed so far, by :func:`room_key`; the view adds to it."""
        super().__init__()
        settings = settings or Settings()
        self.rooms = rooms
        self.on_join = on_join
        self.devices = list(devices)
        self.sources: list[Source] = list(SOURCES)
        self.on_calibrate = on_calibrate
        self.on_back = on_back
        self.passwords = {} if passwords is None else passwords
        self.locked: set[str] = set()  # rooms that asked for a password the list did not say
        self.fields: dict[Field, str] = {
            "target": "",
            "password": "",
            "name": settings.name,
            "video": settings.video,
        }
        self.focus: Field = "target"
        self.source = self.sources.index(settings.source)  # index into self.sources
        self.camera = settings.camera
        self.device = settings.device
        self.latency_ms = settings.latency_ms
        self.error = ""
        self.busy = ""  # what is being tried (a join), shown until it is done or refused
        self._shapes = ShapeBatch()
        self._texts = TextCache()

    # -- what the player asks for ---------------------------------------------------

    def need(self) -> Need:
        """Whether the room in the target field needs a password."""
        if room_key(self.fields["target"]) in self.locked:
            return "needed"
        return password_need(self.fields["target"], self.rooms())

    def choice(self, spectate: bool) -> LobbyChoice:
        """The form as a choice; :class:`FormError` saying what to fix if it is not one."""
        try:
            _, target = parse_target(self.fields["target"])
        except ValueError as exc:
            raise FormError(str(exc), "target") from None
        need = self.need()
        password = "" if need == "open" else self.fields["password"]
        if need == "needed" and not password:
            raise FormError(f"{room_label(target)} needs a password: type it", "password")
        name = self.fields["name"].strip()
        if not name:
            raise FormError("type your name", "name")
        kind = self.sources[self.source]
        video = self.fields["video"].strip()
        if kind == "video" and not video:
            raise FormError("type the video file's path, or pick another pose source", "video")
        chosen = Settings(source=kind, camera=self.camera, video=video)
        return LobbyChoice(
            target, name, chosen.pose_source, self.device, spectate, self.latency_ms, password
        )

    def submit(self, spectate: bool) -> None:
        if self.busy:  # a second press while the first join is under way
            return
        try:
            choice = self.choice(spectate)
        except FormError as exc:
            self.error = str(exc)
            self.focus = exc.field
            return
        self.error = ""
        self.busy = f"{'watching' if spectate else 'joining'} {choice.target}..."
        self._keep_password()
        self.on_join(choice)

    def refused(self, target: str, code: int | None, reason: str, password: str) -> None:
        """The join of ``target`` with ``password`` did not happen (see :func:`refusal`):
        say why; a wrong or missing password puts the caret in its field, which stays
        as typed (and open, even if the room was announced without one)."""
        self.error = refusal(target, code, reason, password)
        self.busy = ""
        if code == CloseCode.WRONG_PASSWORD:
            key = room_key(target)
            self.locked.add(key)
            if self.passwords.get(key) == password:
                del self.passwords[key]  # not one to offer again
            self.focus = "password"

    def _keep_password(self) -> None:
        """Remember the typed password for the room in the target field."""
        key = room_key(self.fields["target"])
        if key and self.fields["password"]:
            self.passwords[key] = self.fields["password"]
        elif key:
            self.passwords.pop(key, None)

    def pick_room(self, room: FoundRoom) -> None:
        """The room's target in the field, with the password typed for it before; a
        password typed before any room was named stays for this one."""
        before = self.fields["target"].strip()
        self._keep_password()
        self.fields["target"] = room_target(room, self.rooms())
        remembered = self.passwords.get(room_key(self.fields["target"]))
        if remembered is not None or before:
            self.fields["password"] = remembered or ""
        self.error = ""
        if self.need() == "needed":
            self.focus = "password"
        elif self.focus == "password" and self.need() == "open":
            self.focus = "target"

    def step_device(self, step: int) -> None:
        """Cycle the sound device through default (None) and each of the devices."""
        options = device_options(self.devices, self.device)
        self.device = options[(options.index(self.device) + step) % len(options)]

    # -- input -------------------------------------------------------------------

    def on_mouse_press(self, x: float, y: float, button: int, modifiers: int) -> None:
        if button != arcade.MOUSE_BUTTON_LEFT:
            return
        point = (x, y)
        rooms = self.rooms()[:MAX_ROOMS]
        for index, room in enumerate(rooms):
            if room_row(index).point_in_rect(point):
                self.pick_room(room)
                return
        boxes: tuple[tuple[Field, arcade.types.Rect], ...] = (
            ("target", TARGET_BOX),
            ("password", PASSWORD_BOX),
            ("name", NAME_BOX),
            ("video", VIDEO_BOX),
        )
        for field, box in boxes:
            if box.point_in_rect(point):
                if field == "password" and self.need() == "open":
                    return  # dimmed: this room takes no password
                self.focus = field
                if field == "video":
                    self.source = len(self.sources) - 1
                return
        for index in range(len(self.sources)):
            if source_button(index, len(self.sources)).point_in_rect(point):
                self.source = index
                return
        if DEVICE_PREVIOUS.point_in_rect(point):
            self.step_device(-1)
        elif DEVICE_NEXT.point_in_rect(point) or DEVICE_BOX.point_in_rect(point):
            self.step_device(+1)
        elif CALIBRATE_BUTTON.point_in_rect(point) and self.on_calibrate is not None:
            self.on_calibrate()
        elif JOIN_BUTTON.point_in_rect(point):
            self.submit(spectate=False)
        elif WATCH_BUTTON.point_in_rect(point):
            self.submit(spectate=True)

    def on_text(self, text: str) -> None:
        field = self.focus
        if field == "password" and self.need() == "open":
            return  # the room's announcement changed under the caret: nothing to type
        value = self.fields[field]
        for char in text:
            if not char.isprintable():
                continue
            if field == "target":
                ok = (char.isascii() and char.isalnum()) or char in TARGET_CHARS
                ok = ok and len(value) < MAX_TARGET_CHARS
            elif field == "name":
                ok = len(value) < MAX_NAME_CHARS
            elif field == "password":
                ok = len(value) < MAX_PASSWORD_CHARS
            else:
                ok = len(value) < MAX_PATH_CHARS
            if ok:
                value += char
        self.fields[field] = value

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        if symbol == arcade.key.BACKSPACE:
            self.fields[self.focus] = self.fields[self.focus][:-1]
        elif symbol == arcade.key.TAB:
            order: list[Field] = ["target", "name"]
            if self.need() != "open":
                order.insert(1, "password")
            if self.sources[self.source] == "video":
                order.append("video")
            now = order.index(self.focus) if self.focus in order else -1
            self.focus = order[(now + 1) % len(order)]
        elif symbol in ENTER:
            self.submit(spectate=False)
        elif symbol == arcade.key.ESCAPE and self.on_back is not None:
            self.on_back()

    # -- drawing -----------------------------------------------------------------

    def on_draw(self) -> None:
        self.clear(color=BACKGROUND)
        shapes, texts = self._shapes, self._texts
        title = texts.put("title", "PoseJam", 20, HEIGHT - 52, 24, TEXT, bold=True)
        texts.put("subtitle", "join a room", 34 + title.content_width, HEIGHT - 50, 16, ACCENT)
        self._draw_rooms()
        self._draw_form()
        shapes.draw()
        texts.draw()

    def _draw_rooms(self) -> None:
        shapes, texts, box = self._shapes, self._texts, ROOMS_BOX
        shapes.add(box.left, box.right, box.bottom, box.top, PANEL)
        texts.put("rooms", "ROOMS ON THIS NETWORK", box.left + 16, box.top - 32, 14, DIM, bold=True)
        rooms = self.rooms()
        target = self.fields["target"].strip()
        for index, room in enumerate(rooms[:MAX_ROOMS]):
            rect = room_row(index)
            picked = target in (room.code, room.url, room.code.lower())
            fill = mix(PANEL, ACCENT, 0.28) if picked else EMPTY
            shapes.add(rect.left, rect.right, rect.bottom, rect.top, fill)
            if picked:
                shapes.add(rect.left, rect.left + 5, rect.bottom, rect.top, ACCENT)
            code = texts.put(
                f"room-{index}", room.code, rect.left + 18, rect.bottom + 16, 20, TEXT, bold=True
            )
            texts.put(
                f"room-{index}-host", fits(f"on {room.host}", 30),
                rect.left + 30 + code.content_width, rect.bottom + 19, 14, DIM,
            )  # fmt: skip
            players = "" if room.players is None else f"{room.players} playing"
            texts.put(
                f"room-{index}-players", players, rect.right - 50, rect.bottom + 19, 13, TEXT,
                "right",
            )  # fmt: skip
            if room.needs_password:
                lock(shapes, rect.right - 34, rect.bottom + 15, ACCENT)
        hidden = len(rooms) - min(len(rooms), MAX_ROOMS)
        footer = (
            "looking for rooms… (or type a code or address)"
            if not rooms
            else f"+{hidden} more: type the code"
            if hidden
            else "click a room to pick it"
        )
        texts.put("rooms-footer", footer, box.left + 16, box.bottom + 14, 12, DIM)

    def _field(self, field: Field, box: arcade.types.Rect, placeholder: str, live: bool) -> None:
        shapes, texts = self._shapes, self._texts
        focused = self.focus == field and live
        edge = FOCUS if focused else EMPTY_BEAT
        shapes.add(box.left - 2, box.right + 2, box.bottom - 2, box.top + 2, edge)
        fill = FIELD if live else mix(FIELD, PANEL, 0.6)
        shapes.add(box.left, box.right, box.bottom, box.top, fill)
        value = self.fields[field]
        shown = fits(value, int((box.width - 24) / CHAR_WIDTH)) if value else placeholder
        colour = TEXT if value and live else DIM
        text = texts.put(f"field-{field}", shown, box.left + 12, box.bottom + 12, 16, colour)
        if focused:  # the caret
            x = box.left + 12 + (text.content_width if value else 0) + 2
            shapes.add(x, x + 2, box.bottom + 8, box.top - 8, FOCUS)

    def _draw_form(self) -> None:
        shapes, texts, box = self._shapes, self._texts, FORM_BOX
        shapes.add(box.left, box.right, box.bottom, box.top, PANEL)

        def label(
            key: str, text: str, over: arcade.types.Rect, hint: str = "", alone: bool = True
        ) -> arcade.Text:
            """``text`` and ``hint`` over the form's edges, or (``alone`` False: a row
            shared with another field) over ``over``'s."""
            left, right = (FORM_LEFT, FORM_LEFT + FORM_WIDTH) if alone else (over.left, over.right)
            shown = texts.put(f"label-{key}", text, left, over.top + 10, 12, DIM, bold=True)
            texts.put(f"hint-{key}", hint, right, over.top + 10, 11, DIM, "right")
            return shown

        label("target", "ROOM", TARGET_BOX, "a code like ABCD, or ws://HOST:PORT", alone=False)
        self._field("target", TARGET_BOX, "type a code, or click a room", True)
        need = self.need()
        title = label("password", "PASSWORD", PASSWORD_BOX, alone=False)
        if need == "needed":  # the list's lock, by the label: this room asks for one
            lock(shapes, PASSWORD_BOX.left + title.content_width + 10, PASSWORD_BOX.top + 8, ACCENT)
        self._field("password", PASSWORD_BOX, PASSWORD_PLACEHOLDERS[need], need != "open")
        label("name", "YOUR NAME", NAME_BOX, f"up to {MAX_NAME_CHARS} characters")
        self._field("name", NAME_BOX, "type your name", True)

        first = source_button(0, len(self.sources))
        label("source", "POSE SOURCE", first)
        for index, source in enumerate(self.sources):
            rect = source_button(index, len(self.sources))
            on = index == self.source
            draw_button(
                shapes, texts, f"source-{index}", rect, SOURCE_LABELS[source],
                ACCENT if on else EMPTY,
                BUTTON_TEXT if on else TEXT, 14,
            )  # fmt: skip
        video = self.sources[self.source] == "video"
        self._field("video", VIDEO_BOX, "path of the video file to dance from", video)

        label("device", "SOUND OUTPUT", DEVICE_BOX)
        draw_button(shapes, texts, "device-prev", DEVICE_PREVIOUS, "<", EMPTY, TEXT, 16)
        draw_button(shapes, texts, "device-next", DEVICE_NEXT, ">", EMPTY, TEXT, 16)
        shapes.add(DEVICE_BOX.left, DEVICE_BOX.right, DEVICE_BOX.bottom, DEVICE_BOX.top, FIELD)
        device = device_label(self.devices, self.device)
        texts.put(
            "device", fits(device, 50), DEVICE_BOX.center_x, DEVICE_BOX.bottom + 12, 15, TEXT,
            "center",
        )  # fmt: skip

        label("latency", "LATENCY OFFSET", LATENCY_BOX, "tap along to measure it")
        shapes.add(LATENCY_BOX.left, LATENCY_BOX.right, LATENCY_BOX.bottom, LATENCY_BOX.top, FIELD)
        texts.put(
            "latency", f"{self.latency_ms:+.0f} ms", LATENCY_BOX.left + 12,
            LATENCY_BOX.bottom + 11, 16, TEXT, bold=True,
        )  # fmt: skip
        can = self.on_calibrate is not None
        draw_button(
            shapes, texts, "calibrate", CALIBRATE_BUTTON, "CALIBRATE",
            mix(EMPTY, ACCENT, 0.35) if can else EMPTY, TEXT if can else DIM, 14,
        )  # fmt: skip

        lines = wrap(self.error or self.busy, ERROR_CHARS, 2)
        for index in range(2):
            line = lines[index] if index < len(lines) else ""
            y = (140 - 22 * index) if len(lines) == 2 else 122
            texts.put(f"error-{index}", line, FORM_LEFT, y, 13, POOR if self.error else ACCENT)
        draw_button(shapes, texts, "join", JOIN_BUTTON, "JOIN  [Enter]", ACCENT, BUTTON_TEXT, 18)
        draw_button(
            shapes, texts, "watch", WATCH_BUTTON, "WATCH", mix(EMPTY, WHITE, 0.12), TEXT, 18
        )


def lock(shapes: ShapeBatch, left: float, bottom: float, colour: Colour) -> None:
    """A padlock 16 wide and 20 tall: a room that needs a password."""
    shapes.add(left, left + 16, bottom, bottom + 11, colour)
    shapes.line(left + 4, bottom + 11, left + 4, bottom + 17, 2.5, colour)
    shapes.line(left + 12, bottom + 11, left + 12, bottom + 17, 2.5, colour)
    shapes.line(left + 2.75, bottom + 17, left + 13.25, bottom + 17, 2.5, colour)
    shapes.add(left + 7, left + 9, bottom + 3, bottom + 7, PANEL)  # the keyhole
