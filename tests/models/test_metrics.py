"""Spearman's rho on hand-ranked samples; the KDE overlapping area against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.metrics import (
    average_ranks,
    gaussian_kde,
    overlap_area,
    silverman_bandwidth,
    spearman,
)


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# -- spearman ------------------------------------------------------------------


def test_average_ranks_share_the_mean_rank_among_ties() -> None:
    assert average_ranks(np.array([10.0, 20.0, 20.0, 5.0])).tolist() == [2.0, 3.5, 3.5, 1.0]
    assert average_ranks(np.array([7.0, 7.0, 7.0])).tolist() == [2.0, 2.0, 2.0]


def test_a_monotone_relation_is_one_and_a_reversed_one_minus_one() -> None:
    x = np.array([0.1, 0.5, 0.2, 3.0, 1.0])
    assert spearman(x, np.exp(x)) == pytest.approx(1.0, abs=1e-15)
    assert spearman(x, -(x**3)) == pytest.approx(-1.0, abs=1e-15)


def test_ties_give_the_hand_computed_value() -> None:
    # Ranks x: 1, 2.5, 2.5, 4; y: 1, 3, 2, 4. Centred: (-1.5, 0, 0, 1.5) and
    # (-1.5, 0.5, -0.5, 1.5): covariance 4.5, squares 4.5 and 5 -> sqrt(0.9).
    rho = spearman(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0, 4.0]))
    assert rho == pytest.approx(math.sqrt(0.9), abs=1e-15)


def test_without_ties_it_is_one_minus_six_d_squared_formula() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 1.0, 4.0, 3.0, 5.0])
    # Rank differences 1, 1, 1, 1, 0: 1 - 6 * 4 / (5 * 24) = 0.8.
    assert spearman(x, y) == pytest.approx(0.8, abs=1e-15)
    assert spearman(y, x) == pytest.approx(0.8, abs=1e-15)


def test_a_constant_sample_has_no_rank_correlation() -> None:
    assert math.isnan(spearman(np.array([1.0, 2.0, 3.0]), np.array([4.0, 4.0, 4.0])))


def test_spearman_refuses_unpaired_or_unusable_samples() -> None:
    with pytest.raises(ValueError, match="same length"):
        spearman(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="at least 2"):
        spearman(np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="finite"):
        spearman(np.array([1.0, math.nan]), np.array([1.0, 2.0]))


# -- kernel density and overlapping area -------------------------------------------


def test_silverman_bandwidth_is_std_times_three_n_over_four_to_minus_a_fifth() -> None:
    # [0, 2]: std (ddof 1) sqrt(2), n = 2.
    assert silverman_bandwidth(np.array([0.0, 2.0])) == pytest.approx(
        math.sqrt(2.0) * 1.5**-0.2, abs=1e-15
    )
    assert silverman_bandwidth(np.array([3.0])) == 0.0
    assert silverman_bandwidth(np.array([3.0, 3.0, 3.0])) == 0.0


def test_kde_is_the_mean_of_gaussian_kernels() -> None:
    grid = np.array([0.0, 1.0, 2.0])
    density = gaussian_kde(np.array([0.0]), grid, 1.0)
    root = math.sqrt(2 * math.pi)
    assert density.tolist() == pytest.approx([1 / root, math.exp(-0.5) / root, math.exp(-2) / root])
    # More samples than one chunk: the same as summing every kernel at once.
    sample = np.random.default_rng(1).normal(size=1300)
    grid = np.linspace(-4, 4, 9)
    z = (grid[None, :] - sample[:, None]) / 0.3
    expected = np.exp(-0.5 * z * z).sum(axis=0) / (1300 * 0.3 * root)
    assert np.allclose(gaussian_kde(sample, grid, 0.3), expected, rtol=1e-12, atol=0)


def test_overlap_of_a_sample_and_its_shift_matches_the_closed_form() -> None:
    # Both KDEs are the same symmetric unimodal mixture (h > 1 for peaks at +-1),
    # one shifted by s: they cross at s / 2, so the area is 2 * (1 - F(s / 2)).
    s = 1.0
    h = math.sqrt(2.0) * 1.5**-0.2

    def cdf(x: float) -> float:
        return 0.5 * (normal_cdf((x + 1) / h) + normal_cdf((x - 1) / h))

    area = overlap_area(np.array([-1.0, 1.0]), np.array([-1.0 + s, 1.0 + s]), bins=4096)
    assert area == pytest.approx(2 * (1 - cdf(s / 2)), abs=1e-6)


def test_identical_samples_overlap_fully() -> None:
    sample = np.random.default_rng(2).normal(0.3, 0.1, size=200)
    assert overlap_area(sample, sample) == pytest.approx(1.0, abs=1e-6)
    assert overlap_area(sample, sample[::-1].copy()) == pytest.approx(1.0, abs=1e-6)


def test_far_apart_samples_do_not_overlap() -> None:
    assert overlap_area(np.array([0.0, 1.0, 2.0]), np.array([100.0, 101.0, 102.0])) < 1e-12
    assert overlap_area(np.zeros(5), np.ones(5)) < 1e-12


def test_overlap_is_symmetric_and_between_zero_and_one() -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        a = rng.normal(0, 1, size=int(rng.integers(2, 60)))
        b = rng.normal(rng.uniform(-2, 2), rng.uniform(0.2, 3), size=int(rng.integers(2, 60)))
        ab = overlap_area(a, b)
        assert ab == overlap_area(b, a)
        assert 0.0 < ab < 1.0


def test_a_sample_with_no_spread_gets_a_narrow_kernel() -> None:
    constant = np.full(10, 0.5)
    assert overlap_area(constant, constant.copy()) == pytest.approx(1.0, abs=1e-6)
    assert overlap_area(np.array([0.5]), np.array([0.5])) == pytest.approx(1.0, abs=1e-6)
    # A spike inside a wide sample shares only the spike's sliver of area.
    wide = np.random.default_rng(4).uniform(0, 1, size=100)
    assert 0.0 < overlap_area(constant, wide) < 0.1


def test_overlap_refuses_unusable_samples() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        overlap_area(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError, match="1-D"):
        overlap_area(np.zeros((2, 2)), np.array([1.0]))
    with pytest.raises(ValueError, match="finite"):
        overlap_area(np.array([math.inf]), np.array([1.0]))
    with pytest.raises(ValueError, match="bins"):
        overlap_area(np.array([1.0]), np.array([1.0]), bins=10)
