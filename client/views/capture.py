"""A view drawn off-screen into a PNG: the headless job's screen.png, and a bug report's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import arcade

WIDTH, HEIGHT = 1280, 720


def capture(make_view: Callable[[], arcade.View], path: Path, frames: int = 3) -> Path:
    """Draw the view ``frames`` times (its first frames settle its animations and
    caches) in a window of its own and save the last as a PNG at ``path``."""
    window = arcade.Window(WIDTH, HEIGHT, "PoseJam", visible=False)
    try:
        view = make_view()
        window.show_view(view)
        for _ in range(max(1, frames)):
            view.on_update(1 / 60)
            view.on_draw()
        arcade.get_image().convert("RGB").save(path)
    finally:
        window.close()
    return path
