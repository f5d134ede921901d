"""The bots' built-in dancer moves, and its numbers stay on the frame and finite."""

from __future__ import annotations

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


def test_points_put_the_body_on_one_scale_for_the_features() -> None:
    body = bot_pose.body(0.5)
    points = bot_pose.points(body)
    assert points.shape == (33, 3)
    assert points[0].tolist() == [body[0][0] * 4 / 3, body[0][1], body[0][2]]
