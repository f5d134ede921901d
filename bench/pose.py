"""How fast is pose tracking? ``python -m bench.pose --json``

Frames per second of the whole client path -- video source (decode) -> mediapipe
PoseLandmarker in VIDEO mode -> pose features -- on a 640x480 video of a real person
moving (scikit-image's astronaut photo, shifted, scaled and rotated), for the lite
model and for the full one when it is shipped, one frame after another on this
thread, as fast as they go; and each frame's latency (read to features), p50 and p99.
The last line printed is one JSON object:
``{"lite_fps", "lite_p50_ms", "lite_p99_ms", "full_fps", ...}`` (``full_*`` null when
the full model is not shipped). Needs the dev dependencies (scikit-image).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import pose_video
from bench.report import report
from client.pose_features import PoseFeatures
from client.pose_source import VideoSource
from client.pose_tracker import MODELS, Landmarker, track


def measure(model: Path, video: Path, frames: int, warmup: int) -> dict[str, float]:
    source = VideoSource(video, realtime=False)
    detector = Landmarker(model)
    features = PoseFeatures()
    latencies = []
    found = 0
    try:
        for _ in range(warmup):
            track(source.read(), detector, features)
        started = time.perf_counter()
        for _ in range(frames):
            at = time.perf_counter()
            pose = track(source.read(), detector, features)
            latencies.append(time.perf_counter() - at)
            found += pose.landmarks is not None
        elapsed = time.perf_counter() - started
    finally:
        detector.close()
        source.close()
    ms = np.array(latencies) * 1000
    return {
        "fps": round(frames / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "found": round(found / frames, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pose", description=__doc__)
    parser.add_argument(
        "--frames", type=int, default=300, help="timed frames per model (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup", type=int, default=30, help="untimed frames first (default: %(default)s)"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args(argv)
    result: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        video = pose_video.write(Path(tmp) / "astronaut.avi")
        for name, path in MODELS.items():
            if not path.is_file():
                result.update({f"{name}_fps": None, f"{name}_p50_ms": None, f"{name}_p99_ms": None})
                continue
            figures = measure(path, video, args.frames, args.warmup)
            result.update({f"{name}_{key}": value for key, value in figures.items()})
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
