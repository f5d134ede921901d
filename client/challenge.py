"""Solo challenges: the game asks for a groove; your body has to get your layer there.

A challenge is a target in the drum model's control space (density, syncopation,
balance, intensity) held for some bars. Each bar your own layer plays is measured
with the same functions that describe the training data (``models.controls``), and
its closeness to the target scores 0..1: 1 when every control is on target, falling
off linearly to 0 at :data:`TOLERANCE` away, averaged over the controls (balance
counts over its -1..1 range, so half as strictly). The challenge's score is the mean
over its bars; the results screen shows each bar and the best. Pure.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from models.controls import CONTROL_NAMES, controls
from shared.drums import STEPS_PER_BAR, Pattern
from shared.loop_stack import LoopStack

TOLERANCE = 0.3  # how far off a control may be and still score something
SPANS = (1.0, 1.0, 2.0, 1.0)  # each control's range: balance spans -1..1
# Targets a body can reach (the pose mapping's ranges), with a name a player understands.
TARGETS: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("Dense and loud: move big!", (0.5, 0.15, 0.2, 0.9)),
    ("Off the beat: sway your hips", (0.3, 0.35, 0.0, 0.6)),
    ("All cymbals: hands up", (0.35, 0.1, 0.85, 0.6)),
    ("Heavy and low: crouch", (0.25, 0.05, -0.8, 0.7)),
    ("Barely there: stay still", (0.08, 0.0, -0.3, 0.4)),
)


@dataclass(frozen=True, slots=True)
class Challenge:
    title: str
    target: tuple[float, float, float, float]  # in CONTROL_NAMES order
    first_bar: int
    bars: int

    def covers(self, bar: int) -> bool:
        return self.first_bar <= bar < self.first_bar + self.bars


def challenges(first_bar: int, bars_each: int, count: int, seed: int = 0) -> list[Challenge]:
    """``count`` challenges back to back from ``first_bar``, in a seeded order."""
    order = list(TARGETS)
    random.Random(seed).shuffle(order)
    return [
        Challenge(title, target, first_bar + i * bars_each, bars_each)
        for i, (title, target) in enumerate(order[i % len(order)] for i in range(count))
    ]


def bar_controls(pattern: Pattern, bar_in_layer: int) -> tuple[float, float, float, float]:
    """The four controls of one bar of a layer (its bar 0 or 1)."""
    start = bar_in_layer * STEPS_PER_BAR
    bar = np.array(pattern[start : start + STEPS_PER_BAR], dtype=np.float64)
    values = controls(bar)
    return (float(values[0]), float(values[1]), float(values[2]), float(values[3]))


def closeness(played: tuple[float, ...], target: tuple[float, ...]) -> float:
    """0..1: how near a bar's controls are to the target (see the module docstring)."""
    if len(played) != len(CONTROL_NAMES) or len(target) != len(CONTROL_NAMES):
        raise ValueError(f"controls are {len(CONTROL_NAMES)} numbers")
    parts = [
        max(0.0, 1.0 - abs(p - t) / span / TOLERANCE)
        for p, t, span in zip(played, target, SPANS, strict=True)
    ]
    return sum(parts) / len(parts)


@dataclass(frozen=True, slots=True)
class Result:
    challenge: Challenge
    bars: tuple[float, ...]  # each bar's closeness, in order (missing bars score 0)

    @property
    def score(self) -> float:
        return sum(self.bars) / self.challenge.bars if self.challenge.bars else 0.0

    @property
    def stars(self) -> int:
        """0..3, for the results screen."""
        return sum(self.score >= cut for cut in (0.5, 0.7, 0.85))


def score(challenge: Challenge, played: dict[int, tuple[float, float, float, float]]) -> Result:
    """Score a challenge from the controls of the bars the player played (bar -> controls)."""
    bars = tuple(
        closeness(played[bar], challenge.target) if bar in played else 0.0
        for bar in range(challenge.first_bar, challenge.first_bar + challenge.bars)
    )
    return Result(challenge, bars)


class ChallengeRun:
    """A run of challenges over a jam: each bar the player's layer played is measured
    once it has been played; :meth:`status` is the line the play screen shows."""

    def __init__(self, challenges: list[Challenge]) -> None:
        self.challenges = challenges
        self.played: dict[int, tuple[float, float, float, float]] = {}

    def observe(self, loops: LoopStack, player: int, bar: int) -> None:
        """Measure ``bar`` (finished) of ``player``'s layer, if it is a challenge's bar."""
        if bar in self.played or not any(c.covers(bar) for c in self.challenges):
            return
        layer = loops.layer_at(player, bar)
        if layer is not None:
            bars_in_layer = len(layer.pattern) // STEPS_PER_BAR
            self.played[bar] = bar_controls(
                layer.pattern, (bar - layer.starts_at_bar) % bars_in_layer
            )

    def results(self) -> list[Result]:
        return [score(c, self.played) for c in self.challenges]

    def status(self, bar: int) -> str:
        """What to aim for now, and how the last bar went."""
        current = next((c for c in self.challenges if c.covers(bar)), None)
        if current is None:
            upcoming = [c for c in self.challenges if c.first_bar > bar]
            return f"next challenge in {upcoming[0].first_bar - bar} bars" if upcoming else ""
        left = current.first_bar + current.bars - bar
        last = self.played.get(bar - 1)
        how = (
            f", last bar {closeness(last, current.target):.0%}"
            if last and current.covers(bar - 1)
            else ""
        )
        return f"challenge: {current.title} ({left} bars left{how})"
