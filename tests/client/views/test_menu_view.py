"""The title screen, drawn off-screen, and its clicks and keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import arcade
import PIL.Image
import pytest

from client.views import menu
from client.views.drawing import ACCENT, PANEL, POOR
from client.views.menu import CHOICES, MenuView, button_rect
from tests.client.views.jam import count, near, pixel, region, screenshot

LEFT = arcade.MOUSE_BUTTON_LEFT


@pytest.fixture(scope="module")
def window() -> Iterator[arcade.Window]:
    window = arcade.Window(menu.WIDTH, menu.HEIGHT, "PoseJam menu test")
    yield window
    window.close()


def test_five_buttons_the_selected_one_lit(window: arcade.Window) -> None:
    status = ["loading the drum model…"]
    view = MenuView(lambda choice: None, lambda: status[0])
    image = screenshot(view)
    PIL.Image.fromarray(image.astype("uint8")).save(Path("/tmp/posejam_menu.png"))
    assert [c[0] for c in CHOICES] == ["solo", "host", "join", "spectate", "settings"]
    for index in range(5):
        rect = button_rect(index)
        # Right of the key cap and left of the label: the button's own fill.
        want = ACCENT if index == 0 else PANEL
        assert near(pixel(image, rect.left + 4, rect.bottom + 4), want), index
        assert count(region(image, rect), menu.BUTTON_TEXT if index == 0 else (238, 238, 246)) > 80
    # Buttons do not overlap and sit between the tagline and the status line.
    assert all(button_rect(i).bottom > button_rect(i + 1).top for i in range(4))
    view.selected = 3
    image = screenshot(view)
    assert near(pixel(image, button_rect(3).left + 4, button_rect(3).bottom + 4), ACCENT)
    assert near(pixel(image, button_rect(0).left + 4, button_rect(0).bottom + 4), PANEL)


def test_the_status_line_shows_what_the_callable_says(window: arcade.Window) -> None:
    status = ["loading the drum model…"]
    view = MenuView(lambda choice: None, lambda: status[0])
    line = arcade.LBWH(340, 60, 600, 34)
    loading = count(region(screenshot(view), line), (238, 238, 246), 40)
    status[0] = "ready"
    ready = count(region(screenshot(view), line), (238, 238, 246), 40)
    assert loading > ready > 20  # a shorter line, drawn anew
    quiet = MenuView(lambda choice: None)
    assert count(region(screenshot(quiet), line), (238, 238, 246), 40) == 0


def test_clicks_and_letter_keys_choose(window: arcade.Window) -> None:
    chosen: list[str] = []
    view = MenuView(chosen.append)
    for index in range(5):
        rect = button_rect(index)
        view.on_mouse_press(rect.center_x, rect.center_y, LEFT, 0)
    view.on_mouse_press(button_rect(0).center_x, button_rect(0).center_y, 4, 0)  # right button
    view.on_mouse_press(10, 10, LEFT, 0)  # nothing there
    assert chosen == ["solo", "host", "join", "spectate", "settings"]
    chosen.clear()
    for key in (arcade.key.S, arcade.key.H, arcade.key.J, arcade.key.W, arcade.key.T):
        view.on_key_press(key, 0)
    view.on_key_press(arcade.key.X, 0)
    assert chosen == ["solo", "host", "join", "spectate", "settings"]


def test_arrows_move_the_selection_and_enter_chooses(window: arcade.Window) -> None:
    chosen: list[str] = []
    view = MenuView(chosen.append)
    view.on_key_press(arcade.key.DOWN, 0)
    view.on_key_press(arcade.key.DOWN, 0)
    view.on_key_press(arcade.key.ENTER, 0)
    view.on_key_press(arcade.key.UP, 0)
    view.on_key_press(arcade.key.UP, 0)
    view.on_key_press(arcade.key.UP, 0)  # wraps round to the last
    view.on_key_press(arcade.key.RETURN, 0)
    assert chosen == ["join", "settings"]
    view.on_mouse_motion(button_rect(1).center_x, button_rect(1).center_y, 0, 0)
    assert view.selected == 1


def test_a_notice_shows_in_red_between_the_buttons_and_the_status(window: arcade.Window) -> None:
    notice = "settings.json is not valid JSON (line 3, column 5): using the defaults"
    view = MenuView(lambda choice: None, lambda: "ready", notice=lambda: notice)
    image = screenshot(view)
    line = arcade.LBWH(200, menu.NOTICE_Y - 4, 880, 22)
    assert count(region(image, line), POOR, 40) > 200
    assert line.top < button_rect(4).bottom  # under the last button
    status = arcade.LBWH(340, 60, 600, 34)
    assert count(region(image, status), (238, 238, 246), 40) > 20
    assert count(region(image, status), POOR, 40) == 0
    quiet = MenuView(lambda choice: None, lambda: "ready")
    assert count(region(screenshot(quiet), line), POOR, 40) == 0
