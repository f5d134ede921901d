"""The tap-along screen: clicks scheduled on the engine's clock, taps stamped on it, the
median lateness becomes the engine's offset."""

from __future__ import annotations

from collections.abc import Iterator

import arcade
import numpy as np
import pytest

from client.audio_engine import SilentEngine
from client.calibration import Calibration
from client.views.calibrate import BEAT, BEATS, LEAD, CalibrateView
from shared.drums import Drum


@pytest.fixture
def window() -> Iterator[arcade.Window]:
    window = arcade.Window(1280, 720, "test", visible=False)
    yield window
    window.close()


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_taps_a_little_late_become_the_engines_offset(window: arcade.Window) -> None:
    clock = Clock()
    engine = SilentEngine(clock=clock)
    done: list[Calibration | None] = []
    view = CalibrateView(engine, done.append, clock=clock)
    beats = [50.0 + LEAD + i * BEAT for i in range(BEATS)]
    assert [h.time for h in engine.hits if h.drum == Drum.CLOSED_HAT] == beats
    assert [h.time for h in engine.hits if h.drum == Drum.KICK] == beats[::4]
    for i, beat in enumerate(beats):
        clock.now = beat + (0.030 if i % 2 else 0.050)  # 30-50 ms late
        view.on_key_press(arcade.key.SPACE, 0)
    clock.now = beats[-1] + 2 * BEAT
    view.on_update(1 / 60)
    assert view.result is not None
    assert view.result.offset == pytest.approx(0.040)
    assert engine.offset == pytest.approx(0.040)
    view.on_key_press(arcade.key.ENTER, 0)
    assert done == [view.result]


def test_too_few_taps_is_said_and_leaves_the_offset_alone(window: arcade.Window) -> None:
    clock = Clock()
    engine = SilentEngine(clock=clock)
    done: list[Calibration | None] = []
    view = CalibrateView(engine, done.append, clock=clock)
    clock.now = 50.0 + LEAD
    view.on_key_press(arcade.key.SPACE, 0)
    clock.now = 50.0 + LEAD + BEATS * BEAT + 1.0
    view.on_update(1 / 60)
    assert view.result is None and view.error.startswith("need at least 8 taps")
    assert engine.offset == 0.0
    view.on_key_press(arcade.key.ESCAPE, 0)
    assert done == [None]


def test_the_screen_draws_its_lamps_and_result(window: arcade.Window) -> None:
    clock = Clock()
    view = CalibrateView(SilentEngine(clock=clock), lambda _: None, clock=clock)
    clock.now = 50.0 + LEAD + 0.01  # the first lamp is lit
    window.show_view(view)
    view.on_draw()
    image = np.asarray(arcade.get_image().convert("RGB")).astype(int)
    lamp = image[720 - 345, 315]
    assert (np.abs(lamp - (255, 193, 69)) < 12).all()
