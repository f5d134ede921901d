"""The generator seam: seeds and pose controls in, 2-bar layers out, in one batch.

The room asks for every pending layer of a bar at once, so that the drum model
(``server.model_generator``) can write them in one batched call off the event loop.
Without a model, :class:`SeedGenerator` writes layers straight from the seeds (and
keeps a layer as it is when only the controls moved): a hand-edited grid
becomes that grid with accents, dice become a random groove of the asked density
built around where drummers usually play (kick on the beat, snare on the
backbeat, hats on the eighths), as PoseLoops' dice did.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.drums import (
    DRUM_COUNT,
    LAYER_STEPS,
    STEPS_PER_BAR,
    STEPS_PER_BEAT,
    Drum,
    Pattern,
    empty_pattern,
)
from shared.messages import Seed, SeedSource


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    owner: int
    seed: Seed | None  # a new seed; None to continue from ``previous``
    previous: Pattern | None  # the owner's current layer, for a model to continue
    controls: tuple[float, ...] | None = None  # groove controls asked by the body


class Generator(Protocol):
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Pattern]:
        """One pattern of :data:`LAYER_STEPS` steps per request, in order."""
        ...


# Where each drum tends to fall in a bar of 16 steps, as a weight per step:
# the backbone of rock, funk and pop grooves that dice rolls are built on.
_DOWNBEAT, _BEAT, _EIGHTH, _SIXTEENTH = 1.0, 0.7, 0.45, 0.2


def _position_weight(step: int) -> float:
    if step % STEPS_PER_BAR == 0:
        return _DOWNBEAT
    if step % STEPS_PER_BEAT == 0:
        return _BEAT
    if step % 2 == 0:
        return _EIGHTH
    return _SIXTEENTH


_DRUM_BIAS: dict[Drum, dict[int, float]] = {
    Drum.KICK: {0: 1.0, 8: 0.8, 10: 0.4, 6: 0.3},
    Drum.SNARE: {4: 1.0, 12: 1.0, 14: 0.2, 7: 0.15},
    Drum.CLOSED_HAT: {s: 0.9 for s in range(0, 16, 2)},
    Drum.OPEN_HAT: {14: 0.3, 6: 0.15},
    Drum.LOW_TOM: {13: 0.15, 15: 0.2},
    Drum.MID_TOM: {11: 0.12},
    Drum.HIGH_TOM: {9: 0.1},
    Drum.CRASH: {0: 0.25},
    Drum.RIDE: {s: 0.15 for s in range(0, 16, 4)},
}


_ACCENT = {_DOWNBEAT: 1.0, _BEAT: 0.9, _EIGHTH: 0.78, _SIXTEENTH: 0.68}
# Per step of a bar, made once: a dice roll reads them a few hundred times.
_WEIGHTS = [_position_weight(step) for step in range(STEPS_PER_BAR)]
_SCALES = [_ACCENT[weight] for weight in _WEIGHTS]


def accent(step: int, velocity: int) -> int:
    """Louder on the beat, softer off it: a flat grid sounds like a machine."""
    return max(1, min(127, round(velocity * _SCALES[step % STEPS_PER_BAR])))


def pattern_from_grid(grid: Sequence[int], velocity: int = 110) -> Pattern:
    steps = []
    for i in range(LAYER_STEPS):
        mask = grid[i % len(grid)]
        steps.append(tuple(accent(i, velocity) if mask >> d & 1 else 0 for d in range(DRUM_COUNT)))
    return tuple(steps)


def pattern_from_dice(dice: int, density: float) -> Pattern:
    """A random 2-bar groove: the first bar rolled, the second a varied repeat."""
    rng = random.Random(dice)
    # density 0..1 scales how likely each biased slot sounds; 0.5 is a plain groove.
    boost = 0.25 + 1.5 * density
    bar: list[list[int]] = [[0] * DRUM_COUNT for _ in range(STEPS_PER_BAR)]
    ghosts = [0.04 * density * weight for weight in _WEIGHTS]
    for drum, slots in _DRUM_BIAS.items():
        for step, weight in slots.items():
            if rng.random() < min(1.0, weight * boost):
                bar[step][drum] = accent(step, rng.randint(90, 120))
        # Beyond the usual places, dense rolls add ghost notes anywhere.
        for step, ghost in enumerate(ghosts):
            if not bar[step][drum] and rng.random() < ghost:
                bar[step][drum] = accent(step, rng.randint(40, 80))
    second = [list(step) for step in bar]
    for step in range(STEPS_PER_BAR // 2, STEPS_PER_BAR):  # a fill in the second half
        if rng.random() < 0.3 * density:
            drum = rng.choice((Drum.SNARE, Drum.LOW_TOM, Drum.MID_TOM, Drum.HIGH_TOM))
            second[step][drum] = accent(step, rng.randint(70, 110))
    return tuple(tuple(step) for step in (*bar, *second))


class SeedGenerator:
    """Layers straight from seeds, with no model: fast and deterministic."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Pattern]:
        out = []
        for request in requests:
            seed = request.seed
            if seed is None:  # nothing new to write from: keep playing what plays
                out.append(request.previous or empty_pattern())
            elif seed.source is SeedSource.GRID:
                out.append(pattern_from_grid(seed.grid))
            else:
                out.append(pattern_from_dice(seed.dice, seed.density))
        return out
