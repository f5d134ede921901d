"""What the scheduler hands the audio engine: drum hits at local times, and channel settings.

The scheduler (pure) turns the room's layers into :class:`Hit` s at the times they
must be *heard*, on this machine's clock; an :class:`AudioEngine` plays them there,
taking its own output latency and the player's calibration offset off when it hands
them to the device. Each layer owner is a mix channel with its own gain, pan and
filter, which pose messages move at once (smoothed by the engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, order=True)
class Hit:
    time: float  # local seconds (the engine's clock) at which it is heard
    owner: int  # whose layer: the mix channel it plays on
    drum: int  # shared.drums.Drum, 0..8
    velocity: int  # MIDI velocity, 1..127


class AudioEngine(Protocol):
    sample_rate: int
    output_latency: float  # seconds from handing a sample to the device to hearing it
    offset: float  # the player's calibration, seconds added to the output latency

    def now(self) -> float:
        """The engine's clock: local seconds, the time axis hits are given on."""
        ...

    def schedule(self, hits: Sequence[Hit]) -> None:
        """Play each hit so that it is heard at ``hit.time``; hits already past are dropped."""
        ...

    def set_channel(self, owner: int, cutoff_hz: float, gain: float, pan: float) -> None:
        """A layer's sound: low-pass cutoff, gain 0..1, pan -1..1 (glides, no clicks)."""
        ...

    def close(self) -> None: ...
