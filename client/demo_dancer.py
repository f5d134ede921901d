"""The demo dancer: a built-in body for players with no camera, and for tests and benchmarks.

A choreography at 120 BPM that moves through clearly different poses, eight beats each,
so that every feature and every groove control it drives swings through its range:

1. standing, a small bob         5. arms spread wide, leaning left and right
2. bouncing, hips swaying        6. jumping jacks: big and fast
3. both hands high, waving       7. frozen still
4. crouched low, heavy bounce    8. one hand up, one down, swaying

It is written once by :func:`write` into ``assets/demo_dancer.npz`` (``python -m
client.demo_dancer``) as a landmark sequence at 30 frames a second, in mediapipe's
33-point topology and normalized image coordinates of a 640x480 frame (y down, the
body's left on the image's right, as a camera that faces you sees it). The game reads
that file; :func:`landmarks_at` is how it was made.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

ASSET = Path(__file__).resolve().parent.parent / "assets" / "demo_dancer.npz"
FPS = 30
BPM = 120.0
BEATS_PER_MOVE = 8
WIDTH, HEIGHT = 640, 480  # the frame the coordinates are normalized to
LANDMARKS = 33
# Landmark indices (mediapipe pose): the ones the choreography places itself.
NOSE, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 0, 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28


@dataclass(frozen=True)
class Shape:
    """A body's pose. Angles in radians; arm angles from hanging down (0) through
    straight out (pi/2) to straight up (pi); sizes in frame heights."""

    x: float = 0.5  # hip centre, across the frame
    lift: float = 0.0  # the whole body up (a bounce or a jump)
    crouch: float = 0.0  # 0 standing .. 1 deep squat
    lean: float = 0.0  # torso tilt, positive to the image's right
    left_arm: float = 0.25  # the body's left arm (on the image's right)
    right_arm: float = 0.25
    elbow: float = 0.2  # how much the forearms bend further up
    stance: float = 0.07  # half the distance between the ankles


def _mix(a: Shape, b: Shape, w: float) -> Shape:
    return Shape(*(u + (v - u) * w for u, v in zip(_values(a), _values(b), strict=True)))


def _values(shape: Shape) -> tuple[float, ...]:
    return (
        shape.x,
        shape.lift,
        shape.crouch,
        shape.lean,
        shape.left_arm,
        shape.right_arm,
        shape.elbow,
        shape.stance,
    )


def _move(index: int, beat: float) -> Shape:
    """Move ``index`` (0..7) at ``beat`` beats into it."""
    bounce = abs(math.sin(math.pi * beat))  # 0 on the beat, 1 between beats
    swing = math.sin(math.pi * beat / 2)  # one side to the other every two beats
    if index == 0:  # standing, a small bob
        return Shape(lift=0.008 * bounce)
    if index == 1:  # bouncing, hips swaying
        return Shape(x=0.5 + 0.05 * swing, lift=0.03 * bounce, crouch=0.15, left_arm=0.5,
                     right_arm=0.5, elbow=0.9)  # fmt: skip
    if index == 2:  # both hands high, waving
        wave = 0.25 * math.sin(math.pi * beat)
        return Shape(lift=0.01 * bounce, left_arm=2.8 + wave, right_arm=2.8 - wave, elbow=0.1)
    if index == 3:  # crouched low, heavy bounce
        return Shape(lift=0.02 * bounce, crouch=0.85 - 0.15 * bounce, left_arm=0.6,
                     right_arm=0.6, elbow=1.2, stance=0.12)  # fmt: skip
    if index == 4:  # arms spread wide, leaning left and right
        return Shape(lean=0.3 * math.sin(math.pi * beat / 4), left_arm=1.55, right_arm=1.55,
                     elbow=0.0, stance=0.1)  # fmt: skip
    if index == 5:  # jumping jacks: big and fast, twice a beat
        jack = abs(math.sin(math.pi * beat))
        return Shape(lift=0.06 * jack, left_arm=0.2 + 2.7 * jack, right_arm=0.2 + 2.7 * jack,
                     elbow=0.0, stance=0.05 + 0.12 * jack)  # fmt: skip
    if index == 6:  # frozen still, mid-pose
        return Shape(left_arm=1.0, right_arm=0.3, elbow=0.5, crouch=0.1)
    # one hand up, one down, swaying
    return Shape(x=0.5 + 0.06 * swing, lift=0.015 * bounce, left_arm=2.9, right_arm=0.15,
                 lean=0.08 * swing)  # fmt: skip


def shape_at(t: float) -> Shape:
    """The dancer's shape ``t`` seconds into the loop; moves blend over half a beat."""
    beats = t * BPM / 60.0
    loop = 8 * BEATS_PER_MOVE
    beats %= loop
    index, beat = divmod(beats, BEATS_PER_MOVE)
    shape = _move(int(index), beat)
    blend = 0.5
    if beat > BEATS_PER_MOVE - blend:  # ease into the next move
        w = (beat - (BEATS_PER_MOVE - blend)) / blend
        w = w * w * (3 - 2 * w)
        following = _move((int(index) + 1) % 8, beat - BEATS_PER_MOVE)
        shape = _mix(shape, following, w)
    return shape


def landmarks_at(t: float) -> np.ndarray:
    """``[33, 4]``: x, y (normalized to a 640x480 frame), z (0) and visibility."""
    return _body(shape_at(t))


def _body(s: Shape) -> np.ndarray:
    aspect = WIDTH / HEIGHT  # lengths below are in frame heights; x is in frame widths
    pts = np.zeros((LANDMARKS, 4))
    pts[:, 3] = 1.0

    def put(i: int, x: float, y: float, visibility: float = 1.0) -> None:
        pts[i] = (s.x + x / aspect, y, 0.0, visibility)

    floor = 0.93
    leg = 0.36 * (1 - 0.4 * s.crouch)  # how high the hips stand over the ankles
    hip_y = floor - leg - s.lift
    up = (math.sin(s.lean), -math.cos(s.lean))  # the torso's direction, image axes
    side = (math.cos(s.lean), math.sin(s.lean))  # towards the image's right
    torso, shoulders, hips = 0.24, 0.085, 0.055
    sx, sy = up[0] * torso, hip_y + up[1] * torso  # shoulder centre, relative x
    put(L_HIP, hips * side[0], hip_y + hips * side[1])
    put(R_HIP, -hips * side[0], hip_y - hips * side[1])
    put(L_SHOULDER, sx + shoulders * side[0], sy + shoulders * side[1])
    put(R_SHOULDER, sx - shoulders * side[0], sy - shoulders * side[1])
    head = 0.11
    nx, ny = sx + up[0] * head, sy + up[1] * head
    put(NOSE, nx, ny)
    # Eyes (inner, centre, outer), ears and mouth around the nose: 1-10.
    face = [
        (1, 0.01, -0.015), (2, 0.018, -0.016), (3, 0.026, -0.015),
        (4, -0.01, -0.015), (5, -0.018, -0.016), (6, -0.026, -0.015),
        (7, 0.04, -0.005), (8, -0.04, -0.005), (9, 0.012, 0.02), (10, -0.012, 0.02),
    ]  # fmt: skip
    for i, fx, fy in face:
        put(i, nx + fx * side[0] - fy * up[0], ny + fx * side[1] - fy * up[1], 0.95)
    upper, lower = 0.13, 0.12
    for shoulder, elbow, wrist, angle, out in (
        (L_SHOULDER, L_ELBOW, L_WRIST, s.left_arm, 1.0),
        (R_SHOULDER, R_ELBOW, R_WRIST, s.right_arm, -1.0),
    ):
        ax, ay = (pts[shoulder, 0] - s.x) * aspect, pts[shoulder, 1]
        ex, ey = ax + out * upper * math.sin(angle), ay + upper * math.cos(angle)
        fore = angle + s.elbow
        wx, wy = ex + out * lower * math.sin(fore), ey + lower * math.cos(fore)
        put(elbow, ex, ey)
        put(wrist, wx, wy)
        # Pinky, index and thumb (17-22, left and right alternating) just past the wrist.
        hand = 17 if out > 0 else 18
        for k, spread in enumerate((-0.012, 0.0, 0.012)):
            put(hand + 2 * k, wx + out * 0.02 * math.sin(fore) + spread,
                wy + 0.02 * math.cos(fore), 0.9)  # fmt: skip
    knee_out = 0.02 + 0.08 * s.crouch  # squatting knees push outwards
    for hip, knee, ankle, out in ((L_HIP, L_KNEE, L_ANKLE, 1.0), (R_HIP, R_KNEE, R_ANKLE, -1.0)):
        hx = (pts[hip, 0] - s.x) * aspect
        ax = out * s.stance
        put(knee, (hx + ax) / 2 + out * knee_out, (pts[hip, 1] + floor) / 2 - 0.02 * s.crouch)
        put(ankle, ax, floor)
        put(ankle + 2, ax - out * 0.01, floor + 0.02, 0.9)  # heel
        put(ankle + 4, ax + out * 0.035, floor + 0.025, 0.9)  # foot index
    return pts


def sequence(seconds: float | None = None) -> np.ndarray:
    """``[frames, 33, 4]`` float32 at :data:`FPS`: one whole loop unless ``seconds``."""
    if seconds is None:
        seconds = 8 * BEATS_PER_MOVE * 60.0 / BPM
    frames = round(seconds * FPS)
    return np.stack([landmarks_at(i / FPS) for i in range(frames)]).astype(np.float32)


def write(path: Path = ASSET) -> Path:
    np.savez_compressed(
        path,
        landmarks=sequence().astype(np.float16),
        fps=np.array(FPS),
        size=np.array([WIDTH, HEIGHT]),
    )
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m client.demo_dancer",
        description="Write the demo dancer's landmark sequence (one 32-second loop at 30 "
        "frames a second) from its choreography.",
    )
    parser.add_argument(
        "--out", type=Path, default=ASSET, help="where to write it (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logger.info("wrote %s", write(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
