"""What the drum LSTM is fed, made from step arrays: classes, lookbacks, conditions.

Training, evaluation and the sampler all build the model's inputs here, so the
three cannot disagree about what a step sees.
"""

from __future__ import annotations

import numpy as np
import torch

from models.controls import (
    CONTROL_COUNT,
    CONTROL_NAMES,
    SO_FAR_COUNT,
    controls,
    so_far,
    syncopation_gains,
)
from models.encoding import classes_of
from models.model import LOOKBACK_BARS, START, VOICE_COUNT
from shared.drums import DRUM_COUNT, STEPS_PER_BAR

SYNCOPATION = CONTROL_NAMES.index("syncopation")  # also its place in the bar so far


def bar_controls(steps: np.ndarray) -> np.ndarray:
    """``[B, T, 9]`` steps (T a whole number of bars) -> ``[B, T / 16, 4]`` controls."""
    b, t, _ = steps.shape
    return controls(steps.reshape(b, t // STEPS_PER_BAR, STEPS_PER_BAR, DRUM_COUNT))


def bar_context(steps: np.ndarray) -> np.ndarray:
    """``[B, T, 9]`` steps (T whole bars) -> ``[B, T, 13]``: what each step knows of its bar.

    The density, syncopation and balance of its bar before it (:func:`so_far`); those of
    the whole bar before (zeros for the first bar) and whether there is a bar before
    (an ask that differs from it is a turn the model can see); and, per voice, what a
    hit and what silence on this step would add to the bar's syncopation
    (:func:`syncopation_gains`).
    """
    b, t, _ = steps.shape
    n = t // STEPS_PER_BAR
    bars = steps.reshape(b, n, STEPS_PER_BAR, DRUM_COUNT)
    running = so_far(bars)  # [B, N, 17, 3]
    before = np.zeros((b, n, SO_FAR_COUNT + 1))
    before[:, 1:, :SO_FAR_COUNT] = running[:, :-1, STEPS_PER_BAR]
    before[:, 1:, SO_FAR_COUNT] = 1.0
    gains = syncopation_gains(bars).reshape(b, n, STEPS_PER_BAR, -1)  # [hit x3, silence x3]
    context = np.concatenate(
        [
            running[:, :, :STEPS_PER_BAR],
            np.broadcast_to(before[:, :, None], (b, n, STEPS_PER_BAR, SO_FAR_COUNT + 1)),
            gains,
        ],
        axis=-1,
    )
    return context.reshape(b, t, -1).astype(np.float32)


def steering(controls_per_step: np.ndarray, context: np.ndarray) -> np.ndarray:
    """``[B, T, 6]``: the syncopation gains times the syncopation still asked for.

    What is still asked is the given syncopation less the bar's so far (0 when none
    is given). A linear head can then favour, in proportion to the need, the drum
    sets whose hits or silences deliver it: the product it could not form itself.
    """
    given = controls_per_step[..., CONTROL_COUNT]
    need = (controls_per_step[..., SYNCOPATION] - context[..., SYNCOPATION]) * given
    return np.asarray(need[..., None] * context[..., -2 * VOICE_COUNT :], dtype=np.float32)


def control_inputs(per_bar: np.ndarray, present: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per-bar controls ``[B, N, 4]`` and flags ``[B, N]`` -> per-step inputs ``[B, 16N, 6]``.

    ``present``: controls are given at all. ``own``: they are the bar's own (asked for
    this very bar, as in play) rather than the previous bar's (a hint, as in eval).
    """
    values = np.where(present[..., None], per_bar, 0.0)
    flags = np.stack([present, own & present], axis=-1).astype(np.float64)
    both = np.concatenate([values, flags], axis=-1)
    return np.repeat(both, STEPS_PER_BAR, axis=1).astype(np.float32)


def previous_bar_controls(steps: np.ndarray) -> np.ndarray:
    """The eval protocol: each bar conditioned on the bar before it, the first on nothing."""
    per_bar = bar_controls(steps)
    shifted = np.concatenate([np.zeros_like(per_bar[:, :1]), per_bar[:, :-1]], axis=1)
    present = np.ones(per_bar.shape[:2], dtype=bool)
    present[:, 0] = False
    return control_inputs(shifted, present, np.zeros_like(present))


def conditions(steps: np.ndarray, controls_per_step: np.ndarray) -> np.ndarray:
    """``[B, T, 25]``: the per-step controls and flags ``[B, T, 6]``, the bar context and
    the steering products."""
    context = bar_context(steps)
    return np.concatenate(
        [controls_per_step, context, steering(controls_per_step, context)], axis=-1
    )


def lookback_classes(classes: np.ndarray) -> np.ndarray:
    """``[B, T]`` classes -> ``[B, T, 2]``: the class one and two bars back, or START."""
    b, t = classes.shape
    out = np.full((b, t, LOOKBACK_BARS), START, dtype=np.int64)
    for k in range(LOOKBACK_BARS):
        back = (k + 1) * STEPS_PER_BAR
        out[:, back:, k] = classes[:, : max(0, t - back)]
    return out


def model_inputs(
    steps: np.ndarray,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Previous classes, lookback classes, positions and target classes of ``[B, T, 9]``."""
    targets = classes_of(steps)
    previous = np.concatenate([np.full((len(steps), 1), START), targets[:, :-1]], axis=1)
    positions = np.broadcast_to(np.arange(steps.shape[1]) % STEPS_PER_BAR, targets.shape)
    return (
        torch.from_numpy(previous),
        torch.from_numpy(lookback_classes(targets)),
        torch.from_numpy(positions.copy()),  # a broadcast view is read-only, even made contiguous
        torch.from_numpy(targets),
    )
