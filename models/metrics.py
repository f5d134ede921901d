"""Evaluation figures as pure functions on 1-D samples: rank correlation and overlapping area.

- :func:`spearman`: Spearman's rank correlation, ties given their average rank
  (as ``scipy.stats.spearmanr``, which PoseJam does not depend on).
- :func:`overlap_area`: the overlapping area of two distributions, as MGEval
  (Yang & Lerch 2018, "On the evaluation of generative models in music") uses
  to compare a feature over generated and real music: each sample's density is
  a Gaussian kernel density estimate, and the area under the lower of the two
  is 1 for identical samples and 0 for samples far apart.
"""

from __future__ import annotations

import math

import numpy as np

GRID_POINTS = 1024
# The grid reaches this many bandwidths past the outermost sample, so the kernel
# mass left outside it (under 3e-7 per sample) cannot show in the result.
MARGIN_BANDWIDTHS = 5.0
# A sample with no spread gets a kernel this many grid steps wide: narrow enough
# to stay a spike, wide enough for the grid to integrate it (the trapezoid rule
# on a Gaussian of width >= 1 step is accurate to ~1e-8).
MIN_BANDWIDTH_STEPS = 2.0
_CHUNK = 512  # samples evaluated at once, to bound memory at chunk x grid


def _sample(values: np.ndarray, name: str, least: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if len(array) < least:
        raise ValueError(f"{name} must hold at least {least} values, got {len(array)}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; tied values share the mean of the ranks they span."""
    _, which, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)  # the last rank of each distinct value
    return ((ends - counts + 1 + ends) / 2.0)[which]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of paired samples: the Pearson correlation of their average ranks.

    NaN when either sample is constant (its ranks have no spread), as scipy gives.
    """
    a = _sample(x, "x", 2)
    b = _sample(y, "y", 2)
    if len(a) != len(b):
        raise ValueError(f"x and y must be the same length, got {len(a)} and {len(b)}")
    ra = average_ranks(a)
    rb = average_ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    spread = math.sqrt(float((ra * ra).sum()) * float((rb * rb).sum()))
    if spread == 0.0:
        return math.nan
    return float((ra * rb).sum()) / spread


def silverman_bandwidth(sample: np.ndarray) -> float:
    """Silverman's rule for a 1-D Gaussian KDE: ``std * (3n / 4) ** (-1/5)``.

    The same as ``scipy.stats.gaussian_kde(..., bw_method="silverman")`` (std with
    ``ddof=1``); 0 for a single value or a sample with no spread.
    """
    values = np.asarray(sample, dtype=np.float64)
    if len(values) < 2:
        return 0.0
    return float(values.std(ddof=1)) * float((0.75 * len(values)) ** -0.2)


def gaussian_kde(sample: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """The Gaussian kernel density estimate of ``sample`` at each ``grid`` point."""
    density = np.zeros(len(grid))
    for start in range(0, len(sample), _CHUNK):
        chunk = sample[start : start + _CHUNK]
        z = (grid[None, :] - chunk[:, None]) / bandwidth
        density += np.exp(-0.5 * z * z).sum(axis=0)
    return density / (len(sample) * bandwidth * math.sqrt(2.0 * math.pi))


def overlap_area(a: np.ndarray, b: np.ndarray, bins: int = GRID_POINTS) -> float:
    """MGEval's overlapping area of two samples' KDEs, integrated on ``bins`` grid points.

    The grid spans both samples plus :data:`MARGIN_BANDWIDTHS` of the wider
    kernel on each side; a sample with no spread gets a kernel
    :data:`MIN_BANDWIDTH_STEPS` grid steps wide. In 0..1; 1 for identical samples.
    """
    x = _sample(a, "a", 1)
    y = _sample(b, "b", 1)
    if bins < 64:
        raise ValueError(f"bins must be at least 64, got {bins}")
    widths = [silverman_bandwidth(x), silverman_bandwidth(y)]
    low = min(x.min(), y.min())
    high = max(x.max(), y.max())
    # The margin must hold a floored kernel too: margin >= k * (span + 2 margin),
    # k the margin of a kernel MIN_BANDWIDTH_STEPS wide, in grid spans.
    k = MARGIN_BANDWIDTHS * MIN_BANDWIDTH_STEPS / (bins - 1)
    margin = max(MARGIN_BANDWIDTHS * max(widths), k * (high - low) / (1.0 - 2.0 * k))
    if margin == 0.0:
        # Both samples one and the same value: any width will do, both get the same.
        margin = 1e-3 * max(1.0, abs(low))
    grid = np.linspace(low - margin, high + margin, bins)
    floor = MIN_BANDWIDTH_STEPS * (grid[1] - grid[0])
    lower = np.minimum(
        gaussian_kde(x, grid, max(widths[0], floor)), gaussian_kde(y, grid, max(widths[1], floor))
    )
    area = float(np.trapezoid(lower, grid))
    # The trapezoid rule may overshoot 1 by rounding; the area cannot.
    return min(1.0, max(0.0, area))
