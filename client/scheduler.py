"""The scheduler: the room's layers on the shared tempo -> drum hits at this machine's times.

Pure: the loop stack, the tempo map and the clock mapping are passed in on every
call, with the local time now. Steps are numbered from bar 0 of the room's tempo
map (step ``k`` sounds at ``tempo.time_at_step(k)`` on the server's clock, whatever
tempo changes came before it), and the scheduler remembers the next step it owes,
so however its calls fall every step is handed out exactly once: no double hit, no
skipped step, and a tempo change, which starts on a bar, moves only the steps after
that bar. Each call hands out the steps due within ``horizon`` seconds (about 100-200
ms, more than a frame's jitter and less than a layer's lead), each at the local time
the clock sync says it sounds, so network jitter never moves a hit: a message
changes what plays on a bar that is still to come, never what was handed out.

A layer plays from its bar as a loop of its own length; a newer layer of the same
owner takes over exactly on its bar (``LoopStack.layers_at``).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Protocol

from client.audio_types import Hit
from shared.drums import STEPS_PER_BAR
from shared.loop_stack import LoopStack
from shared.tempo import TempoMap

HORIZON = 0.15  # seconds ahead that hits are handed to the engine
_EPSILON = 1e-9  # steps: time_at_step(k) read back may land a hair below k


class ClockMapping(Protocol):
    """Server time <-> local time (``shared.clock_sync.ClockSync`` and its estimates)."""

    def server_time(self, local: float) -> float: ...

    def local_time(self, server: float) -> float: ...


class Scheduler:
    def __init__(self, horizon: float = HORIZON) -> None:
        if not 0.0 < horizon <= 2.0:
            raise ValueError(f"horizon must be in range 0..2 seconds, got {horizon}")
        self.horizon = horizon
        self.next_step: int | None = None  # the first step not handed out yet
        self.late = 0  # steps that were due before they could be handed out, dropped

    def due(
        self,
        stack: LoopStack,
        tempo: TempoMap,
        clock: ClockMapping,
        local_now: float,
        muted: Collection[int] = (),
    ) -> list[Hit]:
        """The hits of every step owed up to ``local_now + horizon``, in time order,
        but for the ``muted`` owners'."""
        server_now = clock.server_time(local_now)
        last = math.floor(tempo.step_at(server_now + self.horizon) + _EPSILON)
        if self.next_step is None:  # joining mid-groove: nothing from the past
            self.next_step = math.ceil(tempo.step_at(server_now) - _EPSILON)
        hits: list[Hit] = []
        for step in range(self.next_step, last + 1):
            local = clock.local_time(tempo.time_at_step(step))
            if local < local_now:
                # A stall (a busy machine, a sleeping laptop) held the call back past
                # this step: played now it would be late, out of the groove.
                self.late += 1
                continue
            hits.extend(step_hits(stack, step, local, muted))
        self.next_step = max(self.next_step, last + 1)
        return hits


def step_hits(stack: LoopStack, step: int, local: float, muted: Collection[int] = ()) -> list[Hit]:
    """Every owner's drums on global ``step``, heard at ``local``; none of a ``muted`` owner's."""
    hits: list[Hit] = []
    for owner, layer in sorted(stack.layers_at(step // STEPS_PER_BAR).items()):
        if owner in muted:
            continue
        row = layer.pattern[(step - layer.starts_at_bar * STEPS_PER_BAR) % len(layer.pattern)]
        hits.extend(Hit(local, owner, drum, v) for drum, v in enumerate(row) if v)
    return hits
