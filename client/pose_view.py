"""The pose debug screen: the tracked body over its camera image, and a bar for every number.

Left, the frame the tracker saw (or a dark stage for the demo dancer) with the
skeleton drawn over it; right, one bar per pose feature, groove control and audio
control, each between its range's ends, so a player can see what every move does.
The view reads the tracker's latest result; it never waits for the camera or the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import arcade

from client.pose_readout import Meter, readout
from client.pose_tracker import PoseTracker, TrackedPose
from client.views.drawing import BONE, CameraPicture, ShapeBatch, TextCache, draw_skeleton

WIDTH, HEIGHT = 1280, 720
STAGE_W, STAGE_H = 800, 600  # the picture, 4:3
MARGIN = 20
BACKGROUND = (18, 18, 24)
STAGE = (34, 34, 44)
BAR_BACK = (50, 50, 62)
BAR = {"features": (80, 180, 255), "groove": (255, 120, 80), "audio": (120, 220, 120)}
TEXT = (230, 230, 230)
DIM = (150, 150, 160)


class PoseDebugView(arcade.View):
    def __init__(
        self,
        tracker: PoseTracker,
        title: str = "",
        frames: int = 0,
        on_frame: Callable[[arcade.Window], None] | None = None,
    ) -> None:
        """``frames``: close the window after this many draws (0: never);
        ``on_frame`` is called after each draw (tests take screenshots there)."""
        super().__init__()
        self.tracker = tracker
        self.title = title
        self.frames = frames
        self.drawn = 0
        self._on_frame = on_frame
        self._camera = CameraPicture("pose-camera")
        self._texts = TextCache()
        self._bones = ShapeBatch()

    def on_draw(self) -> None:
        self.clear(color=BACKGROUND)
        pose = self.tracker.latest()
        left, bottom = MARGIN, (HEIGHT - STAGE_H) // 2
        arcade.draw_lrbt_rectangle_filled(left, left + STAGE_W, bottom, bottom + STAGE_H, STAGE)
        if pose is not None and pose.image is not None:
            self._camera.draw(self.window, pose.image, arcade.LBWH(left, bottom, STAGE_W, STAGE_H))
        if pose is not None and pose.landmarks is not None:
            draw_skeleton(self._bones, pose.landmarks, left, bottom, STAGE_W, STAGE_H, BONE)
            self._bones.draw()
        self._text("title", self.title, left, HEIGHT - 36, 16, TEXT)
        self._text("status", status_line(self.tracker, pose), left, 16, 12, DIM)
        if pose is not None:
            self._draw_meters(readout(pose.features), left + STAGE_W + 2 * MARGIN)
        elif self.tracker.error is not None:
            self._text("error", str(self.tracker.error), left + 10, bottom + STAGE_H // 2, 12, TEXT)
        self._texts.draw()
        self.drawn += 1
        if self._on_frame is not None:
            self._on_frame(self.window)
        if self.frames and self.drawn >= self.frames:
            # Headless arcade runs its own loop, which neither pyglet's clock nor
            # arcade.exit() reaches: closing the window ends it, as it ends a real one.
            self.window.close()

    def _draw_meters(self, sections: Sequence[tuple[str, Sequence[Meter]]], left: float) -> None:
        width = WIDTH - left - MARGIN
        y = HEIGHT - 50
        for section, meters in sections:
            self._text(f"h-{section}", section, left, y, 13, TEXT)
            y -= 26
            for meter in meters:
                self._text(f"m-{section}-{meter.name}", meter.label(), left, y + 4, 10, DIM)
                bar_left = left + 175
                span = left + width - bar_left
                arcade.draw_lrbt_rectangle_filled(bar_left, left + width, y, y + 14, BAR_BACK)
                # A range around zero fills from its zero, so a sign reads at a glance.
                start = bar_left + span * meter.zero_share()
                end = bar_left + span * meter.share()
                arcade.draw_lrbt_rectangle_filled(
                    min(start, end), max(start, end) + 1, y, y + 14, BAR[section]
                )
                y -= 21
            y -= 10

    def _text(
        self, key: str, value: str, x: float, y: float, size: int, color: tuple[int, int, int]
    ) -> None:
        self._texts.put(key, value, x, y, size, color)


def status_line(tracker: PoseTracker, pose: TrackedPose | None) -> str:
    parts = [tracker.source.name]
    if pose is not None:
        parts.append(f"frame {pose.index}")
        parts.append(f"{pose.latency * 1000:.1f} ms")
        parts.append("body found" if pose.landmarks is not None else "no body in view")
    parts.append(f"dropped {tracker.frames_dropped}")
    if tracker.error is not None:
        parts.append(f"stopped: {tracker.error}")
    return "  |  ".join(parts)


def run_window(
    tracker: PoseTracker,
    title: str,
    frames: int = 0,
    on_frame: Callable[[arcade.Window], None] | None = None,
) -> None:
    """Show the view until the window closes (or ``frames`` draws have passed)."""
    window = arcade.Window(WIDTH, HEIGHT, f"PoseJam pose: {title}")
    window.show_view(PoseDebugView(tracker, title, frames, on_frame))
    arcade.run()
