"""The Logs Insights engine (`fetch --engine insights`): time-sliced queries, row-cap bisection.

A query returns at most `row_cap` rows (10,000 by default; 100,000 on newer models), so a slice
whose answer hits the cap is split in two at a second boundary and both halves are queried again,
until every slice is complete. The query string carries a superset filter of the condition
(`pushdown.insights_query`); the caller still evaluates the full condition on every event.

Insights has no eventId: events are deduplicated by `auditID|stage` (or stream, timestamp and a
digest of the message for lines that are not audit JSON: dedup.insights_key) and yielded in time order, slice by
slice. The next slice's query is started before the current slice's events are handed out, so
Insights works while the consumer writes; closing the generator (or Ctrl-C) stops the query that
is still running (StopQuery, best effort: it fails on queries that already ended, and on moto).

startTime/endTime are whole seconds; each slice `[a, b)` in ms asks for the seconds covering it
and keeps only events with `a <= @timestamp < b`, so neighbouring slices never emit an event twice.
Time and sleeping are injected for tests.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timezone
from typing import Any

from ..condition.ast import Expr
from ..errors import AwsError, UsageError
from ..events.event import AuditEvent
from ..timewindow import Window, format_ms
from .dedup import SeenIds, insights_key
from .pushdown.insights import insights_query
from .retry import RetryPolicy

DEFAULT_ROW_CAP = 10_000
DEFAULT_SLICE_MS = 6 * 3_600_000  # Insights bills per byte scanned, not per query: few big slices
DEFAULT_MAX_WAIT = 3_900.0  # queries time out server-side after 60 min
_RUNNING = frozenset({"Scheduled", "Running"})
_DEDUP_MARGIN_MS = 60_000

Warn = Callable[[str], None]


def parse_insights_time(value: str | None) -> int | None:
    """Insights time values: `2026-01-02 03:04:05.678` (UTC) on AWS, epoch ms digits on moto."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        n = int(v)
        return n if n > 10**11 else n * 1000
    try:
        dt = datetime.fromisoformat(v.replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(round(dt.timestamp() * 1000))


def row_to_event(row: list[dict[str, str]], log_group: str | None = None) -> AuditEvent | None:
    """One GetQueryResults row to an AuditEvent (None when it has no @message or @timestamp)."""
    f = {c.get("field"): c.get("value") for c in row}
    msg = f.get("@message")
    ts = parse_insights_time(f.get("@timestamp"))
    if msg is None or ts is None:
        return None
    record = {
        "message": msg,
        "timestamp": ts,
        "ingestionTime": parse_insights_time(f.get("@ingestionTime")),
        "logStreamName": f.get("@logStream"),
    }
    return AuditEvent.from_cloudwatch(record, log_group=log_group, source="insights")


def _split(start_ms: int, end_ms: int, n: int) -> list[tuple[int, int]]:
    """`n` contiguous slices with inner boundaries on whole seconds."""
    bounds = [start_ms]
    step = (end_ms - start_ms) / n
    for i in range(1, n):
        b = (int(start_ms + step * i) // 1000) * 1000
        if bounds[-1] < b < end_ms:
            bounds.append(b)
    bounds.append(end_ms)
    return list(zip(bounds, bounds[1:], strict=False))


def _midpoint(a: int, b: int) -> int | None:
    """A second boundary strictly inside (a, b) that roughly halves it; None if there is none."""
    mid = ((a + (b - a) // 2) // 1000) * 1000
    if mid <= a:
        mid = (a // 1000 + 1) * 1000
    return mid if a < mid < b else None


@dataclass(eq=False)
class _Engine:
    """One log group's Insights queries: start, poll for results, stop; counts queries and bisections."""

    client: Any
    log_group: str
    query: str
    _: KW_ONLY
    row_cap: int
    poll: float
    sleep: Callable[[float], object]
    clock: Callable[[], float]
    limiter: Any
    retry: RetryPolicy
    max_wait: float
    warn: Warn
    queries: int = 0
    bisections: int = 0

    def __post_init__(self) -> None:
        self.max_items = _supports_max_items(self.client)

    def _call(self, op: str, **params: Any) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            if self.limiter is not None:
                self.limiter.acquire()
            return getattr(self.client, op)(**params)

        def on_retry(kind: str, attempt: int, delay: float) -> None:
            if self.limiter is not None:
                self.limiter.on_retry(kind)

        return self.retry.call(once, on_retry=on_retry)

    def start(self, a: int, b: int) -> str:
        self.queries += 1
        resp = self._call(
            "start_query",
            logGroupName=self.log_group,
            startTime=a // 1000,
            endTime=-(-b // 1000),
            queryString=self.query,
            limit=self.row_cap,
        )
        return str(resp["queryId"])

    def stop(self, query_id: str) -> None:
        try:
            if self.limiter is not None:
                self.limiter.acquire()
            self.client.stop_query(queryId=query_id)
        except Exception:  # noqa: BLE001 - best effort: the query may have ended; moto answers 500
            pass

    def collect(self, query_id: str, a: int, b: int) -> list[list[dict[str, str]]]:
        """Poll until the query ends; all result rows (following nextToken pages when present)."""
        started = self.clock()
        where = f"[{format_ms(a)}, {format_ms(b)})"
        while True:
            params: dict[str, Any] = {"queryId": query_id}
            if self.max_items:
                params["maxItems"] = min(self.row_cap, 10_000)
            resp = self._call("get_query_results", **params)
            status = resp.get("status", "Unknown")
            if status in _RUNNING:
                if self.clock() - started > self.max_wait:  # the caller stops the query
                    raise AwsError(f"Logs Insights query for {where} still {status.lower()} after "
                                   f"{self.max_wait:.0f}s; stopped it (try a shorter window or --engine events)")
                self.sleep(self.poll)
                continue
            if status != "Complete":
                raise AwsError(
                    f"Logs Insights query for {where} ended with status {status} (query {query_id}); "
                    "retry later, narrow the window, or use --engine events"
                )
            rows = list(resp.get("results") or [])
            token = resp.get("nextToken")
            while token:
                page = self._call("get_query_results", **params, nextToken=token)
                rows.extend(page.get("results") or [])
                nxt = page.get("nextToken")
                token = nxt if nxt != token else None
            return rows


def _supports_max_items(client: Any) -> bool:
    """Whether the installed botocore model knows GetQueryResults paging (2026-04 and later)."""
    raw = getattr(client, "raw", client)
    try:
        members = raw.meta.service_model.operation_model("GetQueryResults").input_shape.members
    except Exception:  # noqa: BLE001 - fakes and old models: no paging
        return False
    return "maxItems" in members


def run_insights(
    client: Any,
    target: Any,
    window: Window,
    expr_or_none: Expr | None,
    resolver: Any,
    *,
    slices: int | None = None,
    poll: float = 1.0,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    limiter: Any = None,
    row_cap: int = DEFAULT_ROW_CAP,
    retry: RetryPolicy | None = None,
    max_wait: float = DEFAULT_MAX_WAIT,
    on_warning: Warn | None = None,
    stats: dict[str, int] | None = None,
) -> Iterator[AuditEvent]:
    """Audit events of `window` from Logs Insights, in time order, each once.

    `client` is the eksaudit LogsClient (or anything with start_query/get_query_results/stop_query
    raising eksaudit errors), `target` an AwsTarget (log_group(s), stream_prefix). `slices` is the
    number of initial time slices (default: one per 6 h). `row_cap` is the per-query row limit that
    triggers bisection. `on_warning` hears about slices that could not be made complete; `stats`
    (if given) receives counters `queries`, `bisections`, `rows`, `duplicates`.

    Several log groups are queried one group at a time (a query's rows do not say reliably which
    group they came from, and the row cap and bisection stay per group) and merged by timestamp,
    ties in group name order.
    """
    if window.end_ms is None:
        raise UsageError("the Insights engine needs a closed time window (--end or --since)")
    if row_cap < 1:
        raise UsageError("row cap must be at least 1")
    start_ms, end_ms = window.start_ms, window.end_ms
    n = slices if slices is not None else max(1, -(-(end_ms - start_ms) // DEFAULT_SLICE_MS))
    prefix = getattr(target, "stream_prefix", None)
    query = insights_query(expr_or_none, resolver, limit=row_cap, stream_prefix=prefix)
    warn = on_warning or (lambda _m: None)
    counters = stats if stats is not None else {}
    for k in ("queries", "bisections", "rows", "duplicates"):
        counters.setdefault(k, 0)
    counters["queries"] = 0  # each group's generator adds its own when it ends
    groups = getattr(target, "log_groups", None) or (target.log_group,)
    parts = []
    for group in groups:
        eng = _Engine(
            client, group, query, row_cap=row_cap, poll=poll, sleep=sleep, clock=clock, limiter=limiter,
            retry=retry or RetryPolicy(sleep=sleep), max_wait=max_wait, warn=warn,
        )
        parts.append(_group_events(eng, _split(start_ms, end_ms, max(1, n)), prefix, counters))
    if len(parts) == 1:
        return parts[0]
    return heapq.merge(*parts, key=lambda e: e.cw.timestamp)  # type: ignore[union-attr]


def _group_events(
    eng: _Engine, slices: list[tuple[int, int]], prefix: str | None, counters: dict[str, int]
) -> Iterator[AuditEvent]:
    """One group's events, slice after slice (the next query runs while this slice is handed out)."""
    pending: deque[tuple[int, int]] = deque(slices)
    seen = SeenIds()
    active: str | None = None
    try:
        cur = pending.popleft()
        active = eng.start(*cur)
        while True:
            a, b = cur
            rows = eng.collect(active, a, b)
            active = None
            events = [e for e in (row_to_event(r, eng.log_group) for r in rows) if e is not None]
            counters["rows"] += len(rows)
            # rows are sorted by time: one at or past `b` means all of [a, b) came back
            reached_end = any(e.cw.timestamp >= b for e in events if e.cw and e.cw.timestamp is not None)
            if len(rows) >= eng.row_cap and not reached_end:
                mid = _midpoint(a, b)
                if mid is not None:
                    eng.bisections += 1
                    counters["bisections"] += 1
                    pending.appendleft((mid, b))
                    cur = (a, mid)
                    active = eng.start(*cur)
                    continue
                eng.warn(
                    f"Logs Insights returned its {eng.row_cap}-row cap for [{format_ms(a)}, {format_ms(b)}), "
                    "which cannot be split further: some events of that second may be missing "
                    "(use --engine events for a complete export)"
                )
            nxt = pending.popleft() if pending else None
            if nxt is not None:
                active = eng.start(*nxt)  # prefetch: Insights runs while we hand out this slice
            yield from _deliver(events, a, b, prefix, seen, counters)
            if nxt is None:
                break
            cur = nxt
    finally:
        counters["queries"] += eng.queries
        if active is not None:
            eng.stop(active)


def _deliver(
    events: list[AuditEvent], a: int, b: int, prefix: str | None, seen: SeenIds, counters: dict[str, int]
) -> Iterator[AuditEvent]:
    events = [e for e in events if a <= e.cw.timestamp < b]  # type: ignore[union-attr, operator]
    if prefix:  # checked locally too: the query's @logStream filter is not trusted blindly
        events = [e for e in events if (e.cw.log_stream or "").startswith(prefix)]  # type: ignore[union-attr]
    events.sort(key=lambda e: e.cw.timestamp)  # type: ignore[union-attr, return-value]
    seen.prune_before(a - _DEDUP_MARGIN_MS)
    for ev in events:
        if seen.add(insights_key(ev), ev.cw.timestamp):  # type: ignore[union-attr, arg-type]
            yield ev
        else:
            counters["duplicates"] += 1
