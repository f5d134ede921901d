"""The solo results screen, drawn off-screen from hand-made results, and its choices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import arcade
import PIL.Image
import pytest

from client.challenge import TARGETS, Challenge, Result
from client.views import results
from client.views.drawing import ACCENT, EMPTY, PANEL, vibe_colour
from client.views.results import (
    AGAIN_BUTTON,
    MENU_BUTTON,
    UNLIT,
    ResultsView,
    bar_rect,
    row_rect,
    star_centre,
    total,
)
from tests.client.views.jam import near, pixel, screenshot

BARS = (
    (0.875, 0.9375, 0.875, 0.9375),  # 90.625 %: 3 stars
    (0.5, 0.75, 0.5, 1.0),  # 68.75 %: 1 star
    (0.25, 0.25, 0.5, 0.0),  # 25 %: none
    (0.75, 0.75, 0.75, 0.75),  # 75 %: 2 stars
)
RESULTS = [
    Result(Challenge(title, target, 4 * i, 4), bars)
    for i, ((title, target), bars) in enumerate(zip(TARGETS, BARS, strict=False))
]


@pytest.fixture(scope="module")
def window() -> Iterator[arcade.Window]:
    window = arcade.Window(results.WIDTH, results.HEIGHT, "PoseJam results test")
    yield window
    window.close()


def test_the_total_is_the_mean_score_and_the_stars_won() -> None:
    assert [r.stars for r in RESULTS] == [3, 1, 0, 2]
    assert total(RESULTS) == (0.6484375, 6)
    assert total([]) == (0.0, 0)


def test_each_row_shows_its_stars_and_a_bar_per_bar(window: arcade.Window) -> None:
    image = screenshot(ResultsView(RESULTS, lambda choice: None))
    PIL.Image.fromarray(image.astype("uint8")).save(Path("/tmp/posejam_results.png"))
    for index, result in enumerate(RESULTS):
        row = row_rect(index)
        assert near(pixel(image, row.left + 2, row.center_y), vibe_colour(result.score))
        assert near(pixel(image, row.right - 2, row.top - 2), PANEL)
        for k in range(3):
            x, y = star_centre(index, row, k)
            want = ACCENT if k < result.stars else UNLIT
            assert near(pixel(image, x, y), want), (index, k)
        for k, value in enumerate(result.bars):
            rect = bar_rect(row, k, 4)
            low, high = rect.bottom + 2, rect.top - 2
            filled = rect.bottom + rect.height * value
            assert near(pixel(image, rect.center_x, low), vibe_colour(value) if value else EMPTY)
            if value < 0.95:
                assert near(pixel(image, rect.center_x, max(filled + 2, low)), EMPTY), (index, k)
            assert near(
                pixel(image, rect.center_x, high), vibe_colour(1.0) if value == 1 else EMPTY
            )
    # Rows do not overlap each other or the buttons.
    assert all(row_rect(i).bottom > row_rect(i + 1).top for i in range(4))
    assert row_rect(4).bottom > AGAIN_BUTTON.top
    assert near(pixel(image, AGAIN_BUTTON.left + 4, AGAIN_BUTTON.bottom + 4), ACCENT)


def test_clicks_and_keys_choose_again_or_menu(window: arcade.Window) -> None:
    done: list[str] = []
    view = ResultsView(RESULTS, done.append)
    view.on_mouse_press(AGAIN_BUTTON.center_x, AGAIN_BUTTON.center_y, arcade.MOUSE_BUTTON_LEFT, 0)
    view.on_mouse_press(MENU_BUTTON.center_x, MENU_BUTTON.center_y, arcade.MOUSE_BUTTON_LEFT, 0)
    view.on_mouse_press(MENU_BUTTON.center_x, MENU_BUTTON.center_y, arcade.MOUSE_BUTTON_RIGHT, 0)
    view.on_mouse_press(640, 400, arcade.MOUSE_BUTTON_LEFT, 0)
    for key in (arcade.key.A, arcade.key.ENTER, arcade.key.M, arcade.key.ESCAPE, arcade.key.Q):
        view.on_key_press(key, 0)
    assert done == ["again", "menu", "again", "again", "menu", "menu"]


def test_no_results_still_draws(window: arcade.Window) -> None:
    image = screenshot(ResultsView([], lambda choice: None))
    assert near(pixel(image, row_rect(0).left + 2, row_rect(0).center_y), (14, 14, 22))
