"""Fetch a time window from CloudWatch Logs: parallel time slices, written in time order, exactly once.

How (spec cloudwatch.md §4.3):

* The half-open window is cut into contiguous half-open slices (a few minutes each, more slices than
  workers, capped). Each slice is its own FilterLogEvents query, so every millisecond belongs to
  exactly one slice and nothing at a slice edge is lost or repeated.
* `workers` threads take slices in time order and page them through one shared client, one shared
  token bucket and the outer retry (a retried request reuses the same nextToken).
* The consumer (the caller's thread) streams the earliest unfinished slice as its pages arrive; later
  slices wait in memory up to `memory_limit` bytes, then spill to temporary files (deleted on close).
* Several log groups (`target.log_groups`, one per cluster): each slice is read once per group (a
  work unit is a (slice, group) pair) and the groups of a slice are merged; order is then
  timestamp, log group name, eventId. All groups share the client, the token bucket (one
  account-and-region quota) and the checkpoint (one cursor; at its millisecond, the delivered ids
  are kept per group as `GROUP|eventId`).
* Order is CloudWatch timestamp, then eventId (numeric order). Within a slice, events are deduplicated
  by eventId at the newest millisecond seen, which covers query restarts (repeated nextToken, an
  expired token, a resumed `--state`).
"""

from __future__ import annotations

import heapq
import math
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from ..errors import AwsError
from ..events.event import AuditEvent
from ..timewindow import Window, format_ms
from .checkpoint import Checkpoint
from .client import AwsTarget, TokenExpiredError
from .dedup import group_key
from .paging import FilterRequest, PageStats, iter_pages
from .ratelimit import DEFAULT_FILTER_RPS, TokenBucket
from .retry import RetryPolicy

DEFAULT_WORKERS = 4
MAX_ADAPTIVE_WORKERS = 16  # the pool grows with the observed page latency up to this (see _maybe_grow)
DEFAULT_SLICE_MS = 5 * 60_000  # a few minutes: enough slices to keep the workers busy
DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024
MAX_NO_PROGRESS_RESTARTS = 4
MAX_SPLIT_STREAMS = 200  # a millisecond re-read stream by stream, at most this many streams


class IncompleteSliceError(AwsError):
    """A part of the window could not be proved complete (exit 3): CloudWatch's nextTokens kept
    failing where more than a page of events share one millisecond, even stream by stream."""

# (timestamp, ingestionTime, logStreamName, eventId, message): compact in memory and in spill files
Record = tuple[int, int | None, str, str, str]


def _record(ev: dict[str, Any], event_id: str) -> Record:
    return (ev["timestamp"], ev.get("ingestionTime"), ev.get("logStreamName") or "", event_id, ev["message"])


def _event(rec: Record, log_group: str) -> AuditEvent:
    """A record as an AuditEvent, through the one conversion (`AuditEvent.from_cloudwatch`)."""
    ts, ingest, stream, eid, msg = rec
    return AuditEvent.from_cloudwatch(
        {"message": msg, "timestamp": ts, "ingestionTime": ingest, "logStreamName": stream, "eventId": eid},
        log_group=log_group,
    )


def plan_slices(
    window: Window, workers: int = DEFAULT_WORKERS, *, slice_ms: int | None = None, max_slices: int | None = None
) -> list[tuple[int, int]]:
    """Cut `[start, end)` into contiguous half-open slices: ~`slice_ms` each, at least 2 per worker, capped."""
    if window.end_ms is None:
        raise ValueError("fetch needs a closed window")
    start, end = window.start_ms, window.end_ms
    span = end - start
    if span <= 0:
        return []
    target = slice_ms or DEFAULT_SLICE_MS
    cap = max_slices or max(64, 8 * workers)
    n = max(math.ceil(span / target), 2 * max(1, workers))
    n = max(1, min(n, cap, span))
    bounds = [start + (span * i) // n for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n) if bounds[i + 1] > bounds[i]]


def _id_key(event_id: str) -> tuple[int, str]:
    """eventIds compare numerically (AWS ids are long digit strings; moto's are counters)."""
    return (len(event_id), event_id)


class _SliceBuffer:
    """What one slice fetched so far: records in memory, then (once over budget) in a spill file."""

    __slots__ = ("mem", "spill", "spilled", "read", "pos", "done", "mem_bytes", "error")

    def __init__(self) -> None:
        self.mem: deque[Record] = deque()
        self.spill: IO[bytes] | None = None
        self.spilled = 0  # records written to the spill file
        self.read = 0  # spilled records already handed to the consumer
        self.pos = 0  # file offset of the next unread spilled record
        self.done = False
        self.mem_bytes = 0
        self.error: BaseException | None = None  # raised once everything before it was delivered


class FetchRun:
    """An iterable of AuditEvents of one window, in time order; `close()` stops the workers.

    Use `fetch_window(...)` to build one. `stats` counts requests, pages, throttles and retries.
    """

    def __init__(
        self,
        client: Any,
        target: AwsTarget,
        window: Window,
        *,
        pattern: str | None = None,
        workers: int | None = None,
        max_rps: float = DEFAULT_FILTER_RPS,
        limiter: TokenBucket | None = None,
        retry: RetryPolicy | None = None,
        stats: PageStats | None = None,
        checkpoint: Checkpoint | None = None,
        slices: list[tuple[int, int]] | None = None,
        slice_ms: int | None = None,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        page_limit: int | None = None,
        spill_dir: str | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.target = target
        self.pattern = pattern
        # workers=None: start with DEFAULT_WORKERS and grow with the observed page latency, so the
        # pool keeps `max_rps` requests in flight (rate x latency); an explicit number is kept as is
        self.adaptive = workers is None
        self.workers = DEFAULT_WORKERS if workers is None else max(1, workers)
        self.limiter = limiter or TokenBucket(max_rps)
        self.stats = stats or PageStats()
        self.checkpoint = checkpoint
        self.memory_limit = memory_limit
        self.page_limit = page_limit
        self.spill_dir = spill_dir
        self.on_warning = on_warning
        self._stop = threading.Event()
        self.retry = retry or RetryPolicy(sleep=self._stop.wait)
        if checkpoint is not None:
            window = checkpoint.window  # a resumed or continued window (incremental export)
        if checkpoint is not None and checkpoint.slices:
            slices = list(checkpoint.slices)
            ext = checkpoint.extend_to_ms
            if ext is not None and window.end_ms is not None and ext > window.end_ms:
                # an unfinished relative window: finish it, then go on to the new end (incremental export)
                slices += plan_slices(Window(window.end_ms, ext), self.workers, slice_ms=slice_ms)
                window = Window(window.start_ms, ext)
                checkpoint.window = window
                checkpoint.extend_to_ms = None
        self.window = window
        self.slices = slices if slices is not None else plan_slices(window, self.workers, slice_ms=slice_ms)
        if checkpoint is not None:
            checkpoint.set_slices(self.slices)
        self.first = checkpoint.cursor.slice if checkpoint is not None else 0
        self.groups = target.log_groups
        self._cond = threading.Condition()
        # one buffer per work unit u = slice * len(groups) + group
        self._buffers = [_SliceBuffer() for _ in range(len(self.slices) * len(self.groups))]
        self._mem_used = 0
        self._next_unit = self.first * len(self.groups)
        self._error: BaseException | None = None
        self._threads: list[threading.Thread] = []
        self._pending: tuple[int, int, str] | None = None  # last yielded event, not yet acknowledged
        self._closed = False
        self._stop_requested = False
        self.spilled_records = 0

    # ---- workers -------------------------------------------------------------------------------
    def _start(self) -> None:
        if not self._threads and getattr(self.client, "on_retry", False) is None:  # a LogsClient nobody listens to
            self.client.on_retry = self._botocore_retry
        n = min(self.workers, max(0, len(self._buffers) - self._next_unit))
        for _ in range(n):
            self._spawn()

    def _spawn(self) -> None:
        t = threading.Thread(target=self._worker, name=f"eksaudit-fetch-{len(self._threads)}", daemon=True)
        self._threads.append(t)
        t.start()

    def _maybe_grow(self) -> None:
        """Keep about `max_rps x latency` requests in flight: add a worker when the pool is too small.

        With 4 workers at 0.4 s per page the pool can send at most 10 requests/s, and jitter makes it
        reach ~80% of --max-rps 10; sizing it from the moving average latency (plus a margin) does not.
        """
        if not self.adaptive or self._stop.is_set():
            return
        latency = self.stats.latency_s
        if latency <= 0:
            return
        want = math.ceil(self.limiter.max_rate * latency * 1.25) + 1
        with self._cond:
            remaining = len(self._buffers) - self._next_unit
            if len(self._threads) < min(want, MAX_ADAPTIVE_WORKERS) and remaining > 0:
                self.workers = len(self._threads) + 1
                self._spawn()

    def _botocore_retry(self, kind: str) -> None:
        self.limiter.on_retry(kind)
        self.stats.record_retry(kind)

    def _worker(self) -> None:
        try:
            while not self._stop.is_set():
                with self._cond:
                    u = self._next_unit
                    if u >= len(self._buffers):
                        return
                    self._next_unit += 1
                try:
                    self._fetch_slice(*divmod(u, len(self.groups)))
                except IncompleteSliceError as e:  # delivered after everything before it
                    self._buffers[u].error = e
                with self._cond:
                    self._buffers[u].done = True
                    self._cond.notify_all()
        except BaseException as e:  # handed to the consumer, which raises it in the caller's thread
            with self._cond:
                if self._error is None:
                    self._error = e
                self._cond.notify_all()

    def _key(self, g: int, event_id: str) -> str:
        """The checkpoint's id of a delivered event: the eventId, prefixed by its group if several."""
        return group_key(self.groups[g] if len(self.groups) > 1 else None, event_id)

    def _resume_point(self, i: int, g: int) -> tuple[int | None, set[str]]:
        """Where group g's part of slice i resumes: the checkpoint's millisecond and this group's ids there."""
        ck = self.checkpoint
        if ck is None or i != self.first or ck.cursor.last_ts is None:
            return None, set()
        if len(self.groups) == 1:
            return int(ck.cursor.last_ts), set(ck.cursor.ids)
        head = group_key(self.groups[g], "")
        return int(ck.cursor.last_ts), {k[len(head):] for k in ck.cursor.ids if k.startswith(head)}

    def _fetch_slice(self, i: int, g: int = 0) -> None:
        s, e = self.slices[i]
        u = i * len(self.groups) + g
        group = self.groups[g]
        frontier, at_frontier = self._resume_point(i, g)
        start = frontier if frontier is not None else s
        no_progress = 0
        while not self._stop.is_set():
            req = FilterRequest(group, start, e, self.target.stream_prefix, pattern=self.pattern, limit=self.page_limit)
            repeated = False
            appended_since_restart = 0
            try:
                for page in iter_pages(
                    self.client, req, limiter=self.limiter, retry=self.retry, stats=self.stats, cancelled=self._stop.is_set
                ):
                    out: list[Record] = []
                    for ev in page.events:
                        ts = ev["timestamp"]
                        eid = str(ev.get("eventId", ""))
                        if frontier is None or ts > frontier:
                            frontier = ts
                            at_frontier = {eid}
                        elif ts == frontier:
                            if eid in at_frontier:
                                continue
                            at_frontier.add(eid)
                        out.append(_record(ev, eid))
                    if out:
                        appended_since_restart += len(out)
                        if not self._append(u, out):
                            return
                    repeated = page.repeated
                    self._maybe_grow()
            except TokenExpiredError:
                repeated = True  # same recovery: restart the query at the frontier
            if not repeated:
                return
            # restart at the newest delivered millisecond; at_frontier makes the overlap invisible
            self.stats.add(restarts=1)
            no_progress = 0 if appended_since_restart else no_progress + 1
            if no_progress >= MAX_NO_PROGRESS_RESTARTS:
                # restarting at the frontier gives back the same page: more than a page of events share
                # the frontier millisecond and tokens do not work. Finish that millisecond stream by
                # stream; if even that fails, say which range is uncertain instead of ending quietly.
                stuck = frontier if frontier is not None else s
                if frontier is None or not self._finish_ms_by_stream(u, group, frontier, at_frontier):
                    raise IncompleteSliceError(
                        f"CloudWatch kept repeating or rejecting its nextToken in slice {i + 1}/{len(self.slices)} "
                        f"of {group} "
                        f"and more than a page of events share {format_ms(stuck)}: the range "
                        f"[{format_ms(stuck)}, {format_ms(e)}) could not be proved complete (everything before it "
                        "was delivered; with --state, a re-run retries from there)"
                    )
                no_progress = 0
                if self.on_warning is not None:
                    self.on_warning(
                        f"slice {i + 1}/{len(self.slices)} of {group}: nextTokens kept failing at {format_ms(frontier)}; "
                        "that millisecond was read stream by stream"
                    )
                start = frontier + 1
                if start >= e:
                    return
                continue
            start = frontier if frontier is not None else s

    def _finish_ms_by_stream(self, u: int, group: str, ms: int, at_frontier: set[str]) -> bool:
        """Read millisecond `ms` one stream at a time and append what is missing; False if unprovable."""
        streams = self._stream_names(group)
        if streams is None:
            return False
        missing: list[Record] = []
        for name in streams:
            req = FilterRequest(group, ms, ms + 1, stream_names=(name,), pattern=self.pattern)
            try:
                for page in iter_pages(
                    self.client, req, limiter=self.limiter, retry=self.retry, stats=self.stats, cancelled=self._stop.is_set
                ):
                    for ev in page.events:
                        eid = str(ev.get("eventId", ""))
                        if ev["timestamp"] == ms and eid not in at_frontier:
                            at_frontier.add(eid)
                            missing.append(_record(ev, eid))
                    if page.repeated:
                        return False
            except TokenExpiredError:
                return False
        if missing:
            return self._append(u, missing)
        return True

    def _stream_names(self, group: str) -> list[str] | None:
        """The group's streams under the prefix (DescribeLogStreams, paged); None if too many or no API."""
        describe = getattr(self.client, "describe_log_streams", None)
        if describe is None:
            return None
        names: list[str] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"logGroupName": group}
            if self.target.stream_prefix:
                params["logStreamNamePrefix"] = self.target.stream_prefix
            if token:
                params["nextToken"] = token

            def once(params: dict[str, Any] = params) -> dict[str, Any]:
                self.limiter.acquire()
                return describe(**params)

            resp = self.retry.call(once, cancelled=self._stop.is_set)
            for st in resp.get("logStreams") or []:
                name = st.get("logStreamName") if isinstance(st, dict) else None
                if isinstance(name, str) and (not self.target.stream_prefix or name.startswith(self.target.stream_prefix)):
                    names.append(name)
            token = resp.get("nextToken") or None
            if token is None or token in seen or len(names) > MAX_SPLIT_STREAMS:
                break
            seen.add(token)
        return names if len(names) <= MAX_SPLIT_STREAMS else None

    def _append(self, u: int, records: list[Record]) -> bool:
        size = sum(len(r[4]) + 96 for r in records)
        with self._cond:
            if self._stop.is_set():
                return False
            b = self._buffers[u]
            if b.spill is None and self._mem_used + size <= self.memory_limit:
                b.mem.extend(records)
                b.mem_bytes += size
                self._mem_used += size
            else:
                if b.spill is None:
                    b.spill = tempfile.TemporaryFile(prefix="eksaudit-fetch-", dir=self.spill_dir)  # noqa: SIM115 - closed in _shutdown
                f = b.spill
                f.seek(0, 2)
                f.write(b"".join(orjson.dumps(r) + b"\n" for r in records))
                f.flush()
                b.spilled += len(records)
                self.spilled_records += len(records)
            self._cond.notify_all()
        return True

    # ---- consumer ------------------------------------------------------------------------------
    def _take(self, u: int) -> list[Record] | None:
        """The next batch of work unit u's records; [] never; None when the unit is finished."""
        b = self._buffers[u]
        with self._cond:
            while True:
                if self._error is not None:
                    err = self._error
                    raise err
                if b.mem:
                    batch = list(b.mem)
                    b.mem.clear()
                    self._mem_used -= b.mem_bytes
                    b.mem_bytes = 0
                    return batch
                if b.read < b.spilled and b.spill is not None:
                    return self._read_spill(b)
                if b.done:
                    if b.error is not None:
                        raise b.error
                    return None
                if self._stop_requested:
                    raise KeyboardInterrupt
                self._cond.wait(0.5)

    @staticmethod
    def _read_spill(b: _SliceBuffer) -> list[Record]:
        """Up to 10,000 spilled records from where the last read ended (called with the lock held)."""
        f = b.spill
        assert f is not None
        f.seek(b.pos)
        n = min(10_000, b.spilled - b.read)
        out: list[Record] = []
        for _ in range(n):
            t = orjson.loads(f.readline())
            out.append((t[0], t[1], t[2], t[3], t[4]))
        b.pos = f.tell()
        b.read += n
        return out

    def __iter__(self) -> Iterator[AuditEvent]:
        return self._events()

    def _ms_groups(self, u: int) -> Iterator[list[Record]]:
        """Work unit u's records one millisecond at a time, each millisecond sorted by eventId."""
        group: list[Record] = []
        for batch in iter(lambda: self._take(u), None):
            for rec in batch:
                if group and rec[0] != group[0][0]:
                    yield group
                    group = []
                group.append(rec)
        if group:
            yield group

    @staticmethod
    def _tagged(g: int, groups: Iterator[list[Record]]) -> Iterator[tuple[int, list[Record]]]:
        for grp in groups:
            yield g, grp

    def _slice_events(self, i: int) -> Iterator[tuple[int, list[Record]]]:
        """Slice i's records of every group, one (group, millisecond) at a time, in time order.

        heapq.merge is stable: at equal timestamps the groups come in name order.
        """
        n = len(self.groups)
        parts = [self._tagged(g, self._ms_groups(i * n + g)) for g in range(n)]
        if n == 1:
            yield from parts[0]
            return
        yield from heapq.merge(*parts, key=lambda item: item[1][0][0])

    def _events(self) -> Iterator[AuditEvent]:
        if self.checkpoint is not None and self.checkpoint.complete:
            return
        self._start()
        ck = self.checkpoint
        try:
            for i in range(self.first, len(self.slices)):
                for g, group in self._slice_events(i):
                    if len(group) > 1:
                        group.sort(key=lambda r: _id_key(r[3]))
                    name = self.groups[g]
                    for rec in group:
                        ts, key = rec[0], self._key(g, rec[3])
                        self._pending = (i, ts, key)
                        yield _event(rec, name)
                        self._pending = None
                        if ck is not None:
                            ck.delivered_event(i, ts, key)
                        if self._stop_requested:  # SIGTERM/SIGHUP: stop at this safe point, all so far counted
                            raise KeyboardInterrupt
                if ck is not None:
                    ck.slice_done(i)
        finally:
            self._shutdown()

    def request_stop(self) -> None:
        """Ask the run to end at the next safe point (between two events, or while it waits).

        Signal handlers call this instead of raising, so a signal never lands between writing an
        event and counting it: the checkpoint saved on the way out counts exactly what was handed on.
        """
        self._stop_requested = True  # only a flag: a handler must not take locks the main thread may hold

    def close(self, *, last_delivered: bool = True) -> None:
        """Stop the workers and delete spill files; count the last yielded event as delivered or not."""
        marked = False
        if self._pending is not None and last_delivered and self.checkpoint is not None:
            i, ts, eid = self._pending
            self.checkpoint.delivered_event(i, ts, eid)
            marked = True
        self._pending = None
        if self._closed:  # the generator was finalised first (e.g. `break` out of a for loop)
            if marked and self.checkpoint is not None:
                self.checkpoint.save()
            return
        self._shutdown()

    def _shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        with self._cond:
            for b in self._buffers:
                if b.spill is not None:
                    b.spill.close()
                    b.spill = None
                b.mem.clear()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=0.2)
        if self.checkpoint is not None:
            self.checkpoint.save()

    def __enter__(self) -> FetchRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(last_delivered=exc[0] is None)


def fetch_window(client: Any, target: AwsTarget, window: Window, **kwargs: Any) -> FetchRun:
    """Every event of `window` (FilterLogEvents on `target`), in time order, each exactly once.

    Keyword options: pattern, workers, max_rps, limiter, retry, stats, checkpoint, slices, slice_ms,
    memory_limit, page_limit, spill_dir, on_warning (see FetchRun). Iterate the result; close it (or
    use it as a context manager) to stop early.
    """
    return FetchRun(client, target, window, **kwargs)


__all__ = ["AwsError", "FetchRun", "fetch_window", "plan_slices"]
