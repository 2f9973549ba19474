"""`watch`: a polling live tail of FilterLogEvents that never loses or repeats an event.

Every peer tool (aws logs tail, saw, cw, utern, the Falco EKS plugin) restarts each poll at the
newest timestamp it has seen. FilterLogEvents selects by event *timestamp*, so an event ingested
after the poll went past its timestamp is never read. Here every time range is read twice:

* a **fresh pass** every poll over `[max(confirm, fast - overlap), now]` prints new events at once
  (`fast` is where the previous fresh pass ended; the overlap follows the usual ingestion delay);
* a **confirming pass** once the range is older than the lag allowance L reads
  `[confirm, now - L)` again and prints what the fresh pass could not see yet (late events).

Events are deduplicated by eventId (dedup.record_key); ids are kept only while their timestamp can still be re-read
(`>= confirm`), so memory stays bounded. L adapts to the observed `ingestionTime - timestamp`
(a high percentile times a factor plus a margin, bounded). "now" is the server's clock (the HTTP
`Date` header of the last response) so a skewed local clock cannot move the cursors past data.

`Tail` is a library object: `fetch_range(start_ms, end_ms)` (a half-open range of FilterLogEvents
records), `clock` and `sleep` are injected, so the algorithm is tested without AWS or real time.
The clock and the lag estimator live in clock.py, the state a restart needs (`WatchState`) in
checkpoint.py, the wiring to CloudWatch (`cloudwatch_fetcher`, `watch_events`) in watch.py.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..events.event import AuditEvent
from .checkpoint import WatchState
from .clock import Clock, LagEstimator, ServerClock
from .dedup import SeenIds, record_key

FetchRange = Callable[[int, int], Iterable[Mapping[str, Any]]]
Sleep = Callable[[float], None]

_END: Any = object()
_FRESH_AHEAD_MS = 1_001


def to_audit_event(rec: Mapping[str, Any], log_group: str | None = None) -> AuditEvent:
    """A FilterLogEvents record as an AuditEvent (`AuditEvent.from_cloudwatch`, the one conversion)."""
    message = rec.get("message", "")
    if not isinstance(message, str):  # bytes from a test double: the same text, byte for byte
        rec = {**rec, "message": bytes(message).decode("utf-8", "surrogateescape")}
    return AuditEvent.from_cloudwatch(rec, log_group=log_group)


def _default_transient(exc: BaseException) -> bool:
    """Without a classifier from the client layer: network-ish errors are transient."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    return bool(getattr(exc, "transient", False))


@dataclass
class TailStats:
    delivered: int = 0  # events yielded
    late: int = 0  # first seen by a confirming pass
    duplicates: int = 0  # re-read and suppressed
    passes: int = 0
    errors: int = 0  # transient failures survived


class Tail:
    """The polling tail. Iterate it to get `AuditEvent`s in arrival order, each exactly once.

    Ends when the confirming cursor reaches `until_ms` (every event before it has been confirmed),
    after `max_events`, or never. Transient errors (as told by `is_transient`) are retried with
    capped exponential backoff and reported by one `on_warning` line per streak; anything else
    propagates. `on_checkpoint(state)` is called after passes that changed the state.
    """

    def __init__(
        self,
        fetch_range: FetchRange,
        *,
        start_ms: int | None = None,
        until_ms: int | None = None,
        max_events: int | None = None,
        poll_s: float = 2.0,
        idle_poll_s: float | None = None,
        lag: LagEstimator | None = None,
        overlap_ms: int = 2_000,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        server_clock: ServerClock | None = None,
        is_transient: Callable[[BaseException], bool] | None = None,
        on_warning: Callable[[str], None] | None = None,
        on_checkpoint: Callable[[WatchState], None] | None = None,
        checkpoint_every_s: float = 0.0,
        state: WatchState | None = None,
        log_group: str | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self._fetch = fetch_range
        self._clock = clock
        self._sleep = sleep
        self.server_clock = server_clock or ServerClock(clock)
        self.lag = lag or LagEstimator()
        self.poll_s = poll_s
        self.idle_poll_s = idle_poll_s if idle_poll_s is not None else min(max(poll_s, 10.0), 5 * poll_s)
        self.overlap_ms = overlap_ms
        self.until_ms = until_ms
        self.max_events = max_events
        self._is_transient = is_transient or _default_transient
        self._warn = on_warning or (lambda _m: None)
        self._on_checkpoint = on_checkpoint
        self._checkpoint_every_s = checkpoint_every_s
        self._last_checkpoint: float | None = None
        self.log_group = log_group
        self._backoff_base = backoff_base_s
        self._backoff_max = backoff_max_s
        self._rng = rng or random.Random()
        self.stats = TailStats()
        self._dirty = False
        if state is not None:
            self.confirm_ms = state.confirm_ms
            self.fast_ms = max(state.fast_ms, state.confirm_ms)
            self.seen = SeenIds(state.seen)
            self.lag.load(state.lag_samples)
            self.stats.delivered = state.delivered
            self.stats.late = state.late
        else:
            if start_ms is None:
                start_ms = self.server_clock.now_ms() - 60_000
            self.confirm_ms = start_ms
            self.fast_ms = start_ms
            self.seen = SeenIds()
        self._emitted_now = 0  # events yielded by this run (for max_events)
        self._error_streak = 0
        self.stop_requested = False
        self.interruptible = False  # True while waiting (sleep, network): Ctrl-C may raise there

    # -- state --------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        if self.max_events is not None and self._emitted_now >= self.max_events:
            return True
        return self.until_ms is not None and self.confirm_ms >= self.until_ms

    def state(self) -> WatchState:
        """A consistent snapshot (take it between two events, e.g. after closing the iterator)."""
        return WatchState(
            confirm_ms=self.confirm_ms,
            fast_ms=self.fast_ms,
            lag_ms=self.lag.current_ms(),
            seen=list(self.seen.items()),
            lag_samples=self.lag.samples(),
            delivered=self.stats.delivered,
            late=self.stats.late,
        )

    def checkpoint(self, *, force: bool = False) -> None:
        """Hand the state to `on_checkpoint` if it changed (and the interval has passed)."""
        if self._on_checkpoint is None or not (self._dirty or force):
            return
        t = self._clock()
        if not force and self._last_checkpoint is not None and t - self._last_checkpoint < self._checkpoint_every_s:
            return
        self._on_checkpoint(self.state())
        self._last_checkpoint = t
        self._dirty = False

    # -- the loop -----------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the loop to end at the next safe point (between events); for signal handlers."""
        self.stop_requested = True

    def __iter__(self) -> Iterator[AuditEvent]:
        idle = 0
        while not self.done and not self.stop_requested:
            before = self.stats.delivered
            now = self.server_clock.now_ms()
            # pass 1: fresh, from just before the newest timestamp seen up to now
            start = max(self.confirm_ms, min(self.fast_ms, now) - self.lag.overlap_ms(self.overlap_ms, now))
            end = now + _FRESH_AHEAD_MS  # the Date header has whole seconds: "now" may lag by one
            if self.until_ms is not None:
                end = min(end, self.until_ms)
            if start < end:  # (once past --until plus the overlap, only confirming is left)
                complete = yield from self._pass(start, end, now, late=False)
                if not complete or self.done or self.stop_requested:
                    break
                # read up to `now`: the next fresh pass starts there (less the overlap) even when
                # nothing arrived; what shows up later with an older timestamp is the confirm
                # pass's. Re-read now, as the first pass may just have synced the server clock.
                self.fast_ms = max(self.fast_ms, min(now, self.server_clock.now_ms()))
            # pass 2: confirm the range that is now older than the lag allowance. "now" is read
            # again: the fresh pass may have brought the first Date header (the server's clock)
            now = self.server_clock.now_ms()
            target = now - self.lag.current_ms(now)
            if self.until_ms is not None:
                target = min(target, self.until_ms)
            if target > self.confirm_ms:
                complete = yield from self._pass(self.confirm_ms, target, now, late=True)
                if not complete:
                    break
                self.confirm_ms = target
                self.fast_ms = max(self.fast_ms, self.confirm_ms)
                self.seen.prune_before(self.confirm_ms)
                self._dirty = True
            self.checkpoint()
            if self.done or self.stop_requested:
                break
            idle = idle + 1 if self.stats.delivered == before else 0
            self._interruptible_sleep(self.poll_s if idle <= 3 else self.idle_poll_s)
        self.checkpoint()

    def note_transient(self, message: str) -> None:
        """A transient failure (here or in the layers below): one warning line per streak; the
        streak ends with the next pass that completes."""
        self._error_streak += 1
        if self._error_streak == 1:
            self._warn(message)

    def _interruptible_sleep(self, seconds: float) -> None:
        self.interruptible = True
        try:
            if self.stop_requested:
                raise KeyboardInterrupt
            self._sleep(seconds)
        finally:
            self.interruptible = False

    def _next(self, it: Iterator[Mapping[str, Any]]) -> Any:
        """The next record, with Ctrl-C allowed to interrupt the (network) wait."""
        self.interruptible = True
        try:
            if self.stop_requested:
                raise KeyboardInterrupt
            return next(it, _END)
        finally:
            self.interruptible = False

    def _pass(self, start: int, end: int, now: int, *, late: bool) -> Generator[AuditEvent, None, bool]:
        """Read [start, end) once; True when the range was read to its end (not stopped early).

        After a transient error the read resumes at the newest timestamp already read (pages come
        in timestamp order), so a throttled pass over a busy range still makes progress.
        """
        resume = start
        while True:
            try:
                it = iter(self._fetch(resume, end))
                while True:
                    rec = self._next(it)
                    if rec is _END:
                        break
                    ts = int(rec.get("timestamp", 0))
                    if ts < start or ts >= end:
                        continue  # half-open ranges; the service's endTime may be inclusive
                    resume = max(resume, ts)
                    ev = self._accept(rec, ts, now, late=late)
                    if ev is not None:
                        yield ev
                        if self.stop_requested or (
                            self.max_events is not None and self._emitted_now >= self.max_events
                        ):
                            return False
                self.stats.passes += 1
                self._error_streak = 0
                return True
            except Exception as e:  # noqa: BLE001 - classified below; fatal errors re-raised
                if not self._is_transient(e):
                    raise
                self.stats.errors += 1
                self.note_transient(f"{_describe(e)}; backing off and retrying (watch keeps going)")
                self._interruptible_sleep(self._backoff(self._error_streak))

    def _accept(self, rec: Mapping[str, Any], ts: int, now: int, *, late: bool) -> AuditEvent | None:
        key = record_key(rec)
        if key in self.seen:
            self.stats.duplicates += 1
            return None
        ev = to_audit_event(rec, self.log_group)
        ingest = rec.get("ingestionTime")
        if ingest is not None:
            self.lag.observe(int(ingest) - ts, now)
        self.seen.add(key, ts)
        if ts > self.fast_ms:
            self.fast_ms = ts
        self.stats.delivered += 1
        if late:
            self.stats.late += 1
        self._emitted_now += 1
        self._dirty = True
        return ev

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter in [cap/2, cap], capped at backoff_max_s."""
        cap = min(self._backoff_max, self._backoff_base * (2 ** (attempt - 1)))
        return cap / 2 + self._rng.random() * cap / 2


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = exc.__class__.__name__
    return f"{name}: {text}" if text and name not in text else (text or name)


