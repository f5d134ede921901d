"""Drum encoding, apart from any model: pitch tables, the 512-class step code, MIDI both ways.

Magenta's drums_rnn ``drum_kit`` encoding: 9 drum classes, and each 16th-note
step is the set of drums struck, one of 2**9 = 512 classes. PoseJam keeps the
velocity of every hit too (the loudest when several notes of a class share a step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pretty_midi

from shared.drums import DRUM_COUNT, STEPS_PER_BEAT, Drum, Pattern, make_pattern

CLASS_COUNT = 2**DRUM_COUNT

# The Roland TD-11 mapping the Groove MIDI Dataset's authors used (Magenta's
# ROLAND_DRUM_PITCH_CLASSES): the kit sends some pads on non-GM pitches
# (22 and 26 are hi-hat edge hits, 58 the low tom rim).
ROLAND_PITCHES: Mapping[Drum, tuple[int, ...]] = {
    Drum.KICK: (36,),
    Drum.SNARE: (38, 37, 40),
    Drum.CLOSED_HAT: (42, 22, 44),
    Drum.OPEN_HAT: (46, 26),
    Drum.LOW_TOM: (43, 58),
    Drum.MID_TOM: (47, 45),
    Drum.HIGH_TOM: (50, 48),
    Drum.CRASH: (49, 52, 55, 57),
    Drum.RIDE: (51, 53, 59),
}

# Magenta's drums encoder (magenta.music drums_encoder_decoder, DEFAULT_DRUM_TYPE_PITCHES):
# General MIDI drums from anywhere else.
GM_PITCHES: Mapping[Drum, tuple[int, ...]] = {
    Drum.KICK: (36, 35),
    Drum.SNARE: (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),
    Drum.CLOSED_HAT: (42, 44, 54, 68, 69, 70, 71, 73, 78, 80),
    Drum.OPEN_HAT: (46, 67, 72, 74, 79, 81),
    Drum.LOW_TOM: (45, 29, 41, 61, 64, 84),
    Drum.MID_TOM: (48, 47, 60, 63, 77, 86, 87),
    Drum.HIGH_TOM: (50, 30, 43, 62, 76, 83),
    Drum.CRASH: (49, 55, 57, 58),
    Drum.RIDE: (51, 52, 53, 59, 82),
}

# The pitch each drum is written with: the first of the GM table.
OUTPUT_PITCH: Mapping[Drum, int] = {drum: pitches[0] for drum, pitches in GM_PITCHES.items()}


def pitch_lookup(table: Mapping[Drum, tuple[int, ...]]) -> dict[int, Drum]:
    return {pitch: drum for drum, pitches in table.items() for pitch in pitches}


ROLAND_LOOKUP = pitch_lookup(ROLAND_PITCHES)
GM_LOOKUP = pitch_lookup(GM_PITCHES)


# -- the 512-class step code ---------------------------------------------------


def step_class(step: Sequence[int]) -> int:
    """The class of a step: bit ``d`` set when drum ``d`` is struck."""
    return sum(1 << d for d, v in enumerate(step) if v)


def class_drums(code: int) -> tuple[Drum, ...]:
    if not 0 <= code < CLASS_COUNT:
        raise ValueError(f"a drum class is in range 0..{CLASS_COUNT - 1}, got {code}")
    return tuple(d for d in Drum if code >> d & 1)


def classes_of(steps: np.ndarray) -> np.ndarray:
    """Classes of a ``[T, 9]`` velocity array, as ``[T]`` int64."""
    weights = 1 << np.arange(DRUM_COUNT, dtype=np.int64)
    return np.asarray(((steps > 0).astype(np.int64) * weights).sum(axis=-1), dtype=np.int64)


def class_masks() -> np.ndarray:
    """``[512, 9]`` booleans: which drums each class strikes."""
    codes = np.arange(CLASS_COUNT)[:, None]
    return np.asarray((codes >> np.arange(DRUM_COUNT)[None, :]) & 1 == 1, dtype=bool)


# -- MIDI ----------------------------------------------------------------------


def midi_to_steps(
    midi: pretty_midi.PrettyMIDI, lookup: Mapping[int, Drum] = ROLAND_LOOKUP
) -> np.ndarray:
    """Quantize every drum note to the nearest 16th: a ``[T, 9]`` uint8 velocity array.

    Steps follow the file's own beat grid (ticks), so tempo changes are honoured.
    Notes on pitches the table does not know are left out.
    """
    ticks_per_step = midi.resolution / STEPS_PER_BEAT
    hits: list[tuple[int, int, int]] = []
    for instrument in midi.instruments:
        if not instrument.is_drum:
            continue
        for note in instrument.notes:
            drum = lookup.get(note.pitch)
            if drum is None:
                continue
            step = round(midi.time_to_tick(note.start) / ticks_per_step)
            hits.append((step, drum, note.velocity))
    # The file lasts as long as its last note sounds; a fill that ends early in its
    # bar still fills the bar.
    end = round(midi.time_to_tick(midi.get_end_time()) / ticks_per_step) if hits else 0
    length = max(max((s for s, _, _ in hits), default=-1) + 1, end)
    steps = np.zeros((length, DRUM_COUNT), dtype=np.uint8)
    for step, drum_index, velocity in hits:
        loudest = max(steps[step, drum_index], min(127, max(1, velocity)))
        steps[step, drum_index] = loudest
    return steps


def steps_to_midi(
    steps: np.ndarray | Pattern | Iterable[Sequence[int]],
    bpm: float = 120.0,
    name: str = "PoseJam",
) -> pretty_midi.PrettyMIDI:
    """A General MIDI drum track of the steps: each hit a 16th-note long."""
    array = np.asarray(steps, dtype=np.uint8).reshape(-1, DRUM_COUNT)
    midi = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    track = pretty_midi.Instrument(program=0, is_drum=True, name=name)
    step_seconds = 60.0 / bpm / STEPS_PER_BEAT
    for step, drum in zip(*np.nonzero(array), strict=True):
        start = float(step) * step_seconds
        track.notes.append(
            pretty_midi.Note(
                velocity=int(array[step, drum]),
                pitch=OUTPUT_PITCH[Drum(int(drum))],
                start=start,
                end=start + step_seconds,
            )
        )
    midi.instruments.append(track)
    return midi


def array_to_pattern(steps: np.ndarray) -> Pattern:
    return make_pattern(steps.tolist())
