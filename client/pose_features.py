"""Pose features: a body's 33 landmarks, frame after frame -> a dozen numbers to play with.

Input, per frame: ``[33, 3]`` landmarks in mediapipe's pose topology (0 nose, 11/12
shoulders, 13/14 elbows, 15/16 wrists, 23/24 hips, 25/26 knees, 27/28 ankles; odd is
the body's left, on the image's right for a camera facing the player): x and y in
frame heights (x already times the frame's width / height, so both axes share one
scale; y points down) and visibility 0..1. A landmark that is not finite, has a
visibility below :data:`MIN_VISIBILITY`, or lies absurdly far off the frame is
missing. A frame with nobody in it is ``None``. Time is passed in, in seconds.

Output: the vector ``shared.pose_mapping.FEATURES`` names, in its order (its table
gives every unit, range and rest value):

- present: 1 while a readable body is seen, 0 when not, smoothed over 0.2 s.
- energy: the mean speed of 13 body landmarks (nose, shoulders, elbows, wrists, hips,
  knees, ankles), each weighted by how sure the model is of it (visibility 0.5 counts
  nothing, 0.9 and above fully), body sizes per second, smoothed over 0.3 s.
  Positions are smoothed over 0.05 s before they are differentiated: a landmark's
  jitter divided by a 60 FPS frame interval would read as fast motion, while its
  smoothed jitter divided by the filter's time constant does not depend on the
  frame rate. It falls to 0 when the body is still.
- burst: energy minus its 2-second average, 0 when below: a sudden surge of movement.
- left_hand, right_hand: a wrist's height above its own shoulder (the other shoulder
  when its own is not seen), body sizes; ~-1.1 hanging, 0 level, ~+1.1 straight up.
- spread: twice the mean horizontal distance of the seen wrists from the shoulders'
  centre, body sizes (~0.75 arms down, ~3 arms straight out).
- crouch: 1 - (hips to ankles height) / (1.7 body sizes), a standing adult's legs
  being 1.7 torsos (Drillis & Contini's segment lengths); from the knees (0.85
  torsos below the hips) when the ankles are not seen. 0 standing, ~0.5 a deep squat.
- lean: the sine of the torso's (hips' centre to shoulders' centre) tilt from
  upright, positive when the shoulders lean to the image's right; it needs both
  shoulders and both hips.
- sway: the horizontal speed of the hips' centre, body sizes per second, smoothed over 0.5 s.
- x_position: the body's centre across the frame, -1 at the left edge, +1 at the right.
- tempo, tempo_confidence: the period of the body's vertical bounce over the last 5
  seconds. The signal is the vertical velocity of the shoulders' and hips' mean
  height, in body sizes per second, resampled to 50 Hz and low-passed at 0.05 s; the
  period is the lag of its autocorrelation's best peak between 60 and 180 BPM (each
  lag a Pearson correlation, so a perfectly periodic signal reads 1; the shortest
  lag within 90 % of the best, so a bounce on every beat is not read at half speed),
  refined by a parabola through the peak. Tempo is 0 when that correlation is below
  0.5, the velocity's standard deviation is below 0.05 body sizes/s, or fewer than
  3 seconds are at hand. Recomputed 10 times a second; confidence is the correlation.

A *body size* is the torso's length (hips' centre to shoulders' centre, or one side's
hip to shoulder when only that side is seen), or the shoulder width / 0.75 or the hip
width / 0.5 when those are larger (a body turned sideways keeps its torso; one bent
towards the camera keeps its shoulders). The smoothing filters are exponential,
``1 - exp(-dt / tau)`` a frame, so they mean the same at 15 and at 60 frames a
second. A feature the frame cannot measure (a wrist out of the frame, nobody there)
drifts to its rest value over 2 s, so a short occlusion holds it and a player who
left reads as standing still. present and the geometric features start at their
first measurement rather than ramping up from rest.

Time: a frame whose ``now`` is not after the last one adds nothing (coarse clocks
stamp frames alike: Windows' monotonic clock ticks every 15.6 ms); a clock that runs
backwards starts the motion histories afresh and keeps the smoothed values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.pose_mapping import (
    FEATURE_COUNT,
    FEATURE_HI,
    FEATURE_INDEX,
    FEATURE_LO,
    FEATURE_NAMES,
    FEATURE_REST,
)

__all__ = ["FEATURE_NAMES", "FrameGeometry", "PoseFeatures", "frame_geometry", "periodicity"]

# mediapipe pose landmarks the features read.
NOSE = 0
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
LANDMARKS = 33
# The landmarks whose speed is motion energy: the body, not the face or the fingers
# (ten face points moving with the nose would make the head count eleven times).
MOVING = (NOSE, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
_MOVING = np.array(MOVING)
_HIPS_IN_MOVING = (MOVING.index(L_HIP), MOVING.index(R_HIP))

MIN_VISIBILITY = 0.5  # mediapipe's own threshold for drawing a landmark
# Motion energy trusts a landmark fully from this visibility, and not at all at
# MIN_VISIBILITY: the model's doubtful guesses are where its jitter lives. On a still
# photo (the astronaut, VIDEO mode) landmarks under 0.7 visibility wandered at 0.4-1.9
# body sizes/s, the sure ones under 0.3, while moving the photo drove all to ~1-3.
SURE_VISIBILITY = 0.9
MAX_COORD = 100.0  # frame heights; beyond this a coordinate is garbage, not a body
MIN_SIZE = 0.02  # frame heights; a smaller body is a misdetection or too far to read
SHOULDERS_PER_TORSO = 0.75
HIPS_PER_TORSO = 0.5
LEGS_PER_TORSO = 1.7  # hip joint to ankle, standing (Drillis & Contini: 0.49 H / 0.288 H)
THIGH_PER_TORSO = 0.85  # hip joint to knee
DEFAULT_ASPECT = 4 / 3  # a 640x480 webcam

# Time constants of the smoothing, seconds.
POSITION_TAU = 0.05
SIZE_TAU = 0.5
PRESENT_TAU = 0.2
ENERGY_TAU = 0.3
ENERGY_SLOW_TAU = 2.0  # the average a burst stands out from
SHAPE_TAU = 0.1  # hands, spread, crouch, lean, position
SWAY_TAU = 0.5
RELAX_TAU = 2.0  # how fast an unmeasured feature drifts to its rest value
MAX_GAP = 0.5  # s; motion across a longer gap between frames is not measured
MAX_DT = 3600.0  # s; a longer step between frames counts as this long

# Tempo.
RATE = 50.0  # Hz, the bounce signal's grid
WINDOW_S = 5.0
TEMPO_EVERY_S = 0.1
# The bounce is read from the body's vertical velocity, not its height: a slow crouch
# under a bounce tilts the height's autocorrelation towards short lags (by ~7 BPM on
# the bots' dancer), its velocity's hardly. The low-pass calms tracking jitter, which
# differentiation amplifies; at 0.05 s it keeps 180 BPM's 3 Hz at 0.73.
BOUNCE_TAU = 0.05
MIN_BPM, MAX_BPM = 60.0, 180.0
MIN_CONFIDENCE = 0.5
MIN_BOUNCE = 0.05  # body sizes/s, standard deviation of the bounce's velocity
OCTAVE_SHARE = 0.9

_WINDOW = round(WINDOW_S * RATE)
_MAX_STEPS = math.ceil(MAX_GAP * RATE) + 1  # grid samples one frame can add

# The smoothed channels, and the features they feed.
_CHANNELS = (
    "present",
    "energy",
    "energy_slow",
    "left_hand",
    "right_hand",
    "spread",
    "crouch",
    "lean",
    "sway",
    "x_position",
)
_CH = {name: i for i, name in enumerate(_CHANNELS)}
_GEOMETRY = ("left_hand", "right_hand", "spread", "crouch", "lean", "x_position")
_TAUS = {
    "present": PRESENT_TAU,
    "energy": ENERGY_TAU,
    "energy_slow": ENERGY_SLOW_TAU,
    "sway": SWAY_TAU,
}
_TAU = np.array([_TAUS.get(n, SHAPE_TAU) for n in _CHANNELS])
_REST = np.array([0.0 if n == "energy_slow" else FEATURE_REST[FEATURE_INDEX[n]] for n in _CHANNELS])
# Channels that start at their first measurement (whether a body is there, and its
# shape), not at rest; the speeds start at rest, 0, which is what they are at first.
_SHAPES = np.array([n in (*_GEOMETRY, "present") for n in _CHANNELS])


@dataclass(frozen=True, slots=True)
class FrameGeometry:
    """One frame's body shape. Lengths in body sizes; NaN where the frame cannot say."""

    size: float  # frame heights, always finite and >= MIN_SIZE
    left_hand: float
    right_hand: float
    spread: float
    crouch: float
    lean: float
    x_position: float  # -1..1 across the frame (may pass the edges)
    centre_y: float  # frame heights: mean of the shoulders' and the hips' heights


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def visible(landmarks: np.ndarray) -> np.ndarray:
    """``[33]`` bool: which landmarks are there (finite, visible enough, near the frame)."""
    magnitude = np.abs(landmarks)  # NaN stays NaN, and NaN compares False below: missing
    return np.asarray(
        (magnitude[:, 0] <= MAX_COORD)
        & (magnitude[:, 1] <= MAX_COORD)
        & (magnitude[:, 2] <= MAX_COORD)
        & (landmarks[:, 2] >= MIN_VISIBILITY)
    )


def as_landmarks(landmarks: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """``[33, 3]`` float64, or ValueError naming the shape that came instead."""
    array = np.asarray(landmarks, dtype=np.float64)
    if array.shape != (LANDMARKS, 3):
        raise ValueError(f"landmarks must have shape ({LANDMARKS}, 3), got {array.shape}")
    return array


def frame_geometry(
    landmarks: Sequence[Sequence[float]] | np.ndarray, aspect: float = DEFAULT_ASPECT
) -> FrameGeometry | None:
    """The body's shape in one frame, or None if no body can be read from it
    (no shoulders or hips seen, or smaller than :data:`MIN_SIZE`)."""
    if not (math.isfinite(aspect) and aspect > 0):
        raise ValueError(f"aspect must be a positive finite number, got {aspect!r}")
    array = as_landmarks(landmarks)
    return _geometry(array, visible(array), aspect)


def _geometry(array: np.ndarray, ok: np.ndarray, aspect: float) -> FrameGeometry | None:
    # Plain floats from here: a dozen numpy calls on 2-vectors would cost more than all this.
    pts = array[:, :2].tolist()
    seen = ok.tolist()

    def at(i: int) -> tuple[float, float] | None:
        return (pts[i][0], pts[i][1]) if seen[i] else None

    shoulders = (at(L_SHOULDER), at(R_SHOULDER))
    hips = (at(L_HIP), at(R_HIP))
    torsos = [(s[0] - h[0], s[1] - h[1]) for s, h in zip(shoulders, hips, strict=True) if s and h]
    # The torso: hips' centre to shoulders' centre, or one side's hip to shoulder.
    torso = (_mean([v[0] for v in torsos]), _mean([v[1] for v in torsos])) if torsos else None
    sizes = [math.hypot(*torso)] if torso else []
    l_sh, r_sh = shoulders
    l_hip, r_hip = hips
    if l_sh and r_sh:
        sizes.append(math.dist(l_sh, r_sh) / SHOULDERS_PER_TORSO)
    if l_hip and r_hip:
        sizes.append(math.dist(l_hip, r_hip) / HIPS_PER_TORSO)
    size = max(sizes, default=0.0)
    if not size >= MIN_SIZE:
        return None

    def hand(
        wrist: int, own: tuple[float, float] | None, other: tuple[float, float] | None
    ) -> float:
        w, shoulder = at(wrist), own or other
        return (shoulder[1] - w[1]) / size if w and shoulder else math.nan

    spread = math.nan
    if l_sh and r_sh:
        mid_x = (l_sh[0] + r_sh[0]) / 2
        wrists = [p[0] for p in (at(L_WRIST), at(R_WRIST)) if p]
        if wrists:
            spread = 2 * _mean([abs(x - mid_x) for x in wrists]) / size

    hip_y = _mean([h[1] for h in hips if h])
    shoulder_y = _mean([s[1] for s in shoulders if s])
    crouch = math.nan
    ankles = [p[1] for p in (at(L_ANKLE), at(R_ANKLE)) if p]
    knees = [p[1] for p in (at(L_KNEE), at(R_KNEE)) if p]
    if not math.isnan(hip_y) and (ankles or knees):
        legs = (
            (_mean(ankles) - hip_y) / LEGS_PER_TORSO
            if ankles
            else (_mean(knees) - hip_y) / THIGH_PER_TORSO
        )
        crouch = min(1.0, max(0.0, 1.0 - legs / size))

    # Lean needs both sides: one side's hip-to-shoulder line slants (shoulders are
    # wider than hips) even when the body stands upright.
    lean = math.nan
    if torso is not None and len(torsos) == 2 and math.hypot(*torso) >= MIN_SIZE / 2:
        lean = torso[0] / math.hypot(*torso)

    centres = [(a[0] + b[0]) / 2 for a, b in (shoulders, hips) if a and b]
    x_position = 2 * _mean(centres) / aspect - 1 if centres else math.nan
    heights = [y for y in (shoulder_y, hip_y) if not math.isnan(y)]
    return FrameGeometry(
        size=size,
        left_hand=hand(L_WRIST, l_sh, r_sh),
        right_hand=hand(R_WRIST, r_sh, l_sh),
        spread=spread,
        crouch=crouch,
        lean=lean,
        x_position=x_position,
        centre_y=_mean(heights),
    )


def periodicity(signal: np.ndarray, rate: float, min_amplitude: float = 0.0) -> tuple[float, float]:
    """``(bpm, confidence)`` of a signal sampled at ``rate`` Hz: see the module docstring.

    bpm is 0 when the signal is too short (under 3 of the slowest periods), too
    small (standard deviation under ``min_amplitude``) or its best correlation is
    under :data:`MIN_CONFIDENCE`; confidence is that correlation, 0..1.
    """
    x = np.asarray(signal, dtype=np.float64)
    n = x.size
    k_lo = math.ceil(rate * 60.0 / MAX_BPM)
    k_hi = math.floor(rate * 60.0 / MIN_BPM)
    if n < 3 * k_hi or not np.isfinite(x).all():
        return 0.0, 0.0
    x = x - x.mean()
    if not float(x.std()) > max(min_amplitude, 1e-12):
        return 0.0, 0.0
    # Every lag's Pearson correlation of x[:-k] with x[k:], from one FFT for the
    # cross sums and running sums for each part's mean and variance.
    nfft = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(x, nfft)
    cross = np.fft.irfft(spectrum * spectrum.conj(), nfft)
    lags = np.arange(k_lo - 1, k_hi + 2)
    s1 = np.concatenate(([0.0], np.cumsum(x)))
    s2 = np.concatenate(([0.0], np.cumsum(x * x)))
    m = (n - lags).astype(np.float64)
    mean_a, mean_b = s1[n - lags] / m, (s1[n] - s1[lags]) / m
    var_a = s2[n - lags] / m - mean_a**2
    var_b = (s2[n] - s2[lags]) / m - mean_b**2
    cov = cross[lags] / m - mean_a * mean_b
    scale = np.sqrt(np.maximum(var_a * var_b, 0.0))
    r = np.where(scale > 1e-18, cov / np.where(scale > 1e-18, scale, 1.0), 0.0)
    inner = np.arange(1, lags.size - 1)  # lags k_lo..k_hi; their neighbours come along
    peaks = inner[(r[inner] >= r[inner - 1]) & (r[inner] > r[inner + 1]) & (r[inner] > 0)]
    if peaks.size == 0:
        return 0.0, 0.0
    best = float(r[peaks].max())
    # A bounce on every beat also correlates at two beats: the shortest good lag wins.
    i = int(peaks[r[peaks] >= OCTAVE_SHARE * best][0])
    confidence = min(1.0, float(r[i]))
    if confidence < MIN_CONFIDENCE:
        return 0.0, confidence
    left, mid, right = float(r[i - 1]), float(r[i]), float(r[i + 1])
    curve = left - 2 * mid + right
    shift = 0.5 * (left - right) / curve if curve < 0 else 0.0
    lag = float(lags[i]) + max(-0.5, min(0.5, shift))
    return min(MAX_BPM, max(MIN_BPM, 60.0 * rate / lag)), confidence


class _Bounce:
    """The body's vertical velocity on a uniform grid, the last 5 s of it."""

    def __init__(self) -> None:
        self.ring = np.zeros(_WINDOW)
        self.count = 0  # samples written since the last clear
        self.last: tuple[float, float] | None = None  # (time, height) of the last frame
        self.next_at = 0.0  # the grid's next sample time
        self.height = 0.0  # at the grid's last sample
        self.velocity = 0.0  # low-passed

    def clear(self) -> None:
        self.count = 0
        self.last = None

    def add(self, now: float, height: float) -> None:
        """A frame's height (body sizes) at ``now``; NaN when it was not seen."""
        if math.isnan(height):
            if self.last is not None and now - self.last[0] > MAX_GAP:
                self.clear()
            return
        if self.last is None or now - self.last[0] > MAX_GAP:
            self.clear()
            self.last, self.next_at = (now, height), now
            self.height, self.velocity = height, 0.0
        t0, y0 = self.last
        alpha = 1.0 - math.exp(-1.0 / (RATE * BOUNCE_TAU))
        # Counted, not looped until caught up: at a clock reading of 1e300 adding 1/50 s
        # changes nothing, and a frame must never hang the tracker.
        steps = min(int((now - self.next_at) * RATE) + 1, _MAX_STEPS) if now >= self.next_at else 0
        for k in range(steps):
            at = self.next_at + k / RATE
            # Linear between frames: frames come at 15-60 FPS, a bounce is at most 3 Hz.
            y = y0 if now == t0 else y0 + (height - y0) * (at - t0) / (now - t0)
            self.velocity += alpha * ((y - self.height) * RATE - self.velocity)
            self.height = y
            self.ring[self.count % _WINDOW] = self.velocity
            self.count += 1
        self.next_at = max(self.next_at + steps / RATE, now) if steps else self.next_at
        self.last = (now, height)

    def signal(self) -> np.ndarray:
        """The kept samples, oldest first."""
        if self.count < _WINDOW:
            return self.ring[: self.count]
        split = self.count % _WINDOW
        return np.concatenate((self.ring[split:], self.ring[:split]))


class PoseFeatures:
    """Turns a stream of frames into the smoothed feature vector, one :meth:`update` a frame."""

    def __init__(self, aspect: float = DEFAULT_ASPECT) -> None:
        """``aspect``: the frame's width / height, for x_position (x runs 0..aspect)."""
        if not (math.isfinite(aspect) and aspect > 0):
            raise ValueError(f"aspect must be a positive finite number, got {aspect!r}")
        self.aspect = aspect
        self._time: float | None = None
        self._state = _REST.copy()
        self._started = np.zeros(len(_CHANNELS), dtype=bool)
        self._size = math.nan
        self._pos = np.full((len(MOVING), 2), np.nan)
        self._vis = np.zeros(len(MOVING))  # 0 where a landmark was missing last frame
        self._bounce = _Bounce()
        self._tempo = (0.0, 0.0)
        self._tempo_due = -math.inf
        self._out = FEATURE_REST.copy()

    def update(
        self,
        landmarks: Sequence[Sequence[float]] | np.ndarray | None,
        now: float,
        aspect: float | None = None,
    ) -> np.ndarray:
        """The features after a frame seen at ``now`` (None: nobody in it); a new array.

        ``aspect`` overrides the constructor's for this frame.
        """
        array = None if landmarks is None else as_landmarks(landmarks)
        if not math.isfinite(now) or now == self._time:
            return self._out.copy()
        if self._time is not None and now < self._time:
            self._restart()
        ratio = self.aspect if aspect is None else aspect
        if not (math.isfinite(ratio) and ratio > 0):
            raise ValueError(f"aspect must be a positive finite number, got {ratio!r}")
        # Capped: after an hour every filter has settled, and a reading of 1e308 must
        # not overflow the filters' arithmetic.
        dt = 0.0 if self._time is None else min(now - self._time, MAX_DT)
        self._time = now

        ok = np.zeros(LANDMARKS, dtype=bool) if array is None else visible(array)
        geo = None if array is None else _geometry(array, ok, ratio)
        measured = np.full(len(_CHANNELS), np.nan)
        measured[_CH["present"]] = 0.0
        if geo is None:
            ok[:] = False
        else:
            measured[_CH["present"]] = 1.0
            if math.isnan(self._size):
                self._size = geo.size
            else:
                self._size += (1.0 - math.exp(-dt / SIZE_TAU)) * (geo.size - self._size)
            for name in _GEOMETRY:
                measured[_CH[name]] = getattr(geo, name)
        self._move(array, ok, dt, measured)
        self._smooth(measured, dt)
        height = math.nan if geo is None else geo.centre_y / self._size
        self._bounce.add(now, height)
        if now >= self._tempo_due:
            self._tempo_due = now + TEMPO_EVERY_S
            self._tempo = periodicity(self._bounce.signal(), RATE, MIN_BOUNCE)
        self._out = self._assemble()
        return self._out.copy()

    def _restart(self) -> None:
        """A new timeline: forget the motion histories, keep the smoothed values."""
        self._time = None
        self._pos[:] = np.nan
        self._vis[:] = 0.0
        self._bounce.clear()
        self._tempo_due = -math.inf

    def _move(
        self, array: np.ndarray | None, ok: np.ndarray, dt: float, measured: np.ndarray
    ) -> None:
        """Smooth the moving landmarks and measure energy and sway from them."""
        now_ok = ok[_MOVING]
        if array is None or not now_ok.any():
            self._vis = np.zeros(len(MOVING))
            return
        points = array[_MOVING]
        vis = np.where(now_ok, np.minimum(points[:, 2], 1.0), 0.0)
        cur = np.where(now_ok[:, None], points[:, :2], 0.0)  # no NaN or inf in the sums
        both = now_ok & (self._vis > 0) if 0 < dt <= MAX_GAP else np.zeros_like(now_ok)
        before = self._pos
        alpha = 1.0 - math.exp(-dt / POSITION_TAU) if dt > 0 else 1.0
        # Landmarks seen in both frames move smoothly; newly seen ones start where they are.
        self._pos = np.where(
            both[:, None], before + alpha * (cur - before), np.where(now_ok[:, None], cur, before)
        )
        sure = np.clip((vis - MIN_VISIBILITY) / (SURE_VISIBILITY - MIN_VISIBILITY), 0.0, 1.0)
        was_sure = np.clip(
            (self._vis - MIN_VISIBILITY) / (SURE_VISIBILITY - MIN_VISIBILITY), 0.0, 1.0
        )
        weights = np.where(both, np.minimum(sure, was_sure), 0.0)
        total = float(weights.sum())
        if total > 0:
            step = np.where(both[:, None], self._pos - before, 0.0)
            distance = float(weights @ np.sqrt((step * step).sum(axis=1)))
            measured[_CH["energy"]] = measured[_CH["energy_slow"]] = (
                distance / total / dt / self._size
            )
        left, right = _HIPS_IN_MOVING
        if both[left] and both[right]:
            shift = self._pos[left, 0] + self._pos[right, 0] - before[left, 0] - before[right, 0]
            measured[_CH["sway"]] = abs(float(shift)) / 2 / dt / self._size
        self._vis = vis

    def _smooth(self, measured: np.ndarray, dt: float) -> None:
        known = np.isfinite(measured)
        jump = known & _SHAPES & ~self._started
        self._state[jump] = measured[jump]
        self._started |= jump
        if dt > 0:
            target = np.where(known, measured, _REST)
            tau = np.where(known, _TAU, RELAX_TAU)
            self._state += (1.0 - np.exp(-dt / tau)) * (target - self._state)

    def _assemble(self) -> np.ndarray:
        s, c = self._state, _CH
        out = np.empty(FEATURE_COUNT)
        for name in FEATURE_NAMES:
            if name in c:
                out[FEATURE_INDEX[name]] = s[c[name]]
        out[FEATURE_INDEX["burst"]] = max(0.0, float(s[c["energy"]] - s[c["energy_slow"]]))
        out[FEATURE_INDEX["tempo"]], out[FEATURE_INDEX["tempo_confidence"]] = self._tempo
        # The last guard: whatever went wrong above, nothing non-finite or out of range leaves.
        out = np.where(np.isfinite(out), out, FEATURE_REST)
        return np.clip(out, FEATURE_LO, FEATURE_HI)
