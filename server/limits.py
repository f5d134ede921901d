"""Rate limiting with time passed in."""

from __future__ import annotations

import math


class TokenBucket:
    """Allows ``rate`` events a second on average, and bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if not (math.isfinite(rate) and math.isfinite(burst)) or rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last = now

    def allow(self, now: float) -> bool:
        """Take one token if there is one; a clock that runs backwards adds nothing."""
        elapsed = max(0.0, now - self._last)
        self._last = max(self._last, now)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
