"""The bots' built-in dancer moves, and its numbers stay on the frame and finite."""

from __future__ import annotations

import math

from client import bot_pose
from shared.codec import LANDMARK_VALUES


def test_landmarks_are_33_points_on_the_frame_in_mediapipe_order() -> None:
    for t in (0.0, 0.37, 1.5, 12.0):
        pts = bot_pose.body(t)
        assert len(pts) == 33
        assert all(0.0 <= v <= 1.0 for p in pts for v in p)
        nose, l_shoulder, r_shoulder, l_hip, l_ankle = pts[0], pts[11], pts[12], pts[23], pts[27]
        assert nose[1] < l_shoulder[1] < l_hip[1] < l_ankle[1]  # head above hips above feet
        assert l_shoulder[0] > r_shoulder[0]  # the body's left is the image's right
    q = bot_pose.quantize(bot_pose.body(0.5))
    assert len(q) == LANDMARK_VALUES
    assert all(0 <= v <= 65535 for v in q)
    assert bot_pose.quantize([(1.5, -0.2, 0.5)] * 33)[:3] == (65535, 0, 32768)


def test_features_move_over_time_and_are_finite() -> None:
    series = [bot_pose.features(t / 10) for t in range(200)]
    assert all(len(f) == len(bot_pose.FEATURES) for f in series)
    assert all(math.isfinite(v) for f in series for v in f)
    for i, name in enumerate(bot_pose.FEATURES[:-1]):  # all but the constant tempo
        values = [f[i] for f in series]
        assert max(values) - min(values) > 0.01, name
    assert {f[-1] for f in series} == {110.0}
