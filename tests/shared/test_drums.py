"""Drum patterns: seed grids to patterns and back, hit counts, empty patterns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.drums import (
    DRUM_COUNT,
    EMPTY_STEP,
    GRID_STEPS,
    LAYER_STEPS,
    Drum,
    empty_pattern,
    grid_to_pattern,
    hit_count,
    make_pattern,
    pattern_to_grid,
)


def test_layout() -> None:
    assert DRUM_COUNT == 9
    assert LAYER_STEPS == 32
    assert GRID_STEPS == 16
    assert [d.name for d in Drum][:3] == ["KICK", "SNARE", "CLOSED_HAT"]
    assert Drum.RIDE == 8


def test_empty_pattern() -> None:
    assert empty_pattern() == ((0,) * 9,) * 32
    assert empty_pattern(16) == (EMPTY_STEP,) * 16
    assert empty_pattern(0) == ()
    assert hit_count(empty_pattern()) == 0
    assert pattern_to_grid(empty_pattern(4)) == (0, 0, 0, 0)


def test_grid_to_pattern_exact() -> None:
    kick_and_snare = 1 << Drum.KICK | 1 << Drum.SNARE
    pattern = grid_to_pattern([kick_and_snare, 0, 1 << Drum.RIDE], velocity=90, steps=4)
    assert pattern == (
        (90, 90, 0, 0, 0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0, 0, 0, 0, 0),
        (0, 0, 0, 0, 0, 0, 0, 0, 90),
        (90, 90, 0, 0, 0, 0, 0, 0, 0),  # the grid repeats
    )
    assert hit_count(pattern) == 5


def test_a_16_step_grid_fills_a_2_bar_layer() -> None:
    grid = [1, 0, 4, 0, 2, 0, 4, 0, 1, 1, 4, 0, 2, 0, 4, 511]
    pattern = grid_to_pattern(grid)
    assert len(pattern) == LAYER_STEPS
    assert pattern[:16] == pattern[16:]
    assert pattern[15] == (100,) * 9  # the default velocity
    assert pattern_to_grid(pattern) == tuple(grid) * 2
    assert hit_count(pattern) == 2 * (sum(bin(m).count("1") for m in grid))


def test_bits_beyond_the_nine_drums_are_ignored() -> None:
    assert grid_to_pattern([1 << 9 | 1], steps=1) == ((100, 0, 0, 0, 0, 0, 0, 0, 0),)


def test_empty_grid_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^grid must have at least one step$"):
        grid_to_pattern([])


def test_pattern_to_grid_ignores_velocity() -> None:
    pattern = make_pattern([[1, 0, 0, 0, 0, 0, 0, 0, 127], [0, 64, 0, 0, 0, 0, 0, 0, 0]])
    assert pattern_to_grid(pattern) == (0b100000001, 0b10)
    assert hit_count(pattern) == 3


def test_make_pattern_freezes_nested_sequences() -> None:
    pattern = make_pattern([[1.0, 2, 3, 0, 0, 0, 0, 0, 0]])
    assert pattern == ((1, 2, 3, 0, 0, 0, 0, 0, 0),)
    assert type(pattern) is tuple
    assert type(pattern[0]) is tuple
    assert type(pattern[0][0]) is int


_masks = st.integers(0, 2**DRUM_COUNT - 1)


@settings(max_examples=300, deadline=None)
@given(grid=st.lists(_masks, min_size=1, max_size=32), velocity=st.integers(1, 127))
def test_grid_pattern_grid_round_trip(grid: list[int], velocity: int) -> None:
    pattern = grid_to_pattern(grid, velocity, steps=len(grid))
    assert pattern_to_grid(pattern) == tuple(grid)
    assert hit_count(pattern) == sum(bin(m).count("1") for m in grid)
    assert {v for step in pattern for v in step} <= {0, velocity}


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(st.tuples(*[st.sampled_from([0, 100])] * DRUM_COUNT), min_size=1, max_size=32)
)
def test_pattern_grid_pattern_round_trip(steps: list[tuple[int, ...]]) -> None:
    pattern = make_pattern(steps)
    assert grid_to_pattern(pattern_to_grid(pattern), 100, len(pattern)) == pattern
