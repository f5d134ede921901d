"""The drum encoding: the 512-class step code, the pitch tables, MIDI both ways."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from models.encoding import (
    CLASS_COUNT,
    GM_LOOKUP,
    GM_PITCHES,
    OUTPUT_PITCH,
    ROLAND_LOOKUP,
    ROLAND_PITCHES,
    array_to_pattern,
    class_drums,
    class_masks,
    classes_of,
    midi_to_steps,
    step_class,
    steps_to_midi,
)
from shared.drums import DRUM_COUNT, Drum

STEP_120 = 60.0 / 120.0 / 4  # seconds per 16th at 120 bpm: 0.125


def drum_midi(
    notes: list[tuple[int, float, float, int]], bpm: float = 120.0
) -> pretty_midi.PrettyMIDI:
    """A one-track drum file of ``(pitch, start, end, velocity)`` notes, times in seconds."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    track = pretty_midi.Instrument(program=0, is_drum=True)
    for pitch, start, end, velocity in notes:
        track.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=end))
    midi.instruments.append(track)
    return midi


def two_bars() -> np.ndarray:
    """A hand-made 2-bar groove using every drum, velocities from 1 to 127."""
    steps = np.zeros((32, DRUM_COUNT), dtype=np.uint8)
    for t in range(0, 32, 2):
        steps[t, Drum.CLOSED_HAT] = 60 + t  # 60..90, a different velocity each eighth
    for t in (0, 8, 10, 16, 24):
        steps[t, Drum.KICK] = 110
    for t in (4, 12, 20, 28):
        steps[t, Drum.SNARE] = 100
    steps[7, Drum.SNARE] = 1  # a ghost note at the quietest velocity
    steps[14, Drum.OPEN_HAT] = 80
    steps[16, Drum.CRASH] = 127
    steps[25, Drum.HIGH_TOM] = 95
    steps[27, Drum.MID_TOM] = 90
    steps[29, Drum.LOW_TOM] = 85
    steps[30, Drum.RIDE] = 70
    steps[31, Drum.LOW_TOM] = 127  # the last step is struck, so the file lasts 32 steps
    return steps


# -- the 512-class step code ---------------------------------------------------


def test_class_count_is_two_to_the_nine() -> None:
    assert CLASS_COUNT == 512


def test_the_four_class_functions_agree_on_all_512_classes() -> None:
    masks = class_masks()
    assert masks.shape == (512, DRUM_COUNT)
    assert masks.dtype == np.bool_
    rows = np.zeros((CLASS_COUNT, DRUM_COUNT), dtype=np.uint8)
    for code in range(CLASS_COUNT):
        drums = class_drums(code)
        assert list(drums) == sorted(drums)
        assert all(type(d) is Drum for d in drums)
        # A different velocity per drum: the class must not care how loud a hit is.
        step = [(10 + 13 * d) if d in drums else 0 for d in range(DRUM_COUNT)]
        assert step_class(step) == code
        assert masks[code].tolist() == [d in drums for d in range(DRUM_COUNT)]
        rows[code] = step
    assert classes_of(rows).tolist() == list(range(CLASS_COUNT))
    assert classes_of(rows).dtype == np.int64


def test_single_drum_classes_are_powers_of_two() -> None:
    assert class_drums(0) == ()
    assert class_drums(1) == (Drum.KICK,)
    assert class_drums(2) == (Drum.SNARE,)
    assert class_drums(256) == (Drum.RIDE,)
    assert class_drums(511) == tuple(Drum)
    assert class_drums(0b101) == (Drum.KICK, Drum.CLOSED_HAT)
    assert step_class([0, 0, 0, 0, 0, 0, 0, 0, 1]) == 256


def test_classes_of_keeps_leading_axes() -> None:
    steps = np.zeros((2, 3, DRUM_COUNT), dtype=np.uint8)
    steps[1, 2, Drum.SNARE] = 5
    steps[0, 1, Drum.KICK] = 127
    steps[0, 1, Drum.RIDE] = 1
    assert classes_of(steps).tolist() == [[0, 257, 0], [0, 0, 2]]


@pytest.mark.parametrize("code", [-1, 512])
def test_class_drums_rejects_codes_out_of_range(code: int) -> None:
    with pytest.raises(ValueError) as caught:
        class_drums(code)
    assert str(caught.value) == f"a drum class is in range 0..511, got {code}"


# -- pitch tables --------------------------------------------------------------


@pytest.mark.parametrize(
    ("pitch", "drum"),
    [
        (36, Drum.KICK),
        (38, Drum.SNARE),
        (37, Drum.SNARE),
        (40, Drum.SNARE),
        (42, Drum.CLOSED_HAT),
        (22, Drum.CLOSED_HAT),
        (44, Drum.CLOSED_HAT),
        (46, Drum.OPEN_HAT),
        (26, Drum.OPEN_HAT),
        (43, Drum.LOW_TOM),
        (58, Drum.LOW_TOM),
        (45, Drum.MID_TOM),
        (48, Drum.HIGH_TOM),
        (49, Drum.CRASH),
        (52, Drum.CRASH),
        (51, Drum.RIDE),
        (59, Drum.RIDE),
    ],
)
def test_roland_lookup_spot_checks(pitch: int, drum: Drum) -> None:
    assert ROLAND_LOOKUP[pitch] is drum


@pytest.mark.parametrize(
    ("pitch", "drum"),
    [
        (35, Drum.KICK),
        (36, Drum.KICK),
        (39, Drum.SNARE),
        (42, Drum.CLOSED_HAT),
        (54, Drum.CLOSED_HAT),
        (46, Drum.OPEN_HAT),
        (45, Drum.LOW_TOM),
        (41, Drum.LOW_TOM),
        (48, Drum.MID_TOM),
        (43, Drum.HIGH_TOM),
        (50, Drum.HIGH_TOM),
        (49, Drum.CRASH),
        (58, Drum.CRASH),
        (52, Drum.RIDE),
        (82, Drum.RIDE),
    ],
)
def test_gm_lookup_spot_checks(pitch: int, drum: Drum) -> None:
    assert GM_LOOKUP[pitch] is drum


def test_pitches_only_the_roland_kit_knows() -> None:
    # The TD-11's hi-hat edge hits are not General MIDI drums; GM 35 is a kick the kit never sends.
    for pitch in (22, 26):
        assert pitch in ROLAND_LOOKUP
        assert pitch not in GM_LOOKUP
    assert 35 in GM_LOOKUP
    assert 35 not in ROLAND_LOOKUP


@pytest.mark.parametrize(
    ("table", "lookup"),
    [(ROLAND_PITCHES, ROLAND_LOOKUP), (GM_PITCHES, GM_LOOKUP)],
    ids=["roland", "gm"],
)
def test_lookups_map_every_listed_pitch_and_no_pitch_twice(
    table: Mapping[Drum, tuple[int, ...]], lookup: Mapping[int, Drum]
) -> None:
    assert set(table) == set(Drum)
    listed = [pitch for pitches in table.values() for pitch in pitches]
    assert len(listed) == len(set(listed)), "a pitch is listed under two drums"
    assert len(lookup) == len(listed)
    for drum, pitches in table.items():
        for pitch in pitches:
            assert lookup[pitch] is drum
    assert all(0 <= p <= 127 for p in listed)


def test_output_pitches_are_the_first_gm_pitch_and_read_back_as_their_drum() -> None:
    assert OUTPUT_PITCH == {
        Drum.KICK: 36,
        Drum.SNARE: 38,
        Drum.CLOSED_HAT: 42,
        Drum.OPEN_HAT: 46,
        Drum.LOW_TOM: 45,
        Drum.MID_TOM: 48,
        Drum.HIGH_TOM: 50,
        Drum.CRASH: 49,
        Drum.RIDE: 51,
    }
    for drum, pitch in OUTPUT_PITCH.items():
        assert GM_LOOKUP[pitch] is drum


# -- MIDI ----------------------------------------------------------------------


def test_steps_to_midi_writes_one_gm_drum_track_of_sixteenth_notes() -> None:
    steps = np.zeros((16, DRUM_COUNT), dtype=np.uint8)
    steps[3, Drum.SNARE] = 77
    steps[0, Drum.KICK] = 100
    midi = steps_to_midi(steps, bpm=120.0, name="test")
    assert len(midi.instruments) == 1
    track = midi.instruments[0]
    assert track.is_drum
    assert track.name == "test"
    notes = sorted((n.start, n.end, n.pitch, n.velocity) for n in track.notes)
    assert notes == [(0.0, 0.125, 36, 100), (0.375, 0.5, 38, 77)]


@pytest.mark.parametrize("bpm", [120.0, 93.0])
def test_steps_to_midi_then_midi_to_steps_round_trips(bpm: float) -> None:
    steps = two_bars()
    back = midi_to_steps(steps_to_midi(steps, bpm), GM_LOOKUP)
    assert back.dtype == np.uint8
    assert back.shape == (32, DRUM_COUNT)
    assert np.array_equal(back, steps)


@pytest.mark.parametrize("bpm", [120.0, 93.0])
def test_round_trip_through_a_midi_file(bpm: float, tmp_path: Path) -> None:
    steps = two_bars()
    path = tmp_path / f"groove_{bpm:g}.mid"
    steps_to_midi(steps, bpm).write(str(path))
    read = pretty_midi.PrettyMIDI(str(path))
    assert read.get_tempo_changes()[1][0] == pytest.approx(bpm, rel=1e-5)
    back = midi_to_steps(read, GM_LOOKUP)
    assert back.dtype == np.uint8
    assert back.shape == (32, DRUM_COUNT)
    assert np.array_equal(back, steps)


def test_steps_to_midi_takes_a_pattern_of_tuples() -> None:
    steps = two_bars()
    pattern = array_to_pattern(steps)
    back = midi_to_steps(steps_to_midi(pattern, 120.0), GM_LOOKUP)
    assert np.array_equal(back, steps)


@pytest.mark.parametrize(
    ("offset", "step"),
    [
        (0.010, 5),  # 10 ms late
        (-0.010, 5),  # 10 ms early
        (0.060, 5),  # just under half a 16th (62.5 ms) late: still this step
        (0.070, 6),  # just over: the next step
        (-0.070, 4),
    ],
)
def test_notes_off_the_grid_snap_to_the_nearest_sixteenth(offset: float, step: int) -> None:
    start = 5 * STEP_120 + offset
    # A short final kick on step 7 fixes the length at 8 whatever the snare does.
    midi = drum_midi([(38, start, start + 0.02, 90), (36, 7 * STEP_120, 7 * STEP_120 + 0.02, 64)])
    steps = midi_to_steps(midi, GM_LOOKUP)
    expected = np.zeros((8, DRUM_COUNT), dtype=np.uint8)
    expected[step, Drum.SNARE] = 90
    expected[7, Drum.KICK] = 64
    assert np.array_equal(steps, expected)


@pytest.mark.parametrize("order", ["loud last", "loud first"])
def test_two_notes_of_one_class_on_a_step_keep_the_louder(order: str) -> None:
    t = 3 * STEP_120
    notes = [(38, t, t + 0.05, 40), (40, t + 0.004, t + 0.05, 110)]  # both GM snares
    notes += [(35, 0.0, 0.05, 90), (36, 0.01, 0.05, 30)]  # both GM kicks
    if order == "loud first":
        notes.reverse()
    steps = midi_to_steps(drum_midi(notes), GM_LOOKUP)
    expected = np.zeros((4, DRUM_COUNT), dtype=np.uint8)
    expected[3, Drum.SNARE] = 110
    expected[0, Drum.KICK] = 90
    assert np.array_equal(steps, expected)


def test_unknown_pitches_and_non_drum_tracks_are_ignored() -> None:
    known = [(36, 0.0, 0.05, 100), (42, 3 * STEP_120, 3 * STEP_120 + 0.05, 70)]
    unknown = [(21, STEP_120, STEP_120 + 0.05, 90), (127, 2 * STEP_120, 2 * STEP_120 + 0.05, 90)]
    midi = drum_midi(known + unknown)
    piano = pretty_midi.Instrument(program=0, is_drum=False)
    piano.notes.append(pretty_midi.Note(velocity=80, pitch=38, start=STEP_120, end=0.3))
    midi.instruments.append(piano)
    steps = midi_to_steps(midi, GM_LOOKUP)
    assert np.array_equal(steps, midi_to_steps(drum_midi(known), GM_LOOKUP))
    expected = np.zeros((4, DRUM_COUNT), dtype=np.uint8)
    expected[0, Drum.KICK] = 100
    expected[3, Drum.CLOSED_HAT] = 70
    assert np.array_equal(steps, expected)


def test_a_file_of_only_unknown_pitches_has_no_steps() -> None:
    steps = midi_to_steps(drum_midi([(21, 0.0, 2.0, 90)]), GM_LOOKUP)
    assert steps.shape == (0, DRUM_COUNT)
    assert steps.dtype == np.uint8


def test_roland_is_the_default_table() -> None:
    # 43 is the Roland low tom but the GM high tom; 22 is only a Roland hi-hat.
    midi = drum_midi([(43, 0.0, 0.05, 90), (22, STEP_120, STEP_120 + 0.05, 60)])
    roland = midi_to_steps(midi)
    assert roland[0].tolist() == [0, 0, 0, 0, 90, 0, 0, 0, 0]
    assert roland[1].tolist() == [0, 0, 60, 0, 0, 0, 0, 0, 0]
    gm = midi_to_steps(midi, GM_LOOKUP)
    assert gm[0].tolist() == [0, 0, 0, 0, 0, 0, 90, 0, 0]
    assert not gm[:, Drum.CLOSED_HAT].any()


def test_the_length_follows_the_end_of_the_last_note() -> None:
    # The last note starts on step 4 and rings to step 10.2: the steps cover 0..9.
    midi = drum_midi([(36, 0.0, 0.05, 100), (49, 4 * STEP_120, 10.2 * STEP_120, 120)])
    steps = midi_to_steps(midi, GM_LOOKUP)
    expected = np.zeros((10, DRUM_COUNT), dtype=np.uint8)
    expected[0, Drum.KICK] = 100
    expected[4, Drum.CRASH] = 120
    assert np.array_equal(steps, expected)


def test_the_length_is_never_shorter_than_the_last_onset() -> None:
    # A very short last note: its step still counts.
    midi = drum_midi([(36, 0.0, 0.01, 100), (38, 13 * STEP_120, 13 * STEP_120 + 0.01, 80)])
    steps = midi_to_steps(midi, GM_LOOKUP)
    assert steps.shape == (14, DRUM_COUNT)
    assert steps[13, Drum.SNARE] == 80


def test_array_to_pattern_gives_tuples_of_python_ints() -> None:
    steps = np.zeros((3, DRUM_COUNT), dtype=np.uint8)
    steps[1, Drum.SNARE] = 127
    steps[2, Drum.RIDE] = 1
    pattern = array_to_pattern(steps)
    assert pattern == (
        (0, 0, 0, 0, 0, 0, 0, 0, 0),
        (0, 127, 0, 0, 0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0, 0, 0, 0, 1),
    )
    assert type(pattern) is tuple
    assert all(type(step) is tuple for step in pattern)
    assert all(type(v) is int for step in pattern for v in step)
    hash(pattern)  # hashable: no lists or arrays inside
    assert np.array_equal(np.array(pattern, dtype=np.uint8), steps)
