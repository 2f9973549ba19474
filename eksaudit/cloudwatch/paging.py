"""Our own FilterLogEvents paging loop (never botocore's paginator, which dies on repeated tokens).

Rules, from the API reference and field reports (spec cloudwatch.md §1.2, §4.2):

* only a missing nextToken ends a query: empty pages that carry a token are normal, keep going;
* a nextToken the service already handed out in this query is *repeated*: following it would loop or
  repeat events, so the page is yielded with `repeated=True` and paging stops; the caller restarts
  from its last delivered position (fetch.py does, deduplicating by eventId), which loses nothing;
* the window is half-open `[start, end)`: we send endTime=end and drop `ts >= end` ourselves, which
  is right whether the service treats endTime as inclusive (its doc) or exclusive (aws-cli#4262);
* the stream prefix is also checked client-side (cheap, and local endpoints such as moto ignore it);
* `interleaved=True` is sent: AWS ignores it (always interleaved), moto needs it for time order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .client import TransientAwsError
from .ratelimit import TokenBucket
from .retry import RetryPolicy

MAX_PAGE_LIMIT = 10_000


@dataclass(frozen=True)
class FilterRequest:
    """One FilterLogEvents query: a group, optional stream prefix/names, a half-open time range, a pattern."""

    log_group: str
    start_ms: int
    end_ms: int | None  # exclusive; None = open
    stream_prefix: str | None = None
    stream_names: tuple[str, ...] | None = None
    pattern: str | None = None
    limit: int | None = None

    def params(self, token: str | None = None) -> dict[str, Any]:
        p: dict[str, Any] = {"logGroupName": self.log_group, "startTime": max(0, self.start_ms), "interleaved": True}
        if self.end_ms is not None:
            p["endTime"] = self.end_ms
        if self.stream_names:
            p["logStreamNames"] = list(self.stream_names)
        elif self.stream_prefix:
            p["logStreamNamePrefix"] = self.stream_prefix
        if self.pattern:
            p["filterPattern"] = self.pattern
        if self.limit:
            p["limit"] = min(MAX_PAGE_LIMIT, self.limit)
        if token:
            p["nextToken"] = token
        return p

    def keeps(self, ev: dict[str, Any]) -> bool:
        ts = ev.get("timestamp")
        if not isinstance(ts, int) or ts < self.start_ms or (self.end_ms is not None and ts >= self.end_ms):
            return False
        stream = ev.get("logStreamName") or ""
        if self.stream_names:
            return stream in self.stream_names
        return not self.stream_prefix or stream.startswith(self.stream_prefix)


@dataclass
class Page:
    """One response: the events kept (in range, right streams), the token sent and the one received."""

    events: list[dict[str, Any]]
    next_token: str | None
    token: str | None
    raw_count: int
    repeated: bool = False


@dataclass
class PageStats:
    """Counters shared by every worker (read by the progress line and the summary)."""

    requests: int = 0
    pages: int = 0
    empty_pages: int = 0
    events: int = 0
    throttles: int = 0
    retries: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    repeated_tokens: int = 0
    restarts: int = 0
    latency_s: float = 0.0  # moving average of a successful request's round trip (sizes the worker pool)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)

    def observe_latency(self, seconds: float) -> None:
        with self._lock:
            self.latency_s = seconds if self.latency_s == 0.0 else 0.8 * self.latency_s + 0.2 * seconds

    def record_retry(self, kind: str) -> None:
        key = {"throttle": "throttles", "server": "server_errors"}.get(kind, "connection_errors")
        self.add(**{key: 1})


def check_page(resp: Any) -> None:
    """Refuse a reply that is not a FilterLogEvents page: `{}`, `{"events": null}`, wrong types.

    `resp.get("events") or []` would read such a reply as an empty last page and end the query
    silently; it is a fault (a proxy, a broken gateway, a bug), retried like a 5xx.
    """
    problem = None
    if not isinstance(resp, dict):
        problem = f"a {type(resp).__name__}, not an object"
    elif not isinstance(resp.get("events"), list):
        problem = "no events list" if resp.get("events") is None else f"events is a {type(resp['events']).__name__}"
    elif resp.get("nextToken") is not None and not isinstance(resp["nextToken"], str):
        problem = f"nextToken is a {type(resp['nextToken']).__name__}"
    else:
        for ev in resp["events"]:
            if not isinstance(ev, dict):
                problem = f"an event is a {type(ev).__name__}"
            elif not isinstance(ev.get("timestamp"), int) or isinstance(ev.get("timestamp"), bool):
                problem = "an event without an integer timestamp"
            elif not isinstance(ev.get("message"), str):
                problem = "an event without a message string"
            elif ev.get("eventId") is not None and not isinstance(ev["eventId"], str):
                problem = "an event whose eventId is not a string"
            elif ev.get("logStreamName") is not None and not isinstance(ev["logStreamName"], str):
                problem = "an event whose logStreamName is not a string"
            if problem:
                break
    if problem:
        raise TransientAwsError("server", f"FilterLogEvents: HTTP 200 reply that is not a page ({problem})")


def iter_pages(
    client: Any,
    request: FilterRequest,
    *,
    limiter: TokenBucket | None = None,
    retry: RetryPolicy | None = None,
    token: str | None = None,
    stats: PageStats | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[Page]:
    """Yield every page of `request` (empty ones too, for progress), starting at `token` if given.

    Each request waits for the shared limiter; transient failures are retried by `retry` with the
    same token. Ends when a response has no nextToken, or after a repeated token (`Page.repeated`).
    """
    seen: set[str] = set()
    if token:
        seen.add(token)

    def on_retry(kind: str, attempt: int, delay: float) -> None:
        if limiter is not None:
            limiter.on_retry(kind)
        if stats is not None:
            stats.record_retry(kind)
            stats.add(retries=1)

    while True:
        if cancelled is not None and cancelled():
            return
        params = request.params(token)

        def once(params: dict[str, Any] = params) -> dict[str, Any]:
            if limiter is not None:
                limiter.acquire()
            if stats is not None:
                stats.add(requests=1)
            started = time.monotonic()
            resp = client.filter_log_events(**params)
            check_page(resp)  # a malformed 200 is retried like a 5xx, never taken for the end
            if stats is not None:
                stats.observe_latency(time.monotonic() - started)
            return resp

        resp = retry.call(once, on_retry=on_retry, cancelled=cancelled) if retry is not None else once()
        if limiter is not None:
            limiter.on_success()
        raw = resp["events"]
        kept = [e for e in raw if request.keeps(e)]
        nxt = resp.get("nextToken") or None
        repeated = nxt is not None and nxt in seen
        if stats is not None:
            stats.add(pages=1, empty_pages=int(not raw), events=len(kept), repeated_tokens=int(repeated))
        yield Page(kept, nxt, token, len(raw), repeated)
        if nxt is None or repeated:
            return
        seen.add(nxt)
        token = nxt
