"""Groove controls: exact values on hand-made bars, worked out from the module's definitions.

density = hits / (16 steps * 4), capped at 1; syncopation is taken per voice -- low (kick,
low tom), mid (snare, mid tom, high tom), high (hats, crash, ride): the raw LHL of a voice is
the sum over its struck steps whose next stronger step is silent *in that voice* of the weight
difference, and syncopation = (raw low + raw mid + raw high) / (3 * 18), i.e. / 54;
balance = (high - low) / (high + low) with the same low and high voices; intensity = mean hit
velocity / 127.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.controls import (
    CONTROL_COUNT,
    CONTROL_NAMES,
    MAX_SYNCOPATION,
    METRIC_WEIGHTS,
    VOICES,
    _max_syncopation,
    _syncopation_raw,
    balance,
    controls,
    density,
    intensity,
    sequence_controls,
    so_far,
    syncopation,
    syncopation_gains,
)
from shared.drums import DRUM_COUNT, Drum


def bar(hits: dict[Drum, dict[int, int]]) -> np.ndarray:
    """A ``[16, 9]`` bar from ``{drum: {step: velocity}}``."""
    out = np.zeros((16, DRUM_COUNT), dtype=np.uint8)
    for drum, steps in hits.items():
        for step, velocity in steps.items():
            out[step, drum] = velocity
    return out


EMPTY = bar({})
FOUR_ON_THE_FLOOR = bar({Drum.KICK: {0: 100, 4: 100, 8: 100, 12: 100}})
ROCK = bar(
    {
        Drum.KICK: {0: 100, 8: 100},
        Drum.SNARE: {4: 90, 12: 90},
        Drum.CLOSED_HAT: {t: 64 for t in range(0, 16, 2)},
    }
)
# The rock beat with the kick anticipating beat 3: on step 7 instead of 8. A hat still
# sounds on step 8, so the onsets of all drums together fill every even step.
ANTICIPATED = bar(
    {
        Drum.KICK: {0: 100, 7: 100},
        Drum.SNARE: {4: 90, 12: 90},
        Drum.CLOSED_HAT: {t: 64 for t in range(0, 16, 2)},
    }
)
OFF_BEATS = bar({Drum.CLOSED_HAT: {t: 80 for t in range(1, 16, 2)}})
# The most syncopated onsets of one voice under LHL (found by enumerating all 65536):
# 1->2 (1) + 3->4 (2) + 6->8 (2) + 7->8 (3) + 9->10 (1) + 11->12 (2) + 14->0 (3) + 15->0 (4) = 18.
MOST_SYNCOPATED_STEPS = (1, 3, 6, 7, 9, 11, 14, 15)
# ... struck in all three voices at once, so each voice reads 18.
MOST_SYNCOPATED = bar(
    {drum: {t: 100 for t in MOST_SYNCOPATED_STEPS} for drum in (Drum.KICK, Drum.SNARE, Drum.RIDE)}
)
CYMBALS = bar({Drum.CRASH: {0: 120}, Drum.RIDE: {4: 70, 8: 70, 12: 70}})
KICK_ONLY = bar({Drum.KICK: {0: 110, 6: 90, 10: 100}})


def test_control_names_and_count() -> None:
    assert CONTROL_NAMES == ("density", "syncopation", "balance", "intensity")
    assert CONTROL_COUNT == 4


def test_metric_weights_are_the_lhl_levels_of_a_4_4_bar() -> None:
    # downbeat 0, half bar -1, beats -2, eighths -3, sixteenths -4
    expected = [0, -4, -3, -4, -2, -4, -3, -4, -1, -4, -3, -4, -2, -4, -3, -4]
    assert METRIC_WEIGHTS.tolist() == expected


def test_an_empty_bar_is_all_zeros() -> None:
    assert controls(EMPTY).tolist() == [0.0, 0.0, 0.0, 0.0]
    assert float(balance(EMPTY)) == 0.0
    assert float(intensity(EMPTY)) == 0.0


def test_four_on_the_floor() -> None:
    assert float(density(FOUR_ON_THE_FLOOR)) == 4 / 64
    assert float(syncopation(FOUR_ON_THE_FLOOR)) == 0.0
    assert float(balance(FOUR_ON_THE_FLOOR)) == -1.0
    assert float(intensity(FOUR_ON_THE_FLOOR)) == 100 / 127
    assert controls(FOUR_ON_THE_FLOOR).tolist() == [4 / 64, 0.0, -1.0, 100 / 127]


def test_the_voices_split_the_nine_drums_into_low_mid_and_high() -> None:
    assert VOICES == (
        (Drum.KICK, Drum.LOW_TOM),
        (Drum.SNARE, Drum.MID_TOM, Drum.HIGH_TOM),
        (Drum.CLOSED_HAT, Drum.OPEN_HAT, Drum.CRASH, Drum.RIDE),
    )
    assert sorted(drum for voice in VOICES for drum in voice) == list(Drum)


def test_a_plain_rock_beat() -> None:
    # 2 kicks + 2 snares + 8 hats = 12 hits, all on even steps.
    assert float(density(ROCK)) == 12 / 64
    # low, kicks on 0 and 8: 0 never syncopates, 8 -> 0 (wrapping) is struck: 0.
    # mid, snares on 4 and 12: 4 -> 8 (-2 to -1) is silent in the mid voice: 1;
    #   12 -> 0 (-2 to 0) is silent too: 2. Raw 3: the backbeat lands off the kick's steps.
    # high, hats on every even step: 2 -> 4, 4 -> 8, 6 -> 8, 8 -> 0, 10 -> 12, 12 -> 0,
    #   14 -> 0 are all struck: 0.
    assert float(syncopation(ROCK)) == (0 + 3 + 0) / 54
    # low: 2 kicks; high: 8 hats; the snare is neither.
    assert float(balance(ROCK)) == (8 - 2) / (8 + 2)
    total = 2 * 100 + 2 * 90 + 8 * 64
    assert float(intensity(ROCK)) == pytest.approx(total / 12 / 127, rel=1e-15)
    assert controls(ROCK).tolist() == pytest.approx(
        [0.1875, 3 / 54, 0.6, 892 / 12 / 127], rel=1e-15, abs=0
    )


def test_a_kick_anticipating_beat_3_syncopates_although_every_strong_step_sounds() -> None:
    # Over all drums at once the hats fill every even step, so nothing syncopates: the old,
    # all-drums measure read 0 for this bar, as it does for nearly every real one.
    onsets = ANTICIPATED.any(axis=-1)
    assert bool(onsets[::2].all())
    assert float(_syncopation_raw(onsets)) == 0.0
    # Per voice: low, kicks on 0 and 7: 7 -> 8 (-4 to -1) is silent in the low voice: 3.
    # mid, snares on 4 and 12, as in ROCK: 1 + 2 = 3. high, hats on every even step: 0.
    assert float(syncopation(ANTICIPATED)) == (3 + 3 + 0) / 54
    assert float(syncopation(ANTICIPATED)) > float(syncopation(ROCK)) == 3 / 54
    # Without the snare, the anticipation alone: 3 / 54 > 0.
    kick_and_hats = ANTICIPATED.copy()
    kick_and_hats[:, Drum.SNARE] = 0
    assert float(_syncopation_raw(kick_and_hats.any(axis=-1))) == 0.0
    assert float(syncopation(kick_and_hats)) == 3 / 54 > 0


def test_hits_on_every_off_beat_sixteenth() -> None:
    # Each odd step's next stronger step is even, hence silent: 1->2 (-4 to -3) 1,
    # 3->4 2, 5->6 1, 7->8 3, 9->10 1, 11->12 2, 13->14 1, 15->0 (wrapping) 4: 15 in all,
    # all in the high voice (closed hat); low and mid are silent and read 0.
    gaps = [1, 2, 1, 3, 1, 2, 1, 4]
    assert float(_syncopation_raw(OFF_BEATS.any(axis=-1))) == sum(gaps) == 15
    assert float(syncopation(OFF_BEATS)) == (0 + 0 + 15) / 54
    assert controls(OFF_BEATS).tolist() == pytest.approx(
        [8 / 64, 15 / 54, 1.0, 80 / 127], rel=1e-15, abs=0
    )


@pytest.mark.parametrize(
    ("step", "gap"),
    [
        (0, 0),  # the downbeat never syncopates
        (1, 1),  # -> 2
        (2, 1),  # -> 4
        (3, 2),  # -> 4
        (4, 1),  # -> 8
        (5, 1),  # -> 6
        (6, 2),  # -> 8
        (7, 3),  # -> 8
        (8, 1),  # -> the next downbeat
        (9, 1),  # -> 10
        (10, 1),  # -> 12
        (11, 2),  # -> 12
        (12, 2),  # -> the next downbeat
        (13, 1),  # -> 14
        (14, 3),  # -> the next downbeat
        (15, 4),  # -> the next downbeat
    ],
)
def test_one_note_alone_syncopates_by_the_gap_to_its_next_stronger_step(
    step: int, gap: int
) -> None:
    row = np.zeros(16, dtype=bool)
    row[step] = True
    assert float(_syncopation_raw(row)) == gap
    # The note's voice reads the gap, the two silent voices 0: gap / (3 * 18). The voices
    # are symmetric, so it is the same whichever of the 9 drums plays it.
    for drum in Drum:
        alone = bar({drum: {step: 100}})
        assert (drum.name, float(syncopation(alone))) == (drum.name, gap / 54)


@pytest.mark.parametrize(("step", "gap"), [(8, 1), (12, 2), (14, 3), (15, 4)])
def test_a_struck_downbeat_cancels_the_wrapping_syncopation_in_its_own_voice_only(
    step: int, gap: int
) -> None:
    # The same drum, or another of the same voice (snare and mid tom are both mid), on the
    # downbeat: step -> 0 is struck, nothing syncopates.
    assert float(syncopation(bar({Drum.SNARE: {0: 100, step: 100}}))) == 0.0
    assert float(syncopation(bar({Drum.SNARE: {step: 100}, Drum.MID_TOM: {0: 100}}))) == 0.0
    # A kick (low) or a crash (high) on the downbeat leaves the mid voice's 0 silent.
    assert float(syncopation(bar({Drum.SNARE: {step: 100}, Drum.KICK: {0: 100}}))) == gap / 54
    assert float(syncopation(bar({Drum.SNARE: {step: 100}, Drum.CRASH: {0: 100}}))) == gap / 54


def test_notes_of_one_voice_count_once_notes_of_two_voices_count_in_each() -> None:
    one = bar({Drum.SNARE: {15: 100}})
    # Snare, mid tom and high tom on step 15 are one onset of the mid voice: 4.
    same_voice = bar({Drum.SNARE: {15: 100}, Drum.MID_TOM: {15: 30}, Drum.HIGH_TOM: {15: 1}})
    assert float(syncopation(same_voice)) == float(syncopation(one)) == 4 / 54
    # Snare (mid) and crash (high) on step 15: 15 -> 0 is silent in both voices, 4 + 4.
    two_voices = bar({Drum.SNARE: {15: 100}, Drum.CRASH: {15: 30}})
    assert float(syncopation(two_voices)) == (0 + 4 + 4) / 54
    # ... and a low tom too: 4 in each of the three voices.
    three_voices = bar({Drum.SNARE: {15: 100}, Drum.CRASH: {15: 30}, Drum.LOW_TOM: {15: 1}})
    assert float(syncopation(three_voices)) == (4 + 4 + 4) / 54
    # A ride on the downbeat silences the high voice's 15 -> 0 only.
    three_voices[0, Drum.RIDE] = 70
    assert float(syncopation(three_voices)) == (4 + 4 + 0) / 54


def test_the_most_syncopated_bar_reads_one() -> None:
    # 18 in each of the three voices: (18 + 18 + 18) / 54.
    assert float(syncopation(MOST_SYNCOPATED)) == 1.0
    # The same steps in one voice only (the snare) read 18 / 54 = 1 / 3.
    one_voice = MOST_SYNCOPATED.copy()
    one_voice[:, [Drum.KICK, Drum.RIDE]] = 0
    assert float(syncopation(one_voice)) == 18 / 54


def test_only_cymbals_balance_high() -> None:
    assert float(balance(CYMBALS)) == 1.0
    assert float(intensity(CYMBALS)) == pytest.approx((120 + 3 * 70) / 4 / 127, rel=1e-15)


def test_only_kick_balances_low() -> None:
    assert float(balance(KICK_ONLY)) == -1.0


def test_balance_of_a_mix_and_of_drums_on_neither_side() -> None:
    mix = bar({Drum.KICK: {0: 90, 8: 90}, Drum.LOW_TOM: {14: 90}, Drum.OPEN_HAT: {2: 90, 6: 90}})
    assert float(balance(mix)) == pytest.approx((2 - 3) / 5, rel=1e-15)
    # Snare and the mid and high toms count on neither side.
    neither = bar({Drum.SNARE: {4: 90}, Drum.MID_TOM: {5: 90}, Drum.HIGH_TOM: {6: 90}})
    assert float(balance(neither)) == 0.0


def test_velocity_127_everywhere() -> None:
    full = np.full((16, DRUM_COUNT), 127, dtype=np.uint8)
    # 144 hits (capped at 64), no silent step, low 2 x 16 against high 4 x 16.
    assert controls(full).tolist() == pytest.approx([1.0, 0.0, 1 / 3, 1.0], rel=1e-15, abs=0)
    assert float(intensity(full)) == 1.0


def test_density_caps_at_one() -> None:
    hits = np.zeros((16, DRUM_COUNT), dtype=np.uint8)
    hits[:, :3] = 50  # 48 hits
    assert float(density(hits)) == 48 / 64
    hits[:, 3] = 50  # 64 hits: as dense as it gets
    assert float(density(hits)) == 1.0
    hits[0, 4] = 50  # 65
    assert float(density(hits)) == 1.0


def test_intensity_averages_over_hits_only() -> None:
    quiet = bar({Drum.SNARE: {0: 1, 1: 3}})
    assert float(intensity(quiet)) == 2 / 127


def test_controls_of_stacked_bars_keep_leading_axes() -> None:
    stack = np.stack([EMPTY, FOUR_ON_THE_FLOOR, ROCK, OFF_BEATS]).reshape(2, 2, 16, DRUM_COUNT)
    out = controls(stack)
    assert out.shape == (2, 2, 4)
    assert np.array_equal(out[0, 1], controls(FOUR_ON_THE_FLOOR))
    assert np.array_equal(out[1, 1], controls(OFF_BEATS))
    assert np.array_equal(out[1, 0], controls(ROCK))


@pytest.mark.parametrize("shape", [(16, 8), (15, 9), (32, 9), (9,), (3, 16, 10)])
def test_controls_rejects_a_wrong_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError) as caught:
        controls(np.zeros(shape, dtype=np.uint8))
    assert str(caught.value) == f"bars must end in (16, 9), got {shape}"


def test_sequence_controls_gives_one_row_per_whole_bar() -> None:
    extra = np.full((5, DRUM_COUNT), 127, dtype=np.uint8)  # a partial 4th bar, left out
    steps = np.concatenate([FOUR_ON_THE_FLOOR, ROCK, OFF_BEATS, extra])
    out = sequence_controls(steps)
    assert out.shape == (3, 4)
    for row, one in zip(out, (FOUR_ON_THE_FLOOR, ROCK, OFF_BEATS), strict=True):
        assert np.array_equal(row, controls(one))


def test_sequence_controls_of_less_than_a_bar_is_empty() -> None:
    assert sequence_controls(np.zeros((15, DRUM_COUNT), dtype=np.uint8)).shape == (0, 4)


def test_max_syncopation_over_all_onset_rows_at_once() -> None:
    # The same enumeration as _max_syncopation, vectorised: 65536 rows in one call.
    rows = (np.arange(1 << 16)[:, None] >> np.arange(16)) & 1 == 1
    raw = _syncopation_raw(rows)
    assert raw.shape == (1 << 16,)
    assert float(raw.max()) == MAX_SYNCOPATION == 18.0
    assert bool(raw[int(MOST_SYNCOPATED.any(axis=-1) @ (1 << np.arange(16)))] == 18.0)


def test_slow_max_syncopation_enumeration_equals_the_constant() -> None:
    """SLOW (~5-10 s): _max_syncopation() loops over all 65536 bars in Python, one at a time."""
    assert _max_syncopation() == MAX_SYNCOPATION


# -- the bar so far ----------------------------------------------------------------


def test_so_far_starts_at_zero_and_ends_at_the_bars_own_controls() -> None:
    bars = np.stack([EMPTY, ROCK, ANTICIPATED, OFF_BEATS, MOST_SYNCOPATED, CYMBALS, KICK_ONLY])
    running = so_far(bars)
    assert running.shape == (7, 17, 3)
    assert not running[:, 0].any()
    assert np.array_equal(running[:, 16], controls(bars)[:, :3])


def test_so_far_counts_a_syncopation_once_its_stronger_step_has_been_played() -> None:
    # A kick alone on step 3: a hit from row 4 on; its syncopation (3 -> 4, weight gap 2)
    # is known only once step 4 has been played (silent), so from row 5 on.
    running = so_far(bar({Drum.KICK: {3: 100}}))
    assert running[:4].tolist() == [[0.0, 0.0, 0.0]] * 4
    assert running[4].tolist() == [1 / 64, 0.0, -1.0]
    assert running[5:].tolist() == [[1 / 64, 2 / 54, -1.0]] * 12


def test_so_far_of_a_weak_step_before_the_wrapping_downbeat_is_known_at_once() -> None:
    # Step 15 syncopates against the bar's own downbeat (gap 4), which has been played
    # by then: known as soon as step 15 is. A ride (high) on step 15 of an empty bar.
    running = so_far(bar({Drum.RIDE: {15: 100}}))
    assert running[15].tolist() == [0.0, 0.0, 0.0]
    assert running[16].tolist() == [1 / 64, 4 / 54, 1.0]


def test_so_far_of_the_rock_beat_after_each_beat() -> None:
    # Hats (high) on each eighth, kick (low) on 0 and 8, snare (mid) on 4 and 12. In the
    # mid voice alone the backbeat syncopates: 4 -> 8 (gap 1) is known after step 8,
    # 12 -> the downbeat (gap 2) after step 12.
    running = so_far(ROCK)
    after = {t: running[t].tolist() for t in (4, 8, 12, 16)}
    assert after == {
        4: [3 / 64, 0.0, (2 - 1) / 3],
        8: [6 / 64, 0.0, (4 - 1) / 5],
        12: [9 / 64, 1 / 54, (6 - 2) / 8],
        16: [12 / 64, 3 / 54, (8 - 2) / 10],
    }


def test_so_far_keeps_leading_axes_and_rejects_a_wrong_shape() -> None:
    assert so_far(np.zeros((2, 3, 16, DRUM_COUNT), np.uint8)).shape == (2, 3, 17, 3)
    with pytest.raises(ValueError, match=r"bars must end in \(16, 9\), got \(15, 9\)"):
        so_far(np.zeros((15, DRUM_COUNT), np.uint8))


def test_syncopation_gains_account_for_every_step_of_the_bar_so_far() -> None:
    rng = np.random.default_rng(9)
    bars = (rng.random((300, 16, DRUM_COUNT)) < rng.random((300, 1, 1)) * 0.5).astype(np.uint8)
    gains = syncopation_gains(bars * 90)  # [300, 16, 2, 3]
    onsets = np.stack([bars[..., list(v)].any(axis=-1) for v in VOICES], axis=-1)
    earned = np.where(onsets, gains[..., 0, :], gains[..., 1, :]).sum(axis=-1)
    grown = np.diff(so_far(bars * 90)[..., 1], axis=-1)
    # In units of one LHL weight gap (1/54), both are whole numbers: exactly equal.
    assert np.array_equal(np.round(earned * 54), np.round(grown * 54))
    assert np.allclose(earned * 54, np.round(earned * 54)) and grown.max() > 0


def test_syncopation_gains_of_a_kick_waiting_on_beat_three() -> None:
    # A kick on step 7 (silent downbeat): on step 8, silence would earn 7 -> 8 (gap 3)
    # in the low voice; a hit on step 15 earns 15 -> the silent downbeat (gap 4) at once.
    gains = syncopation_gains(bar({Drum.KICK: {7: 100}})) * 54
    assert gains[8].tolist() == [[1.0, 1.0, 1.0], [3.0, 0.0, 0.0]]  # hit 8 -> silent 0: gap 1
    assert gains[15].tolist() == [[4.0, 4.0, 4.0], [0.0, 0.0, 0.0]]
    assert gains[3].tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    struck_downbeat = syncopation_gains(bar({Drum.KICK: {0: 100, 7: 100}})) * 54
    assert struck_downbeat[15].tolist() == [[0.0, 4.0, 4.0], [0.0, 0.0, 0.0]]
