"""Pose mapping: exact controls of chosen features, monotone in what a player does, in range."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.controls import CONTROL_NAMES as MODEL_CONTROL_NAMES
from shared import pose_mapping
from shared.pose_mapping import (
    CONTROL_NAMES,
    CUTOFF_HI_HZ,
    CUTOFF_LO_HZ,
    FEATURE_COUNT,
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURE_REST,
    AudioControls,
    GrooveControls,
    audio_controls,
    brightness_to_hz,
    clean_features,
    groove_controls,
    hz_to_brightness,
)

EXACT = 1e-12


def features(**values: float) -> list[float]:
    """A feature vector by name: the rest values, with ``values`` in their places."""
    vector = [float(v) for v in FEATURE_REST]
    for name, value in values.items():
        vector[FEATURE_INDEX[name]] = value
    return vector


DANCER = {"present": 1.0}


def test_names_are_documented_and_in_the_models_order() -> None:
    doc = pose_mapping.__doc__ or ""
    for name in FEATURE_NAMES:
        assert f"\n| {name} |" in doc, name
    for name in (*CONTROL_NAMES, "fill", "cutoff_hz", "gain", "pan"):
        assert f"\n| {name} |" in doc, name
    assert CONTROL_NAMES == MODEL_CONTROL_NAMES
    assert len(set(FEATURE_NAMES)) == FEATURE_COUNT == 12
    assert [FEATURE_INDEX[n] for n in FEATURE_NAMES] == list(range(FEATURE_COUNT))


def test_rest_exact_values() -> None:
    assert groove_controls(features()) == GrooveControls(0.05, 0.0, -0.4, 0.3, 0.0)
    assert groove_controls([]) == groove_controls(features())
    audio = audio_controls(features())
    assert audio == AudioControls(brightness_to_hz(0.45), 0.25, 0.0)
    assert audio.cutoff_hz == pytest.approx(1795.85, abs=0.01)


def test_full_tilt_exact_values() -> None:
    wild = features(
        present=1.0,
        energy=2.5,
        spread=2.5,
        left_hand=1.0,
        sway=1.0,
        tempo=120.0,
        tempo_confidence=1.0,
        burst=1.5,
    )
    g = groove_controls(wild)
    assert g.density == pytest.approx(0.6, abs=EXACT)
    assert g.syncopation == pytest.approx(0.45, abs=EXACT)
    assert g.balance == pytest.approx(1.0, abs=EXACT)
    assert g.intensity == pytest.approx(1.0, abs=EXACT)
    assert g.fill == 1.0
    assert g.model_controls() == (g.density, g.syncopation, g.balance, g.intensity)
    a = audio_controls(wild)
    assert a.cutoff_hz == pytest.approx(CUTOFF_HI_HZ, rel=EXACT)
    assert a.gain == 1.0
    assert a.pan == 0.0


def test_middle_exact_values() -> None:
    # energy halfway up its ramp reads sqrt(0.5); hands level; crouch at 0.325 (low 0.5).
    mid = features(present=1.0, energy=1.375, left_hand=0.0, right_hand=0.0, crouch=0.325)
    g = groove_controls(mid)
    move = math.sqrt(0.5)
    assert g.density == pytest.approx(0.05 + 0.55 * 0.75 * move, abs=EXACT)
    assert g.intensity == pytest.approx(0.3 + 0.7 * 0.8 * move, abs=EXACT)
    assert g.balance == pytest.approx(-0.4 + 1.4 * (0.5 - 0.5), abs=EXACT)
    a = audio_controls(mid)
    assert a.cutoff_hz == pytest.approx(brightness_to_hz(0.45 + 0.55 * 0.5), rel=EXACT)
    assert a.gain == pytest.approx(0.5 + 0.5 * move, abs=EXACT)
    half_there = audio_controls(features(present=0.5))
    assert half_there.gain == pytest.approx(0.5 * 0.5 + 0.5 * 0.25, abs=EXACT)
    assert audio_controls(features(x_position=0.5, lean=-0.2)).pan == pytest.approx(0.3, abs=EXACT)
    assert audio_controls(features(x_position=1.0, lean=1.0)).pan == 1.0


def sweep(
    name: str, values: np.ndarray, **others: float
) -> list[tuple[GrooveControls, AudioControls]]:
    return [
        (
            groove_controls(features(**{**others, name: v})),
            audio_controls(features(**{**others, name: v})),
        )
        for v in values
    ]


def rising(series: list[float]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(series)) and series[-1] > series[0]


def test_more_energy_more_density_intensity_and_gain() -> None:
    out = sweep("energy", np.linspace(0, 5, 51), present=1.0)
    assert rising([g.density for g, _ in out])
    assert rising([g.intensity for g, _ in out])
    assert rising([a.gain for _, a in out])
    bigger = sweep("spread", np.linspace(0, 4, 41))
    assert rising([g.density for g, _ in bigger])


def test_hands_higher_brighter_and_crouch_lower() -> None:
    hands = np.linspace(-2, 2, 41)
    both = [
        (
            groove_controls(features(left_hand=h, right_hand=h)),
            audio_controls(features(left_hand=h, right_hand=h)),
        )
        for h in hands
    ]
    assert rising([g.balance for g, _ in both])
    assert rising([a.cutoff_hz for _, a in both])
    one = sweep("right_hand", hands)  # one hand up is enough
    assert rising([g.balance for g, _ in one])
    crouch = sweep("crouch", np.linspace(0, 1, 21), left_hand=1.0)
    assert rising([-g.balance for g, _ in crouch])
    assert crouch[0][0].balance == pytest.approx(1.0, abs=EXACT)
    assert crouch[-1][0].balance == pytest.approx(-0.4, abs=EXACT)


def test_sway_and_bounce_syncopate_within_a_medium_band() -> None:
    sway = sweep("sway", np.linspace(0, 3, 31))
    assert rising([g.syncopation for g, _ in sway])
    bounce = sweep("tempo_confidence", np.linspace(0, 1, 11))
    assert rising([g.syncopation for g, _ in bounce])
    assert max(g.syncopation for g, _ in sway + bounce) <= 0.45


def test_a_burst_asks_for_a_fill() -> None:
    out = sweep("burst", np.linspace(0, 3, 31))
    assert rising([g.fill for g, _ in out])
    assert out[0][0].fill == 0.0 and out[-1][0].fill == 1.0


def test_clean_features_pads_replaces_and_clamps() -> None:
    cleaned = clean_features([0.5, math.nan, 100.0, -7.0])
    assert cleaned[:4].tolist() == [0.5, 0.0, 20.0, -3.0]
    assert cleaned[4:].tolist() == FEATURE_REST[4:].tolist()
    long = clean_features([1.0] * 40)
    assert long.shape == (FEATURE_COUNT,)
    assert clean_features(np.array([math.inf] * FEATURE_COUNT)).tolist() == FEATURE_REST.tolist()


def test_brightness_and_hz_are_inverse() -> None:
    assert brightness_to_hz(0.0) == CUTOFF_LO_HZ
    assert brightness_to_hz(1.0) == pytest.approx(CUTOFF_HI_HZ, rel=EXACT)
    assert brightness_to_hz(0.5) == pytest.approx(math.sqrt(CUTOFF_LO_HZ * CUTOFF_HI_HZ), rel=EXACT)
    for b in np.linspace(0, 1, 11):
        assert hz_to_brightness(brightness_to_hz(float(b))) == pytest.approx(b, abs=EXACT)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.floats(-5, 200), max_size=40))
def test_any_vector_gives_controls_in_range(vector: list[float]) -> None:
    g = groove_controls(vector)
    a = audio_controls(vector)
    values = [*g.model_controls(), g.fill, a.cutoff_hz, a.gain, a.pan]
    assert all(math.isfinite(v) for v in values)
    assert 0 <= g.density <= 1 and 0 <= g.syncopation <= 1 and 0 <= g.intensity <= 1
    assert -1 <= g.balance <= 1 and 0 <= g.fill <= 1
    assert CUTOFF_LO_HZ <= a.cutoff_hz <= CUTOFF_HI_HZ * (1 + EXACT)
    assert 0 <= a.gain <= 1 and -1 <= a.pan <= 1
    assert groove_controls(vector) == g  # deterministic
