"""What a dancing body asks of the music: pose features -> groove and audio controls.

A client turns each camera frame into the feature vector :data:`FEATURES` describes
(``client.pose_features`` computes it) and sends it in ``pose`` messages. The server
maps a player's features to the :class:`GrooveControls` its drum model is asked for;
the client maps them to the :class:`AudioControls` that shape the player's layer at
once. Both mappings are pure, memoryless and clamped: any vector -- too short, too
long, NaN, inf, out of range -- gives controls in range, because a feature that is
missing or not a finite number reads as its rest value (what a body standing still
with its arms down would give, present aside) and every feature is clamped to its range.

Features (positions are in *body sizes*: the torso's length, or the shoulder or hip
width scaled to it when the torso is not seen; +x is the image's right, the body's
left for a camera facing the player):

| feature | what, in which unit | range | rest |
|---|---|---|---|
| present | a readable body is seen (0/1, smoothed) | 0..1 | 0 |
| energy | mean speed of 13 body landmarks (the surely seen ones), body sizes/s | 0..20 | 0 |
| burst | energy above its 2-second average, body sizes/s | 0..20 | 0 |
| left_hand | the body's left wrist above its shoulder, body sizes | -3..3 | -1 |
| right_hand | the body's right wrist above its shoulder, body sizes | -3..3 | -1 |
| spread | 2 x mean wrist distance across from the shoulders' centre, body sizes | 0..6 | 0.75 |
| crouch | 1 - hips-to-ankles height / 1.7 body sizes | 0..1 | 0 |
| lean | sine of the torso's tilt from upright, + to the image's right | -1..1 | 0 |
| sway | horizontal speed of the hips' centre, body sizes/s | 0..20 | 0 |
| x_position | the body's centre across the frame, -1 left edge .. +1 right edge | -1..1 | 0 |
| tempo | period of the body's vertical bounce, BPM; 0 when not periodic | 0, 60..180 | 0 |
| tempo_confidence | autocorrelation of the bounce at that period | 0..1 | 0 |

Mappings, where ``ramp(v, a, b)`` is 0 at ``a``, 1 at ``b``, linear between and clamped:

- ``move = sqrt(ramp(energy, 0.25, 2.5))``
- ``big = ramp(spread, 0.75, 2.5)``
- ``lift = ramp(max(left_hand, right_hand), -1, 1)`` (the higher hand)
- ``low = ramp(crouch, 0.15, 0.5)``
- ``groove = 0.6 ramp(sway, 0.1, 1) + 0.4 tempo_confidence``

| control | formula | range | the player learns |
|---|---|---|---|
| density | 0.05 + 0.55 (0.75 move + 0.25 big) | 0.05..0.6 | move more, bigger: more hits |
| syncopation | 0.45 groove | 0..0.45 | sway the hips, bounce in time: off-beats |
| balance | -0.4 + 1.4 (lift - low), clamped | -1..1 | hands up: hats, cymbals; crouch: kick |
| intensity | 0.3 + 0.7 (0.8 move + 0.2 big) | 0.3..1 | move harder: louder hits |
| fill | ramp(burst, 0.3, 1.5) | 0..1 | a sudden burst of movement: a fill |
| cutoff_hz | 300 (16000 / 300) ^ (0.45 + 0.55 lift) | 1796..16000 | hands up: brighter |
| gain | 0.25 + present (0.25 + 0.5 move) | 0.25..1 | dance: loud; still: half; gone: low |
| pan | 0.8 x_position + 0.5 lean, clamped | -1..1 | step or lean aside: the sound follows |

The ranges of density, syncopation and intensity are the bands real drumming keeps to
(non-silent bars of the Groove MIDI Dataset's validation split, 1st..99th percentile:
density 0.03..0.5, syncopation 0..0.48, intensity 0.29..1), so every pose asks for a
groove the model has seen.
Tempo is reported, not mapped: the room keeps one shared tempo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    lo: float
    hi: float
    rest: float  # what the feature reads when it cannot be measured


# The feature vector, in wire order (the table above says what each one means).
FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("present", 0.0, 1.0, 0.0),
    FeatureSpec("energy", 0.0, 20.0, 0.0),
    FeatureSpec("burst", 0.0, 20.0, 0.0),
    FeatureSpec("left_hand", -3.0, 3.0, -1.0),
    FeatureSpec("right_hand", -3.0, 3.0, -1.0),
    FeatureSpec("spread", 0.0, 6.0, 0.75),
    FeatureSpec("crouch", 0.0, 1.0, 0.0),
    FeatureSpec("lean", -1.0, 1.0, 0.0),
    FeatureSpec("sway", 0.0, 20.0, 0.0),
    FeatureSpec("x_position", -1.0, 1.0, 0.0),
    FeatureSpec("tempo", 0.0, 180.0, 0.0),
    FeatureSpec("tempo_confidence", 0.0, 1.0, 0.0),
)
FEATURE_NAMES = tuple(f.name for f in FEATURES)
FEATURE_COUNT = len(FEATURES)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
FEATURE_LO = np.array([f.lo for f in FEATURES])
FEATURE_HI = np.array([f.hi for f in FEATURES])
FEATURE_REST = np.array([f.rest for f in FEATURES])

# The drum model's control order (models.controls.CONTROL_NAMES; shared/ may not
# import models/, a test holds the two equal).
CONTROL_NAMES = ("density", "syncopation", "balance", "intensity")

# Where the mappings' ramps start and end (feature units), as the table above gives them.
ENERGY_STILL = 0.25  # body sizes/s: a still body's tracking jitter stays below this
ENERGY_FULL = 2.5  # body sizes/s: dancing hard, arms and legs swinging
SPREAD_NARROW = 0.75  # arms by the sides
SPREAD_WIDE = 2.5  # arms straight out
HAND_DOWN = -1.0  # body sizes: a hanging wrist
HAND_UP = 1.0  # a wrist straight above its shoulder
# Crouch is read against fixed body proportions, so a standing body whose legs look
# a little short (a camera above the waist) reads up to ~0.15; that still counts as standing.
CROUCH_START = 0.15
CROUCH_FULL = 0.5
SWAY_STILL = 0.1  # body sizes/s
SWAY_FULL = 1.0
BURST_START = 0.3  # body sizes/s over the 2-second average
BURST_FULL = 1.5

DENSITY_LO, DENSITY_HI = 0.05, 0.6
SYNCOPATION_HI = 0.45
INTENSITY_LO, INTENSITY_HI = 0.3, 1.0
BALANCE_BASE = -0.4  # hands down, standing: a little more kick than hats
BALANCE_SWING = 1.4
CUTOFF_LO_HZ, CUTOFF_HI_HZ = 300.0, 16000.0
BRIGHTNESS_BASE = 0.45  # hands down: ~1.8 kHz, muted but not muffled
GAIN_AWAY = 0.25  # a player who stepped out of the frame fades, not vanishes
GAIN_STILL = 0.5


@dataclass(frozen=True, slots=True)
class GrooveControls:
    """What the drum model is asked for, in :data:`CONTROL_NAMES` ranges, plus a fill."""

    density: float  # 0..1
    syncopation: float  # 0..1
    balance: float  # -1..1, (high - low) / (high + low)
    intensity: float  # 0..1
    fill: float  # 0..1

    def model_controls(self) -> tuple[float, float, float, float]:
        """The four controls in the drum model's order (:data:`CONTROL_NAMES`)."""
        return (self.density, self.syncopation, self.balance, self.intensity)


@dataclass(frozen=True, slots=True)
class AudioControls:
    """Continuous sound controls for the player's layer, applied on every pose."""

    cutoff_hz: float  # low-pass cutoff, CUTOFF_LO_HZ..CUTOFF_HI_HZ
    gain: float  # 0..1
    pan: float  # -1 left .. 1 right


def clean_features(features: Sequence[float] | np.ndarray) -> np.ndarray:
    """``[FEATURE_COUNT]`` float64: the vector in range, whatever came in.

    Entries past the end of a short vector, and any that are not finite numbers,
    read as their rest value; extra entries are ignored; the rest are clamped.
    """
    raw = np.asarray(features, dtype=np.float64).reshape(-1)[:FEATURE_COUNT]
    values = FEATURE_REST.copy()
    values[: raw.size] = np.where(np.isfinite(raw), raw, FEATURE_REST[: raw.size])
    return np.asarray(np.clip(values, FEATURE_LO, FEATURE_HI), dtype=np.float64)


def ramp(value: float, start: float, full: float) -> float:
    """0 at ``start``, 1 at ``full``, linear between, clamped to 0..1."""
    return min(1.0, max(0.0, (value - start) / (full - start)))


def brightness_to_hz(brightness: float) -> float:
    """Cutoff in Hz of a brightness 0..1, log-scaled: equal steps sound equally far apart."""
    return float(CUTOFF_LO_HZ * (CUTOFF_HI_HZ / CUTOFF_LO_HZ) ** brightness)


def hz_to_brightness(hz: float) -> float:
    """The inverse of :func:`brightness_to_hz`."""
    return float(math.log(hz / CUTOFF_LO_HZ) / math.log(CUTOFF_HI_HZ / CUTOFF_LO_HZ))


def _terms(f: np.ndarray) -> tuple[float, float, float, float]:
    """move, big, lift and low (each 0..1) of a clean feature vector."""
    i = FEATURE_INDEX
    # A square root: most dancing is gentle, and there the player should hear most change.
    move = math.sqrt(ramp(float(f[i["energy"]]), ENERGY_STILL, ENERGY_FULL))
    big = ramp(float(f[i["spread"]]), SPREAD_NARROW, SPREAD_WIDE)
    # The higher hand: one raised hand is the gesture people make, and the other
    # hand is often out of the frame.
    hands = max(float(f[i["left_hand"]]), float(f[i["right_hand"]]))
    lift = ramp(hands, HAND_DOWN, HAND_UP)
    low = ramp(float(f[i["crouch"]]), CROUCH_START, CROUCH_FULL)
    return move, big, lift, low


def groove_controls(features: Sequence[float] | np.ndarray) -> GrooveControls:
    """The groove a player's features ask for (the module docstring's table)."""
    f = clean_features(features)
    i = FEATURE_INDEX
    move, big, lift, low = _terms(f)
    sway = ramp(float(f[i["sway"]]), SWAY_STILL, SWAY_FULL)
    groove = 0.6 * sway + 0.4 * float(f[i["tempo_confidence"]])
    balance = BALANCE_BASE + BALANCE_SWING * (lift - low)
    return GrooveControls(
        density=DENSITY_LO + (DENSITY_HI - DENSITY_LO) * (0.75 * move + 0.25 * big),
        syncopation=SYNCOPATION_HI * groove,
        balance=min(1.0, max(-1.0, balance)),
        intensity=INTENSITY_LO + (INTENSITY_HI - INTENSITY_LO) * (0.8 * move + 0.2 * big),
        fill=ramp(float(f[i["burst"]]), BURST_START, BURST_FULL),
    )


def audio_controls(features: Sequence[float] | np.ndarray) -> AudioControls:
    """The sound a player's features ask for (the module docstring's table)."""
    f = clean_features(features)
    i = FEATURE_INDEX
    move, _, lift, _ = _terms(f)
    present = float(f[i["present"]])
    pan = 0.8 * float(f[i["x_position"]]) + 0.5 * float(f[i["lean"]])
    return AudioControls(
        cutoff_hz=brightness_to_hz(BRIGHTNESS_BASE + (1.0 - BRIGHTNESS_BASE) * lift),
        gain=present * (GAIN_STILL + (1.0 - GAIN_STILL) * move) + (1.0 - present) * GAIN_AWAY,
        pan=min(1.0, max(-1.0, pan)),
    )
