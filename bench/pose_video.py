"""A test video of a real person: scikit-image's astronaut photo, still, then moving, then still.

The photo (a real upper body, 512x512) sits in a 640x480 frame; in the moving part
each frame shifts, scales and rotates it a little more along smooth curves, so a pose
tracker sees a body that moves the way a filmed one does. Written with opencv as
Motion-JPEG, which every opencv build can read back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 640, 480
FPS = 30


@dataclass(frozen=True)
class Script:
    still_before: int = 45  # frames
    moving: int = 90
    still_after: int = 45

    @property
    def frames(self) -> int:
        return self.still_before + self.moving + self.still_after

    def moves(self, index: int) -> bool:
        return self.still_before <= index < self.still_before + self.moving


def astronaut() -> np.ndarray:
    """The photo, RGB uint8 [512, 512, 3] (needs scikit-image, a dev dependency)."""
    from skimage import data

    return np.asarray(data.astronaut())  # type: ignore[no-untyped-call]


def _placement(index: int, script: Script) -> tuple[float, float, float, float]:
    """(shift x, shift y in pixels, scale, rotation in degrees) of frame ``index``."""
    k = min(max(index - script.still_before, 0), script.moving)
    t = k / FPS
    return (
        40 * math.sin(2 * math.pi * 0.7 * t),
        20 * math.sin(2 * math.pi * 0.45 * t),
        1.0 + 0.12 * math.sin(2 * math.pi * 0.3 * t),
        10 * math.sin(2 * math.pi * 0.5 * t),
    )


def frame(photo: np.ndarray, index: int, script: Script) -> np.ndarray:
    """RGB uint8 [480, 640, 3]: the photo fitted to the frame's height, then placed."""
    import cv2

    dx, dy, scale, angle = _placement(index, script)
    fit = HEIGHT / photo.shape[0]
    centre = (photo.shape[1] / 2, photo.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, fit * scale)
    matrix[0, 2] += WIDTH / 2 - centre[0] + dx
    matrix[1, 2] += HEIGHT / 2 - centre[1] + dy
    return np.asarray(
        cv2.warpAffine(photo, matrix, (WIDTH, HEIGHT), borderMode=cv2.BORDER_CONSTANT)
    )


def write(path: Path, script: Script = Script()) -> Path:
    """Write the video to ``path`` (.avi) and return it."""
    import cv2

    photo = astronaut()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"opencv cannot write Motion-JPEG to {path}")
    try:
        for index in range(script.frames):
            writer.write(cv2.cvtColor(frame(photo, index, script), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path
