"""Groove controls: numbers that describe any bar of drums, so a body can ask for them.

All take a ``[16, 9]`` velocity array (one bar of 16th steps) or a ``[..., 16, 9]``
stack of bars, and return values in 0..1 (balance: -1..1):

- density: hits per step, over all 9 drums, scaled so 4 hits a step reads 1.
- syncopation: Longuet-Higgins & Lee's measure taken per voice, as Witek et al. (2014)
  do for drum kits: a note on a weak step followed by silence in the same voice on
  the next stronger step is syncopated by the difference of their metrical weights.
  The voices are low (kick, low tom), mid (snare, mid and high tom) and high (hats,
  cymbals); the result is their mean, each normalised by the most a bar can have.
  Taken over all drums at once it would read 0 for nearly every real bar, because
  some hat or other fills every strong step.
- low/high balance: kick and low tom against cymbals and hats, (high - low) / (high + low).
- intensity: mean velocity of the hits, / 127.
"""

from __future__ import annotations

import numpy as np

from shared.drums import DRUM_COUNT, STEPS_PER_BAR, Drum

CONTROL_NAMES = ("density", "syncopation", "balance", "intensity")
CONTROL_COUNT = len(CONTROL_NAMES)

# Metrical weights of the 16 steps of a 4/4 bar (Longuet-Higgins & Lee): the
# downbeat 0, the half bar -1, beats -2, eighths -3, sixteenths -4.
METRIC_WEIGHTS = np.array([0, -4, -3, -4, -2, -4, -3, -4, -1, -4, -3, -4, -2, -4, -3, -4])

LOW = (Drum.KICK, Drum.LOW_TOM)
MID = (Drum.SNARE, Drum.MID_TOM, Drum.HIGH_TOM)
HIGH = (Drum.CLOSED_HAT, Drum.OPEN_HAT, Drum.CRASH, Drum.RIDE)
VOICES = (LOW, MID, HIGH)
DENSITY_FULL = 4.0  # hits per step that count as "as dense as it gets"


def _onsets(bar: np.ndarray) -> np.ndarray:
    """``[..., 16]``: whether any drum sounds on each step."""
    return np.asarray((bar > 0).any(axis=-1), dtype=bool)


def density(bar: np.ndarray) -> np.ndarray:
    hits = (bar > 0).sum(axis=(-1, -2))
    return np.asarray(np.minimum(1.0, hits / (STEPS_PER_BAR * DENSITY_FULL)), dtype=np.float64)


def _syncopation_raw(onsets: np.ndarray) -> np.ndarray:
    """LHL syncopation of onset rows ``[..., 16]``; the bar wraps to its own downbeat."""
    total = np.zeros(onsets.shape[:-1])
    for step in range(STEPS_PER_BAR):
        # The next step at least as strong as this one decides whether it syncopates.
        later = [(step + k) % STEPS_PER_BAR for k in range(1, STEPS_PER_BAR + 1)]
        stronger = (
            next(s for s in later if METRIC_WEIGHTS[s] > METRIC_WEIGHTS[step]) if step else None
        )
        if stronger is None:
            continue
        gap = METRIC_WEIGHTS[stronger] - METRIC_WEIGHTS[step]
        total += np.where(onsets[..., step] & ~onsets[..., stronger], gap, 0)
    return total


# The most syncopated bar (steps 1, 3, 6, 7, 9, 11, 14, 15 struck), found by trying all 65536.
def _max_syncopation() -> float:
    best = 0.0
    for code in range(1 << STEPS_PER_BAR):
        row = (code >> np.arange(STEPS_PER_BAR)) & 1 == 1
        best = max(best, float(_syncopation_raw(row)))
    return best


_MAX_SYNCOPATION = 18.0  # _max_syncopation(), checked by a test (it takes a few seconds)


def syncopation(bar: np.ndarray) -> np.ndarray:
    per_voice = [_syncopation_raw(_onsets(bar[..., list(voice)])) for voice in VOICES]
    return np.asarray(sum(per_voice) / (len(VOICES) * _MAX_SYNCOPATION), dtype=np.float64)


def balance(bar: np.ndarray) -> np.ndarray:
    hits = bar > 0
    low = hits[..., list(LOW)].sum(axis=(-1, -2))
    high = hits[..., list(HIGH)].sum(axis=(-1, -2))
    both = low + high
    return np.where(both > 0, (high - low) / np.maximum(both, 1), 0.0)


def intensity(bar: np.ndarray) -> np.ndarray:
    hits = bar > 0
    count = hits.sum(axis=(-1, -2))
    total = np.where(hits, bar, 0).astype(np.float64).sum(axis=(-1, -2))
    return np.where(count > 0, total / np.maximum(count, 1) / 127.0, 0.0)


def controls(bars: np.ndarray) -> np.ndarray:
    """``[..., 4]`` controls of ``[..., 16, 9]`` bars, in :data:`CONTROL_NAMES` order."""
    if bars.shape[-2:] != (STEPS_PER_BAR, DRUM_COUNT):
        raise ValueError(f"bars must end in ({STEPS_PER_BAR}, {DRUM_COUNT}), got {bars.shape}")
    return np.stack([density(bars), syncopation(bars), balance(bars), intensity(bars)], axis=-1)


def sequence_controls(steps: np.ndarray) -> np.ndarray:
    """Controls of each whole bar of a ``[T, 9]`` sequence: ``[T // 16, 4]``."""
    bars = len(steps) // STEPS_PER_BAR
    return controls(steps[: bars * STEPS_PER_BAR].reshape(bars, STEPS_PER_BAR, DRUM_COUNT))
