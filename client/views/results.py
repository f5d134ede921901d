"""The solo results screen: how close each challenge got, bar by bar, and the total.

One row per challenge: its title, its score as a percentage, 0..3 stars, and a strip
with a small bar for each bar played (its closeness to the target, 0..1, coloured as
the vibe meter colours a level). The header shows the total: the mean score and the
stars won of the stars there were. ``on_done`` gets ``"again"`` (Play again: click,
A or Enter) or ``"menu"`` (click, M or Esc).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import arcade

from client.challenge import Result
from client.views.drawing import (
    ACCENT,
    BACKGROUND,
    DIM,
    EMPTY,
    EMPTY_BEAT,
    PANEL,
    TEXT,
    WHITE,
    Colour,
    ShapeBatch,
    TextCache,
    mix,
    vibe_colour,
)
from client.views.menu import BUTTON_TEXT, draw_button

WIDTH, HEIGHT = 1280, 720
MAX_STARS = 3
UNLIT: Colour = EMPTY_BEAT  # a star not won
ROW, ROW_GAP = 92, 8
MAX_ROWS = 5  # rows the screen has room for; more are counted under them
FIRST_ROW_TOP = 620
STRIP_LEFT, STRIP_WIDTH, STRIP_HEIGHT = 930, 310, 56
STAR_LEFT, STAR_RADIUS = 640, 16
AGAIN_BUTTON = arcade.LBWH(WIDTH - 20 - 260 - 16 - 200, 20, 260, 56)
MENU_BUTTON = arcade.LBWH(WIDTH - 20 - 200, 20, 200, 56)
AGAIN_KEYS = (arcade.key.A, arcade.key.ENTER, arcade.key.RETURN, arcade.key.NUM_ENTER)
MENU_KEYS = (arcade.key.M, arcade.key.ESCAPE)


def row_rect(index: int) -> arcade.types.Rect:
    top = FIRST_ROW_TOP - index * (ROW + ROW_GAP)
    return arcade.LBWH(20, top - ROW, WIDTH - 40, ROW)


def star_centre(index: int, row: arcade.types.Rect, star: int) -> tuple[float, float]:
    """The centre of star ``star`` (0..2) of row ``index``."""
    return STAR_LEFT + star * (2 * STAR_RADIUS + 10) + STAR_RADIUS, row.center_y


def bar_rect(row: arcade.types.Rect, bar: int, bars: int) -> arcade.types.Rect:
    """The full-height slot of bar ``bar`` of ``bars`` in a row's strip."""
    gap = 4
    width = (STRIP_WIDTH - gap * (bars - 1)) / bars
    bottom = row.center_y - STRIP_HEIGHT / 2
    return arcade.LBWH(STRIP_LEFT + bar * (width + gap), bottom, width, STRIP_HEIGHT)


def total(results: Sequence[Result]) -> tuple[float, int]:
    """The mean score of ``results`` (0 for none) and the stars won."""
    if not results:
        return 0.0, 0
    return sum(r.score for r in results) / len(results), sum(r.stars for r in results)


def star(shapes: ShapeBatch, x: float, y: float, radius: float, colour: Colour) -> None:
    """A five-pointed star, point up."""
    points = [
        (x + r * math.cos(math.pi / 2 + k * math.pi / 5),
         y + r * math.sin(math.pi / 2 + k * math.pi / 5))
        for k in range(10)
        for r in (radius if k % 2 == 0 else radius * 0.45,)
    ]  # fmt: skip
    for k in range(10):
        shapes.triangle((x, y), points[k], points[(k + 1) % 10], colour)


class ResultsView(arcade.View):
    def __init__(self, results: list[Result], on_done: Callable[[str], None]) -> None:
        super().__init__()
        self.results = list(results)
        self.on_done = on_done
        self._shapes = ShapeBatch()
        self._texts = TextCache()

    def on_mouse_press(self, x: float, y: float, button: int, modifiers: int) -> None:
        if button != arcade.MOUSE_BUTTON_LEFT:
            return
        if AGAIN_BUTTON.point_in_rect((x, y)):
            self.on_done("again")
        elif MENU_BUTTON.point_in_rect((x, y)):
            self.on_done("menu")

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        if symbol in AGAIN_KEYS:
            self.on_done("again")
        elif symbol in MENU_KEYS:
            self.on_done("menu")

    def on_draw(self) -> None:
        self.clear(color=BACKGROUND)
        shapes, texts = self._shapes, self._texts
        title = texts.put("title", "PoseJam", 20, HEIGHT - 56, 24, TEXT, bold=True)
        texts.put("subtitle", "solo results", 34 + title.content_width, HEIGHT - 54, 16, ACCENT)
        score, stars = total(self.results)
        big = texts.put(
            "total", f"total {score:.0%}", WIDTH - 20, HEIGHT - 58, 28, vibe_colour(score),
            "right", True,
        )  # fmt: skip
        won = f"{stars} of {MAX_STARS * len(self.results)} stars"
        texts.put("total-stars", won, WIDTH - 36 - big.content_width, HEIGHT - 52, 14, DIM, "right")
        texts.put("col-score", "SCORE", 520, FIRST_ROW_TOP + 6, 11, DIM, bold=True)
        texts.put("col-bars", "EACH BAR", STRIP_LEFT, FIRST_ROW_TOP + 6, 11, DIM, bold=True)
        for index, result in enumerate(self.results[:MAX_ROWS]):
            self._draw_row(index, result)
        hidden = len(self.results) - min(len(self.results), MAX_ROWS)
        texts.put(
            "more", f"+{hidden} more challenges" if hidden else "", 20, 90, 12, DIM,
        )  # fmt: skip
        if not self.results:
            texts.put("none", "no challenges played", WIDTH / 2, 380, 18, DIM, "center")
        texts.put("hint", "A / Enter: play again    M / Esc: menu", 20, 40, 12, DIM)
        draw_button(
            shapes, texts, "again", AGAIN_BUTTON, "PLAY AGAIN  [A]", ACCENT, BUTTON_TEXT, 18
        )
        draw_button(
            shapes, texts, "menu", MENU_BUTTON, "MENU  [M]", mix(EMPTY, WHITE, 0.12), TEXT, 18
        )
        shapes.draw()
        texts.draw()

    def _draw_row(self, index: int, result: Result) -> None:
        shapes, texts = self._shapes, self._texts
        row = row_rect(index)
        colour = vibe_colour(result.score)
        shapes.add(row.left, row.right, row.bottom, row.top, PANEL)
        shapes.add(row.left, row.left + 6, row.bottom, row.top, colour)
        texts.put(
            f"title-{index}", result.challenge.title, row.left + 24, row.top - 36, 18, TEXT,
            bold=True,
        )  # fmt: skip
        bars = result.bars
        best = f", best {max(bars):.0%}" if bars else ""
        about = f"{result.challenge.bars} bars{best}"
        texts.put(f"about-{index}", about, row.left + 24, row.bottom + 18, 12, DIM)
        texts.put(
            f"score-{index}", f"{result.score:.0%}", 520, row.center_y - 14, 30, colour,
            bold=True,
        )  # fmt: skip
        for k in range(MAX_STARS):
            x, y = star_centre(index, row, k)
            star(shapes, x, y, STAR_RADIUS, ACCENT if k < result.stars else UNLIT)
        slots = max(result.challenge.bars, len(bars))
        for k in range(slots):
            rect = bar_rect(row, k, slots)
            shapes.add(rect.left, rect.right, rect.bottom, rect.top, EMPTY)
            value = min(1.0, max(0.0, bars[k])) if k < len(bars) else 0.0
            if value > 0:
                top = rect.bottom + rect.height * value
                shapes.add(rect.left, rect.right, rect.bottom, top, vibe_colour(value))
