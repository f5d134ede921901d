"""Where a body comes from: a webcam, a video file, or the built-in demo dancer.

Each is a :class:`PoseSource`: ``read()`` blocks until its next frame and returns it,
never None while open. A camera gives frames as it films them; a video file gives
its frames in order and starts again at the end (paced at its own frame rate when
``realtime``, as fast as it decodes otherwise); the demo dancer gives landmarks,
not images, and needs no pose model. Frame times are the source's own seconds from
its start, increasing.

opencv stands behind the camera and the file; a missing camera, an unreadable file
or a bad option raises :class:`PoseSourceError` with a message a player can act on.
"""

from __future__ import annotations

import logging
import os
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from client import demo_dancer
from client.quiet import native_stderr_hidden

logger = logging.getLogger(__name__)


class PoseSourceError(Exception):
    """A source cannot be opened or read; the message says what to do."""


class EndOfVideo(PoseSourceError):
    """A video file read once through (``loop=False``) has no more frames."""


@dataclass(frozen=True, slots=True)
class Frame:
    time: float  # seconds since the source started, increasing
    index: int  # frames read so far, from 0
    width: int
    height: int
    image: np.ndarray | None = None  # RGB uint8 [height, width, 3]; None from the dancer
    landmarks: np.ndarray | None = None  # [33, 4] x, y, z, visibility: the dancer's own


class PoseSource(Protocol):
    name: str

    def read(self) -> Frame:
        """The next frame; blocks until there is one."""
        ...

    def close(self) -> None: ...


def open_source(
    spec: str,
    camera_size: tuple[int, int] = (640, 480),
    realtime: bool = True,
    loop: bool = True,
) -> PoseSource:
    """``camera`` or ``camera:N`` (device index N), ``demo``, or a video file's path
    (``realtime`` and ``loop`` are for files and the dancer)."""
    if spec == "demo":
        return DemoDancer(realtime=realtime)
    if spec == "camera" or spec.startswith("camera:"):
        index_text = spec.partition(":")[2] or "0"
        if not index_text.isdigit():
            raise PoseSourceError(f"a camera is camera or camera:N with N a number, got {spec!r}")
        return CameraSource(int(index_text), *camera_size)
    return VideoSource(Path(spec), realtime=realtime, loop=loop)


def _cv2() -> Any:
    import cv2  # opencv starts slowly: only sources that need it pay for it

    return cv2


class _Pace:
    """Holds frames back to their own times when ``realtime`` (the file's or the
    dancer's rate), with the clock and sleep passed in so tests run at once."""

    def __init__(
        self, realtime: bool, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self.realtime, self.sleep, self.clock = realtime, sleep, clock
        self.start = clock()

    def until(self, at: float) -> None:
        """Wait until ``at`` seconds after the start; a reader that fell behind does not."""
        if self.realtime:
            wait = self.start + at - self.clock()
            if wait > 0:
                self.sleep(wait)


class _OpenCVSource:
    """What the camera and the file share: an opencv capture turned into RGB frames."""

    name: str

    def __init__(self, capture: Any) -> None:
        self._cv2 = _cv2()
        self._capture = capture
        self._index = 0

    def _frame(self, bgr: np.ndarray, at: float) -> Frame:
        rgb = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
        frame = Frame(at, self._index, rgb.shape[1], rgb.shape[0], image=rgb)
        self._index += 1
        return frame

    def close(self) -> None:
        self._capture.release()


class CameraSource(_OpenCVSource):
    """A webcam through opencv, at about ``width`` x ``height``.

    Mirrored (``mirror``) as a selfie is, before anything else sees the frame: a player
    who steps to their right then moves right on screen, in the features and in the
    pan alike. (Mirroring only the picture shown would make them disagree.)
    """

    def __init__(
        self, index: int = 0, width: int = 640, height: int = 480, mirror: bool = True
    ) -> None:
        cv2 = _cv2()
        self.name = f"camera {index}"
        # opencv's own logging of a missing device (several lines of backend errors)
        # would only repeat what PoseSourceError says.
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            super().__init__(cv2.VideoCapture(index))
        finally:
            cv2.utils.logging.setLogLevel(level)
        if not self._capture.isOpened():
            self._capture.release()
            devices = sorted(p.name for p in Path("/dev").glob("video*"))
            found = ", ".join(devices) if devices else "none"
            raise PoseSourceError(
                f"no camera at index {index} (video devices found: {found}); "
                "try another --source camera:N, a video file, or the demo dancer (--source demo)"
            )
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue
        self._start = time.monotonic()
        self._last = -1.0
        self._mirror = mirror

    def read(self) -> Frame:
        ok, bgr = self._capture.read()
        if not ok:
            raise PoseSourceError(f"{self.name} stopped giving frames (unplugged?)")
        if self._mirror:
            bgr = self._cv2.flip(bgr, 1)
        now = max(time.monotonic() - self._start, self._last + 1e-6)
        self._last = now
        return self._frame(bgr, now)


class VideoSource(_OpenCVSource):
    """A video file, looped; frame times run on across loops."""

    def __init__(
        self,
        path: Path,
        realtime: bool = True,
        loop: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not path.is_file():
            raise PoseSourceError(f"no video file at {path}")
        if not os.access(path, os.R_OK):
            raise PoseSourceError(f"cannot read {path}: permission denied")
        cv2 = _cv2()
        self.name = path.name
        # FFmpeg prints its own complaint about a damaged file ("moov atom not found")
        # straight to stderr: PoseSourceError already says it, in words a player can use.
        with native_stderr_hidden(logger):
            super().__init__(cv2.VideoCapture(str(path)))
            ok, first = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok:
            self._capture.release()
            raise PoseSourceError(f"{path} is not a video opencv can read")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0  # some files carry no rate
        self._pending: np.ndarray | None = first
        self._pace = _Pace(realtime, sleep, clock)
        self._loop = loop

    def read(self) -> Frame:
        bgr = self._pending
        self._pending = None
        if bgr is None:
            ok, bgr = self._capture.read()
            if not ok and not self._loop:
                raise EndOfVideo(f"{self.name} ends after {self._index} frames")
            if not ok:  # the end: start again
                self._capture.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = self._capture.read()
                if not ok:
                    raise PoseSourceError(f"{self.name} cannot be read again from its start")
        at = self._index / self.fps
        self._pace.until(at)
        return self._frame(bgr, at)


def _npz_problem(exc: BaseException) -> str:
    """Why numpy could not load an .npz, in a few words."""
    text = " ".join(str(exc).split())
    if text.startswith("This file contains pickled"):  # not .npy or .npz at all
        return "not an .npz archive (nothing in it is unpickled)"
    if "allow_pickle" in text:
        return "it holds pickled Python objects, which are never loaded"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return text[:120] or type(exc).__name__


class DemoDancer:
    """The built-in dancer's landmark loop (``assets/demo_dancer.npz``)."""

    def __init__(
        self,
        path: Path = demo_dancer.ASSET,
        realtime: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = "demo dancer"
        try:
            # allow_pickle stays off: an .npz holding Python objects is refused, not run.
            with np.load(path, allow_pickle=False) as data:
                self._landmarks = data["landmarks"].astype(np.float64)
                self.fps = float(data["fps"])
                self.width, self.height = (int(v) for v in data["size"])
        except FileNotFoundError as exc:
            raise PoseSourceError(
                f"the demo dancer {path} is missing or damaged: no such file"
            ) from exc
        except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile,
                zlib.error) as exc:  # fmt: skip
            raise PoseSourceError(
                f"the demo dancer {path} is missing or damaged: {_npz_problem(exc)}"
            ) from exc
        if self._landmarks.ndim != 3 or self._landmarks.shape[1:] != (33, 4):
            raise PoseSourceError(f"the demo dancer {path} holds {self._landmarks.shape}, "
                                  "not [frames, 33, 4]")  # fmt: skip
        if (
            not len(self._landmarks)
            or not 1.0 <= self.fps <= 240.0
            or min(self.width, self.height) < 1
        ):
            raise PoseSourceError(
                f"the demo dancer {path} is missing or damaged: {len(self._landmarks)} "
                f"frames at {self.fps:g} fps, {self.width}x{self.height}"
            )
        self._pace = _Pace(realtime, sleep, clock)
        self._index = 0

    def read(self) -> Frame:
        at = self._index / self.fps
        self._pace.until(at)
        pts = self._landmarks[self._index % len(self._landmarks)]
        frame = Frame(at, self._index, self.width, self.height, landmarks=pts.copy())
        self._index += 1
        return frame

    def close(self) -> None:
        pass
