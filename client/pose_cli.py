"""``posejam pose``: watch what the pose tracker makes of a body, live or as JSON lines."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable

from client.pose_features import PoseFeatures
from client.pose_readout import readout
from client.pose_source import EndOfVideo, PoseSource, PoseSourceError, open_source
from client.pose_tracker import (
    MODELS,
    Detector,
    Landmarker,
    PoseModelError,
    PoseTracker,
    TrackedPose,
    track,
)
from client.views import has_display

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Track a body and show every pose feature and the groove and audio controls it asks for:
an arcade window with the skeleton over the picture and a bar per number, or with --json
one JSON object per frame on stdout (no window). A video file is read once through with
--json (as fast as it decodes), looped and played at its own pace in the window; the
camera and the demo dancer run until Ctrl-C or --frames.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        default="demo",
        help="camera, camera:N (device N), demo (the built-in dancer) or a video file "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        default="lite",
        help=f"pose model: {' or '.join(MODELS)} (shipped), or a .task file (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines, no window")
    parser.add_argument(
        "--frames", type=int, default=0, help="stop after this many frames; 0: no limit"
    )
    parser.set_defaults(run=run)


def _detector(source_spec: str, model: str) -> Callable[[], Detector] | None:
    if source_spec == "demo":
        return None  # the dancer brings its own landmarks
    Landmarker(model).close()  # fail here, with a clear message, not on a thread later
    return lambda: Landmarker(model)


def frame_record(pose: TrackedPose) -> dict[str, object]:
    """One frame as JSON: its time, whether a body was found, and every number shown."""

    def number(value: float) -> float:
        return round(value, 4) if math.isfinite(value) else 0.0

    record: dict[str, object] = {
        "frame": pose.index,
        "time": round(pose.time, 4),
        "found": pose.landmarks is not None,
    }
    for section, meters in readout(pose.features):
        record[section] = {m.name: number(m.value) for m in meters}
    return record


def run(args: argparse.Namespace) -> int:
    if args.frames < 0:
        print("posejam pose: --frames must be 0 or more", file=sys.stderr)
        return 2
    try:
        source = open_source(args.source, realtime=not args.json, loop=not args.json)
    except PoseSourceError as exc:
        print(f"posejam pose: {exc}", file=sys.stderr)
        return 2
    try:
        make_detector = _detector(args.source, args.model)
    except PoseModelError as exc:
        source.close()
        print(f"posejam pose: {exc}", file=sys.stderr)
        return 2
    if args.json:
        return _print_json(source, make_detector, args.frames)
    return _window(source, make_detector, args.frames)


def _print_json(
    source: PoseSource, make_detector: Callable[[], Detector] | None, frames: int
) -> int:
    detector = make_detector() if make_detector else None
    features = PoseFeatures()
    count = 0
    try:
        while not frames or count < frames:
            try:
                pose = track(source.read(), detector, features)
            except EndOfVideo:
                break
            print(json.dumps(frame_record(pose)), flush=True)
            count += 1
    except PoseSourceError as exc:
        print(f"posejam pose: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        if detector is not None:
            detector.close()
        source.close()
    return 0


def _window(source: PoseSource, make_detector: Callable[[], Detector] | None, frames: int) -> int:
    if not has_display():
        source.close()
        print(
            "posejam pose: no display to open a window on; use --json, or set "
            "ARCADE_HEADLESS=1 to draw off-screen",
            file=sys.stderr,
        )
        return 2
    from client.pose_view import run_window  # arcade opens a GL context on import

    tracker = PoseTracker(source, make_detector)
    with tracker:
        run_window(tracker, source.name, frames)
    if tracker.error is not None and not isinstance(tracker.error, EndOfVideo):
        print(f"posejam pose: {tracker.error}", file=sys.stderr)
        return 1
    return 0
