"""Solo challenges: targets, each bar's closeness, and the score with its stars."""

from __future__ import annotations

import pytest

from client.challenge import (
    TARGETS,
    Challenge,
    ChallengeRun,
    bar_controls,
    challenges,
    closeness,
    score,
)
from shared.drums import Drum, empty_pattern
from shared.loop_stack import LoopStack
from shared.messages import Layer


def test_closeness_is_one_on_target_and_falls_off_linearly() -> None:
    target = (0.5, 0.2, 0.0, 0.8)
    assert closeness(target, target) == 1.0
    # density 0.15 off (half the tolerance) -> 0.5 for that control; balance 0.3 off of
    # its range of 2 -> 0.15 of the span -> 0.5 as well: mean (0.5 + 1 + 0.5 + 1) / 4.
    assert closeness((0.35, 0.2, 0.3, 0.8), target) == pytest.approx(0.75)
    assert closeness((1.0, 1.0, 1.0, 0.0), target) == 0.0
    with pytest.raises(ValueError, match="controls are 4 numbers"):
        closeness((0.5,), target)


def test_a_bar_of_a_layer_is_measured_like_the_training_data() -> None:
    rows = [list(step) for step in empty_pattern()]
    for step in range(0, 16, 2):
        rows[step][Drum.CLOSED_HAT] = 127  # eighth-note hats in the first bar only
    pattern = tuple(tuple(r) for r in rows)
    density, syncopation, balance, intensity = bar_controls(pattern, 0)
    assert (density, syncopation, balance, intensity) == (8 / 64, 0.0, 1.0, 1.0)
    assert bar_controls(pattern, 1) == (0.0, 0.0, 0.0, 0.0)


def test_score_averages_the_bars_and_missing_bars_count_zero() -> None:
    challenge = Challenge("Hats", (0.125, 0.0, 1.0, 1.0), first_bar=4, bars=4)
    result = score(challenge, {4: (0.125, 0.0, 1.0, 1.0), 5: (0.125, 0.0, 1.0, 1.0), 9: (0,) * 4})
    assert result.bars == (1.0, 1.0, 0.0, 0.0)
    assert (result.score, result.stars) == (0.5, 1)
    assert score(challenge, {b: challenge.target for b in range(4, 8)}).stars == 3


def test_challenges_follow_each_other_in_a_seeded_order() -> None:
    first = challenges(first_bar=2, bars_each=4, count=3, seed=1)
    assert [(c.first_bar, c.bars) for c in first] == [(2, 4), (6, 4), (10, 4)]
    assert len({c.title for c in first}) == 3
    assert {c.title for c in first} <= {title for title, _ in TARGETS}
    assert first == challenges(2, 4, 3, seed=1)
    assert first[1].covers(9) and not first[1].covers(10)


def test_a_run_measures_each_finished_bar_of_the_players_layer_once() -> None:
    rows = [list(step) for step in empty_pattern()]
    for step in range(0, 16, 2):
        rows[step][Drum.CLOSED_HAT] = 127  # bar 0 of the layer: eighth-note hats
    rows[16][Drum.KICK] = 127  # bar 1: one kick
    stack = LoopStack()
    stack.schedule(Layer(3, tuple(tuple(r) for r in rows), 5, 1))
    run = ChallengeRun([Challenge("Hats", (0.125, 0.0, 1.0, 1.0), first_bar=6, bars=2)])
    assert run.status(4) == "next challenge in 2 bars"
    for bar in (5, 6, 7, 8):
        run.observe(stack, 3, bar)
    assert run.played == {6: (1 / 64, 0.0, -1.0, 1.0), 7: (0.125, 0.0, 1.0, 1.0)}
    [result] = run.results()
    # One kick against all hats: density 0.11 off (0.64), syncopation and intensity on (1),
    # balance a whole span off (0): 0.66; then the hats bar, on target.
    assert result.bars == (pytest.approx((1 - (0.125 - 1 / 64) / 0.3 + 2) / 4), 1.0)
    assert run.status(7) == "challenge: Hats (1 bars left, last bar 66%)"
    assert run.status(9) == ""
