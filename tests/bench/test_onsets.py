"""Onset detection finds drum-like hits to the sample, and shifts with them."""

from __future__ import annotations

import numpy as np

from bench.onsets import onsets, pair

RATE = 44100


def hits_at(starts: list[int], length: int, seed: int = 0) -> np.ndarray:
    """Decaying noise bursts (a snare-ish hit) starting at ``starts``, overlapping tails."""
    rng = np.random.default_rng(seed)
    out = np.zeros(length)
    decay = np.exp(-np.arange(RATE // 2) / (0.08 * RATE))
    for start in starts:
        burst = rng.uniform(-0.5, 0.5, len(decay)) * decay
        burst[0] = 0.5  # a hit starts with a jump
        end = min(length, start + len(burst))
        out[start:end] += burst[: end - start]
    return out


def test_onsets_are_found_at_their_first_sample_through_overlapping_tails() -> None:
    starts = [1000, 6513, 12000, 17512, 23000]  # 125 ms apart, give or take
    found = onsets(hits_at(starts, 30000), RATE)
    assert found.tolist() == starts


def test_quiet_signals_and_repeats_within_the_gap_are_not_onsets() -> None:
    quiet = hits_at([1000], 5000) * 0.001  # -66 dBFS
    assert onsets(quiet, RATE).tolist() == []
    flam = hits_at([1000, 1500], 8000)  # 11 ms apart: one onset
    assert onsets(flam, RATE).tolist() == [1000]


def test_stereo_and_a_shift_move_the_onsets_by_the_shift() -> None:
    mono = hits_at([2000, 9000], 20000)
    stereo = np.stack([mono * 0.2, mono], axis=1)
    shifted = np.concatenate([np.zeros(37), mono])[:20000]
    assert onsets(stereo, RATE).tolist() == [2000, 9000]
    assert onsets(shifted, RATE).tolist() == [2037, 9037]


def test_onsets_pair_with_their_nearest() -> None:
    assert pair(np.array([1.0, 2.0, 5.0]), np.array([2.0004, 0.9998, 9.0]), 0.01) == [
        (1.0, 0.9998),
        (2.0, 2.0004),
    ]
    assert pair(np.array([1.0]), np.array([]), 0.01) == []


def test_the_same_onsets_as_the_rule_checked_sample_by_sample() -> None:
    signal = hits_at([300, 2600, 2700, 5200], 8000, seed=3) * np.linspace(1.0, 0.2, 8000)
    back, gap = round(0.004 * RATE), round(0.05 * RATE)  # the defaults
    level = np.abs(signal)
    expected: list[int] = []
    for i in range(len(level)):
        loudest = level[max(0, i - back) : i].max(initial=0.0)
        is_onset = level[i] >= 10 ** (-50 / 20) and level[i] >= 2.0 * loudest
        if is_onset and (not expected or i - expected[-1] >= gap):
            expected.append(i)
    assert onsets(signal, RATE).tolist() == expected
    assert expected[:2] == [300, 2600]  # (2700 is within the gap of 2600)
