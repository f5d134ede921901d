"""A built-in moving body for bots: 33 mediapipe-style landmarks that dance.

A stick figure dancing at ``bpm``: it bobs on the beat, sways its hips, waves
its arms in turn and crouches now and then, so every number it produces moves.
Landmarks follow mediapipe's pose topology (0 nose, 11/12 shoulders, 15/16
wrists, 23/24 hips, 27/28 ankles, ...) in image coordinates (0..1, y down).
"""

from __future__ import annotations

import math

import numpy as np

from shared.codec import LANDMARK_COUNT

QUANT = 65535

# The bot's frame: its landmarks are normalized to a 4:3 picture, like a webcam's.
ASPECT = 4 / 3


def body(t: float, bpm: float = 110.0, phase: float = 0.0) -> list[tuple[float, float, float]]:
    """The 33 landmarks (x, y, visibility) of the dancer at time ``t`` seconds."""
    beat = t * bpm / 60.0 + phase
    bob = 0.02 * abs(math.sin(math.pi * beat))
    crouch = 0.06 * max(0.0, math.sin(2 * math.pi * beat / 16))
    sway = 0.04 * math.sin(math.pi * beat / 2)
    lean = 0.03 * math.sin(math.pi * beat / 8)  # the torso tilts slowly side to side
    cx, hip_y = 0.5 + sway, 0.62 + bob + crouch
    shoulder_y = hip_y - 0.25 + crouch / 2
    head_y = shoulder_y - 0.12
    hx, sx0 = cx + lean, cx + lean / 2  # head and shoulders follow the lean
    left_arm = math.pi * (0.5 + 0.45 * math.sin(math.pi * beat / 4))
    right_arm = math.pi * (0.5 + 0.45 * math.sin(math.pi * beat / 4 + math.pi))
    pts: list[tuple[float, float, float]] = [(hx, head_y, 1.0)]  # nose
    for i in range(1, 11):  # eyes, ears, mouth around the nose
        side = -1 if i % 2 else 1
        pts.append((hx + side * 0.015 * (1 + i // 4), head_y - 0.02 + 0.01 * (i // 5), 0.9))
    shoulders = [(sx0 + 0.09, shoulder_y), (sx0 - 0.09, shoulder_y)]  # 11 left, 12 right
    arms = []
    for (sx, sy), angle, side in ((shoulders[0], left_arm, 1), (shoulders[1], right_arm, -1)):
        ex, ey = sx + side * 0.12 * math.sin(angle), sy + 0.12 * math.cos(angle)
        wx, wy = ex + side * 0.11 * math.sin(angle), ey + 0.11 * math.cos(angle)
        arms.append(((ex, ey), (wx, wy)))
    pts += [(x, y, 1.0) for x, y in shoulders]
    pts += [(*arms[0][0], 1.0), (*arms[1][0], 1.0), (*arms[0][1], 1.0), (*arms[1][1], 1.0)]
    for k in range(17, 23):  # pinky, index, thumb of each hand, near the wrists
        wx, wy = arms[(k - 17) % 2][1]
        pts.append((wx + 0.01 * ((k - 17) // 2 - 1), wy + 0.015, 0.8))
    hips = [(cx + 0.06, hip_y), (cx - 0.06, hip_y)]
    pts += [(x, y, 1.0) for x, y in hips]
    knee_y = hip_y + 0.17 - crouch
    ankle_y = 0.97
    pts += [(cx + 0.07 - sway / 2, knee_y, 1.0), (cx - 0.07 - sway / 2, knee_y, 1.0)]
    pts += [(0.57, ankle_y, 0.9), (0.43, ankle_y, 0.9)]
    pts += [(0.56, ankle_y + 0.01, 0.8), (0.44, ankle_y + 0.01, 0.8)]
    pts += [(0.6, ankle_y + 0.015, 0.8), (0.40, ankle_y + 0.015, 0.8)]
    assert len(pts) == LANDMARK_COUNT
    return pts


def quantize(points: list[tuple[float, float, float]]) -> tuple[int, ...]:
    """Landmarks as the wire's 0..65535 integers, clamped to the frame."""
    return tuple(round(min(1.0, max(0.0, v)) * QUANT) for p in points for v in p)


def points(body: list[tuple[float, float, float]]) -> np.ndarray:
    """``[33, 3]`` as :class:`client.pose_features.PoseFeatures` takes them: x in frame
    heights, y, visibility."""
    array = np.array(body, dtype=np.float64)
    array[:, 0] *= ASPECT
    return array
