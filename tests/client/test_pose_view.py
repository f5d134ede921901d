"""The pose debug screen, drawn off-screen: the picture, the skeleton and the bars."""

from __future__ import annotations

from pathlib import Path

import arcade
import numpy as np
import pytest
from PIL import Image

from bench import pose_video
from client import pose_view
from client.pose_readout import Meter
from client.pose_source import DemoDancer, VideoSource
from client.pose_tracker import Landmarker, PoseTracker


def screenshot(tracker: PoseTracker, draws: int, after_index: int) -> np.ndarray:
    shots: list[Image.Image] = []

    def on_frame(window: arcade.Window) -> None:
        pose = tracker.latest()
        if not shots and pose is not None and pose.index >= after_index:
            shots.append(arcade.get_image())
            window.close()

    with tracker:
        tracker.wait(after_index=after_index, timeout=20.0)
        pose_view.run_window(tracker, tracker.source.name, draws, on_frame)
    assert shots, "no frame was tracked in time"
    return np.asarray(shots[0].convert("RGB")).astype(int)


def region(image: np.ndarray, left: int, top: int, width: int, height: int) -> np.ndarray:
    """Pixels of a screen rectangle given from the top-left, as images are stored."""
    return image[top : top + height, left : left + width]


def is_colour(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> np.ndarray:
    return np.asarray((np.abs(pixels - np.array(colour)) <= tolerance).all(axis=-1))


def test_the_demo_dancer_is_drawn_with_every_bar() -> None:
    image = screenshot(PoseTracker(DemoDancer(), None), 2000, after_index=3)
    assert image.shape == (pose_view.HEIGHT, pose_view.WIDTH, 3)
    stage = region(image, pose_view.MARGIN, 60, pose_view.STAGE_W, pose_view.STAGE_H)
    # The dark stage with a yellow skeleton on it, in its middle third.
    assert is_colour(stage, pose_view.STAGE).mean() > 0.8
    bones = is_colour(stage, pose_view.BONE, tolerance=40)
    assert bones.sum() > 2000
    columns = np.nonzero(bones.any(axis=0))[0]
    assert pose_view.STAGE_W / 3 < columns.mean() < 2 * pose_view.STAGE_W / 3
    panel = region(image, 860, 40, 400, 540)
    for section, colour in pose_view.BAR.items():
        assert is_colour(panel, colour).sum() > 100, section
    assert is_colour(panel, pose_view.BAR_BACK).sum() > 20000  # the bars' empty parts


def test_a_video_frame_is_drawn_under_its_skeleton(tmp_path: Path) -> None:
    video = pose_video.write(tmp_path / "p.avi", pose_video.Script(30, 0, 0))
    tracker = PoseTracker(VideoSource(video), lambda: Landmarker("lite"))
    image = screenshot(tracker, 4000, after_index=2)
    stage = region(image, pose_view.MARGIN, 60, pose_view.STAGE_W, pose_view.STAGE_H)
    # The astronaut's orange suit fills much of the picture; the stage colour is gone.
    orange = (stage[..., 0] > 170) & (stage[..., 1] < 130) & (stage[..., 2] < 90)
    assert orange.mean() > 0.1
    assert is_colour(stage, pose_view.STAGE).mean() < 0.05
    assert is_colour(stage, pose_view.BONE, tolerance=40).sum() > 500


def test_meters_fill_from_zero_for_ranges_around_it() -> None:
    pan = Meter("pan", -0.5, -1.0, 1.0)
    assert (pan.zero_share(), pan.share()) == (0.5, 0.25)
    density = Meter("density", 0.25, 0.0, 1.0)
    assert (density.zero_share(), density.share()) == (0.0, 0.25)
    cutoff = Meter("cutoff", 1000.0, 100.0, 10000.0, "Hz", log=True)
    assert cutoff.share() == pytest.approx(0.5)
    assert cutoff.label() == "cutoff 1000 Hz"
    assert Meter("lean", 2.0, -1.0, 1.0).share() == 1.0  # clamped
