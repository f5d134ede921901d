"""Loading Groove-MIDI-style folders: which files, how many bars, why files are skipped; crops."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from models.data import DataError, Split, load_file, load_split, random_crops
from shared.drums import DRUM_COUNT, Drum

STEP = 60.0 / 120.0 / 4  # seconds per 16th at 120 bpm
HEADER = [
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "midi_filename", "audio_filename", "duration", "split",
]  # fmt: skip

# (pitch, step, velocity, length in steps) on the Roland TD-11 pitches the dataset uses.
ROCK_NOTES = [
    *[(36, t, 100, 0.25) for t in (0, 8, 16, 24)],  # kick
    *[(38, t, 90, 0.25) for t in (4, 12, 20, 28)],  # snare
    *[(42, t, 60, 0.25) for t in range(0, 32, 2)],  # closed hat
    (22, 31, 50, 0.25),  # hi-hat edge: a closed hat on the Roland kit only
    (43, 30, 70, 0.25),  # the Roland low tom (a high tom in General MIDI)
]
# One bar and a bit: a crash on step 18 rings to step 21.7, so the file covers steps 0..21.
SHORT_NOTES = [(36, 0, 110, 0.25), (38, 4, 80, 0.25), (36, 16, 105, 0.25), (49, 18, 127, 3.7)]
WALTZ_NOTES = [(36, 0, 100, 0.25), (38, 4, 90, 0.25), (38, 8, 90, 0.25)]
VALIDATION_NOTES = [(36, 0, 100, 0.25), (46, 2, 40, 0.25), (38, 4, 90, 0.25), (51, 15, 64, 0.25)]


def write_midi(
    path: Path,
    notes: list[tuple[int, int, int, float]],
    signature: tuple[int, int] | None = (4, 4),
    is_drum: bool = True,
) -> Path:
    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    if signature is not None:
        midi.time_signature_changes.append(pretty_midi.TimeSignature(*signature, 0.0))
    track = pretty_midi.Instrument(program=0, is_drum=is_drum)
    for pitch, step, velocity, length in notes:
        start = step * STEP
        track.notes.append(
            pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=start + length * STEP)
        )
    midi.instruments.append(track)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(path))
    return path


def expected_steps(
    notes: list[tuple[int, int, int, float]], length: int, lookup: dict[int, Drum]
) -> np.ndarray:
    out = np.zeros((length, DRUM_COUNT), dtype=np.uint8)
    for pitch, step, velocity, _ in notes:
        if pitch in lookup:
            out[step, lookup[pitch]] = velocity
    return out


ROLAND = {36: Drum.KICK, 38: Drum.SNARE, 42: Drum.CLOSED_HAT, 22: Drum.CLOSED_HAT}
ROLAND |= {43: Drum.LOW_TOM, 46: Drum.OPEN_HAT, 49: Drum.CRASH, 51: Drum.RIDE}


@pytest.fixture
def groove(tmp_path: Path) -> Path:
    """Two 4/4 train files, a 3/4 train file, a validation file, junk named .mid in train."""
    root = tmp_path / "groove"
    rows = []

    def add(name: str, signature: str, split: str) -> Path:
        rows.append(
            ["drummer1", "drummer1/session1", name, "rock", "120", "beat", signature,
             f"drummer1/session1/{name}.mid", "", "4.0", split]
        )  # fmt: skip
        return root / "drummer1" / "session1" / f"{name}.mid"

    write_midi(add("1_rock_120_beat_4-4", "4-4", "train"), ROCK_NOTES)
    write_midi(add("2_rock_120_fill_4-4", "4-4", "train"), SHORT_NOTES)
    write_midi(add("3_jazz_120_beat_3-4", "3-4", "train"), WALTZ_NOTES, signature=(3, 4))
    write_midi(add("4_funk_120_beat_4-4", "4-4", "validation"), VALIDATION_NOTES)
    add("5_junk_120_beat_4-4", "4-4", "train").write_bytes(b"this is not a MIDI file\x00\xff")
    with (root / "info.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return root


def test_load_split_reads_the_4_4_files_of_its_split(groove: Path) -> None:
    train = load_split(groove, "train")
    assert isinstance(train, Split)
    assert train.name == "train"
    session = groove / "drummer1" / "session1"
    assert train.files == [
        str(session / "1_rock_120_beat_4-4.mid"),
        str(session / "2_rock_120_fill_4-4.mid"),
    ]
    assert train.skipped == {"not 4/4": 1, "unreadable": 1}
    assert [s.shape for s in train.sequences] == [(32, DRUM_COUNT), (32, DRUM_COUNT)]
    assert all(s.dtype == np.uint8 for s in train.sequences)
    assert train.bars == 4
    assert train.steps == 64
    assert train.summary() == {
        "split": "train",
        "files": 2,
        "bars": 4,
        "steps": 64,
        "skipped": {"not 4/4": 1, "unreadable": 1},
    }


def test_load_split_reads_with_the_roland_table(groove: Path) -> None:
    rock = load_split(groove, "train").sequences[0]
    assert np.array_equal(rock, expected_steps(ROCK_NOTES, 32, ROLAND))
    assert rock[31, Drum.CLOSED_HAT] == 50  # pitch 22
    assert rock[30, Drum.LOW_TOM] == 70  # pitch 43


def test_load_split_pads_the_last_partial_bar_with_silence(groove: Path) -> None:
    short = load_split(groove, "train").sequences[1]
    # The file covers 22 steps (its crash rings into step 21); padded to 2 whole bars.
    assert short.shape == (32, DRUM_COUNT)
    assert np.array_equal(short, expected_steps(SHORT_NOTES, 32, ROLAND))
    assert not short[19:].any()


def test_load_split_validation(groove: Path) -> None:
    validation = load_split(groove, "validation")
    assert validation.files == [str(groove / "drummer1/session1/4_funk_120_beat_4-4.mid")]
    assert validation.skipped == {}
    assert validation.bars == 1
    assert validation.steps == 16
    assert np.array_equal(validation.sequences[0], expected_steps(VALIDATION_NOTES, 16, ROLAND))


def test_a_split_nobody_lists_is_empty(groove: Path) -> None:
    split = load_split(groove, "test")
    assert (split.files, split.sequences, split.skipped) == ([], [], {})
    assert (split.bars, split.steps) == (0, 0)


def test_files_the_listing_misdescribes_or_without_drums_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    write_midi(root / "waltz.mid", WALTZ_NOTES, signature=(3, 4))  # listed as 4-4
    write_midi(root / "unknown.mid", [(21, 0, 100, 1.0), (127, 4, 100, 1.0)])
    write_midi(root / "piano.mid", ROCK_NOTES, is_drum=False)
    write_midi(root / "good.mid", VALIDATION_NOTES)
    with (root / "info.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for name in ("waltz", "unknown", "piano", "good"):
            writer.writerow(
                ["d", "d/s", name, "x", "120", "beat", "4-4", f"{name}.mid", "", "2", "test"]
            )
    split = load_split(root, "test")
    assert split.files == [str(root / "good.mid")]
    assert split.skipped == {"not 4/4": 1, "no drum hits": 2}


def test_a_listed_file_that_is_missing_is_unreadable(groove: Path) -> None:
    (groove / "drummer1/session1/4_funk_120_beat_4-4.mid").unlink()
    validation = load_split(groove, "validation")
    assert validation.files == []
    assert validation.skipped == {"unreadable": 1}


def test_without_info_csv_every_mid_is_read_with_the_gm_table(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    # 35 is a GM kick and 43 a GM high tom; the Roland table reads neither that way.
    gm_notes = [(35, 0, 100, 0.25), (43, 6, 80, 0.25), (38, 12, 90, 0.25)]
    write_midi(root / "b" / "gm.mid", gm_notes)
    write_midi(root / "a" / "edge.mid", [(22, 0, 90, 0.25), (26, 8, 90, 0.25)])  # Roland-only
    write_midi(root / "c.mid", VALIDATION_NOTES)
    (root / "notes.txt").write_text("not a MIDI file, and not named like one")
    split = load_split(root, "anything")
    assert split.files == [str(root / "b" / "gm.mid"), str(root / "c.mid")]
    assert split.skipped == {"no drum hits": 1}  # a/edge.mid: nothing GM knows
    expected = np.zeros((16, DRUM_COUNT), dtype=np.uint8)
    expected[0, Drum.KICK] = 100
    expected[6, Drum.HIGH_TOM] = 80
    expected[12, Drum.SNARE] = 90
    assert np.array_equal(split.sequences[0], expected)
    # The same file through the Roland table: no kick at 35, and 43 is the low tom.
    roland = load_file(root / "b" / "gm.mid")
    assert roland.shape == (13, DRUM_COUNT)
    assert roland[:, Drum.KICK].tolist() == [0] * 13
    assert roland[6].tolist() == [0, 0, 0, 0, 80, 0, 0, 0, 0]


def test_without_info_csv_junk_is_counted_unreadable(tmp_path: Path) -> None:
    write_midi(tmp_path / "good.mid", VALIDATION_NOTES)
    (tmp_path / "bad.mid").write_bytes(b"\x00" * 40)
    split = load_split(tmp_path, "train")
    assert split.files == [str(tmp_path / "good.mid")]
    assert split.skipped == {"unreadable": 1}


def test_a_missing_folder_raises_data_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError) as caught:
        load_split(missing, "train")
    assert str(caught.value) == f"no data folder at {missing}"
    assert isinstance(caught.value, ValueError)


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "one.mid", VALIDATION_NOTES)
    with pytest.raises(DataError) as caught:
        load_split(path, "train")
    assert str(caught.value) == f"no data folder at {path}"


def test_load_file_on_junk_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.mid"
    path.write_bytes(b"this is not a MIDI file\x00\xff")
    with pytest.raises(DataError) as caught:
        load_file(path)
    message = str(caught.value)
    assert re.fullmatch(
        rf"{re.escape(str(path))}: not a readable MIDI file \(\w+: .*\)", message, re.DOTALL
    )
    assert caught.value.__cause__ is not None


def test_load_file_rejects_other_time_signatures(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "waltz.mid", WALTZ_NOTES, signature=(3, 4))
    with pytest.raises(DataError) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}: not in 4/4"


def test_load_file_without_a_time_signature_is_taken_as_4_4(tmp_path: Path) -> None:
    path = write_midi(tmp_path / "plain.mid", VALIDATION_NOTES, signature=None)
    assert np.array_equal(load_file(path), expected_steps(VALIDATION_NOTES, 16, ROLAND))


# -- random crops --------------------------------------------------------------


def numbered(bars: int) -> np.ndarray:
    """A sequence whose every step says where it is: kick = bar + 1, snare = step + 1."""
    steps = np.zeros((bars * 16, DRUM_COUNT), dtype=np.uint8)
    steps[:, Drum.KICK] = np.arange(bars * 16) // 16 + 1
    steps[:, Drum.SNARE] = np.arange(bars * 16) % 16 + 1
    return steps


def test_random_crops_are_whole_bar_aligned_pieces() -> None:
    first, second = numbered(4), numbered(6)
    second[:, Drum.RIDE] = 250
    first[:, Drum.RIDE] = 150
    crops = random_crops([first, second], length=32, count=200, rng=np.random.default_rng(0))
    assert crops.shape == (200, 32, DRUM_COUNT)
    assert crops.dtype == np.uint8
    starts: dict[int, set[int]] = {150: set(), 250: set()}
    for crop in crops:
        source = first if crop[0, Drum.RIDE] == 150 else second
        start = (int(crop[0, Drum.KICK]) - 1) * 16
        assert crop[0, Drum.SNARE] == 1  # starts on a bar line
        assert np.array_equal(crop, source[start : start + 32])
        starts[int(crop[0, Drum.RIDE])].add(start)
    # Every bar a full crop can start on is drawn, and no other.
    assert starts == {150: {0, 16, 32}, 250: {0, 16, 32, 48, 64}}


def test_random_crops_are_deterministic_for_a_seeded_generator() -> None:
    sequences = [numbered(3), numbered(8), numbered(5)]
    a = random_crops(sequences, 16, 50, np.random.default_rng(42))
    b = random_crops(sequences, 16, 50, np.random.default_rng(42))
    c = random_crops(sequences, 16, 50, np.random.default_rng(43))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_random_crops_pad_short_sequences_with_silence() -> None:
    short = numbered(1)
    crops = random_crops([short], length=40, count=3, rng=np.random.default_rng(1))
    assert crops.shape == (3, 40, DRUM_COUNT)
    for crop in crops:
        assert np.array_equal(crop[:16], short)
        assert not crop[16:].any()


def test_random_crops_never_draw_an_empty_sequence() -> None:
    empty = np.zeros((0, DRUM_COUNT), dtype=np.uint8)
    full = numbered(2)
    crops = random_crops([empty, full, empty], 16, 30, np.random.default_rng(5))
    assert set(crops[:, 0, Drum.KICK].tolist()) == {1, 2}
