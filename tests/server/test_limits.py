"""TokenBucket: bursts, refills and a clock that may run backwards, with time passed in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.limits import TokenBucket


def allowed(bucket: TokenBucket, now: float, tries: int) -> int:
    """How many of ``tries`` events at ``now`` the bucket lets through."""
    return sum(bucket.allow(now) for _ in range(tries))


def test_a_full_burst_is_allowed_then_refused() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0, now=10.0)
    assert [bucket.allow(10.0) for _ in range(5)] == [True, True, True, False, False]


def test_refills_at_rate_per_second() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0, now=10.0)
    assert allowed(bucket, 10.0, 10) == 3
    assert allowed(bucket, 10.25, 10) == 0  # half a token
    assert allowed(bucket, 10.5, 10) == 1  # the other half
    assert allowed(bucket, 11.5, 10) == 2
    assert allowed(bucket, 12.75, 10) == 2  # 2.5 tokens: the half stays
    assert allowed(bucket, 13.0, 10) == 1  # 0.5 + 0.5


def test_refill_is_capped_at_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0, now=10.0)
    assert allowed(bucket, 10.0, 10) == 3
    assert allowed(bucket, 1000.0, 10) == 3


def test_starts_full() -> None:
    bucket = TokenBucket(rate=1.0, burst=60.0, now=0.0)
    assert allowed(bucket, 0.0, 100) == 60


def test_steady_rate_is_allowed_forever() -> None:
    bucket = TokenBucket(rate=4.0, burst=1.0, now=0.0)
    assert all(bucket.allow(i * 0.25) for i in range(1000))
    assert not bucket.allow(999 * 0.25)


def test_a_clock_running_backwards_adds_nothing() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0, now=20.0)
    assert allowed(bucket, 20.0, 10) == 3
    assert allowed(bucket, 5.0, 10) == 0
    # Back on time: only the half second since 20.0 counts, not since 5.0.
    assert allowed(bucket, 20.5, 10) == 1


def test_a_clock_running_backwards_does_not_delay_refills() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0, now=20.0)
    assert allowed(bucket, 20.0, 3) == 3
    assert allowed(bucket, 19.0, 1) == 0
    assert allowed(bucket, 21.0, 10) == 2  # a full second since 20.0


def test_fractional_burst_holds_whole_tokens_only() -> None:
    bucket = TokenBucket(rate=1.0, burst=2.5, now=0.0)
    assert allowed(bucket, 0.0, 10) == 2
    assert allowed(bucket, 0.5, 10) == 1  # 0.5 left over + 0.5


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (-1.0, 5.0), (1.0, 0.5), (1.0, 0.0)])
def test_constructor_refuses_bad_settings(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match=r"^a token bucket needs rate > 0 and burst >= 1$"):
        TokenBucket(rate, burst, 0.0)


def test_smallest_valid_settings() -> None:
    bucket = TokenBucket(rate=0.5, burst=1.0, now=0.0)
    assert [bucket.allow(t) for t in (0.0, 1.0, 2.0, 3.0, 4.0)] == [True, False, True, False, True]


@given(
    st.floats(min_value=0.5, max_value=100.0),
    st.integers(min_value=1, max_value=50),
    st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=1, max_size=200),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate, burst, 0.0)
    now = 0.0
    count = 0
    for gap in gaps:
        now += gap
        count += bucket.allow(now)
    assert count <= burst + rate * now + 1e-6
