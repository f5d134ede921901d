"""Pose sources: the demo dancer, a video file (looped, paced), a camera that is not there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import pose_video
from client import demo_dancer
from client.pose_source import (
    CameraSource,
    DemoDancer,
    PoseSourceError,
    VideoSource,
    open_source,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 9))
        self.now += seconds


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    script = pose_video.Script(still_before=3, moving=4, still_after=3)
    return pose_video.write(tmp_path_factory.mktemp("video") / "astronaut.avi", script)


def test_the_shipped_demo_dancer_is_what_its_choreography_makes() -> None:
    with np.load(demo_dancer.ASSET) as data:
        shipped = data["landmarks"].astype(np.float64)
        assert int(data["fps"]) == demo_dancer.FPS == 30
        assert list(data["size"]) == [640, 480]
    assert shipped.shape == (32 * 30, 33, 4)  # one 32-second loop: 8 moves of 8 beats at 120
    np.testing.assert_allclose(shipped, demo_dancer.sequence(), atol=1e-3)  # stored as fp16
    assert shipped[..., :2].min() >= 0.0 and shipped[..., :2].max() <= 1.0


def test_the_demo_dancer_moves_through_different_poses() -> None:
    def at_move(move: int) -> np.ndarray:
        return demo_dancer.landmarks_at(move * 4.0 + 1.0)  # a second into the move

    nose, l_wrist, r_wrist, l_hip, l_ankle = 0, 15, 16, 23, 27
    standing, hands_up, crouched = at_move(0), at_move(2), at_move(3)
    assert hands_up[l_wrist, 1] < hands_up[nose, 1] and hands_up[r_wrist, 1] < hands_up[nose, 1]
    assert standing[l_wrist, 1] > standing[l_hip, 1] - 0.1  # hands hang by the hips
    # Crouching brings the hips nearer the floor.
    assert crouched[l_ankle, 1] - crouched[l_hip, 1] < 0.8 * (
        standing[l_ankle, 1] - standing[l_hip, 1]
    )
    spread = at_move(4)
    assert spread[l_wrist, 0] - spread[r_wrist, 0] > 0.45  # arms wide across the frame
    still = [demo_dancer.landmarks_at(6 * 4.0 + t) for t in (0.5, 1.5, 3.0)]
    assert np.abs(still[0] - still[1]).max() == 0.0 == np.abs(still[0] - still[2]).max()


def test_the_demo_dancer_source_paces_and_loops() -> None:
    clock = FakeClock()
    source = DemoDancer(sleep=clock.sleep, clock=clock)
    first = source.read()
    assert (first.time, first.index, first.width, first.height) == (0.0, 0, 640, 480)
    assert first.image is None and first.landmarks is not None
    second = source.read()
    assert second.time == pytest.approx(1 / 30)
    assert clock.slept == [pytest.approx(1 / 30)]  # waits for the frame's time, no earlier
    frames = [source.read() for _ in range(32 * 30)]
    assert frames[-1].index == 32 * 30 + 1
    np.testing.assert_array_equal(frames[-2].landmarks, first.landmarks)  # frame 960 = frame 0


def test_a_damaged_demo_dancer_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "dancer.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(PoseSourceError, match=r"demo dancer .* is missing or damaged"):
        DemoDancer(junk)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, landmarks=np.zeros((5, 17, 4)), fps=np.array(30), size=np.array([640, 480]))
    with pytest.raises(PoseSourceError, match=r"holds \(5, 17, 4\), not \[frames, 33, 4\]"):
        DemoDancer(wrong)


def test_a_video_file_gives_rgb_frames_in_order_and_loops(video: Path) -> None:
    source = VideoSource(video, realtime=False)
    frames = [source.read() for _ in range(12)]  # 10 frames in the file
    assert [f.index for f in frames] == list(range(12))
    assert frames[11].time == pytest.approx(11 / 30)
    assert all(f.image is not None and f.image.shape == (480, 640, 3) for f in frames)
    first, again = frames[0].image, frames[10].image
    assert first is not None and again is not None
    np.testing.assert_array_equal(first, again)  # looped back to the first frame
    expected = pose_video.frame(pose_video.astronaut(), 0, pose_video.Script())
    # Motion-JPEG is lossy, but the picture is the photo, in RGB order.
    assert np.abs(first.astype(int) - expected.astype(int)).mean() < 6
    source.close()


def test_a_video_file_is_paced_at_its_frame_rate(video: Path) -> None:
    clock = FakeClock()
    source = VideoSource(video, realtime=True, sleep=clock.sleep, clock=clock)
    source.read()
    source.read()
    clock.now += 0.5  # the reader fell behind: no waiting to catch up
    source.read()
    assert clock.slept == [pytest.approx(1 / 30)]
    source.close()


def test_files_that_are_not_videos_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PoseSourceError, match=r"no video file at .*missing\.mp4"):
        VideoSource(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    with pytest.raises(PoseSourceError, match=r"notes\.mp4 is not a video opencv can read"):
        VideoSource(text)


def test_a_missing_camera_is_a_clear_error() -> None:
    with pytest.raises(PoseSourceError, match=r"no camera at index 99 .*--source demo"):
        CameraSource(99)


def test_source_specs() -> None:
    assert isinstance(open_source("demo"), DemoDancer)
    with pytest.raises(PoseSourceError, match="camera or camera:N"):
        open_source("camera:front")
    with pytest.raises(PoseSourceError, match="no camera at index 98"):
        open_source("camera:98")
    with pytest.raises(PoseSourceError, match="no video file"):
        open_source("dance.mp4")


def test_the_demo_dancer_plays_every_control_across_its_range() -> None:
    from client.pose_features import PoseFeatures
    from client.pose_tracker import feature_points
    from shared.pose_mapping import audio_controls, groove_controls

    features = PoseFeatures()
    moves = demo_dancer.sequence()
    groove, audio = [], []
    for i in range(2 * len(moves)):  # the second time round, with the filters warm
        vector = features.update(feature_points(moves[i % len(moves)], 640, 480), i / 30)
        if i >= len(moves):
            g, a = groove_controls(vector), audio_controls(vector)
            groove.append((g.density, g.syncopation, g.balance, g.intensity, g.fill))
            audio.append((a.cutoff_hz, a.gain, a.pan))
    low, high = np.min(groove, axis=0), np.max(groove, axis=0)
    # Measured spans: density 0.09..0.59 (of 0.05..0.6), syncopation 0..0.34 (of 0..0.45),
    # balance -0.87..1, intensity 0.34..0.99, fill 0..1.
    assert low[0] < 0.12 and high[0] > 0.5
    assert low[1] < 0.05 and high[1] > 0.3
    assert low[2] < -0.8 and high[2] > 0.95
    assert low[3] < 0.4 and high[3] > 0.9
    assert low[4] == 0.0 and high[4] > 0.9
    cutoff, gain, pan = np.array(audio).T
    assert cutoff.min() < 2000 and cutoff.max() > 15000
    assert gain.min() <= 0.5 and gain.max() > 0.95
    assert pan.min() < -0.15 and pan.max() > 0.15


class FakeCapture:
    """Stands in for cv2.VideoCapture on a machine with no camera: three BGR frames."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.frames = 3
        self.settings: dict[int, float] = {}
        self.released = False

    def isOpened(self) -> bool:  # opencv's name
        return True

    def set(self, prop: int, value: float) -> bool:
        self.settings[prop] = value
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not self.frames:
            return False, None
        self.frames -= 1
        bgr = np.zeros((480, 640, 3), np.uint8)
        bgr[..., 0] = 255  # blue, in opencv's order
        bgr[:, :10, 1] = 255  # and a green edge on the left
        return True, bgr

    def release(self) -> None:
        self.released = True


def test_a_camera_gives_rgb_frames_at_increasing_times_until_it_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cv2

    monkeypatch.setattr(cv2, "VideoCapture", FakeCapture)
    camera = CameraSource(2, 320, 240)
    capture = camera._capture
    assert capture.index == 2
    assert capture.settings[cv2.CAP_PROP_FRAME_WIDTH] == 320
    assert capture.settings[cv2.CAP_PROP_BUFFERSIZE] == 1  # the newest frame, not a queue
    frames = [camera.read() for _ in range(3)]
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[0].time < frames[1].time < frames[2].time
    image = frames[0].image
    assert image is not None and image[0, -1].tolist() == [0, 255, 255]  # mirrored, as RGB
    assert image[0, 0].tolist() == [0, 0, 255]
    with pytest.raises(PoseSourceError, match=r"camera 2 stopped giving frames \(unplugged\?\)"):
        camera.read()
    camera.close()
    assert capture.released
    unmirrored = CameraSource(0, mirror=False).read().image
    assert unmirrored is not None and unmirrored[0, 0].tolist() == [0, 255, 255]
