"""Drum pattern types: 9 drums, 16th-note steps, velocities per hit.

A pattern is a tuple of steps; each step is a tuple of 9 MIDI velocities, one per
drum, 0 meaning "not struck". Tuples keep patterns hashable and immutable, so a
layer can be shared between the room, the journal and every queue at no risk.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Sequence

STEPS_PER_BEAT = 4
BEATS_PER_BAR = 4
STEPS_PER_BAR = STEPS_PER_BEAT * BEATS_PER_BAR
LAYER_BARS = 2
LAYER_STEPS = LAYER_BARS * STEPS_PER_BAR  # every layer is a 2-bar loop of 32 steps
GRID_STEPS = 16  # the hand-edited seed grid is one bar, as in PoseLoops
MAX_VELOCITY = 127


class Drum(enum.IntEnum):
    """The 9 drum classes of Magenta's drums_rnn ``drum_kit`` encoding, in its order."""

    KICK = 0
    SNARE = 1
    CLOSED_HAT = 2
    OPEN_HAT = 3
    LOW_TOM = 4
    MID_TOM = 5
    HIGH_TOM = 6
    CRASH = 7
    RIDE = 8


DRUM_COUNT = len(Drum)

Step = tuple[int, ...]
Pattern = tuple[Step, ...]

EMPTY_STEP: Step = (0,) * DRUM_COUNT
# A layer as bytes, on the wire and in the journal: step-major, one velocity byte a drum.
PATTERN_BYTES = LAYER_STEPS * DRUM_COUNT


def pattern_to_bytes(pattern: Pattern) -> bytes:
    return bytes(itertools.chain.from_iterable(pattern))  # twice a generator's speed


def pattern_from_bytes(blob: bytes) -> Pattern:
    """The inverse of :func:`pattern_to_bytes` for a checked blob of :data:`PATTERN_BYTES`."""
    return tuple(tuple(blob[i : i + DRUM_COUNT]) for i in range(0, len(blob), DRUM_COUNT))


def empty_pattern(steps: int = LAYER_STEPS) -> Pattern:
    """A pattern of ``steps`` silent steps."""
    return (EMPTY_STEP,) * steps


def make_pattern(steps: Iterable[Sequence[int]]) -> Pattern:
    """Freeze nested sequences of velocities into a :data:`Pattern`."""
    return tuple(tuple(int(v) for v in step) for step in steps)


def grid_to_pattern(grid: Sequence[int], velocity: int = 100, steps: int = LAYER_STEPS) -> Pattern:
    """Turn a seed grid (one 9-bit drum mask per step) into a pattern of ``steps`` steps.

    The grid repeats to fill the pattern, so a 16-step grid becomes a 2-bar layer.
    """
    if not grid:
        raise ValueError("grid must have at least one step")
    return tuple(
        tuple(velocity if grid[i % len(grid)] >> d & 1 else 0 for d in range(DRUM_COUNT))
        for i in range(steps)
    )


def pattern_to_grid(pattern: Pattern) -> tuple[int, ...]:
    """The drum masks of a pattern's steps (bit ``d`` set when drum ``d`` is struck)."""
    return tuple(sum(1 << d for d, v in enumerate(step) if v) for step in pattern)


def hit_count(pattern: Pattern) -> int:
    """How many drum hits a pattern holds."""
    return sum(1 for step in pattern for v in step if v)
