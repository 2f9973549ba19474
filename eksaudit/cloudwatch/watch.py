"""`watch` wired to CloudWatch Logs: a `Tail` whose `fetch_range` is FilterLogEvents on the shared
client, pager, token bucket (`--max-rps`, one budget for every group) and a retry that never gives up.

Several log groups are one Tail: each range is read in every group and merged by timestamp.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .checkpoint import WatchState
from .clock import Clock, LagEstimator, ServerClock
from .tail import FetchRange, Sleep, Tail, _default_transient


class RestartPass(Exception):
    """The service repeated a nextToken: the pass restarts at the newest timestamp it read."""

    transient = True


def is_transient(exc: BaseException) -> bool:
    """Errors `watch` outlives: throttling/5xx/connection errors that survived the retries,
    rejected or repeated tokens; access denied, a missing log group and the like are fatal."""
    from .client import TokenExpiredError, TransientAwsError

    return isinstance(exc, (TransientAwsError, TokenExpiredError, RestartPass)) or _default_transient(exc)


def watch_retry(on_failure: Callable[[str], None] | None = None, **kwargs: Any) -> Any:
    """The shared RetryPolicy set never to give up; `on_failure(kind)` hears each retry."""
    from .retry import RetryPolicy

    class _WatchRetry(RetryPolicy):
        def call(self, fn: Any, *, on_retry: Any = None, cancelled: Any = None) -> Any:
            def report(kind: str, attempt: int, delay: float) -> None:
                if on_retry is not None:
                    on_retry(kind, attempt, delay)
                if on_failure is not None:
                    on_failure(kind)

            return super().call(fn, on_retry=report, cancelled=cancelled)

    kwargs.setdefault("give_up_after", float("inf"))
    kwargs.setdefault("unreachable_attempts", None)  # watch never gives up (issue: reports and backs off)
    kwargs.setdefault("cap", 30.0)
    return _WatchRetry(**kwargs)


_KIND_TEXT = {
    "throttle": "throttled (Rate exceeded)",
    "server": "server error",
    "connection": "connection problem",
    "unreachable": "cannot connect to the endpoint",
}


def cloudwatch_fetcher(
    client: Any,
    log_group: str | Sequence[str],
    *,
    stream_prefix: str | None = None,
    pattern: str | None = None,
    limiter: Any = None,
    retry: Any = None,
    stats: Any = None,
    page_limit: int | None = None,
) -> FetchRange:
    """`fetch_range` for `Tail` on the shared pager: FilterLogEvents over [start, end), all pages.

    With several groups, each group is read and the records are merged by timestamp (ties in group
    name order), each tagged with its `logGroupName`; every record before the newest one handed out
    has then been read in every group, which is what `Tail`'s resume after an error relies on.
    """
    from .paging import FilterRequest, iter_pages

    def one_group(group: str, start_ms: int, end_ms: int) -> Iterator[Mapping[str, Any]]:
        req = FilterRequest(group, start_ms, end_ms, stream_prefix=stream_prefix, pattern=pattern, limit=page_limit)
        for page in iter_pages(client, req, limiter=limiter, retry=retry, stats=stats):
            yield from page.events
            if page.repeated:
                raise RestartPass("FilterLogEvents returned the same nextToken twice; re-reading from the last event")

    def tagged(group: str, start_ms: int, end_ms: int) -> Iterator[Mapping[str, Any]]:
        for rec in one_group(group, start_ms, end_ms):
            yield {**rec, "logGroupName": group}

    if isinstance(log_group, str):
        return lambda start_ms, end_ms: one_group(log_group, start_ms, end_ms)
    groups = sorted(set(log_group))

    def fetch_range(start_ms: int, end_ms: int) -> Iterator[Mapping[str, Any]]:
        parts = [tagged(g, start_ms, end_ms) for g in groups]
        return heapq.merge(*parts, key=lambda rec: int(rec.get("timestamp", 0)))

    return fetch_range


def watch_events(
    client: Any,
    log_group: str | Sequence[str],
    *,
    stream_prefix: str | None = None,
    pattern: str | None = None,
    start_ms: int | None = None,
    until_ms: int | None = None,
    max_events: int | None = None,
    poll_s: float = 2.0,
    lag_s: float | None = None,
    max_rps: float = 5.0,
    state: WatchState | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_checkpoint: Callable[[WatchState], None] | None = None,
    clock: Clock = time.time,
    sleep: Sleep = time.sleep,
    lag: LagEstimator | None = None,
    page_limit: int | None = None,
) -> Tail:
    """A `Tail` on a `LogsClient` (see client.make_client): iterate it for `AuditEvent`s.

    `log_group` may be several groups (one Tail over all, merged by timestamp, one request budget).
    The server's clock is learned from the client's responses; requests share one token bucket
    (`max_rps`); transient errors are retried for ever, fatal ones (AwsError) propagate.
    """
    from .ratelimit import TokenBucket

    server_clock = ServerClock(clock)
    raw = getattr(client, "raw", client)
    if getattr(raw, "meta", None) is not None:
        server_clock.attach(raw)
    if lag is None:
        lag = LagEstimator(fixed_ms=int(lag_s * 1000)) if lag_s is not None else LagEstimator()
    limiter = TokenBucket(max_rps)
    tail: Tail | None = None

    def on_failure(kind: str) -> None:
        if tail is not None:
            tail.note_transient(f"FilterLogEvents: {_KIND_TEXT.get(kind, kind)}; backing off and retrying (watch keeps going)")

    def on_client_retry(kind: str) -> None:  # retries botocore made itself
        limiter.on_retry(kind)
        on_failure(kind)

    if hasattr(client, "on_retry"):
        client.on_retry = on_client_retry
    fetch = cloudwatch_fetcher(
        client, log_group, stream_prefix=stream_prefix, pattern=pattern, limiter=limiter,
        retry=watch_retry(on_failure, sleep=sleep), page_limit=page_limit,
    )
    tail = Tail(
        fetch, start_ms=start_ms, until_ms=until_ms, max_events=max_events, poll_s=poll_s, lag=lag, clock=clock,
        sleep=sleep, server_clock=server_clock, is_transient=is_transient, on_warning=on_warning,
        on_checkpoint=on_checkpoint, state=state,
        log_group=log_group if isinstance(log_group, str) else None,
    )
    return tail
