"""Latency calibration by tapping along: how late the player hears (and taps) the beat.

The game plays a click on a steady beat; the player taps along. Each tap is matched
to the beat nearest it (on the local clock, as the beats were heard to be scheduled);
taps further than a third of a beat from any beat are stray and ignored. The offset is
the median of what is left (tap minus beat: positive when the player taps late, i.e.
hears late), robust to a few rushed or dragged taps; its spread is the median absolute
deviation (MAD) of the same differences, how steady the tapping was. Pure: every time
is an argument, in seconds.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

MIN_TAPS = 8  # usable taps needed for an offset worth trusting
STRAY = 1 / 3  # a tap further than this share of a beat from every beat is ignored


@dataclass(frozen=True, slots=True)
class Calibration:
    offset: float  # seconds: median of tap minus nearest beat (positive: late)
    spread: float  # seconds: median absolute deviation of those differences
    used: int  # taps that counted
    ignored: int  # stray taps left out

    @property
    def offset_ms(self) -> float:
        return self.offset * 1000.0

    @property
    def spread_ms(self) -> float:
        return self.spread * 1000.0


def beat_length(beats: Sequence[float]) -> float:
    """The median time between consecutive beats."""
    return statistics.median(b - a for a, b in pairwise(beats))


def nearest_beat(beats: Sequence[float], t: float) -> float:
    """The beat (of sorted ``beats``) closest to ``t``; the earlier one on a tie."""
    i = bisect.bisect_left(beats, t)
    if i == 0:
        return beats[0]
    if i == len(beats):
        return beats[-1]
    before, after = beats[i - 1], beats[i]
    return before if t - before <= after - t else after


def tap_errors(beats: Sequence[float], taps: Sequence[float]) -> list[float]:
    """Each usable tap minus its nearest beat, in tap order; strays left out."""
    reach = STRAY * beat_length(beats)
    errors = []
    for tap in taps:
        error = tap - nearest_beat(beats, tap)
        if abs(error) <= reach:
            errors.append(error)
    return errors


def calibrate(beats: Sequence[float], taps: Sequence[float]) -> Calibration:
    """The offset and spread of ``taps`` against the ``beats`` the player heard.

    Raises ``ValueError`` for fewer than two beats, beats not strictly increasing, a
    time that is not finite, or fewer than :data:`MIN_TAPS` usable taps.
    """
    if len(beats) < 2:
        raise ValueError(f"need at least 2 beats, got {len(beats)}")
    if not all(math.isfinite(t) for t in (*beats, *taps)):
        raise ValueError("beat and tap times must be finite")
    if any(b <= a for a, b in pairwise(beats)):
        raise ValueError("beat times must be strictly increasing")
    errors = tap_errors(beats, taps)
    if len(errors) < MIN_TAPS:
        raise ValueError(
            f"need at least {MIN_TAPS} taps within a third of a beat, got {len(errors)} "
            f"of {len(taps)}: tap along with the click"
        )
    offset = statistics.median(errors)
    spread = statistics.median(abs(e - offset) for e in errors)
    return Calibration(offset, spread, len(errors), len(taps) - len(errors))
