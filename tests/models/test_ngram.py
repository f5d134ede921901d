"""The back-off n-gram on toy corpora whose counts, and so probabilities, are worked by hand.

The toy corpus is two one-bar sequences (classes: 1 kick, 3 kick+snare, 4 closed hat):

    first:  1 0 4 0  1 0 4 0  1 0 4 0  1 0 4 0
    second: 1 0 4 0  1 0 4 0  3 0 4 0  1 0 4 0

32 steps: class 0 sixteen times, 1 seven, 3 once, 4 eight (4 distinct classes).
Every bar position is seen twice, with one class each except position 8 (1, then 3).
One-bar sequences leave t-16 and t-32 at START, so orders 2..4 see the same counts
except where the previous step differs (position 9: after 1, or after 3).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.encoding import CLASS_COUNT, classes_of
from models.ngram import (
    MAX_DISCOUNT,
    MIN_DISCOUNT,
    START,
    NGram,
    context_keys,
    ney_discount,
    step_contexts,
)
from shared.drums import DRUM_COUNT

S = START
FIRST = [1, 0, 4, 0] * 4
SECOND = [1, 0, 4, 0, 1, 0, 4, 0, 3, 0, 4, 0, 1, 0, 4, 0]


def steps_of(classes: list[int]) -> np.ndarray:
    """A ``[T, 9]`` velocity array striking each class's drums at 100."""
    bits = (np.array(classes)[:, None] >> np.arange(DRUM_COUNT)) & 1
    return (bits * 100).astype(np.uint8)


def toy(discount: float | None = 0.5) -> NGram:
    return NGram(discount).fit([steps_of(FIRST), steps_of(SECOND)])


def test_steps_of_round_trips_through_classes_of() -> None:
    assert classes_of(steps_of(SECOND)).tolist() == SECOND


def test_contexts_are_position_prev_one_bar_and_two_bars_back_with_start() -> None:
    classes = np.arange(34) + 100
    contexts = step_contexts(classes)
    assert contexts.shape == (34, 4)
    assert contexts[0].tolist() == [0, S, S, S]
    assert contexts[1].tolist() == [1, 100, S, S]
    assert contexts[16].tolist() == [0, 115, 100, S]
    assert contexts[33].tolist() == [1, 132, 117, 101]
    assert step_contexts(np.array([7])).tolist() == [[0, S, S, S]]


def test_context_keys_tell_every_context_apart() -> None:
    contexts = np.array([[15, S, S, S], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]])
    keys = context_keys(contexts, 4)
    assert len(set(keys.tolist())) == 5
    assert context_keys(contexts, 1).tolist() == [15, 0, 0, 0, 1]
    assert context_keys(contexts, 0).tolist() == [0, 0, 0, 0, 0]


def test_unigram_is_discounted_counts_plus_uniform_share() -> None:
    model = toy()
    # N = 32, u = 4 distinct classes, D = 0.5: the back-off weight is 0.5 * 4 / 32.
    floor = 2 / 32 / 512
    assert model.prob((), 0) == pytest.approx(15.5 / 32 + floor, abs=1e-15)
    assert model.prob((), 1) == pytest.approx(6.5 / 32 + floor, abs=1e-15)
    assert model.prob((), 3) == pytest.approx(0.5 / 32 + floor, abs=1e-15)
    assert model.prob((), 4) == pytest.approx(7.5 / 32 + floor, abs=1e-15)
    assert model.prob((), 511) == pytest.approx(floor, abs=1e-15)


def test_a_class_always_seen_in_its_context_climbs_the_chain() -> None:
    model = toy()
    # Position 0 (after START) held class 1 both times: N = 2, u = 1, at every order.
    p = 6.5 / 32 + 2 / 32 / 512
    for _ in range(4):
        p = (2 - 0.5) / 2 + 0.5 * 1 / 2 * p
    assert model.prob((0, S, S, S), 1) == pytest.approx(p, abs=1e-15)
    assert model.prob((0, S, S, S), 1) > 0.99


def test_a_class_seen_once_of_two_gets_its_share() -> None:
    model = toy()
    # Position 8 after 0 held 1 once and 3 once: N = 2, u = 2, at orders 1..4.
    p = 0.5 / 32 + 2 / 32 / 512
    for _ in range(4):
        p = (1 - 0.5) / 2 + 0.5 * 2 / 2 * p
    assert model.prob((8, 0, S, S), 3) == pytest.approx(p, abs=1e-15)


def test_a_class_never_seen_gets_only_the_back_off_weights() -> None:
    model = toy()
    p = 2 / 32 / 512  # the unigram's share of uniform
    for _ in range(4):
        p *= 0.5 * 1 / 2  # each order's D * u / N at position 0
    assert model.prob((0, S, S, S), 511) == pytest.approx(p, rel=1e-12)
    assert model.prob((0, S, S, S), 511) > 0


def test_unseen_contexts_back_off_to_the_longest_seen_one() -> None:
    model = toy()
    # Nothing but 0 came before position 8; 7 never came one bar back.
    for cls in (0, 1, 3, 4, 200):
        assert model.prob((8, 4, S, S), cls) == model.prob((8,), cls)
        assert model.prob((8, 0, 7, 7), cls) == model.prob((8, 0), cls)
        assert model.prob((8, 0), cls) != model.prob((8,), cls)


def test_every_distribution_sums_to_one_and_is_positive() -> None:
    for model in (toy(), toy(None), toy(1.0)):
        for context in [
            (),
            (0,),
            (8, 0),
            (0, S, S, S),
            (8, 0, S, S),
            (9, 3, S, S),
            (5, 511, 300, 2),
            (15, S, S, S),
        ]:
            distribution = model.distribution(context)
            assert distribution.shape == (CLASS_COUNT,)
            assert abs(distribution.sum() - 1.0) < 1e-9
            assert distribution.min() > 0


def test_an_empty_model_is_uniform() -> None:
    model = NGram().fit([])
    assert model.prob((3, 1, 2, 3), 9) == pytest.approx(1 / 512, abs=1e-18)


def test_ney_discount_is_n1_over_n1_plus_2_n2_clipped() -> None:
    assert ney_discount(3, 1) == pytest.approx(0.6, abs=1e-15)
    assert ney_discount(2, 15) == pytest.approx(1 / 16, abs=1e-15)
    assert ney_discount(0, 5) == MIN_DISCOUNT
    assert ney_discount(4, 0) == MAX_DISCOUNT
    assert ney_discount(0, 0) == MAX_DISCOUNT


def test_fitted_discounts_come_from_each_orders_counts_of_counts() -> None:
    model = toy(None)
    # Unigram: one singleton (class 3), no doubletons -> clipped.
    # Position: 15 pairs seen twice, position 8's two singletons -> 2 / (2 + 30).
    # Position and prev (and the START-padded longer orders): position 9 splits in two
    # singletons more, so n1 = 4, n2 = 14 -> 4 / 32.
    assert model.discounts == pytest.approx((MAX_DISCOUNT, 1 / 16, 1 / 8, 1 / 8, 1 / 8))


# A 2-bar groove: bar B moves A's kick from step 8 to step 10. At step 8 both bars
# follow silence, so only the bar before tells which one is playing.
BAR_A = [5, 0, 4, 0, 6, 0, 4, 0, 5, 0, 4, 0, 6, 0, 4, 0]
BAR_B = [5, 0, 4, 0, 6, 0, 4, 0, 4, 0, 5, 0, 6, 0, 4, 0]


def test_a_repeating_two_bar_pattern_is_predicted_from_the_bars_before() -> None:
    groove = steps_of((BAR_A + BAR_B) * 4)
    model = NGram(0.5).fit([groove])
    log2 = model.log2_prob_sequence(groove)
    # From bar 3 on, every full context was seen 3 times or more, always with
    # the same class: p >= (3 - 0.5) / 3.
    assert np.all(2.0 ** log2[32:] >= 2.5 / 3 - 1e-12)
    # Position 8 of an A bar (B one bar back, A two back): the bars decide ...
    full = (8, 0, 4, 5)
    assert model.prob(full, 5) >= 2.5 / 3
    # ... where position and prev alone cannot: 5 four times, 4 four times.
    assert model.prob(full[:2], 5) == pytest.approx(0.5, abs=0.01)
    shuffled = steps_of(list(np.random.default_rng(0).permutation((BAR_A + BAR_B) * 4)))
    assert model.bits_per_step([groove]) < 0.05
    assert model.bits_per_step([shuffled]) > 2.0


def test_bits_per_step_is_total_minus_log2_over_all_steps() -> None:
    model = toy(None)
    sequences = [steps_of(FIRST), steps_of(SECOND[:11])]
    log2 = np.concatenate([model.log2_prob_sequence(s) for s in sequences])
    assert log2.shape == (27,)
    assert model.bits_per_step(sequences) == pytest.approx(-log2.sum() / 27, abs=1e-12)
    # The first step: position 0 after START, class 1.
    assert log2[0] == pytest.approx(math.log2(model.prob((0, S, S, S), 1)), abs=1e-12)


def test_bad_inputs_are_refused_with_the_reason() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        NGram().prob((0,), 1)
    with pytest.raises(ValueError, match="discount"):
        NGram(0.0)
    model = toy()
    with pytest.raises(ValueError, match=r"steps must be \[T, 9\]"):
        model.log2_prob_sequence(np.zeros((16, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"class is in range 0\.\.511"):
        model.prob((0,), 512)
    with pytest.raises(ValueError, match=r"context column 0 is in range 0\.\.15"):
        model.prob((16,), 1)
    with pytest.raises(ValueError, match=r"context column 1 is in range 0\.\.512"):
        model.prob((0, 513), 1)
    with pytest.raises(ValueError, match="no steps"):
        model.bits_per_step([])
