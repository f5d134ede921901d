"""Latency calibration by tapping along: clicks play, the player taps SPACE on each.

The engine plays a hat on every beat at 120 bpm (a kick on the first of each bar) for
:data:`BEATS` beats, scheduled to be *heard* at known local times; the player's taps
are stamped on the same clock. Whatever the sound card, the speakers and the player's
ears add shows as taps landing late (or early): :func:`client.calibration.calibrate`
takes the median, and that is the offset the engine adds from then on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import arcade

from client.audio_types import AudioEngine, Hit
from client.calibration import Calibration, calibrate
from client.views.drawing import ACCENT, BACKGROUND, DIM, PANEL, TEXT, ShapeBatch, TextCache
from shared.drums import Drum

BEATS = 16
BEAT = 0.5  # seconds: 120 bpm
LEAD = 1.0  # seconds before the first click
RED = (255, 90, 95)


def click_track(start: float) -> tuple[list[float], list[Hit]]:
    """The beats' local times and the hits that sound on them."""
    beats = [start + i * BEAT for i in range(BEATS)]
    hits = [Hit(t, 1, Drum.CLOSED_HAT, 110) for t in beats]
    hits += [Hit(t, 1, Drum.KICK, 110) for t in beats[::4]]
    return beats, sorted(hits)


class CalibrateView(arcade.View):
    def __init__(
        self,
        engine: AudioEngine,
        on_done: Callable[[Calibration | None], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``on_done`` gets the result (None: cancelled with Esc); the engine's own clock
        (``clock``) stamps the taps, so they compare with the clicks as heard."""
        super().__init__()
        self.engine = engine
        self.on_done = on_done
        self.clock = clock
        self.beats, hits = click_track(clock() + LEAD)
        engine.schedule(hits)
        self.taps: list[float] = []
        self.result: Calibration | None = None
        self.error = ""
        self._shapes = ShapeBatch()
        self._texts = TextCache()

    def on_key_press(self, symbol: int, modifiers: int) -> None:
        if symbol == arcade.key.ESCAPE:
            self.on_done(None)
        elif symbol == arcade.key.SPACE and self.result is None and not self.error:
            self.taps.append(self.clock())
        elif symbol == arcade.key.ENTER and (self.result is not None or self.error):
            self.on_done(self.result)

    def on_update(self, delta_time: float) -> None:
        if self.result is None and not self.error and self.clock() > self.beats[-1] + BEAT:
            try:
                self.result = calibrate(self.beats, self.taps)
                self.engine.offset = self.result.offset
            except ValueError as exc:
                self.error = str(exc)

    def on_draw(self) -> None:
        self.clear(color=BACKGROUND)
        shapes, texts = self._shapes, self._texts
        shapes.add(240, 1040, 160, 560, PANEL)
        texts.put("title", "Tap along", 640, 500, 28, TEXT, "center", True)
        texts.put("how", "press SPACE on every click you hear", 640, 460, 14, DIM, "center")
        now = self.clock()
        for i, beat in enumerate(self.beats):
            lit = beat <= now < beat + BEAT * 0.4
            x = 300 + i * 43
            shapes.add(x, x + 30, 330, 360, ACCENT if lit else (60, 60, 80))
        texts.put("taps", f"{len(self.taps)} taps", 640, 280, 16, TEXT, "center")
        if self.result is not None:
            line = (
                f"you hear the beat {self.result.offset_ms:+.0f} ms late "
                f"(spread {self.result.spread_ms:.0f} ms): press Enter"
            )
            texts.put("result", line, 640, 220, 16, ACCENT, "center", True)
        elif self.error:
            texts.put("result", self.error, 640, 220, 13, RED, "center")
        shapes.draw()
        texts.draw()
