"""The model's inputs from step arrays: lookbacks, per-step controls, the bar so far."""

from __future__ import annotations

import numpy as np

from models.controls import controls, so_far, syncopation_gains
from models.inputs import (
    bar_context,
    conditions,
    control_inputs,
    lookback_classes,
    model_inputs,
    previous_bar_controls,
)
from models.model import START
from shared.drums import DRUM_COUNT, Drum


def test_lookbacks_are_the_same_step_one_and_two_bars_back() -> None:
    classes = np.arange(40)[None, :] + 100  # one sequence of 40 distinct classes
    back = lookback_classes(classes)
    assert back.shape == (1, 40, 2)
    assert (back[0, :16] == START).all()
    assert back[0, 16:, 0].tolist() == list(range(100, 124))
    assert (back[0, :32, 1] == START).all()
    assert back[0, 32:, 1].tolist() == list(range(100, 108))


def test_model_inputs_shift_the_targets_by_one_step_and_count_positions_in_the_bar() -> None:
    steps = np.zeros((2, 32, DRUM_COUNT), dtype=np.uint8)
    steps[:, ::4, Drum.KICK] = 100  # class 1 on every beat
    previous, lookback, positions, targets = model_inputs(steps)
    assert targets[0, :5].tolist() == [1, 0, 0, 0, 1]
    assert previous[0, :5].tolist() == [START, 1, 0, 0, 0]
    assert positions[0].tolist() == list(range(16)) * 2
    assert lookback[0, 16, 0].item() == 1 and lookback[0, 15, 0].item() == START


def test_control_inputs_repeat_each_bar_and_zero_what_is_not_given() -> None:
    per_bar = np.array([[[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, -0.7, 0.8]]])
    present = np.array([[True, False]])
    own = np.array([[False, True]])
    out = control_inputs(per_bar, present, own)
    assert out.shape == (1, 32, 6)
    assert out[0, 0].tolist() == np.float32([0.1, 0.2, 0.3, 0.4, 1.0, 0.0]).tolist()
    assert (out[0, 16:] == 0.0).all()  # not given: no values, and "own" needs "given"


def test_eval_conditions_each_bar_on_the_bar_before_and_the_first_on_nothing() -> None:
    rng = np.random.default_rng(2)
    steps = (rng.random((1, 48, DRUM_COUNT)) < 0.2).astype(np.uint8) * 90
    out = previous_bar_controls(steps)
    bars = controls(steps.reshape(3, 16, DRUM_COUNT))
    assert (out[0, :16] == 0.0).all()
    assert np.allclose(out[0, 16, :4], bars[0]) and out[0, 16, 4:].tolist() == [1.0, 0.0]
    assert np.allclose(out[0, 47, :4], bars[1])


def test_conditions_append_the_bar_so_far_the_bar_before_gains_and_steering() -> None:
    rng = np.random.default_rng(3)
    steps = (rng.random((2, 48, DRUM_COUNT)) < 0.3).astype(np.uint8) * 70
    given = np.zeros((2, 48, 6), dtype=np.float32)
    given[0] = [0.3, 0.4, 0.0, 0.5, 1.0, 1.0]  # the first sequence asks; the second does not
    out = conditions(steps, given)
    assert out.shape == (2, 48, 25)
    assert np.array_equal(out[..., :6], given)
    bars = steps.reshape(2, 3, 16, DRUM_COUNT)
    running = so_far(bars)  # [2, 3, 17, 3]
    assert np.array_equal(out[..., 6:9], running[:, :, :16].reshape(2, 48, 3).astype(np.float32))
    # The first bar has no bar before; the others see the whole of the one before.
    assert (out[:, :16, 9:13] == 0.0).all()
    before = np.repeat(running[:, :2, 16], 16, axis=1).astype(np.float32)
    assert np.array_equal(out[:, 16:, 9:12], before)
    assert (out[:, 16:, 12] == 1.0).all()
    gains = syncopation_gains(bars).reshape(2, 48, 6).astype(np.float32)
    assert np.array_equal(out[..., 13:19], gains)
    assert np.array_equal(bar_context(steps), out[..., 6:19])
    # Steering: the gains times the syncopation still asked for, only where asked.
    need = np.float32(0.4) - out[0, :, 7]
    assert np.array_equal(out[0, :, 19:], need[:, None] * gains[0])
    assert (out[1, :, 19:] == 0.0).all()
