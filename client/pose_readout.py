"""What the pose debug screen shows: every feature, groove control and audio control as a
labelled value within its range (pure; the view only draws these)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.pose_mapping import (
    CUTOFF_HI_HZ,
    CUTOFF_LO_HZ,
    FEATURES,
    audio_controls,
    clean_features,
    groove_controls,
)


@dataclass(frozen=True, slots=True)
class Meter:
    name: str
    value: float
    low: float
    high: float
    unit: str = ""
    log: bool = False  # drawn on a log scale (frequencies)

    def share(self) -> float:
        """Where the value sits between ``low`` (0) and ``high`` (1), clamped."""
        if self.log:
            low, high = math.log(self.low), math.log(self.high)
            value = math.log(max(self.value, self.low))
            return min(1.0, max(0.0, (value - low) / (high - low)))
        return self._at(self.value)

    def zero_share(self) -> float:
        """Where a bar starts: at zero for a range around it, else at ``low``."""
        return 0.0 if self.log or not self.low < 0.0 < self.high else self._at(0.0)

    def _at(self, value: float) -> float:
        return min(1.0, max(0.0, (value - self.low) / (self.high - self.low)))

    def label(self) -> str:
        number = f"{self.value:.0f}" if abs(self.value) >= 100 else f"{self.value:.2f}"
        return f"{self.name} {number}{(' ' + self.unit) if self.unit else ''}"


def readout(features: Sequence[float] | np.ndarray) -> list[tuple[str, list[Meter]]]:
    """Sections ``features``, ``groove`` and ``audio``, each a list of meters."""
    values = clean_features(features)
    groove = groove_controls(values)
    audio = audio_controls(values)
    return [
        (
            "features",
            [Meter(f.name, float(v), f.lo, f.hi) for f, v in zip(FEATURES, values, strict=True)],
        ),
        (
            "groove",
            [
                Meter("density", groove.density, 0.0, 1.0),
                Meter("syncopation", groove.syncopation, 0.0, 1.0),
                Meter("balance", groove.balance, -1.0, 1.0),
                Meter("intensity", groove.intensity, 0.0, 1.0),
                Meter("fill", groove.fill, 0.0, 1.0),
            ],
        ),
        (
            "audio",
            [
                Meter("cutoff", audio.cutoff_hz, CUTOFF_LO_HZ, CUTOFF_HI_HZ, "Hz", log=True),
                Meter("gain", audio.gain, 0.0, 1.0),
                Meter("pan", audio.pan, -1.0, 1.0),
            ],
        ),
    ]
