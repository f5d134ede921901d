"""A bar-aware back-off n-gram over drum steps: the baseline the drum LSTM must beat.

The class of step ``t`` (one of 512 drum sets, :func:`models.encoding.classes_of`)
is predicted from its context ``(t % 16, class[t-1], class[t-16], class[t-32])``:
the position in the bar, the step before, and the same step one and two bars back.
History before the start of a sequence is the :data:`START` symbol.

Smoothing is interpolated absolute discounting (Ney, Essen & Kneser 1994), down
the back-off chain

    full context -> (pos, prev, t-16) -> (pos, prev) -> (pos) -> unigram -> uniform/512

At each order ``k`` with context ``h`` seen ``N(h)`` times, followed by ``u(h)``
distinct classes, and class ``c`` seen ``N(h, c)`` times after it::

    P_k(c | h) = (max(N(h, c) - D_k, 0) + D_k * u(h) * P_{k-1}(c | h')) / N(h)

and ``P_k = P_{k-1}`` when ``h`` was never seen. Why this and not Witten-Bell:
drum contexts are sparse and full of singletons (a fill is played once), and
absolute discounting takes the same mass from every seen class, which Chen &
Goodman (1998) found beats Witten-Bell on sparse data; its discount has a
closed-form estimate from the training counts (Ney's ``n1 / (n1 + 2 n2)``), so no
held-out data is spent tuning it. Every distribution sums to 1 by construction,
and every probability is > 0 because the uniform floor always gets some mass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.encoding import CLASS_COUNT, classes_of
from shared.drums import DRUM_COUNT, STEPS_PER_BAR

START = CLASS_COUNT  # the class "before the sequence began"
HISTORY_SYMBOLS = CLASS_COUNT + 1
LOOKBACK = (1, STEPS_PER_BAR, 2 * STEPS_PER_BAR)  # prev step, one bar back, two bars back
ORDERS = 1 + len(LOOKBACK)  # context columns: position, then each look-back
# Mixed radix of the context columns, so that any prefix packs into one int64 key.
RADICES = (STEPS_PER_BAR,) + (HISTORY_SYMBOLS,) * len(LOOKBACK)

# Ney's estimate is clipped so that every seen context passes some mass down the
# chain (D > 0: no zero probabilities) and a seen class keeps some of its own (D < 1).
MIN_DISCOUNT = 0.05
MAX_DISCOUNT = 0.95


def step_contexts(classes: np.ndarray) -> np.ndarray:
    """``[T, 4]`` int64 contexts ``(pos, prev, back16, back32)`` of a ``[T]`` class sequence."""
    classes = np.asarray(classes, dtype=np.int64)
    t = np.arange(len(classes))
    columns = [t % STEPS_PER_BAR]
    for back in LOOKBACK:
        shifted = np.full(len(classes), START, dtype=np.int64)
        shifted[back:] = classes[: max(0, len(classes) - back)]
        columns.append(shifted)
    return np.stack(columns, axis=1)


def context_keys(contexts: np.ndarray, order: int) -> np.ndarray:
    """One int64 key per row for the first ``order`` context columns (order 0: all 0)."""
    keys = np.zeros(len(contexts), dtype=np.int64)
    scale = 1
    for column in range(order):
        keys += contexts[:, column] * scale
        scale *= RADICES[column]
    return keys


def ney_discount(singletons: int, doubletons: int) -> float:
    """Ney's absolute discount ``n1 / (n1 + 2 n2)``, clipped to the usable range."""
    if singletons + doubletons == 0:
        return MAX_DISCOUNT
    estimate = singletons / (singletons + 2 * doubletons)
    return min(MAX_DISCOUNT, max(MIN_DISCOUNT, estimate))


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``values`` at ``query`` in sorted ``keys``, 0 where a query is absent."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=values.dtype)
    index = np.searchsorted(keys, query)
    index_ok = np.minimum(index, len(keys) - 1)
    found = (index < len(keys)) & (keys[index_ok] == query)
    return np.where(found, values[index_ok], 0)


@dataclass(frozen=True, slots=True)
class _Order:
    """The counts of one back-off order, as sorted key arrays for vectorized lookup."""

    context_keys: np.ndarray  # sorted
    totals: np.ndarray  # N(h)
    types: np.ndarray  # u(h): distinct classes seen after h
    joint_keys: np.ndarray  # sorted context_key * 512 + class
    joint_counts: np.ndarray  # N(h, c)
    discount: float


def _count_order(
    contexts: np.ndarray, classes: np.ndarray, order: int, discount: float | None
) -> _Order:
    joint = context_keys(contexts, order) * CLASS_COUNT + classes
    joint_keys, joint_counts = np.unique(joint, return_counts=True)
    keys, which = np.unique(joint_keys // CLASS_COUNT, return_inverse=True)
    totals = np.bincount(which, weights=joint_counts).astype(np.int64)
    types = np.bincount(which).astype(np.int64)
    if discount is None:
        discount = ney_discount(int((joint_counts == 1).sum()), int((joint_counts == 2).sum()))
    return _Order(keys, totals, types, joint_keys, joint_counts, discount)


class NGram:
    """Interpolated absolute-discounting n-gram over bar-aware step contexts.

    ``discount`` fixes one discount for every order; ``None`` (the default)
    estimates each order's own from its training counts (:func:`ney_discount`).
    Orders are numbered by how many context columns they use: 0 is the unigram,
    1 the bar position, ..., 4 the full context.
    """

    def __init__(self, discount: float | None = None) -> None:
        if discount is not None and not 0.0 < discount <= 1.0:
            raise ValueError(f"discount must be in (0, 1], got {discount}")
        self.discount = discount
        self._orders: list[_Order] = []

    @property
    def discounts(self) -> tuple[float, ...]:
        """The discount of each order, unigram first (after :meth:`fit`)."""
        return tuple(o.discount for o in self._orders)

    def fit(self, sequences: list[np.ndarray]) -> NGram:
        """Count every step of ``[T, 9]`` velocity arrays; returns ``self``."""
        for steps in sequences:
            _check_steps(steps)
        classes = [classes_of(s) for s in sequences]
        if not classes:
            classes = [np.zeros(0, dtype=np.int64)]
        contexts = np.concatenate([step_contexts(c) for c in classes])
        flat = np.concatenate(classes)
        self._orders = [
            _count_order(contexts, flat, order, self.discount) for order in range(ORDERS + 1)
        ]
        return self

    def probs(self, contexts: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """``P(class | context)`` per row; contexts ``[n, k]`` use the first ``k`` orders.

        ``k`` = 4 is the full model; a shorter context asks a lower order of the chain.
        """
        if not self._orders:
            raise RuntimeError("the n-gram is not fitted: call fit() first")
        contexts = np.asarray(contexts, dtype=np.int64)
        classes = np.asarray(classes, dtype=np.int64)
        _check_contexts(contexts, classes)
        p = np.full(len(classes), 1.0 / CLASS_COUNT)
        for order in range(contexts.shape[1] + 1):
            o = self._orders[order]
            keys = context_keys(contexts, order)
            total = _lookup(o.context_keys, o.totals, keys)
            types = _lookup(o.context_keys, o.types, keys)
            count = _lookup(o.joint_keys, o.joint_counts, keys * CLASS_COUNT + classes)
            seen = total > 0
            mixed = (np.maximum(count - o.discount, 0.0) + o.discount * types * p) / np.maximum(
                total, 1
            )
            p = np.where(seen, mixed, p)
        return p

    def prob(self, context: Sequence[int], cls: int) -> float:
        """``P(cls | context)`` for one context tuple (a prefix asks a lower order)."""
        return float(
            self.probs(np.array([context], dtype=np.int64).reshape(1, -1), np.array([cls]))[0]
        )

    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """``[512]``: the probability of every class after ``context``."""
        rows = np.repeat(np.array([context], dtype=np.int64).reshape(1, -1), CLASS_COUNT, axis=0)
        return self.probs(rows, np.arange(CLASS_COUNT))

    def log2_prob_sequence(self, steps: np.ndarray) -> np.ndarray:
        """``[T]`` log2 probability of each step of a ``[T, 9]`` sequence, from its start."""
        _check_steps(steps)
        classes = classes_of(steps)
        log2: np.ndarray = np.log2(self.probs(step_contexts(classes), classes))
        return log2

    def bits_per_step(self, sequences: list[np.ndarray]) -> float:
        """Total ``-log2 p`` over every step of the sequences, / number of steps."""
        total = sum(float(-self.log2_prob_sequence(s).sum()) for s in sequences)
        steps = sum(len(s) for s in sequences)
        if steps == 0:
            raise ValueError("no steps to score")
        return total / steps


def _check_steps(steps: np.ndarray) -> None:
    if steps.ndim != 2 or steps.shape[1] != DRUM_COUNT:
        raise ValueError(f"steps must be [T, {DRUM_COUNT}], got {steps.shape}")


def _check_contexts(contexts: np.ndarray, classes: np.ndarray) -> None:
    if contexts.ndim != 2 or contexts.shape[1] > ORDERS:
        raise ValueError(f"contexts must be [n, 0..{ORDERS}], got {contexts.shape}")
    if classes.shape != (len(contexts),):
        raise ValueError(f"classes must be [{len(contexts)}], got {classes.shape}")
    if len(classes) and not (classes.min() >= 0 and classes.max() < CLASS_COUNT):
        raise ValueError(f"a class is in range 0..{CLASS_COUNT - 1}")
    for column in range(contexts.shape[1]):
        values = contexts[:, column]
        if len(values) and not (values.min() >= 0 and values.max() < RADICES[column]):
            raise ValueError(f"context column {column} is in range 0..{RADICES[column] - 1}")
