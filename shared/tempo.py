"""The tempo map: server time <-> musical position, as pure functions in inverse pairs.

A map is a list of segments, each (start time, start beat, bpm). Inside a segment
time and beats are linear; a new segment starts only on a bar boundary, so every
screen that applies the same tempo message computes the same start time for it.
Times are seconds on the server's monotonic clock; beats are quarter notes, bars
are 4 beats of 4 sixteenth-note steps.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from shared.drums import BEATS_PER_BAR, STEPS_PER_BEAT

MIN_BPM = 40.0
MAX_BPM = 240.0
DEFAULT_BPM = 120.0


class TempoError(ValueError):
    """A tempo change that breaks the map's rules (range, bar boundary, order)."""


def check_bpm(bpm: float) -> float:
    if not (math.isfinite(bpm) and MIN_BPM <= bpm <= MAX_BPM):
        raise TempoError(f"bpm must be in range {MIN_BPM:g}..{MAX_BPM:g}, got {bpm!r}")
    return float(bpm)


def beats_to_seconds(beats: float, bpm: float) -> float:
    return beats * 60.0 / bpm


def seconds_to_beats(seconds: float, bpm: float) -> float:
    return seconds * bpm / 60.0


def bar_to_beat(bar: float) -> float:
    return bar * BEATS_PER_BAR


def beat_to_bar(beat: float) -> float:
    return beat / BEATS_PER_BAR


def step_to_beat(step: float) -> float:
    return step / STEPS_PER_BEAT


def beat_to_step(beat: float) -> float:
    return beat * STEPS_PER_BEAT


@dataclass(frozen=True, slots=True)
class TempoSegment:
    start_time: float
    start_beat: float
    bpm: float


@dataclass(frozen=True, slots=True)
class TempoMap:
    """An immutable, ordered tuple of segments; changes return a new map."""

    segments: tuple[TempoSegment, ...]

    def __post_init__(self) -> None:
        if not self.segments:
            raise TempoError("a tempo map needs at least one segment")
        for seg in self.segments:
            check_bpm(seg.bpm)
            if seg.start_beat % BEATS_PER_BAR:
                raise TempoError(f"tempo segments start on a bar, not beat {seg.start_beat!r}")
        for a, b in zip(self.segments, self.segments[1:], strict=False):
            if b.start_beat <= a.start_beat or b.start_time <= a.start_time:
                raise TempoError("tempo segments must be in increasing time and beat order")

    @classmethod
    def start(cls, now: float, bpm: float = DEFAULT_BPM) -> TempoMap:
        """A map whose bar 0 begins at ``now``."""
        return cls((TempoSegment(now, 0.0, check_bpm(bpm)),))

    # -- lookups ---------------------------------------------------------------

    def _segment_for_time(self, t: float) -> TempoSegment:
        # Before the first segment, the first one extends backwards.
        starts = [s.start_time for s in self.segments]
        return self.segments[max(0, bisect.bisect_right(starts, t) - 1)]

    def _segment_for_beat(self, beat: float) -> TempoSegment:
        starts = [s.start_beat for s in self.segments]
        return self.segments[max(0, bisect.bisect_right(starts, beat) - 1)]

    def bpm_at(self, t: float) -> float:
        return self._segment_for_time(t).bpm

    def beat_at(self, t: float) -> float:
        seg = self._segment_for_time(t)
        return seg.start_beat + seconds_to_beats(t - seg.start_time, seg.bpm)

    def time_at(self, beat: float) -> float:
        seg = self._segment_for_beat(beat)
        return seg.start_time + beats_to_seconds(beat - seg.start_beat, seg.bpm)

    def bar_at(self, t: float) -> float:
        return beat_to_bar(self.beat_at(t))

    def time_at_bar(self, bar: float) -> float:
        return self.time_at(bar_to_beat(bar))

    def step_at(self, t: float) -> float:
        return beat_to_step(self.beat_at(t))

    def time_at_step(self, step: float) -> float:
        return self.time_at(step_to_beat(step))

    def next_bar(self, t: float, lead_beats: float = 0.0) -> int:
        """The first whole bar that starts at least ``lead_beats`` beats after ``t``.

        The lead is measured in the tempo in force at ``t`` so that a change
        announced now always reaches every client before it has to sound.
        """
        earliest = self.beat_at(t) + lead_beats
        return math.ceil(earliest / BEATS_PER_BAR - 1e-9)

    # -- changes ---------------------------------------------------------------

    def with_tempo(self, bpm: float, at_bar: int) -> TempoMap:
        """A new map in which ``bpm`` holds from the start of ``at_bar`` on.

        A change on the bar where the last segment starts replaces it; a change
        before the last segment is refused, because clients already follow it.
        """
        bpm = check_bpm(bpm)
        beat = float(bar_to_beat(at_bar))
        last = self.segments[-1]
        if beat < last.start_beat:
            raise TempoError(
                f"tempo change at bar {at_bar} is before the last change at bar "
                f"{int(beat_to_bar(last.start_beat))}"
            )
        kept = self.segments[:-1] if beat == last.start_beat else self.segments
        return TempoMap((*kept, TempoSegment(self.time_at(beat), beat, bpm)))

    def trimmed(self, t: float) -> TempoMap:
        """The same map without segments that ended before ``t`` (they bound nothing now)."""
        starts = [s.start_time for s in self.segments]
        first = max(0, bisect.bisect_right(starts, t) - 1)
        return TempoMap(self.segments[first:]) if first else self
