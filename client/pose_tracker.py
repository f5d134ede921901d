"""Pose tracking off the drawing thread: source -> landmarks -> features, newest frame first.

Two background threads: one reads the :class:`~client.pose_source.PoseSource` as fast
as it gives frames and keeps only the newest in a one-frame slot; the other takes
whatever is in the slot, runs mediapipe's PoseLandmarker in VIDEO mode on it, turns
the landmarks into features, and publishes the result. A frame that arrives while the
model is busy replaces the waiting one (it is counted as dropped), so a slow model
shows the latest body a little less often, never an old one late. The game's drawing
reads :meth:`PoseTracker.latest` and never waits.

mediapipe stands behind :class:`Landmarker`, a narrow class with the one call the
tracker needs, so tests can run the tracker with a fake.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from client.pose_features import PoseFeatures
from client.pose_source import Frame, PoseSource, PoseSourceError
from client.quiet import native_stderr_hidden

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
MODELS = {
    "lite": ASSETS / "pose_landmarker_lite.task",
    "full": ASSETS / "pose_landmarker_full.task",
}


class PoseModelError(Exception):
    """The pose model cannot be loaded; the message says what to do."""


class Detector(Protocol):
    def detect(self, image: np.ndarray, time_s: float) -> np.ndarray | None:
        """``[33, 4]`` landmarks (x, y, z, visibility) of the one body in an RGB frame."""
        ...

    def close(self) -> None: ...


class Landmarker:
    """mediapipe's PoseLandmarker on a video stream (VIDEO mode: it tracks between frames)."""

    def __init__(self, model: str | Path = "lite") -> None:
        path = MODELS.get(str(model), Path(model))
        if not path.is_file():
            raise PoseModelError(
                f"no pose model at {path}; the shipped ones are "
                f"{', '.join(str(p) for p in MODELS.values())} (python -m client.pose_task_build)"
            )
        from mediapipe.tasks.python.core.base_options import BaseOptions
        from mediapipe.tasks.python.vision import pose_landmarker
        from mediapipe.tasks.python.vision.core.vision_task_running_mode import (
            VisionTaskRunningMode,
        )

        options = pose_landmarker.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=VisionTaskRunningMode.VIDEO,
            num_poses=1,
        )
        try:
            with native_stderr_hidden(logger):
                self._landmarker = pose_landmarker.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise PoseModelError(f"{path} is not a pose model mediapipe can load: {exc}") from exc
        self.name = path.stem
        self._last_ms = -1
        self._ran = False

    def detect(self, image: np.ndarray, time_s: float) -> np.ndarray | None:
        from mediapipe.tasks.python.vision.core.image import Image, ImageFormat

        # VIDEO mode wants strictly increasing milliseconds.
        stamp = max(round(time_s * 1000), self._last_ms + 1)
        self._last_ms = stamp
        frame = Image(image_format=ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if not self._ran:  # the first run sets up the delegates, and says so
            with native_stderr_hidden(logger):
                result = self._landmarker.detect_for_video(frame, stamp)
            self._ran = True
        else:
            result = self._landmarker.detect_for_video(frame, stamp)
        if not result.pose_landmarks:
            return None
        return np.array(
            [(p.x, p.y, p.z, p.visibility or 0.0) for p in result.pose_landmarks[0]],
            dtype=np.float64,
        )

    def close(self) -> None:
        self._landmarker.close()


def feature_points(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """``[33, 3]`` for :class:`PoseFeatures`: x in frame heights (so both axes share a
    scale), y, visibility."""
    points = landmarks[:, (0, 1, 3)].astype(np.float64)
    points[:, 0] *= width / height
    return points


@dataclass(frozen=True, slots=True)
class TrackedPose:
    time: float  # the frame's source time, seconds
    index: int  # the frame's index in its source
    width: int
    height: int
    landmarks: np.ndarray | None  # [33, 4] x, y (0..1 of the frame), z, visibility; None: nobody
    features: np.ndarray  # in FEATURE_NAMES order
    image: np.ndarray | None  # the RGB frame it came from (None from the demo dancer)
    latency: float  # seconds from the frame being read to its features


def track(frame: Frame, detector: Detector | None, features: PoseFeatures) -> TrackedPose:
    """One frame through the model (unless it brings its own landmarks) and the features."""
    started = time.perf_counter()
    landmarks = frame.landmarks
    if landmarks is None and frame.image is not None and detector is not None:
        landmarks = detector.detect(frame.image, frame.time)
    points = None if landmarks is None else feature_points(landmarks, frame.width, frame.height)
    vector = features.update(points, frame.time, aspect=frame.width / frame.height)
    return TrackedPose(
        frame.time,
        frame.index,
        frame.width,
        frame.height,
        landmarks,
        vector,
        frame.image,
        time.perf_counter() - started,
    )


class PoseTracker:
    """Runs a source through a detector and features on background threads."""

    def __init__(
        self,
        source: PoseSource,
        detector: Callable[[], Detector] | None,
        features: PoseFeatures | None = None,
    ) -> None:
        """``detector`` makes the detector on the tracking thread (mediapipe's graph
        lives there); None for sources that bring their own landmarks."""
        self.source = source
        self._make_detector = detector
        self._features = features or PoseFeatures()
        self._slot: Frame | None = None
        self._read_at = 0.0
        self._latest: TrackedPose | None = None
        self._lock = threading.Condition()
        self._stopping = False
        self.error: Exception | None = None  # why tracking stopped, if it did
        self.frames_read = 0
        self.frames_tracked = 0
        self.frames_dropped = 0
        self._threads = [
            threading.Thread(target=self._read_loop, name="pose-source", daemon=True),
            threading.Thread(target=self._track_loop, name="pose-tracker", daemon=True),
        ]

    def start(self) -> PoseTracker:
        for thread in self._threads:
            thread.start()
        return self

    def latest(self) -> TrackedPose | None:
        """The newest tracked frame; never waits."""
        return self._latest

    def wait(self, after_index: int = -1, timeout: float = 5.0) -> TrackedPose | None:
        """The newest tracked frame past ``after_index``, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while (
                (self._latest is None or self._latest.index <= after_index)
                and self.error is None
                and not self._stopping
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return self._latest

    def wait_until(self, done: Callable[[PoseTracker], bool], timeout: float = 5.0) -> bool:
        """Wait until ``done(tracker)`` holds (checked as frames come and go), up to
        ``timeout`` seconds; whether it does."""
        with self._lock:
            return self._lock.wait_for(lambda: done(self), timeout)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self.source.close()

    def __enter__(self) -> PoseTracker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _fail(self, exc: Exception) -> None:
        logger.error("pose tracking stopped: %s", exc)
        with self._lock:
            self.error = exc
            self._lock.notify_all()

    def _read_loop(self) -> None:
        try:
            while not self._stopping:
                frame = self.source.read()
                with self._lock:
                    if self._slot is not None:
                        self.frames_dropped += 1
                    self._slot, self._read_at = frame, time.perf_counter()
                    self.frames_read += 1
                    self._lock.notify_all()
        except PoseSourceError as exc:
            self._fail(exc)
        except Exception as exc:  # a device failing in a way opencv did not foresee
            logger.exception("pose source failed")
            self._fail(PoseSourceError(f"{self.source.name} failed: {exc}"))

    def _track_loop(self) -> None:
        detector = None
        try:
            detector = self._make_detector() if self._make_detector else None
            while True:
                with self._lock:
                    while self._slot is None and not self._stopping and self.error is None:
                        self._lock.wait()
                    if self._stopping or self._slot is None:
                        return
                    frame, read_at = self._slot, self._read_at
                    self._slot = None
                pose = track(frame, detector, self._features)
                done = time.perf_counter()
                with self._lock:
                    self._latest = TrackedPose(
                        pose.time,
                        pose.index,
                        pose.width,
                        pose.height,
                        pose.landmarks,
                        pose.features,
                        pose.image,
                        done - read_at,
                    )
                    self.frames_tracked += 1
                    self._lock.notify_all()
        except Exception as exc:
            logger.exception("pose tracking failed")
            self._fail(exc)
        finally:
            if detector is not None:
                detector.close()
