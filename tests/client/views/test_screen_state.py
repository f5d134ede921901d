"""The screen model's pure sums: exact steps, pulses, cells, seeds, bodies and the vibe."""

from __future__ import annotations

import math

import numpy as np
import pytest

from client.bot_pose import quantize
from client.demo_dancer import landmarks_at
from client.pose_tracker import TrackedPose
from client.room_state import RoomState
from client.views.screen_state import (
    EMPTY_GRID,
    Position,
    ScreenState,
    beat_pulse,
    cells,
    current_bar,
    current_step,
    dequantize,
    dice_seed,
    flash,
    grid_seed,
    interlock,
    layer_row,
    moving,
    nudge_bpm,
    player_moving,
    players_in_order,
    position,
    stacked,
    syncopation_appeal,
    toggle,
    upcoming_line,
    vibe,
)
from shared.codec import decode, encode
from shared.drums import DRUM_COUNT, Drum, grid_to_pattern, make_pattern
from shared.loop_stack import LoopStack
from shared.messages import Layer, PlayerInfo, Pose, Role, Seed, SeedSource, Snapshot, Welcome
from shared.tempo import TempoMap

ANN = PlayerInfo(1, "Ann", Role.PLAYER, 0xFF5A5F)
BOB = PlayerInfo(2, "Bob", Role.PLAYER, 0x3EC1D3)
BAND = PlayerInfo(3, "Band", Role.AI, 0xE0E0E0)
EVE = PlayerInfo(4, "Eve", Role.SPECTATOR, 0x9AA0A6)


def grid_of(hits: dict[int, tuple[Drum, ...]]) -> tuple[int, ...]:
    return tuple(sum(1 << d for d in hits.get(step, ())) for step in range(16))


def layer(owner: int, hits: dict[int, tuple[Drum, ...]], bar: int = 0) -> Layer:
    return Layer(owner, grid_to_pattern(grid_of(hits)), bar, 1)


def features(energy: float) -> tuple[float, ...]:
    return (1.0, energy) + (0.0,) * 10


def tracked(energy: float) -> TrackedPose:
    return TrackedPose(0.0, 0, 640, 480, landmarks_at(0.0), np.array(features(energy)), None, 0.0)


# -- time ------------------------------------------------------------------------


def test_current_step_counts_sixteenths_from_bar_zero() -> None:
    tempo = TempoMap.start(10.0, 120.0)  # a step is 0.125 s
    assert current_step(tempo, 10.0) == 0
    assert current_step(tempo, 10.124) == 0
    assert current_step(tempo, 10.125) == 1
    assert current_step(tempo, 12.0) == 16
    assert current_step(tempo, 9.9) == -1  # before bar 0 the first segment runs backwards
    assert (current_bar(tempo, 11.999), current_bar(tempo, 12.0)) == (0, 1)
    slower = tempo.with_tempo(60.0, 1)  # bar 1 from 12.0 at a step every 0.25 s
    assert current_step(slower, 12.25) == 17
    # Every step's own start time reads back as that step, float rounding or not.
    odd = TempoMap.start(0.1, 97.3)
    assert [current_step(odd, odd.time_at_step(k)) for k in range(200)] == list(range(200))


def test_the_beat_pulse_is_one_on_the_beat_and_falls_as_a_cube() -> None:
    tempo = TempoMap.start(10.0, 120.0)  # a beat is 0.5 s
    assert beat_pulse(tempo, 10.0) == 1.0
    assert beat_pulse(tempo, 10.125) == 0.421875  # a quarter beat in: 0.75 ** 3
    assert beat_pulse(tempo, 10.25) == 0.125  # half a beat: 0.5 ** 3
    assert beat_pulse(tempo, 10.375) == 0.015625
    assert beat_pulse(tempo, 10.5) == 1.0
    odd = TempoMap.start(0.1, 97.3)
    assert all(beat_pulse(odd, odd.time_at(float(b))) == 1.0 for b in range(50))


def test_the_position_says_bar_step_beat_pulse_and_tempo() -> None:
    tempo = TempoMap.start(10.0, 120.0).with_tempo(60.0, 2)  # bar 2 from 14.0, slower
    assert position(tempo, 10.0 + 2.0 + 0.125 * 6) == Position(12.75, 22, 1, 6, 1, 0.125, 120.0)
    assert position(tempo, 15.0) == Position(15.0, 36, 2, 4, 1, 1.0, 60.0)
    assert position(tempo, None) is None
    assert position(None, 12.0) is None


def test_a_flash_fades_over_a_second() -> None:
    changed = {1: 5.0}
    assert flash(changed, 1, 5.0) == 1.0
    assert flash(changed, 1, 5.25) == 0.75
    assert flash(changed, 1, 6.0) == 0.0
    assert flash(changed, 1, 9.0) == 0.0
    assert flash(changed, 1, 4.0) == 0.0  # not yet
    assert flash(changed, 1, None) == 0.0
    assert flash(changed, 2, 5.0) == 0.0


def test_tempo_nudges_stay_in_range() -> None:
    assert nudge_bpm(120.0, 5.0) == 125.0
    assert nudge_bpm(120.0, -5.0) == 115.0
    assert nudge_bpm(238.0, 5.0) == 240.0
    assert nudge_bpm(42.0, -5.0) == 40.0


# -- the grid --------------------------------------------------------------------


def test_a_layer_loops_from_its_own_bar() -> None:
    pattern = make_pattern([[i] + [0] * (DRUM_COUNT - 1) for i in range(32)])
    lay = Layer(1, pattern, 3, 1)
    assert layer_row(lay, 48)[0] == 0  # bar 3, step 0: the layer's first step
    assert layer_row(lay, 48 + 17)[0] == 17  # bar 4 plays its second bar
    assert layer_row(lay, 80 + 5)[0] == 5  # bar 5 starts it over


def test_cells_list_the_owners_striking_each_drum_in_player_order() -> None:
    loops = LoopStack()
    loops.schedule(layer(1, {0: (Drum.KICK,), 4: (Drum.SNARE,)}))
    loops.schedule(layer(2, {0: (Drum.KICK, Drum.CLOSED_HAT), 2: (Drum.CLOSED_HAT,)}))
    loops.schedule(layer(9, {0: (Drum.KICK,)}))  # an owner the caller does not list
    loops.schedule(layer(1, {8: (Drum.RIDE,)}, bar=2))  # Ann's next layer, from bar 2
    grid = cells(loops, 1, [2, 1])
    assert len(grid) == 16 and all(len(step) == DRUM_COUNT for step in grid)
    assert grid[0][Drum.KICK] == [2, 1, 9]
    assert grid[0][Drum.CLOSED_HAT] == [2]
    assert grid[2][Drum.CLOSED_HAT] == [2]
    assert grid[4][Drum.SNARE] == [1]
    struck = {(s, d) for s in range(16) for d in range(DRUM_COUNT) if grid[s][d]}
    assert struck == {(0, 0), (0, 2), (2, 2), (4, 1)}
    later = cells(loops, 2, [1, 2])
    assert later[8][Drum.RIDE] == [1]
    assert later[4][Drum.SNARE] == []
    assert later[0][Drum.KICK] == [2, 9]
    assert cells(LoopStack(), 0, [1]) == [[[] for _ in range(DRUM_COUNT)] for _ in range(16)]


def test_toggling_a_cell_flips_one_bit_and_back() -> None:
    grid = toggle(EMPTY_GRID, 3, Drum.SNARE)
    assert grid == (0, 0, 0, 2) + (0,) * 12
    assert toggle(grid, 3, Drum.RIDE)[3] == 2 | 256
    assert toggle(grid, 3, Drum.SNARE) == EMPTY_GRID
    with pytest.raises(ValueError, match=r"step must be in range 0\.\.15, got 16"):
        toggle(grid, 16, 0)
    with pytest.raises(ValueError, match=r"drum must be in range 0\.\.8, got 9"):
        toggle(grid, 0, 9)


def test_seeds_from_the_grid_and_the_dice_cross_the_wire() -> None:
    grid = grid_of({0: (Drum.KICK,), 4: (Drum.SNARE, Drum.CRASH)})
    seed = grid_seed(grid)
    assert seed == Seed(SeedSource.GRID, grid=grid)
    assert decode(encode(seed)) == seed
    with pytest.raises(ValueError, match="grid must have 16 steps, got 3"):
        grid_seed((1, 2, 3))
    dice = dice_seed(12345)
    assert dice == Seed(SeedSource.DICE, dice=12345, density=0.5)
    assert decode(encode(dice)) == dice
    assert dice_seed(2**31 + 7).dice == 7  # folded into the wire's range
    assert decode(encode(dice_seed(2**31 - 1))) == dice_seed(2**31 - 1)


def test_upcoming_layers_are_named_with_their_bar() -> None:
    room = RoomState(players={1: ANN, 2: BOB})
    room.loops.schedule(layer(1, {}, bar=0))
    assert upcoming_line(room, 3) == ""
    room.loops.schedule(layer(1, {}, bar=5))
    room.loops.schedule(layer(2, {}, bar=5))
    room.loops.schedule(layer(7, {}, bar=5))
    room.loops.schedule(layer(2, {}, bar=6))
    assert upcoming_line(room, 3) == "bar 6: new layer for Ann, Bob, #7 (+1 later)"
    assert upcoming_line(room, 5) == "bar 7: new layer for Bob"


# -- players and bodies ---------------------------------------------------------


def test_players_in_order_leave_spectators_out() -> None:
    room = RoomState(players={4: EVE, 3: BAND, 2: BOB, 1: ANN})
    assert players_in_order(room) == [ANN, BOB, BAND]


def test_moving_follows_the_energy_on_the_groove_curve() -> None:
    assert moving(None) == 0.0
    assert moving(Pose(0.0, features(0.25))) == 0.0
    assert moving(Pose(0.0, features(0.8125))) == 0.5  # sqrt of a quarter of the ramp
    assert moving(Pose(0.0, features(2.5))) == 1.0
    assert moving(Pose(0.0, features(20.0))) == 1.0
    assert moving(Pose(0.0, features(math.nan))) == 0.0  # not a number: at rest
    assert moving(Pose(0.0, ())) == 0.0
    assert moving(tracked(0.8125)) == 0.5


def test_a_players_own_body_counts_for_them() -> None:
    room = RoomState(me=BOB, players={1: ANN, 2: BOB})
    room.poses[1] = Pose(0.0, features(2.5), player=1)
    assert player_moving(room, 1) == 1.0
    assert player_moving(room, 2) == 0.0  # the server does not echo our own poses
    assert player_moving(room, 2, tracked(0.8125)) == 0.5
    assert player_moving(room, 1, tracked(0.8125)) == 1.0


def test_landmarks_dequantize_and_quantize_back() -> None:
    points = [(float(x), float(y), float(v)) for x, y, _, v in landmarks_at(3.0)]
    wire = quantize(points)
    body = dequantize(wire)
    assert body is not None and body.shape == (33, 4)
    assert quantize([(x, y, v) for x, y, _, v in body]) == wire
    assert np.abs(body[:, (0, 1, 3)] - np.array(points)).max() <= 0.5 / 65535
    assert (body[:, 2] == 0.0).all()
    exact = dequantize((0, 65535, 32768) * 33)
    assert exact is not None
    assert tuple(exact[5]) == (0.0, 1.0, 0.0, 32768 / 65535)
    assert dequantize(()) is None
    with pytest.raises(ValueError, match="landmarks must hold 99 values, got 3"):
        dequantize((1, 2, 3))


# -- the vibe --------------------------------------------------------------------


def test_syncopation_appeal_is_an_inverted_u() -> None:
    assert syncopation_appeal(0.25) == 1.0
    assert syncopation_appeal(0.125) == 0.75
    assert syncopation_appeal(0.375) == 0.75
    assert syncopation_appeal(0.0) == 0.0
    assert syncopation_appeal(0.5) == 0.0
    assert syncopation_appeal(0.9) == 0.0


def test_interlock_rewards_filling_gaps_and_punishes_doubling() -> None:
    loops = LoopStack()
    loops.schedule(layer(1, {0: (Drum.KICK,), 8: (Drum.KICK,)}))
    assert interlock(cells(loops, 0, [1])) == 0.5  # one layer: nothing to lock with
    loops.schedule(layer(2, {2: (Drum.CLOSED_HAT,), 10: (Drum.CLOSED_HAT,)}))
    assert interlock(cells(loops, 0, [1, 2])) == 1.0  # each in the other's gaps
    loops.schedule(layer(2, {0: (Drum.CLOSED_HAT,), 2: (Drum.CLOSED_HAT,)}))
    # Ann's kick on 0 and Bob's hat on 0 sound together (1/2 each), the rest alone.
    assert interlock(cells(loops, 0, [1, 2])) == 0.75
    loops.schedule(layer(2, {0: (Drum.CLOSED_HAT,), 2: (Drum.CLOSED_HAT,), 8: (Drum.KICK,)}))
    # ...and now both kick on 8: doubled, 0 each. (0.5 + 0 + 0.5 + 1 + 0) / 5
    assert interlock(cells(loops, 0, [1, 2])) == 0.4
    loops.schedule(layer(1, {0: (Drum.CLOSED_HAT,), 2: (Drum.CLOSED_HAT,), 8: (Drum.KICK,)}))
    assert interlock(cells(loops, 0, [1, 2])) == 0.0  # the same layer twice


def test_the_stacked_bar_marks_every_struck_cell() -> None:
    loops = LoopStack()
    loops.schedule(layer(1, {0: (Drum.KICK,)}))
    loops.schedule(layer(2, {0: (Drum.KICK,), 3: (Drum.RIDE,)}))
    bar = stacked(cells(loops, 0, [1, 2]))
    assert bar.shape == (16, DRUM_COUNT)
    assert bar.sum() == 2.0 and bar[0, Drum.KICK] == 1.0 and bar[3, Drum.RIDE] == 1.0


def vibe_room() -> RoomState:
    room = RoomState()
    room.apply(Welcome(BOB, "JAMS", 1))
    kicks = layer(1, {0: (Drum.KICK,), 8: (Drum.KICK,)})
    # Hats on four weak eighths, each before a silent stronger step: LHL gaps 1, 2, 1, 3.
    hats = layer(3, {s: (Drum.CLOSED_HAT,) for s in (2, 6, 10, 14)})
    room.apply(
        Snapshot("JAMS", 1, (ANN, BOB, BAND, EVE), (kicks, hats), TempoMap.start(0.0).segments, 0)
    )
    room.apply(Pose(0.0, features(0.25), player=1))  # Ann stands still
    room.apply(Pose(0.0, features(2.5), player=4))  # a spectator's dancing does not count
    return room


def test_the_vibe_weighs_groove_and_dancing() -> None:
    room = vibe_room()
    v = vibe(room, 6.3, tracked(2.5))  # bar 3; Bob dances all out
    assert v.raw_syncopation == 7 / 54  # (1 + 2 + 1 + 3) / (3 voices x 18)
    assert v.syncopation == pytest.approx(1 - (26 / 54) ** 2, abs=1e-12)
    assert v.interlock == 1.0  # the hats only fall where the kicks rest
    assert v.moving == 0.5  # Bob 1, Ann 0; the AI band and the spectator do not count
    assert v.score == pytest.approx(0.25 * (1 - (26 / 54) ** 2) + 0.25 + 0.25, abs=1e-12)
    assert vibe(room, 6.3).moving == 0.0  # without our own body, nobody moves


def test_an_empty_room_has_a_low_vibe() -> None:
    v = vibe(RoomState(), 0.0)
    assert (v.score, v.syncopation, v.interlock, v.moving, v.raw_syncopation) == (
        0.125,
        0.0,
        0.5,
        0.0,
        0.0,
    )


def test_a_screen_state_starts_empty() -> None:
    state = ScreenState(RoomState())
    assert state.grid == (0,) * 16
    assert (state.server_time, state.own_pose, state.round_trip_ms) == (None, None, None)
    assert state.changed_at == {} and state.message == ""
