"""The scheduler: exact hit times on the local clock, each step once, layers and tempo
changes on their bars. The room's tempo map starts at server time 1000.0 at 120 bpm,
so a step is 0.125 s and a bar 2.0 s; this machine's clock runs 400.0 s behind."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.audio_types import Hit
from client.scheduler import Scheduler, step_hits
from shared.clock_sync import ClockEstimate
from shared.drums import DRUM_COUNT, Drum, Pattern, empty_pattern
from shared.loop_stack import LoopStack
from shared.messages import Layer
from shared.tempo import TempoMap

START = 1000.0
CLOCK = ClockEstimate(reference=0.0, offset=400.0, rate_error=0.0, slack=0.0)
LOCAL_START = START - 400.0


def pattern(hits: Iterable[tuple[int, int, int]], steps: int = 32) -> Pattern:
    """A pattern with these ``(step, drum, velocity)`` and silence elsewhere."""
    rows = [list(row) for row in empty_pattern(steps)]
    for step, drum, velocity in hits:
        rows[step][drum] = velocity
    return tuple(tuple(row) for row in rows)


# A kick on every beat and a snare on beats 2 and 4, over 2 bars.
BEATS = pattern([(s, Drum.KICK, 100) for s in range(0, 32, 4)] + [(4, 1, 90), (12, 1, 90)])


def stack_of(*layers: Layer) -> LoopStack:
    stack = LoopStack()
    for layer in layers:
        stack.schedule(layer)
    return stack


def test_hits_are_at_exact_local_times() -> None:
    stack = stack_of(Layer(7, BEATS, 0, 1))
    scheduler = Scheduler(horizon=0.15)
    assert scheduler.due(stack, TempoMap.start(START), CLOCK, LOCAL_START) == [
        Hit(LOCAL_START, 7, Drum.KICK, 100),  # step 0 (step 1 is 0.125 s away: silent)
    ]
    hits = scheduler.due(stack, TempoMap.start(START), CLOCK, LOCAL_START + 0.4)
    assert hits == [Hit(LOCAL_START + 0.5, 7, Drum.KICK, 100), Hit(LOCAL_START + 0.5, 7, 1, 90)]
    assert scheduler.next_step == 5  # steps 1-4 handed out, step 5 (0.625 s) not yet


def test_the_drift_of_this_clock_is_followed() -> None:
    drifting = ClockEstimate(reference=LOCAL_START, offset=400.0, rate_error=1e-4, slack=0.0)
    stack = stack_of(Layer(1, BEATS, 0, 1))
    scheduler = Scheduler()
    scheduler.due(stack, TempoMap.start(START), drifting, drifting.local_time(START) - 0.01)
    later = drifting.local_time(START + 100.0)  # bar 50, a kick on its downbeat
    [hit] = [h for h in scheduler.due(stack, TempoMap.start(START), drifting, later - 0.1)]
    assert hit.time == pytest.approx(later, abs=1e-9)
    assert scheduler.late > 0  # everything between was skipped as a stall


@given(st.lists(st.floats(min_value=0.001, max_value=0.14), min_size=1, max_size=200))
def test_every_step_is_handed_out_once_however_the_calls_fall(gaps: list[float]) -> None:
    every_step = pattern((s, Drum.CLOSED_HAT, 80) for s in range(32))
    stack = stack_of(Layer(1, every_step, 0, 1))
    tempo = TempoMap.start(START)
    scheduler = Scheduler(horizon=0.15)
    now = LOCAL_START - 0.5
    times: list[float] = []
    for gap in gaps:
        times.extend(h.time for h in scheduler.due(stack, tempo, CLOCK, now))
        now += gap
    assert times == sorted(set(times))  # no step twice
    steps = [round((t - LOCAL_START) / 0.125) for t in times]
    assert steps == list(range(len(steps)))  # none skipped, from the first one on
    assert scheduler.late == 0


def test_a_new_layer_starts_exactly_on_its_bar() -> None:
    other = pattern((s, Drum.RIDE, 70) for s in range(32))
    stack = stack_of(Layer(1, BEATS, 0, 1), Layer(1, other, 3, 2))
    scheduler = Scheduler(horizon=1.0)
    local = LOCAL_START + 3 * 2.0  # bar 3
    hits = scheduler.due(stack, TempoMap.start(START), CLOCK, local - 1.0)
    before, after = [h for h in hits if h.time < local], [h for h in hits if h.time >= local]
    assert {h.drum for h in before} == {Drum.KICK, 1}
    assert {h.drum for h in after} == {Drum.RIDE}
    assert after[0] == Hit(local, 1, Drum.RIDE, 70)  # the new layer's own first step


def test_a_layer_loops_from_its_own_bar() -> None:
    one_bar_in = pattern([(16, Drum.CRASH, 120)])  # a crash on the layer's second bar
    stack = stack_of(Layer(2, one_bar_in, 5, 1))
    assert step_hits(stack, 5 * 16, 0.0) == []
    assert step_hits(stack, 6 * 16, 0.0) == [Hit(0.0, 2, Drum.CRASH, 120)]
    assert step_hits(stack, 8 * 16, 0.0) == [Hit(0.0, 2, Drum.CRASH, 120)]  # bar 8 = its 4th
    assert step_hits(stack, 4 * 16, 0.0) == []  # not yet started


def test_every_owner_plays_on_the_same_step() -> None:
    stack = stack_of(Layer(3, BEATS, 0, 1), Layer(1, BEATS, 0, 1))
    hits = step_hits(stack, 4, 12.5)
    assert hits == [
        Hit(12.5, 1, 0, 100),
        Hit(12.5, 1, 1, 90),
        Hit(12.5, 3, 0, 100),
        Hit(12.5, 3, 1, 90),
    ]
    assert len(BEATS[0]) == DRUM_COUNT


def test_a_tempo_change_lands_on_its_bar_without_a_double_or_a_gap() -> None:
    every_step = pattern((s, Drum.CLOSED_HAT, 80) for s in range(32))
    stack = stack_of(Layer(1, every_step, 0, 1))
    tempo = TempoMap.start(START).with_tempo(90.0, 2)  # from bar 2 (4.0 s in), 90 bpm
    scheduler = Scheduler(horizon=0.15)
    times: list[float] = []
    now = LOCAL_START
    while now < LOCAL_START + 7.0:
        times.extend(h.time for h in scheduler.due(stack, tempo, CLOCK, now))
        now += 0.05
    gaps = [round(b - a, 9) for a, b in pairwise(times)]
    change = times.index(LOCAL_START + 4.0)
    assert change == 32  # bar 2's downbeat, on time, once
    assert set(gaps[:change]) == {0.125}
    assert set(gaps[change:]) == {round(60 / 90 / 4, 9)}


def test_joining_mid_groove_plays_nothing_from_the_past_and_a_stall_drops_late_steps() -> None:
    stack = stack_of(Layer(1, BEATS, 0, 1))
    scheduler = Scheduler(horizon=0.15)
    hits = scheduler.due(stack, TempoMap.start(START), CLOCK, LOCAL_START + 10.01)
    assert hits == []  # step 80 (10.0 s) is past; step 81 is silent
    assert scheduler.next_step == 82
    hits = scheduler.due(stack, TempoMap.start(START), CLOCK, LOCAL_START + 11.9)
    assert scheduler.late == 14  # steps 82-95 went by during the stall
    assert hits == [Hit(LOCAL_START + 12.0, 1, 0, 100)]  # step 96 is still to come


def test_a_bad_horizon_is_refused() -> None:
    with pytest.raises(ValueError, match=r"horizon must be in range 0\.\.2 seconds, got 0"):
        Scheduler(horizon=0)


def test_a_muted_owners_hits_are_not_scheduled() -> None:
    stack = stack_of(Layer(3, BEATS, 0, 1), Layer(1, BEATS, 0, 1))
    assert step_hits(stack, 4, 12.5, muted={3}) == [Hit(12.5, 1, 0, 100), Hit(12.5, 1, 1, 90)]
    assert step_hits(stack, 4, 12.5, muted={1, 3}) == []
    scheduler = Scheduler(horizon=0.15)
    tempo = TempoMap.start(START)
    assert scheduler.due(stack, tempo, CLOCK, LOCAL_START, muted={1}) == [
        Hit(LOCAL_START, 3, Drum.KICK, 100)
    ]
    # Unmuted, the owner plays again from the next step owed, as any layer does.
    hits = scheduler.due(stack, tempo, CLOCK, LOCAL_START + 0.4, muted=set())
    assert [h.owner for h in hits] == [1, 1, 3, 3]
