"""Where drum hits start in a rendered signal, to the sample.

A drum hit is a jump in level: the signal's magnitude leaps above everything of the
last few milliseconds (a decaying tail, a reverb) within a fraction of a millisecond.
An onset is the first sample whose magnitude is ``rise`` times the loudest of the
``lookback`` before it and above an absolute ``floor``; after one, the next can come
no sooner than ``gap`` later (16th notes at 240 bpm are 62.5 ms apart). The same
hits rendered at a different time give the same onsets shifted by that time, which
is what measuring sync between two renders needs.
"""

from __future__ import annotations

import numpy as np

FLOOR = 10 ** (-50 / 20)  # -50 dBFS: quieter than any hit the kit plays
RISE = 2.0  # 6 dB over the last few milliseconds
LOOKBACK_S = 0.004
GAP_S = 0.05


def onsets(
    signal: np.ndarray,
    sample_rate: int,
    floor: float = FLOOR,
    rise: float = RISE,
    lookback_s: float = LOOKBACK_S,
    gap_s: float = GAP_S,
) -> np.ndarray:
    """Sample indices of the onsets in ``signal`` (``[samples]`` or ``[samples, channels]``)."""
    level = np.abs(np.asarray(signal, dtype=np.float64))
    if level.ndim == 2:
        level = level.max(axis=1)
    back = max(1, round(lookback_s * sample_rate))
    # The loudest of the ``back`` samples before each one: a running maximum, from a
    # stack of shifted copies folded in halves (log2(back) passes, not ``back``).
    before = np.concatenate([np.zeros(1), level[:-1]])
    window = before.copy()
    span = 1
    while span < back:
        step = min(span, back - span)
        shifted = np.concatenate([np.zeros(step), window[:-step]])
        np.maximum(window, shifted, out=window)
        span += step
    candidates = np.flatnonzero((level >= floor) & (level >= rise * window))
    found: list[int] = []
    gap = round(gap_s * sample_rate)
    for index in candidates:
        if not found or index - found[-1] >= gap:
            found.append(int(index))
    return np.array(found, dtype=np.int64)


def pair(a: np.ndarray, b: np.ndarray, within: float) -> list[tuple[float, float]]:
    """Each onset time of ``a`` with the nearest of ``b``, when that is within ``within``."""
    if not len(a) or not len(b):
        return []
    b = np.sort(b)
    at = np.clip(np.searchsorted(b, a), 1, len(b) - 1)
    nearest = np.where(np.abs(b[at - 1] - a) <= np.abs(b[at] - a), b[at - 1], b[at])
    return [(float(x), float(y)) for x, y in zip(a, nearest, strict=True) if abs(x - y) <= within]
