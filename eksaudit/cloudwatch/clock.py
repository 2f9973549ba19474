"""Time for `watch`: the server's clock (from HTTP `Date` headers) and the ingestion-lag estimator.

"now" is the server's clock so a skewed local clock cannot move the tail's cursors past data; the
lag allowance L follows the observed `ingestionTime - timestamp` (a high percentile times a factor
plus a margin, bounded).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import InitVar, dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from ..errors import UsageError

Clock = Callable[[], float]

_WARMUP_SAMPLES = 5
_WARMUP_OVERLAP_MS = 10_000


class ServerClock:
    """Now as the server sees it: local time plus an offset learned from HTTP `Date` headers.

    A `Date` header has whole seconds and is written before the response travels, so
    `date - local_receive_time` never overestimates the true offset; the largest of the recent
    samples is the tightest safe estimate. Without any sample it is the local clock.
    """

    def __init__(self, clock: Clock = time.time, *, samples: int = 32) -> None:
        self._clock = clock
        self._offsets: deque[float] = deque(maxlen=samples)

    @property
    def offset_s(self) -> float:
        return max(self._offsets) if self._offsets else 0.0

    @property
    def synced(self) -> bool:
        return bool(self._offsets)

    def now(self) -> float:
        return self._clock() + self.offset_s

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def observe_date(self, value: str | None) -> None:
        """Learn from one `Date` header value (RFC 7231); unreadable values are ignored."""
        if not value:
            return
        try:
            server = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        self._offsets.append(server - self._clock())

    def observe_response(self, response: Mapping[str, Any]) -> None:
        """Learn from a botocore response dict (`ResponseMetadata.HTTPHeaders.date`)."""
        meta = response.get("ResponseMetadata") or {}
        headers = meta.get("HTTPHeaders") or {}
        self.observe_date(headers.get("date") or headers.get("Date"))

    def attach(self, client: Any) -> None:
        """Learn from every response a botocore client receives (including errors and retries)."""

        def _after_call(http_response: Any = None, **_: Any) -> None:
            headers = getattr(http_response, "headers", None)
            if headers is not None:
                self.observe_date(headers.get("date") or headers.get("Date"))

        client.meta.events.register("after-call.cloudwatch-logs", _after_call)
        client.meta.events.register("after-call-error.cloudwatch-logs", _after_call)


# --- the lag allowance ---------------------------------------------------------------------------


@dataclass(eq=False, kw_only=True)
class LagEstimator:
    """The lag allowance L: fixed, or learned from `ingestionTime - timestamp` of recent events.

    Adaptive L = clamp(factor x percentile + margin, min, max) over the samples of the last
    `window_ms`; until `min_samples` are in, `initial_ms` (bounded) is used.
    """

    fixed_ms: int | None = None
    initial_ms: int = 60_000
    min_ms: int = 10_000
    max_ms: int = 600_000
    window_ms: int = 300_000
    percentile: float = 0.99
    factor: float = 2.0
    margin_ms: int = 1_000
    min_samples: int = 20
    max_samples: InitVar[int] = 4096

    def __post_init__(self, max_samples: int) -> None:
        if self.min_ms > self.max_ms:
            raise UsageError(f"lag bounds are inverted: min {self.min_ms} ms > max {self.max_ms} ms")
        self._samples: deque[tuple[int, int]] = deque(maxlen=max_samples)  # (observed_at_ms, lag_ms)
        self._cached: int | None = None

    @property
    def adaptive(self) -> bool:
        return self.fixed_ms is None

    def observe(self, lag_ms: int, at_ms: int) -> None:
        """One event's `ingestionTime - timestamp` (negative values, from skewed clocks, count as 0)."""
        self._samples.append((at_ms, max(0, lag_ms)))
        self._cached = None

    def percentile_ms(self, now_ms: int | None = None, q: float | None = None) -> int | None:
        """The `q` (default: the configured) percentile of the recent samples; None without any."""
        lags = self._recent(now_ms)
        if not lags:
            return None
        lags.sort()
        idx = min(len(lags) - 1, int((self.percentile if q is None else q) * len(lags)))
        return lags[idx]

    def overlap_ms(self, floor_ms: int, now_ms: int | None = None) -> int:
        """How far back a fresh pass re-reads: the usual ingestion delay (p90 + 0.5 s), at least
        `floor_ms`, at most the lag allowance. Events delayed more than this still come, from
        the confirming pass, only later."""
        lag = self.current_ms(now_ms)
        if len(self._recent(now_ms)) < _WARMUP_SAMPLES:  # nothing learned yet: look further back
            return max(floor_ms, min(lag, _WARMUP_OVERLAP_MS))
        p90 = self.percentile_ms(now_ms, 0.9) or 0
        return min(max(floor_ms, p90 + 500), max(floor_ms, lag))

    def current_ms(self, now_ms: int | None = None) -> int:
        if self.fixed_ms is not None:
            return self.fixed_ms
        if self._cached is not None and now_ms is None:
            return self._cached
        lags = self._recent(now_ms)
        if len(lags) < self.min_samples:
            value = self.initial_ms
        else:
            lags.sort()
            p = lags[min(len(lags) - 1, int(self.percentile * len(lags)))]
            value = int(self.factor * p) + self.margin_ms
        value = max(self.min_ms, min(self.max_ms, value))
        self._cached = value
        return value

    def _recent(self, now_ms: int | None) -> list[int]:
        if now_ms is not None:
            cutoff = now_ms - self.window_ms
            while self._samples and self._samples[0][0] < cutoff:
                self._samples.popleft()
        return [lag for _, lag in self._samples]

    def samples(self) -> list[tuple[int, int]]:
        return list(self._samples)

    def load(self, samples: Iterable[Iterable[int]]) -> None:
        for at, lag in samples:
            self._samples.append((int(at), int(lag)))
        self._cached = None


