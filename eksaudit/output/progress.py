"""A one-line progress display on stderr, refreshed in place (only when stderr is a terminal).

People watching a long fetch want to know it is alive and whether throttling is the bottleneck;
pipelines and log files must not receive carriage-return noise, so the caller enables it only on a TTY.
When stdout is the same terminal, `guard()` wraps it so that each data write first erases the line
(the next tick draws it again below the data): data lines are never glued to progress text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, BinaryIO, Protocol, TextIO


class PageCounts(Protocol):
    """The counters the line shows (`cloudwatch.paging.PageStats` has them; output imports no AWS code)."""

    pages: int
    empty_pages: int
    throttles: int
    server_errors: int
    connection_errors: int


def format_progress(stats: PageCounts, delivered: int, elapsed: float) -> str:
    rate = delivered / elapsed if elapsed > 0 else 0.0
    parts = [f"{delivered:,} events", f"{stats.pages:,} pages", f"{rate:,.0f} ev/s"]
    if stats.empty_pages:
        parts.append(f"{stats.empty_pages:,} empty")
    if stats.throttles:
        parts.append(f"{stats.throttles:,} throttles")
    errors = stats.server_errors + stats.connection_errors
    if errors:
        parts.append(f"{errors:,} retried errors")
    return "eksaudit: " + ", ".join(parts)


@dataclass(eq=False)
class ProgressLine:
    """Redraw `format_progress` every `interval` seconds from a daemon thread; `stop()` erases it."""

    stats: PageCounts
    delivered: Callable[[], int]
    stream: TextIO
    _: KW_ONLY
    interval: float = 0.5
    clock: Callable[[], float] = time.monotonic
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _started: float = field(default=0.0, init=False, repr=False)
    _drawn: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._started = self.clock()

    def draw(self) -> None:
        text = format_progress(self.stats, self.delivered(), self.clock() - self._started)
        with self._lock:
            if self._stop.is_set():
                return
            try:
                self.stream.write("\r\x1b[K" + text)
                self.stream.flush()
                self._drawn = True
            except (OSError, ValueError):
                self._stop.set()

    def _erase_locked(self) -> None:
        if self._drawn:
            try:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self._drawn = False

    def guard(self, data: BinaryIO) -> BinaryIO:
        """`data` (stdout on the same terminal) wrapped to erase the progress line before each write."""
        return _ClearingStream(data, self)  # type: ignore[return-value]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.draw()

    def start(self) -> ProgressLine:
        self._started = self.clock()
        self._thread = threading.Thread(target=self._loop, name="eksaudit-progress", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        with self._lock:
            self._erase_locked()


class _ClearingStream:
    """A binary stream whose writes erase the progress line first and reach the terminal at once."""

    def __init__(self, raw: BinaryIO, progress: ProgressLine) -> None:
        self._raw = raw
        self._progress = progress

    def write(self, data: bytes) -> int:
        with self._progress._lock:
            self._progress._erase_locked()
            n = self._raw.write(data)
            self._raw.flush()  # before the next tick draws the line again
        return n

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno...
        return getattr(self._raw, name)
