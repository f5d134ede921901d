"""The AI band: drum-model layers that play along with a player practising alone.

Each member plays a style -- a point in the drum model's control space (density,
syncopation, balance, intensity) -- and every few bars the band moves on: each member
walks to the next style of its own round, with a little seeded wobble, so the groove
keeps changing the way a band's does between sections. Pure: a member's controls are
a function of the bar (and the band's seed), so any screen or test can ask for bar N.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Where each style sits in the model's controls: density (hits per step / 4),
# syncopation (0..1), balance (-1 kick and toms .. +1 hats and cymbals), intensity.
# Ranges as in shared.pose_mapping: what real drumming in the Groove MIDI Dataset spans.
STYLES: dict[str, tuple[float, float, float, float]] = {
    "rock": (0.28, 0.05, -0.2, 0.75),  # steady kick and snare, straight
    "funk": (0.42, 0.32, 0.1, 0.7),  # busy, off the beat
    "hats": (0.36, 0.12, 0.7, 0.55),  # a shimmer of hats and ride
    "half-time": (0.16, 0.08, -0.5, 0.6),  # sparse and heavy
    "shuffle": (0.32, 0.22, 0.3, 0.6),
    "fill": (0.55, 0.25, -0.1, 0.9),  # toms and snare, loud
}
# Each member's round of styles, in order; the band's members start on different ones.
ROUNDS: tuple[tuple[str, ...], ...] = (
    ("rock", "half-time", "funk", "rock"),
    ("hats", "shuffle", "hats", "funk"),
    ("half-time", "rock", "fill", "shuffle"),
)
NAMES = ("AI Kit", "AI Hats", "AI Toms")
EVOLVE_EVERY_BARS = 4
WOBBLE = 0.04  # how far from a style a member may stray (seeded, per section)


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    styles: tuple[str, ...]


def band(size: int) -> tuple[Member, ...]:
    if not 1 <= size <= len(ROUNDS):
        raise ValueError(f"an AI band has 1..{len(ROUNDS)} members, got {size}")
    return tuple(Member(NAMES[i], ROUNDS[i]) for i in range(size))


def style_at(member: Member, bar: int, every: int = EVOLVE_EVERY_BARS) -> str:
    """The style ``member`` plays during ``bar`` (bar 0 is the room's first)."""
    return member.styles[(max(bar, 0) // every) % len(member.styles)]


def controls_at(
    member: Member, bar: int, seed: int = 0, every: int = EVOLVE_EVERY_BARS
) -> tuple[float, float, float, float]:
    """The controls ``member`` asks the drum model for during ``bar``: its style, with a
    wobble that stays put for a whole section (a band does not twitch every bar)."""
    section = max(bar, 0) // every
    rng = random.Random(f"{seed}-{member.name}-{section}")
    density, syncopation, balance, intensity = STYLES[style_at(member, bar, every)]

    def wobble(value: float, low: float, high: float) -> float:
        return min(high, max(low, value + rng.uniform(-WOBBLE, WOBBLE)))

    return (
        wobble(density, 0.0, 1.0),
        wobble(syncopation, 0.0, 1.0),
        wobble(balance, -1.0, 1.0),
        wobble(intensity, 0.0, 1.0),
    )
