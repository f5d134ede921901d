"""Tap-along latency calibration: exact offsets and spreads from hand-made taps."""

from __future__ import annotations

import pytest

from client.calibration import (
    MIN_TAPS,
    Calibration,
    beat_length,
    calibrate,
    nearest_beat,
    tap_errors,
)

# 120 BPM: a beat every 0.5 s. Times chosen as exact binary fractions (multiples of
# 1/64 s), so the sums below are exact.
BEATS = [10.0 + 0.5 * k for k in range(16)]
LATE = [0.0625, 0.046875, 0.078125, 0.0625, 0.0625, 0.03125, 0.09375, 0.0625]


def test_steady_late_taps_give_their_offset_and_no_spread() -> None:
    taps = [beat + 0.0625 for beat in BEATS[2:12]]
    assert calibrate(BEATS, taps) == Calibration(0.0625, 0.0, 10, 0)
    assert calibrate(BEATS, taps).offset_ms == 62.5


def test_the_offset_is_the_median_and_the_spread_the_mad() -> None:
    taps = [beat + late for beat, late in zip(BEATS[4:], LATE, strict=False)]
    result = calibrate(BEATS, taps)
    # sorted errors: .03125 .046875 .0625 .0625 .0625 .0625 .078125 .09375 -> median .0625
    # deviations: .03125 .015625 0 0 0 0 .015625 .03125 -> median 0.0078125
    assert result == Calibration(0.0625, 0.0078125, 8, 0)
    assert result.spread_ms == 7.8125


def test_early_taps_give_a_negative_offset() -> None:
    taps = [beat - 0.015625 for beat in BEATS[:9]]
    assert calibrate(BEATS, taps) == Calibration(-0.015625, 0.0, 9, 0)


def test_stray_taps_are_ignored() -> None:
    taps = [beat + 0.0625 for beat in BEATS[:8]]
    strays = [BEATS[3] + 0.25, BEATS[9] + 0.171875]  # half a beat off; just over a third
    result = calibrate(BEATS, sorted([*taps, *strays]))
    assert result == Calibration(0.0625, 0.0, 8, 2)
    edge = BEATS[9] + 0.5 / 3  # exactly a third of a beat off: still counts
    assert tap_errors(BEATS, [edge]) == [edge - BEATS[9]]


def test_a_tap_matches_its_nearest_beat() -> None:
    assert nearest_beat(BEATS, 10.2) == 10.0
    assert nearest_beat(BEATS, 10.3) == 10.5
    assert nearest_beat(BEATS, 10.25) == 10.0  # a tie goes to the earlier beat
    assert nearest_beat(BEATS, 5.0) == 10.0
    assert nearest_beat(BEATS, 99.0) == 17.5
    assert beat_length([0.0, 0.5, 1.0, 1.75]) == 0.5


def test_too_few_usable_taps_is_an_error() -> None:
    taps = [beat + 0.0625 for beat in BEATS[: MIN_TAPS - 1]] + [BEATS[10] + 0.25]
    with pytest.raises(ValueError) as caught:
        calibrate(BEATS, taps)
    assert str(caught.value) == (
        "need at least 8 taps within a third of a beat, got 7 of 8: tap along with the click"
    )


@pytest.mark.parametrize(
    ("beats", "taps", "message"),
    [
        ([10.0], [10.0] * 8, "need at least 2 beats, got 1"),
        ([10.0, 10.0, 11.0], [10.0] * 8, "beat times must be strictly increasing"),
        ([10.0, 10.5], [float("nan")] * 8, "beat and tap times must be finite"),
    ],
)
def test_bad_times_are_errors(beats: list[float], taps: list[float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        calibrate(beats, taps)
    assert str(caught.value) == message
