"""The title screen: five big buttons (Solo, Host, Join, Spectate, Settings) and a status line.

The menu shows while the drum model loads: the shell passes ``status``, read each
frame ("loading the drum model…", then "ready"), and ``notice``, a line in red above
it for what went wrong and what the game did about it (a settings file it could not
use, a room that would not start). A choice is a click, its letter
key (S, H, J, W, T), or the arrows and Enter; the view calls ``on_choice`` with the
choice's name and does nothing else itself.
"""

from __future__ import annotations

from collections.abc import Callable

import arcade

from client.views.drawing import (
    ACCENT,
    BACKGROUND,
    DIM,
    EMPTY,
    PANEL,
    POOR,
    TEXT,
    WHITE,
    Colour,
    ShapeBatch,
    TextCache,
    mix,
)

WIDTH, HEIGHT = 1280, 720
TAGLINE = "Dance, and your body plays the drums. Jam with friends on the same network."
BUTTON_TEXT: Colour = (20, 20, 28)  # dark on a bright button, as on the play screen

# (choice, label, key letter, key, what it does)
CHOICES: tuple[tuple[str, str, str, int, str], ...] = (
    ("solo", "Solo", "S", arcade.key.S, "challenges on your own"),
    ("host", "Host", "H", arcade.key.H, "start a room on this machine"),
    ("join", "Join", "J", arcade.key.J, "dance in a room on the network"),
    ("spectate", "Spectate", "W", arcade.key.W, "watch a room play"),
    ("settings", "Settings", "T", arcade.key.T, "sound, camera, latency"),
)
BUTTON_WIDTH, BUTTON_HEIGHT, BUTTON_STEP = 520, 60, 74
FIRST_BUTTON_TOP = 500
NOTICE_Y = 104  # between the last button and the status line
ENTER = (arcade.key.ENTER, arcade.key.RETURN, arcade.key.NUM_ENTER, arcade.key.SPACE)


def button_rect(index: int) -> arcade.types.Rect:
    """Where button ``index`` (in :data:`CHOICES` order) is."""
    top = FIRST_BUTTON_TOP - index * BUTTON_STEP
    return arcade.LBWH((WIDTH - BUTTON_WIDTH) / 2, top - BUTTON_HEIGHT, BUTTON_WIDTH, BUTTON_HEIGHT)


def button_at(x: float, y: float) -> int | None:
    return next(
        (i for i in range(len(CHOICES)) if button_rect(i).point_in_rect((x, y))),
        None,
    )


def draw_button(
    shapes: ShapeBatch,
    texts: TextCache,
    key: str,
    rect: arcade.types.Rect,
    label: str,
    fill: Colour,
    text: Colour = BUTTON_TEXT,
    size: float = 16,
) -> None:
    """A flat button with its label centred: the game's buttons all look like this."""
    shapes.add(rect.left, rect.right, rect.bottom, rect.top, fill)
    texts.put(key, label, rect.center_x, rect.center_y - size * 0.45, size, text, "center", True)


class MenuView(arcade.View):
    def __init__(
        self,
        on_choice: Callable[[str], None],
        status: Callable[[], str] | None = None,
        notice: Callable[[], str] | None = None,
    ) -> None:
        """``on_choice`` gets one of ``"solo"``, ``"host"``, ``"join"``, ``"spectate"``,
        ``"settings"``; ``status`` (read each frame) says what the game is getting ready,
        ``notice`` (read each frame too) what went wrong."""
        super().__init__()
        self.on_choice = on_choice
        self.status = status
        self.notice = notice
        self.selected = 0
        self._shapes = ShapeBatch()
        self._texts = TextCache()

    # -- input -------------------------------------------------------------------

    def choose(self, index: int) -> None:
        self.selected = index
        self.on_choice(CHOICES[index][0])

    def on_mouse_press(self, x: float, y: float, button: int, modifiers: int) -> None:
        if button == arcade.MOUSE_BUTTON_LEFT and (index := button_at(x, y)) is not None:
            self.choose(index)

    def on_mouse_motion(self, x: float, y: float, dx: float, dy: float) -> None:
        if (index := button_at(x, y)) is not None:
            self.selected = index

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        letters = {key: i for i, (_, _, _, key, _) in enumerate(CHOICES)}
        if symbol in letters:
            self.choose(letters[symbol])
        elif symbol == arcade.key.UP:
            self.selected = (self.selected - 1) % len(CHOICES)
        elif symbol in (arcade.key.DOWN, arcade.key.TAB):
            self.selected = (self.selected + 1) % len(CHOICES)
        elif symbol in ENTER:
            self.choose(self.selected)
        elif symbol == arcade.key.ESCAPE:
            self.window.close()

    # -- drawing -----------------------------------------------------------------

    def on_draw(self) -> None:
        self.clear(color=BACKGROUND)
        shapes, texts = self._shapes, self._texts
        texts.put("title", "PoseJam", WIDTH / 2, 600, 60, TEXT, "center", True)
        texts.put("tagline", TAGLINE, WIDTH / 2, 556, 15, DIM, "center")
        for index, (choice, label, letter, _, about) in enumerate(CHOICES):
            rect = button_rect(index)
            lit = index == self.selected
            fill = ACCENT if lit else PANEL
            shapes.add(rect.left, rect.right, rect.bottom, rect.top, fill)
            # The key's letter, in a key cap at the button's left.
            cap = arcade.LBWH(rect.left + 12, rect.bottom + 12, 36, 36)
            cap_fill = mix(ACCENT, WHITE, 0.35) if lit else EMPTY
            draw_button(
                shapes, texts, f"key-{choice}", cap, letter, cap_fill,
                BUTTON_TEXT if lit else ACCENT, 15,
            )  # fmt: skip
            ink = BUTTON_TEXT if lit else TEXT
            texts.put(
                f"label-{choice}", label, rect.left + 66, rect.bottom + 19, 22, ink, bold=True
            )
            texts.put(
                f"about-{choice}", about, rect.right - 16, rect.bottom + 23, 12,
                BUTTON_TEXT if lit else DIM, "right",
            )  # fmt: skip
        status = self.status() if self.status is not None else ""
        texts.put("status", status, WIDTH / 2, 70, 14, TEXT, "center")
        notice = self.notice() if self.notice is not None else ""
        texts.put("notice", notice, WIDTH / 2, NOTICE_Y, 13, POOR, "center")
        texts.put(
            "hint", "click, press a letter, or use the arrows and Enter", WIDTH / 2, 30, 11, DIM,
            "center",
        )  # fmt: skip
        shapes.draw()
        texts.draw()
