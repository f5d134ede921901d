"""Estimate the server's clock from ping/pong round trips, NTP-style.

Each exchange gives a sample: the local time the ping left (``sent``), the server
time it was answered (``server``) and the local time the pong came back
(``received``). Whatever the network did, the server's clock read ``server`` at
some instant between ``sent`` and ``received``, so each sample bounds the offset
``server - local`` to a band: ``offset - delay/2 .. offset + delay/2`` around the
midpoint. Samples with short round trips give narrow bands; long, jittery ones
give wide bands that constrain nothing, which is how the estimator trusts the
lowest-delay samples without a threshold to tune.

Clocks also run at slightly different rates (crystals differ by up to ~100 ppm,
6 ms a minute), so the estimate is a line, offset and rate, not a constant: the
line that stays deepest inside every sample's band (a Chebyshev fit, as a linear
program in two unknowns). Under symmetric jitter its error shrinks like 1/n, not
like 1/sqrt(n) for an average of midpoints. A sample that contradicts the rest
(no line fits every band: a server stamp taken from a wrong clock, a delay
misreported) is dropped as an outlier.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# A crystal oscillator is off by at most ~100 ppm; a rate beyond this is not a clock.
MAX_RATE_ERROR = 500e-6
# Golden-section steps for the rate: (0.618 ** 45) * 1000 ppm is below 1e-6 ppm.
_SEARCH_STEPS = 45
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# Rates whose room is within this of the best (seconds) count as equally good.
_PLATEAU = 1e-6
_PLATEAU_SHARE = 0.02
# An uncertainty smaller than this is a statement about luck, not about the clocks.
_MIN_UNCERTAINTY = 20e-6
# Below this many samples the line is too young to call anything a spike.
_MIN_FOR_SPIKES = 8
# A sample further than this outside its band from the line (or than the best
# round trip, if more) is a spike; this many in a row are a clock step instead.
_SPIKE_FLOOR = 2e-3
_STEP_AFTER_SPIKES = 4


@dataclass(frozen=True, slots=True)
class SyncSample:
    sent: float  # local clock, ping left
    server: float  # server clock, ping answered
    received: float  # local clock, pong arrived

    @property
    def delay(self) -> float:
        return self.received - self.sent

    @property
    def midpoint(self) -> float:
        return (self.sent + self.received) / 2.0

    @property
    def offset(self) -> float:
        return self.server - self.midpoint


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """server_time(local) = local + offset + rate_error * (local - reference)."""

    reference: float
    offset: float
    rate_error: float
    # How much room the fitted line had inside the tightest band (s); below 0 the
    # samples contradicted each other.
    slack: float

    def server_time(self, local: float) -> float:
        return local + self.offset + self.rate_error * (local - self.reference)

    def local_time(self, server: float) -> float:
        # The inverse of server_time, solved for ``local``.
        return (server - self.offset + self.rate_error * self.reference) / (1.0 + self.rate_error)


class ClockSync:
    """Feeds on (sent, server, received) samples; answers server time for a local time.

    ``window`` samples are kept: at 2 pings a second, 256 is about two minutes,
    long enough to measure a rate, short enough to follow a clock that warms up.
    """

    def __init__(self, window: int = 256, max_outliers: float = 0.1) -> None:
        if window < 4:
            raise ValueError("window must hold at least 4 samples")
        if not 0.0 <= max_outliers < 0.5:
            raise ValueError("max_outliers must be in range 0..0.5")
        self._samples: deque[SyncSample] = deque(maxlen=window)
        self._max_outliers = max_outliers
        self._estimate: ClockEstimate | None = None
        self._uncertainty: float | None = None
        self._spikes: list[SyncSample] = []
        self.outliers_dropped = 0

    @property
    def sample_count(self) -> int:
        return len(self._samples)

    @property
    def ready(self) -> bool:
        return self._estimate is not None

    @property
    def estimate(self) -> ClockEstimate:
        if self._estimate is None:
            raise RuntimeError("no clock sample yet")
        return self._estimate

    @property
    def best_round_trip(self) -> float:
        """The shortest round trip in the window, in seconds (inf before any sample)."""
        return min((s.delay for s in self._samples), default=math.inf)

    def add(self, sent: float, server: float, received: float) -> None:
        """Add one ping/pong exchange. A sample that cannot be true is refused."""
        if not all(math.isfinite(x) for x in (sent, server, received)):
            raise ValueError("clock sample times must be finite")
        if received < sent:
            raise ValueError("a pong cannot arrive before its ping left")
        sample = SyncSample(sent, server, received)
        if not self._is_spike(sample):
            self._samples.append(sample)
            if self._refit(newest=sample):
                self._spikes.clear()
                return
        # A sample far outside the established line (a "popcorn spike", in NTP's
        # words) or one the others outvote is held back; several in a row mean
        # the clock stepped, and the estimator starts again from them.
        self._spikes.append(sample)
        self.outliers_dropped += 1
        if len(self._spikes) >= _STEP_AFTER_SPIKES:
            self._samples.clear()
            self._samples.extend(self._spikes)
            self._spikes.clear()
            self._refit(newest=None)

    def _is_spike(self, sample: SyncSample) -> bool:
        if self._estimate is None or len(self._samples) < _MIN_FOR_SPIKES:
            return False
        # Outside its band by more than any round trip we have seen: not jitter.
        tolerance = max(_SPIKE_FLOOR, self.best_round_trip)
        return _band_violation(sample, self._estimate) > tolerance

    def server_time(self, local: float) -> float:
        return self.estimate.server_time(local)

    def local_time(self, server: float) -> float:
        return self.estimate.local_time(server)

    def uncertainty(self) -> float:
        """A rough one-sigma error of ``server_time`` now, in seconds.

        Measured by fitting the odd and the even samples apart: two halves that
        disagree by ``d`` make each half's error about ``d / sqrt 2``, and the
        whole fit, whose error shrinks like 1/n, about half of that. With fewer
        than 8 samples it is half the best round trip, the NTP bound, and
        before any sample, infinity.
        """
        if self._uncertainty is None:
            samples = list(self._samples)
            if len(samples) < _MIN_FOR_SPIKES:
                self._uncertainty = self.best_round_trip / 2.0  # inf before any sample
            else:
                reference = self.estimate.reference
                even = _chebyshev_line(samples[0::2], reference).offset
                odd = _chebyshev_line(samples[1::2], reference).offset
                spread = abs(even - odd) / (2.0 * math.sqrt(2.0))
                self._uncertainty = max(spread, _MIN_UNCERTAINTY)
        return self._uncertainty

    def _refit(self, newest: SyncSample | None) -> bool:
        """Fit the line again; False when ``newest`` had to go as an outlier."""
        samples = list(self._samples)
        reference = samples[-1].midpoint
        estimate = _chebyshev_line(samples, reference)
        # Three samples can outvote one; two cannot say which of them is wrong.
        enough = len(samples) >= 3 and self._max_outliers > 0
        budget = max(1, int(len(samples) * self._max_outliers)) if enough else 0
        kept_newest = True
        while estimate.slack < 0 and budget > 0:
            # No line fits every band: drop the one sample whose removal leaves the
            # most room. Only samples the line violates can be that sample.
            candidates = [s for s in samples if _band_violation(s, estimate) >= -1e-12]
            worst = max(
                candidates,
                key=lambda s: _chebyshev_line([x for x in samples if x is not s], reference).slack,
            )
            samples.remove(worst)
            self._samples.remove(worst)
            if worst is newest:
                kept_newest = False  # counted by add() as a spike
            else:
                self.outliers_dropped += 1
            budget -= 1
            estimate = _chebyshev_line(samples, samples[-1].midpoint)
        self._estimate = estimate
        self._uncertainty = None  # worked out when asked: most samples are never asked about
        return kept_newest


def _band_violation(sample: SyncSample, line: ClockEstimate) -> float:
    predicted = line.offset + line.rate_error * (sample.midpoint - line.reference)
    return abs(predicted - sample.offset) - sample.delay / 2.0


def _chebyshev_line(samples: Sequence[SyncSample], reference: float) -> ClockEstimate:
    """The line offset(x) = a + b*(x - reference) deepest inside every sample's band.

    For a rate ``b`` the offsets every band allows at ``reference`` are
    ``max(lower_i - b*x_i) .. min(upper_i - b*x_i)``; its width is a concave
    function of ``b``, maximised by golden-section search, and the offset is the
    middle of that range. Only the hull points of the band edges can bind.
    """
    xs = [s.midpoint - reference for s in samples]
    ups = list(zip(xs, (s.offset + s.delay / 2 for s in samples), strict=True))
    downs = list(zip(xs, (s.offset - s.delay / 2 for s in samples), strict=True))
    if any(b < a for a, b in itertools.pairwise(xs)):  # they come in time order, nearly always
        ups.sort()
        downs.sort()
    uppers, lowers = _lower_hull(ups), _upper_hull(downs)

    def ceiling(b: float) -> float:
        return min(y - b * x for x, y in uppers)

    def floor(b: float) -> float:
        return max(y - b * x for x, y in lowers)

    def room(b: float) -> float:
        return ceiling(b) - floor(b)

    lo, hi = -MAX_RATE_ERROR, MAX_RATE_ERROR
    if max(xs) - min(xs) <= 0:
        lo = hi = 0.0  # one instant: nothing says anything about the rate
    c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    room_c, room_d = room(c), room(d)
    for _ in range(_SEARCH_STEPS):
        if room_c < room_d:
            lo, c, room_c = c, d, room_d
            d = lo + _GOLDEN * (hi - lo)
            room_d = room(d)
        else:
            hi, d, room_d = d, c, room_c
            c = hi - _GOLDEN * (hi - lo)
            room_c = room(c)
    best = (lo + hi) / 2.0
    top_room = room(best)
    rate = _plateau_middle(room, best, top_room - max(_PLATEAU, _PLATEAU_SHARE * abs(top_room)))
    top, bottom = ceiling(rate), floor(rate)
    return ClockEstimate(reference, (top + bottom) / 2.0, rate, (top - bottom) / 2.0)


def _plateau_middle(room: Callable[[float], float], best: float, level: float) -> float:
    """The middle of the rates whose room is at least ``level`` (an interval: room is concave).

    When one very narrow band binds alone, the room is flat over a range of
    rates and its exact maximum says nothing about the rate; the middle of the
    rates that fit almost as well does.
    """
    edges = []
    for far in (-MAX_RATE_ERROR, MAX_RATE_ERROR):
        if room(far) >= level:
            edges.append(far)
            continue
        inside, outside = best, far
        for _ in range(_SEARCH_STEPS):
            mid = (inside + outside) / 2.0
            if room(mid) >= level:
                inside = mid
            else:
                outside = mid
        edges.append(inside)
    return (edges[0] + edges[1]) / 2.0


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _lower_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    hull: list[tuple[float, float]] = []
    for p in points:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    return hull


def _upper_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    hull: list[tuple[float, float]] = []
    for p in points:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) >= 0:
            hull.pop()
        hull.append(p)
    return hull
