"""The tempo map: exact positions at known tempos, inverse pairs, and the rules of changes."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.tempo import (
    DEFAULT_BPM,
    TempoError,
    TempoMap,
    TempoSegment,
    bar_to_beat,
    beat_to_bar,
    beat_to_step,
    beats_to_seconds,
    check_bpm,
    seconds_to_beats,
    step_to_beat,
)

T0 = 100.0


def changing_map() -> TempoMap:
    """120 bpm from bar 0, 90 from bar 2, 240 from bar 5, 60 from bar 7, all starting at T0."""
    return TempoMap.start(T0, 120).with_tempo(90, 2).with_tempo(240, 5).with_tempo(60, 7)


# -- small inverse pairs --------------------------------------------------------------------


def test_unit_conversions_exact() -> None:
    assert beats_to_seconds(1, 120) == 0.5
    assert beats_to_seconds(3, 90) == 2.0
    assert seconds_to_beats(0.5, 120) == 1.0
    assert seconds_to_beats(2.0, 90) == 3.0
    assert bar_to_beat(3) == 12
    assert beat_to_bar(12) == 3
    assert beat_to_bar(6) == 1.5
    assert step_to_beat(6) == 1.5
    assert beat_to_step(1.5) == 6


# Scaling by 4 is exact for floats away from the subnormals, so those pairs must be too.
_positions = st.floats(-1e6, 1e6).filter(lambda v: v == 0.0 or abs(v) > 1e-300)


@settings(max_examples=300, deadline=None)
@given(x=_positions, bpm=st.floats(40.0, 240.0))
def test_unit_conversions_round_trip(x: float, bpm: float) -> None:
    assert beats_to_seconds(seconds_to_beats(x, bpm), bpm) == pytest.approx(x, rel=1e-12, abs=1e-9)
    assert seconds_to_beats(beats_to_seconds(x, bpm), bpm) == pytest.approx(x, rel=1e-12, abs=1e-9)
    assert beat_to_bar(bar_to_beat(x)) == x
    assert bar_to_beat(beat_to_bar(x)) == x
    assert step_to_beat(beat_to_step(x)) == x
    assert beat_to_step(step_to_beat(x)) == x


# -- one tempo --------------------------------------------------------------------------------


def test_start_is_bar_zero_at_now() -> None:
    assert TempoMap.start(T0).segments == (TempoSegment(T0, 0.0, DEFAULT_BPM),)
    assert DEFAULT_BPM == 120.0
    tempo = TempoMap.start(T0, 90)
    assert tempo.segments == (TempoSegment(T0, 0.0, 90.0),)
    assert type(tempo.segments[0].bpm) is float


def test_exact_positions_at_120_bpm() -> None:
    tempo = TempoMap.start(T0, 120.0)  # 0.5 s a beat, 2 s a bar, 0.125 s a step
    assert tempo.bpm_at(T0 + 1000) == 120.0
    assert tempo.beat_at(T0) == 0.0
    assert tempo.beat_at(T0 + 0.5) == 1.0
    assert tempo.beat_at(T0 + 3.25) == 6.5
    assert tempo.beat_at(T0 - 1.0) == -2.0  # the first segment extends backwards
    assert tempo.time_at(1.0) == T0 + 0.5
    assert tempo.time_at(7.0) == T0 + 3.5
    assert tempo.bar_at(T0 + 2.0) == 1.0
    assert tempo.bar_at(T0 + 5.0) == 2.5
    assert tempo.time_at_bar(3) == T0 + 6.0
    assert tempo.step_at(T0 + 0.125) == 1.0
    assert tempo.step_at(T0 + 2.0) == 16.0
    assert tempo.time_at_step(16) == T0 + 2.0
    assert tempo.time_at_step(5) == T0 + 0.625


def test_exact_positions_at_90_bpm() -> None:
    tempo = TempoMap.start(T0, 90.0)  # 2/3 s a beat, 8/3 s a bar
    assert tempo.beat_at(T0 + 2.0) == 3.0
    assert tempo.beat_at(T0 + 8.0) == 12.0
    assert tempo.time_at(3.0) == T0 + 2.0
    assert tempo.time_at(1.5) == T0 + 1.0
    assert tempo.bar_at(T0 + 8.0) == 3.0
    assert tempo.time_at_bar(3) == T0 + 8.0
    assert tempo.time_at_bar(1) == pytest.approx(T0 + 8 / 3, abs=1e-12)
    assert tempo.step_at(T0 + 2.0) == 12.0
    assert tempo.time_at_step(6) == T0 + 1.0
    assert tempo.time_at_step(24) == T0 + 4.0


# -- several tempos ---------------------------------------------------------------------------


def test_changes_build_exact_segments() -> None:
    assert changing_map().segments == (
        TempoSegment(T0, 0.0, 120.0),
        TempoSegment(T0 + 4.0, 8.0, 90.0),  # 2 bars of 2 s
        TempoSegment(T0 + 12.0, 20.0, 240.0),  # then 3 bars of 8/3 s
        TempoSegment(T0 + 14.0, 28.0, 60.0),  # then 2 bars of 1 s
    )


def test_exact_positions_across_changes() -> None:
    tempo = changing_map()
    assert [tempo.bpm_at(t) for t in (T0, T0 + 3.9, T0 + 4.0, T0 + 12.0, T0 + 13.9, T0 + 14.0)] == [
        120.0,
        120.0,
        90.0,
        240.0,
        240.0,
        60.0,
    ]
    assert tempo.beat_at(T0 + 4.0) == 8.0
    assert tempo.beat_at(T0 + 6.0) == 11.0
    assert tempo.beat_at(T0 + 12.5) == 22.0
    assert tempo.beat_at(T0 + 16.0) == 30.0
    assert tempo.time_at(11.0) == T0 + 6.0
    assert tempo.time_at(22.0) == T0 + 12.5
    assert tempo.time_at(30.0) == T0 + 16.0
    assert tempo.time_at_bar(5) == T0 + 12.0
    assert tempo.time_at_bar(8) == T0 + 18.0
    assert tempo.bar_at(T0 + 18.0) == 8.0
    assert tempo.time_at_step(88) == T0 + 12.5  # beat 22
    assert tempo.step_at(T0 + 12.5) == 88.0


@settings(max_examples=500, deadline=None)
@given(t=st.floats(T0 - 10.0, T0 + 100.0))
def test_time_beat_time_round_trip(t: float) -> None:
    tempo = changing_map()
    assert tempo.time_at(tempo.beat_at(t)) == pytest.approx(t, abs=1e-9)
    assert tempo.time_at_bar(tempo.bar_at(t)) == pytest.approx(t, abs=1e-9)
    assert tempo.time_at_step(tempo.step_at(t)) == pytest.approx(t, abs=1e-9)


@settings(max_examples=500, deadline=None)
@given(beat=st.floats(-10.0, 200.0))
def test_beat_time_beat_round_trip(beat: float) -> None:
    tempo = changing_map()
    assert tempo.beat_at(tempo.time_at(beat)) == pytest.approx(beat, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(t=st.floats(T0 - 10.0, T0 + 100.0), dt=st.floats(1e-6, 10.0))
def test_beats_only_move_forward(t: float, dt: float) -> None:
    tempo = changing_map()
    assert tempo.beat_at(t + dt) > tempo.beat_at(t)


# -- changes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("bar", "bpm"), [(2, 40.0), (3, 240.0), (4, 77.7), (10, 120.0)])
def test_change_keeps_continuity(bar: int, bpm: float) -> None:
    before = TempoMap.start(T0, 120).with_tempo(90, 1)
    after = before.with_tempo(bpm, bar)
    assert after.time_at_bar(bar) == before.time_at_bar(bar)
    assert after.segments[:-1] == before.segments
    assert after.segments[-1] == TempoSegment(before.time_at_bar(bar), 4.0 * bar, bpm)
    # Earlier positions are untouched; later ones follow the new tempo.
    for beat in (0.0, 2.0, 4.0, 6.5, 4.0 * bar - 0.5):
        assert after.time_at(beat) == before.time_at(beat)
    assert after.time_at_bar(bar + 1) == pytest.approx(
        before.time_at_bar(bar) + 4 * 60.0 / bpm, abs=1e-12
    )


def test_change_on_the_same_bar_replaces_it() -> None:
    tempo = TempoMap.start(T0, 120).with_tempo(90, 2).with_tempo(150, 2)
    assert tempo.segments == (TempoSegment(T0, 0.0, 120.0), TempoSegment(T0 + 4.0, 8.0, 150.0))
    assert TempoMap.start(T0, 120).with_tempo(60, 0).segments == (TempoSegment(T0, 0.0, 60.0),)


def test_change_does_not_alter_the_old_map() -> None:
    tempo = TempoMap.start(T0, 120)
    tempo.with_tempo(90, 2)
    assert tempo.segments == (TempoSegment(T0, 0.0, 120.0),)


def test_change_before_the_last_change_is_refused() -> None:
    with pytest.raises(
        TempoError, match=r"^tempo change at bar 6 is before the last change at bar 7$"
    ):
        changing_map().with_tempo(100, 6)
    with pytest.raises(
        TempoError, match=r"^tempo change at bar -1 is before the last change at bar 0$"
    ):
        TempoMap.start(T0).with_tempo(100, -1)


@pytest.mark.parametrize(
    ("bpm", "shown"),
    [
        (39.9, "39.9"),
        (240.1, "240.1"),
        (0, "0"),
        (-120.0, "-120.0"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_bpm_out_of_range_is_refused(bpm: float, shown: str) -> None:
    message = f"bpm must be in range 40..240, got {shown}"
    with pytest.raises(TempoError, match=f"^{re.escape(message)}$"):
        changing_map().with_tempo(bpm, 9)
    with pytest.raises(TempoError, match=f"^{re.escape(message)}$"):
        TempoMap.start(T0, bpm)
    with pytest.raises(TempoError, match=f"^{re.escape(message)}$"):
        TempoMap((TempoSegment(T0, 0.0, bpm),))


def test_bpm_limits_are_accepted() -> None:
    assert check_bpm(40) == 40.0
    assert type(check_bpm(40)) is float
    assert check_bpm(240.0) == 240.0
    assert issubclass(TempoError, ValueError)


# -- next bar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "lead", "bar"),
    [
        (T0 + 4.0, 0.0, 2),  # exactly on bar 2: bar 2 itself
        (T0 + 4.0 - 1e-6, 0.0, 2),  # just before
        (T0 + 4.0 + 1e-6, 0.0, 3),  # just after
        (T0, 0.0, 0),
        (T0 + 4.0, 4.0, 3),  # one bar of lead from a bar line: the next one
        (T0 + 4.0 - 1e-6, 4.0, 3),
        (T0 + 4.0 + 1e-6, 4.0, 4),
        (T0 + 4.0, 2.0, 3),
        (T0 + 3.0, 2.0, 2),  # beat 6 + 2 lands exactly on bar 2
        (T0 + 3.0 + 1e-6, 2.0, 3),
        (T0 + 12.0, 0.0, 5),  # at the 240 bpm change
        (T0 + 12.0, 4.0, 6),
        (T0 + 11.0, 4.0, 6),  # beat 18.5 + 4 at 90 bpm
    ],
)
def test_next_bar(t: float, lead: float, bar: int) -> None:
    assert changing_map().next_bar(t, lead) == bar


# -- trimming and validation ------------------------------------------------------------------


def test_trimmed_drops_only_segments_that_ended() -> None:
    tempo = changing_map()
    seg = tempo.segments
    assert tempo.trimmed(T0 - 5.0) is tempo
    assert tempo.trimmed(T0 + 3.9) is tempo
    assert tempo.trimmed(T0 + 4.0).segments == seg[1:]  # the first one ended at T0 + 4
    assert tempo.trimmed(T0 + 13.0).segments == seg[2:]
    assert tempo.trimmed(T0 + 14.0).segments == seg[3:]
    assert tempo.trimmed(T0 + 1e6).segments == seg[3:]
    trimmed = tempo.trimmed(T0 + 13.0)
    for t in (T0 + 13.0, T0 + 13.5, T0 + 14.0, T0 + 20.0):
        assert trimmed.beat_at(t) == tempo.beat_at(t)


def test_map_needs_a_segment() -> None:
    with pytest.raises(TempoError, match=r"^a tempo map needs at least one segment$"):
        TempoMap(())


@pytest.mark.parametrize("beat", [2.0, 6.0, 9.0, 8.5])
def test_segment_off_a_bar_is_refused(beat: float) -> None:
    segments = (TempoSegment(T0, 0.0, 120.0), TempoSegment(T0 + beat / 2, beat, 90.0))
    with pytest.raises(TempoError, match=f"^tempo segments start on a bar, not beat {beat}$"):
        TempoMap(segments)
    with pytest.raises(TempoError, match=f"^tempo segments start on a bar, not beat {beat}$"):
        TempoMap((TempoSegment(T0, beat, 120.0),))


def test_segments_out_of_order_are_refused() -> None:
    message = r"^tempo segments must be in increasing time and beat order$"
    with pytest.raises(TempoError, match=message):
        TempoMap((TempoSegment(T0, 8.0, 120.0), TempoSegment(T0 + 2, 4.0, 120.0)))
    with pytest.raises(TempoError, match=message):
        TempoMap((TempoSegment(T0, 4.0, 120.0), TempoSegment(T0, 4.0, 90.0)))
    with pytest.raises(TempoError, match=message):  # later beat, earlier time
        TempoMap((TempoSegment(T0, 0.0, 120.0), TempoSegment(T0 - 1, 4.0, 90.0)))
