"""The seed generator: grids become accented patterns, dice become grooves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.generator import (
    GenerationRequest,
    SeedGenerator,
    accent,
    pattern_from_dice,
    pattern_from_grid,
)
from shared.drums import DRUM_COUNT, LAYER_STEPS, Drum, hit_count, pattern_to_grid
from shared.messages import Seed, SeedSource

KICK, SNARE, HAT = 1 << Drum.KICK, 1 << Drum.SNARE, 1 << Drum.CLOSED_HAT
# A rock beat: kick on 1 and 3, snare on 2 and 4, closed hat on every eighth.
HALF_BAR = (KICK | HAT, 0, HAT, 0, SNARE | HAT, 0, HAT, 0)
ROCK = HALF_BAR * 2


def test_accent_values_for_velocity_110() -> None:
    assert [accent(step, 110) for step in (0, 4, 2, 1)] == [110, 99, 86, 75]
    assert [accent(step, 110) for step in (16, 20, 18, 17)] == [110, 99, 86, 75]
    assert [accent(step, 110) for step in (8, 12, 6, 15)] == [99, 99, 86, 75]


def test_accent_stays_in_midi_range() -> None:
    assert accent(0, 500) == 127
    assert accent(1, 1) == 1
    assert accent(1, 0) == 1


def test_grid_drums_land_exactly_where_the_grid_says_repeated_over_32_steps() -> None:
    pattern = pattern_from_grid(ROCK)
    assert len(pattern) == LAYER_STEPS == 32
    assert pattern_to_grid(pattern) == ROCK * 2
    kicks = [i for i, step in enumerate(pattern) if step[Drum.KICK]]
    snares = [i for i, step in enumerate(pattern) if step[Drum.SNARE]]
    hats = [i for i, step in enumerate(pattern) if step[Drum.CLOSED_HAT]]
    assert kicks == [0, 8, 16, 24]
    assert snares == [4, 12, 20, 28]
    assert hats == list(range(0, 32, 2))
    assert hit_count(pattern) == 24


def test_grid_hits_are_accented_by_position() -> None:
    grid = (0b1_1111_1111,) * 16  # every drum on every step
    pattern = pattern_from_grid(grid)
    assert pattern[0] == (110,) * DRUM_COUNT
    assert pattern[4] == (99,) * DRUM_COUNT
    assert pattern[2] == (86,) * DRUM_COUNT
    assert pattern[1] == (75,) * DRUM_COUNT
    assert pattern[16] == (110,) * DRUM_COUNT
    assert pattern[31] == (75,) * DRUM_COUNT


def test_grid_pattern_exact_steps() -> None:
    pattern = pattern_from_grid(ROCK)
    assert pattern[0] == (110, 0, 110, 0, 0, 0, 0, 0, 0)
    assert pattern[1] == (0,) * DRUM_COUNT
    assert pattern[2] == (0, 0, 86, 0, 0, 0, 0, 0, 0)
    assert pattern[4] == (0, 99, 99, 0, 0, 0, 0, 0, 0)
    assert pattern[8] == (99, 0, 99, 0, 0, 0, 0, 0, 0)
    assert pattern[16] == pattern[0]


def test_grid_velocity_is_a_parameter() -> None:
    pattern = pattern_from_grid((KICK,) * 16, velocity=100)
    assert [pattern[s][Drum.KICK] for s in (0, 4, 2, 1)] == [100, 90, 78, 68]


def test_a_short_grid_repeats_to_fill_the_layer() -> None:
    pattern = pattern_from_grid((KICK, 0, 0, 0))
    assert [i for i, step in enumerate(pattern) if step[Drum.KICK]] == list(range(0, 32, 4))
    pattern = pattern_from_grid((KICK, 0, 0))  # not a divisor of 16: runs across the bar line
    assert [i for i, step in enumerate(pattern) if step[Drum.KICK]] == list(range(0, 32, 3))


def test_an_empty_grid_mask_is_silence() -> None:
    assert hit_count(pattern_from_grid((0,) * 16)) == 0


def test_dice_patterns_are_deterministic_per_dice_value() -> None:
    assert pattern_from_dice(42, 0.5) == pattern_from_dice(42, 0.5)
    assert pattern_from_dice(0, 0.8) == pattern_from_dice(0, 0.8)


def test_a_dice_roll_is_the_same_groove_in_every_version() -> None:
    # Pinned: a room's rolls, the writer's primers and its benchmark all build on these.
    pattern = pattern_from_dice(42, 0.5)
    struck = [[s for s in range(LAYER_STEPS) if pattern[s][drum]] for drum in range(9)]
    assert struck == [
        [0, 6, 8, 10, 16, 22, 24, 26],
        [4, 12, 20, 28],
        list(range(0, 32, 2)),
        [],
        [],
        [],
        [13, 29],
        [],
        [],
    ]
    assert [pattern[s][0] for s in struck[0]] == [90, 88, 87, 88, 90, 88, 87, 88]


def test_dice_patterns_differ_between_dice_values() -> None:
    patterns = {pattern_from_dice(dice, 0.5) for dice in range(50)}
    assert len(patterns) == 50


@given(st.integers(min_value=0, max_value=2**31 - 1), st.floats(min_value=0.0, max_value=1.0))
def test_dice_patterns_are_32_steps_of_9_midi_velocities(dice: int, density: float) -> None:
    pattern = pattern_from_dice(dice, density)
    assert len(pattern) == LAYER_STEPS
    for step in pattern:
        assert len(step) == DRUM_COUNT
        assert all(type(v) is int and 0 <= v <= 127 for v in step)


def test_dice_first_bar_is_repeated_in_the_second_up_to_a_fill_in_its_second_half() -> None:
    pattern = pattern_from_dice(3, 0.0)  # density 0: no fill at all
    assert pattern[:16] == pattern[16:]
    for dice in range(20):
        pattern = pattern_from_dice(dice, 1.0)
        assert pattern[:8] == pattern[16:24]


def test_dice_get_denser_as_density_rises() -> None:
    def hits(density: float) -> int:
        return sum(hit_count(pattern_from_dice(dice, density)) for dice in range(200))

    sparse, plain, dense = hits(0.1), hits(0.5), hits(0.9)
    assert sparse < plain < dense
    assert dense > 2 * sparse


def test_seed_generator_returns_one_pattern_per_request_in_order() -> None:
    seeds = [
        Seed(SeedSource.DICE, dice=5, density=0.3),
        Seed(SeedSource.GRID, grid=ROCK),
        Seed(SeedSource.DICE, dice=6, density=0.9),
        Seed(SeedSource.GRID, grid=(KICK,) * 16, owner=2),
    ]
    requests = [GenerationRequest(i + 1, seed, None) for i, seed in enumerate(seeds)]
    assert SeedGenerator().generate(requests) == [
        pattern_from_dice(5, 0.3),
        pattern_from_grid(ROCK),
        pattern_from_dice(6, 0.9),
        pattern_from_grid((KICK,) * 16),
    ]


def test_seed_generator_ignores_the_previous_pattern() -> None:
    seed = Seed(SeedSource.DICE, dice=5)
    previous = pattern_from_grid(ROCK)
    [with_previous] = SeedGenerator().generate([GenerationRequest(1, seed, previous)])
    assert with_previous == pattern_from_dice(5, 0.5)


def test_seed_generator_with_no_requests_returns_no_patterns() -> None:
    assert SeedGenerator().generate([]) == []
