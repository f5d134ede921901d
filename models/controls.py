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

:func:`so_far` gives the first three as they stand part-way through a bar (what
the steps already played have delivered), so a model writing a bar can see how
much of the asked groove is still to come; after the last step they equal the
bar's own.
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
# How hard the writer steers asked syncopation (weighted decoding, see models.sample):
# chosen on the validation split, where it meets the asked syncopation while written
# bars still overlap real ones. 0 leaves the LSTM alone.
STEER = 3.0
MAX_STEER = 20.0


def _onsets(bar: np.ndarray) -> np.ndarray:
    """``[..., 16]``: whether any drum sounds on each step."""
    return np.asarray((bar > 0).any(axis=-1), dtype=bool)


def density(bar: np.ndarray) -> np.ndarray:
    hits = (bar > 0).sum(axis=(-1, -2))
    return np.asarray(np.minimum(1.0, hits / (STEPS_PER_BAR * DENSITY_FULL)), dtype=np.float64)


def _syncopation_raw(onsets: np.ndarray) -> np.ndarray:
    """LHL syncopation of onset rows ``[..., 16]``; the bar wraps to its own downbeat.

    A struck weak step syncopates when the next step at least as strong is silent.
    """
    syncopated = onsets & ~onsets[..., _PARTNER]
    return np.asarray(syncopated @ _GAPS, dtype=np.float64)


# The most syncopated bar (steps 1, 3, 6, 7, 9, 11, 14, 15 struck), found by trying all 65536.
def _max_syncopation() -> float:
    best = 0.0
    for code in range(1 << STEPS_PER_BAR):
        row = (code >> np.arange(STEPS_PER_BAR)) & 1 == 1
        best = max(best, float(_syncopation_raw(row)))
    return best


MAX_SYNCOPATION = 18.0  # _max_syncopation(), checked by a test (it takes a few seconds)


def _stronger(step: int) -> int | None:
    """The next step at least as strong as ``step``, wrapping to the bar's own downbeat."""
    if step == 0:
        return None
    later = [(step + k) % STEPS_PER_BAR for k in range(1, STEPS_PER_BAR + 1)]
    return next(s for s in later if METRIC_WEIGHTS[s] > METRIC_WEIGHTS[step])


# Every (weak step, its stronger step, their weight gap, the step after which both
# are known): the pairs LHL syncopation is made of, in order of being known.
SYNCOPATION_PAIRS: tuple[tuple[int, int, int, int], ...] = tuple(
    sorted(
        (
            (w, s, int(METRIC_WEIGHTS[s] - METRIC_WEIGHTS[w]), max(w, s))
            for w in range(STEPS_PER_BAR)
            if (s := _stronger(w)) is not None
        ),
        key=lambda pair: pair[3],
    )
)
# The same pairs by weak step: its stronger step and their gap (the downbeat, which has
# no stronger step, gets gap 0 and itself as partner).
_PARTNER = np.zeros(STEPS_PER_BAR, dtype=np.int64)
_GAPS = np.zeros(STEPS_PER_BAR)
for _weak, _strong, _gap, _ in SYNCOPATION_PAIRS:
    _PARTNER[_weak] = _strong
    _GAPS[_weak] = _gap


def syncopation(bar: np.ndarray) -> np.ndarray:
    per_voice = [_syncopation_raw(_onsets(bar[..., list(voice)])) for voice in VOICES]
    return np.asarray(sum(per_voice) / (len(VOICES) * MAX_SYNCOPATION), dtype=np.float64)


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


SO_FAR_NAMES = CONTROL_NAMES[:3]  # density, syncopation, balance
SO_FAR_COUNT = len(SO_FAR_NAMES)

# [16 weak steps, 17 moments]: whether a weak step's syncopation is known after
# ``t`` steps of the bar (both it and its stronger step played).
_KNOWN_AFTER = np.zeros((STEPS_PER_BAR, STEPS_PER_BAR + 1))
for _weak, _, _, _known in SYNCOPATION_PAIRS:
    _KNOWN_AFTER[_weak, _known + 1 :] = 1.0


def so_far(bars: np.ndarray) -> np.ndarray:
    """``[..., 17, 3]``: density, syncopation and balance of each bar's first ``t`` steps.

    Row ``t`` counts steps ``0..t-1`` only, so row 0 is all zeros and row 16 is the
    bar's own :func:`controls` (their first three). Syncopation counts a weak step
    once its stronger step has been played too.
    """
    if bars.shape[-2:] != (STEPS_PER_BAR, DRUM_COUNT):
        raise ValueError(f"bars must end in ({STEPS_PER_BAR}, {DRUM_COUNT}), got {bars.shape}")
    hits = bars > 0
    lead = [(0, 0)] * (bars.ndim - 2) + [(1, 0)]

    def running(per_step: np.ndarray) -> np.ndarray:  # [..., 16] -> [..., 17] sums so far
        return np.asarray(np.pad(per_step, lead).cumsum(axis=-1), dtype=np.float64)

    count = running(hits.sum(axis=-1))
    low = running(hits[..., list(LOW)].sum(axis=-1))
    high = running(hits[..., list(HIGH)].sum(axis=-1))
    total = np.zeros(count.shape)
    for voice in VOICES:
        onsets = np.asarray(hits[..., list(voice)].any(axis=-1))  # [..., 16]
        syncopated = onsets & ~onsets[..., _PARTNER]
        total += (syncopated * _GAPS) @ _KNOWN_AFTER
    return so_far_from_counts(count, total, low, high)


# Per step of a bar: the weight gap a hit earns when its stronger step (the bar's own
# downbeat) has sounded already -- silent there, the hit syncopates at once -- and
# the weak steps whose stronger step it is, with their gaps: silence here makes them
# syncopate.
HIT_GAP = np.zeros(STEPS_PER_BAR)
PENDING_GAPS = np.zeros((STEPS_PER_BAR, STEPS_PER_BAR))  # [strong step, weak step]
for _weak, _strong, _gap, _ in SYNCOPATION_PAIRS:
    if _strong < _weak:
        HIT_GAP[_weak] = _gap
    else:
        PENDING_GAPS[_strong, _weak] = _gap


def syncopation_gains(bars: np.ndarray) -> np.ndarray:
    """``[..., 16, 2, 3]``: what each step can still do to its bar's syncopation, per voice.

    For step ``t`` and each voice (low, mid, high), given steps ``0..t-1``: ``[0]`` the
    syncopation a hit in that voice would add now, ``[1]`` what silence in it would
    add now, both in :func:`syncopation` units. So the bar-so-far syncopation grows
    from step ``t`` to ``t + 1`` by the sum over voices of ``[0]`` where the voice
    sounds and ``[1]`` where it is silent (a test holds this for any bar).
    """
    if bars.shape[-2:] != (STEPS_PER_BAR, DRUM_COUNT):
        raise ValueError(f"bars must end in ({STEPS_PER_BAR}, {DRUM_COUNT}), got {bars.shape}")
    hits = bars > 0
    onsets = np.stack([hits[..., list(v)].any(axis=-1) for v in VOICES], axis=-1)  # [..., 16, 3]
    silent_downbeat = ~onsets[..., :1, :]  # [..., 1, 3]
    hit = HIT_GAP[:, None] * silent_downbeat
    pending = np.einsum("sw,...wv->...sv", PENDING_GAPS, onsets.astype(np.float64))
    return np.stack([hit, pending], axis=-2) / (len(VOICES) * MAX_SYNCOPATION)


def so_far_from_counts(
    hits: np.ndarray, syncopation_gaps: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """``[..., 3]`` bar-so-far values from running counts: hits, summed LHL gaps of the
    known syncopations over all voices, low-side and high-side hits."""
    return np.stack(
        [
            np.minimum(1.0, hits / (STEPS_PER_BAR * DENSITY_FULL)),
            syncopation_gaps / (len(VOICES) * MAX_SYNCOPATION),
            (high - low) / np.maximum(low + high, 1),  # 0 / 1 for a bar with neither
        ],
        axis=-1,
    )


def sequence_controls(steps: np.ndarray) -> np.ndarray:
    """Controls of each whole bar of a ``[T, 9]`` sequence: ``[T // 16, 4]``."""
    bars = len(steps) // STEPS_PER_BAR
    return controls(steps[: bars * STEPS_PER_BAR].reshape(bars, STEPS_PER_BAR, DRUM_COUNT))
