"""The tracker: real mediapipe on a real person's video, and its threads with fakes."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from bench import pose_video
from client import demo_dancer
from client.pose_features import PoseFeatures
from client.pose_source import DemoDancer, Frame, PoseSourceError, VideoSource
from client.pose_tracker import (
    Landmarker,
    PoseModelError,
    PoseTracker,
    feature_points,
    track,
)
from shared.pose_mapping import ENERGY_STILL, FEATURE_INDEX, groove_controls

ENERGY = FEATURE_INDEX["energy"]
PRESENT = FEATURE_INDEX["present"]


@pytest.fixture(scope="module")
def moving_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pose_video.Script]:
    script = pose_video.Script(still_before=45, moving=75, still_after=90)
    return pose_video.write(tmp_path_factory.mktemp("v") / "moving.avi", script), script


def test_motion_energy_of_a_real_person_rises_with_movement_and_falls_when_still(
    moving_video: tuple[Path, pose_video.Script],
) -> None:
    path, script = moving_video
    source = VideoSource(path, realtime=False, loop=False)
    detector = Landmarker("lite")
    features = PoseFeatures()
    energy, found = [], []
    try:
        for _ in range(script.frames):
            pose = track(source.read(), detector, features)
            energy.append(float(pose.features[ENERGY]))
            found.append(pose.landmarks is not None)
    finally:
        detector.close()
        source.close()
    assert all(found)
    before = np.mean(energy[15 : script.still_before])  # after the filters settle
    moving = np.mean(energy[script.still_before + 15 : script.still_before + script.moving])
    end = energy[-1]
    # Measured: ~0.17 still at first (the model's jitter on a still picture), ~0.7 moving,
    # ~0.11 at the end; the mapping counts under 0.25 body sizes/s as standing still.
    assert moving > 3 * before
    assert moving > 0.5
    assert end < ENERGY_STILL < moving

    # So the still end asks for the groove of a body at rest, and the moving part more.
    def density(energy: float | None) -> float:
        features = pose.features.copy()
        if energy is not None:
            features[ENERGY] = energy
        return groove_controls(features).density

    assert density(None) == density(0.0) < density(float(moving))


def test_the_landmarker_finds_nobody_in_an_empty_frame() -> None:
    detector = Landmarker("lite")
    try:
        assert detector.detect(np.zeros((480, 640, 3), np.uint8), 0.0) is None
        # Repeated and backwards times are made strictly increasing, as VIDEO mode wants.
        assert detector.detect(np.zeros((480, 640, 3), np.uint8), 0.0) is None
    finally:
        detector.close()


def test_a_missing_or_broken_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PoseModelError, match=r"no pose model at .*nothing\.task"):
        Landmarker(tmp_path / "nothing.task")
    junk = tmp_path / "junk.task"
    junk.write_bytes(b"no zip here")
    with pytest.raises(PoseModelError, match=r"junk\.task is not a pose model mediapipe can load"):
        Landmarker(junk)


def test_feature_points_put_both_axes_on_one_scale() -> None:
    landmarks = np.zeros((33, 4))
    landmarks[0] = (0.5, 0.25, -0.1, 0.9)
    points = feature_points(landmarks, 640, 480)
    assert points.shape == (33, 3)
    assert points[0].tolist() == [0.5 * 640 / 480, 0.25, 0.9]


class FakeDetector:
    """Finds the demo dancer's standing body in any frame that is not black."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.entered = threading.Event()
        self.times: list[float] = []
        self.closed = False

    def detect(self, image: np.ndarray, time_s: float) -> np.ndarray | None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5.0)
        self.times.append(time_s)
        return None if image.mean() == 0 else demo_dancer.landmarks_at(0.0)

    def close(self) -> None:
        self.closed = True


class ScriptedSource:
    """Frames on demand: the test hands each one over, so drops are exact."""

    name = "scripted"

    def __init__(self, count: int) -> None:
        self.count = count
        self.ready = threading.Semaphore(0)
        self.index = 0
        self.closed = False

    def read(self) -> Frame:
        if not self.ready.acquire(timeout=5.0) or self.index >= self.count:
            raise PoseSourceError("scripted source has no more frames")
        image = np.full((48, 64, 3), 0 if self.index == 1 else 200, np.uint8)
        frame = Frame(self.index / 30, self.index, 64, 48, image=image)
        self.index += 1
        return frame

    def close(self) -> None:
        self.closed = True


def test_the_tracker_keeps_the_newest_frame_and_drops_stale_ones() -> None:
    gate = threading.Event()
    detector = FakeDetector(gate)
    source = ScriptedSource(count=5)
    tracker = PoseTracker(source, lambda: detector).start()
    try:
        source.ready.release()  # frame 0 goes to the detector, which holds on to it
        assert detector.entered.wait(5.0)
        for _ in range(3):  # frames 1, 2 and 3 arrive while it is busy with frame 0
            source.ready.release()
        assert tracker.wait_until(lambda t: t.frames_read == 4)
        gate.set()
        pose = tracker.wait(after_index=0)
        assert pose is not None and pose.index == 3  # the newest, not frame 1
        assert detector.times == [0.0, 0.1]  # frames 1 and 2 were never tracked
        assert tracker.frames_dropped == 2
        assert pose.landmarks is not None
        assert pose.features[PRESENT] > 0.0
    finally:
        source.ready.release()
        tracker.stop()
    assert source.closed and detector.closed


def test_a_frame_with_nobody_gives_no_landmarks_and_features_at_rest() -> None:
    source = ScriptedSource(count=2)
    tracker = PoseTracker(source, FakeDetector).start()
    try:
        source.ready.release()
        assert tracker.wait(after_index=-1) is not None
        source.ready.release()  # frame 1 is black: nobody there
        pose = tracker.wait(after_index=0)
        assert pose is not None and pose.index == 1
        assert pose.landmarks is None
        assert np.isfinite(pose.features).all()
    finally:
        tracker.stop()


def test_the_demo_dancer_needs_no_model_and_is_tracked_in_real_time() -> None:
    with PoseTracker(DemoDancer(), None) as tracker:
        pose = tracker.wait(after_index=5)
        assert pose is not None and pose.index > 5
        assert pose.landmarks is not None and pose.image is None
        assert pose.latency < 0.1
    assert tracker.error is None


def test_a_failing_model_stops_tracking_with_the_reason() -> None:
    def broken() -> FakeDetector:
        raise PoseModelError("the model would not load")

    source = ScriptedSource(count=1)
    tracker = PoseTracker(source, broken).start()
    pose = tracker.wait(timeout=2.0)
    assert pose is None
    assert isinstance(tracker.error, PoseModelError)
    source.ready.release()
    tracker.stop()
