"""A token bucket shared by every worker: FilterLogEvents' quota is per account and Region, not per thread.

AIMD: each throttle halves the rate (down to a floor); each success adds back a small step, so after a
throttling burst the rate climbs back over tens of seconds instead of storming the quota again.
Clock and sleep are injected so tests run without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_FILTER_RPS = 5.0  # the lowest Regional FilterLogEvents quota; the quota is account-wide


class TokenBucket:
    """Thread-safe token bucket with AIMD rate control.

    `acquire()` blocks until the caller may send one request. Reservations are taken under the lock
    and slept outside it, so N waiting workers are spaced 1/rate apart, fairly.
    """

    def __init__(
        self,
        rate: float = DEFAULT_FILTER_RPS,
        *,
        burst: float = 1.0,
        min_rate: float | None = None,
        recovery: float | None = None,
        throttle_cooldown: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.max_rate = float(rate)
        self.rate = float(rate)
        self.burst = max(1.0, float(burst))
        self.min_rate = float(min_rate) if min_rate is not None else max(0.1, self.max_rate / 32)
        # additive increase per successful request: from half rate back to full in ~25 requests' worth
        self.recovery = float(recovery) if recovery is not None else self.max_rate / 50
        self.throttle_cooldown = throttle_cooldown
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._last = clock()
        self._last_cut = float("-inf")
        self.acquired = 0
        self.throttles = 0
        self.waited = 0.0

    def _refill(self, now: float) -> None:
        elapsed = now - self._last
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._last = now

    def reserve(self) -> float:
        """Take one token now (possibly going into debt); return how long the caller must wait."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            self.acquired += 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            self.waited += wait
            return wait

    def acquire(self) -> None:
        """Block until one request may be sent."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def on_throttle(self) -> None:
        """Multiplicative decrease; several workers throttled at once count as one event per cooldown."""
        with self._lock:
            self.throttles += 1
            now = self._clock()
            if now - self._last_cut < self.throttle_cooldown:
                return
            self._last_cut = now
            self._refill(now)
            self.rate = max(self.min_rate, self.rate / 2)
            self._tokens = min(self._tokens, 0.0)  # no burst right after a throttle

    def on_retry(self, kind: str) -> None:
        """A request is being retried (by botocore or by retry.py): a throttle slows the bucket."""
        if kind == "throttle":
            self.on_throttle()

    def on_success(self) -> None:
        """Additive increase back towards the configured rate."""
        if self.rate >= self.max_rate:
            return
        with self._lock:
            self._refill(self._clock())
            self.rate = min(self.max_rate, self.rate + self.recovery)
