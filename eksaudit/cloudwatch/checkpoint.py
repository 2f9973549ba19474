"""`--state FILE`: fetch progress saved atomically so a re-run resumes without repeating events.

fetch delivers events in time order, slice after slice, so progress is one cursor: slices before
`cursor.slice` were delivered completely; in `cursor.slice`, every event up to `last_ts` was delivered,
and at `last_ts` exactly the eventIds in `ids`. A resumed slice restarts its query at `last_ts` and
skips those ids: nothing delivered is repeated, nothing undelivered is lost. (If the process dies
between printing and the next save, the events since the last save are printed again: at-least-once.)

The file also records the query identity (group, prefix, filter, pattern, rules, engine) and the
window and slices; a different query with the same file is a UsageError. A window given relatively
(`--since`, or the default) is taken from the file, since "1h ago" moved since the first run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..timewindow import Window, format_ms

STATE_VERSION = 1


def query_hash(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Cursor:
    slice: int = 0
    last_ts: int | None = None
    ids: list[str] = field(default_factory=list)


class Checkpoint:
    """Progress of one fetch query, saved to `path` (write temp file, fsync, os.replace)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        identity: dict[str, Any],
        window: Window,
        *,
        slices: list[tuple[int, int]] | None = None,
        cursor: Cursor | None = None,
        delivered: int = 0,
        save_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.identity = identity
        self.window = window
        self.slices = slices
        self.cursor = cursor or Cursor()
        self.delivered = delivered
        self.resumed = cursor is not None
        self.save_every = save_every
        self._clock = clock
        self._last_save = float("-inf")
        self._lock = threading.Lock()
        # flushes the output before progress is recorded, so a crash never records unprinted events
        self.before_save: Callable[[], None] | None = None

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        identity: dict[str, Any],
        window: Window,
        *,
        relative_window: bool = False,
        on_note: Callable[[str], None] | None = None,
    ) -> Checkpoint:
        """A new checkpoint, or the saved one if `path` holds progress of this same query."""
        p = Path(path)
        if not p.exists() or p.stat().st_size == 0:
            return cls(p, identity, window)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION or data.get("mode") != "fetch":
                raise ValueError("not an eksaudit fetch state file")
            saved_window = Window(int(data["window"][0]), int(data["window"][1]))
            slices = [(int(a), int(b)) for a, b in data["slices"]]
            c = data["cursor"]
            cursor = Cursor(int(c["slice"]), c.get("last_ts"), [str(i) for i in c.get("ids", [])])
        except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
            raise UsageError(f"state file {p} is unreadable ({e}): delete it or use another --state file") from e
        if data.get("query_hash") != query_hash(identity):
            raise UsageError(
                f"state file {p} belongs to a different query ({_describe(data.get('query', {}))}): "
                "use another --state file or delete it"
            )
        if saved_window != window:
            if not relative_window:
                raise UsageError(
                    f"state file {p} was written for {saved_window.describe()}, not {window.describe()}: "
                    "use the same --start/--end, another --state file, or delete it"
                )
            if on_note is not None:
                on_note(f"resuming the {saved_window.describe()} saved in {p}")
        return cls(p, identity, saved_window, slices=slices, cursor=cursor, delivered=int(data.get("delivered", 0)))

    @property
    def complete(self) -> bool:
        return self.slices is not None and self.cursor.slice >= len(self.slices)

    # ---- progress (called by fetch's consumer after each delivered event) ------------------------
    def set_slices(self, slices: list[tuple[int, int]]) -> None:
        with self._lock:
            self.slices = list(slices)

    def delivered_event(self, slice_index: int, ts: int, event_id: str | None) -> None:
        with self._lock:
            c = self.cursor
            if c.slice != slice_index or c.last_ts != ts:
                c.slice, c.last_ts, c.ids = slice_index, ts, []
            if event_id is not None:
                c.ids.append(event_id)
            self.delivered += 1
        self.maybe_save()

    def slice_done(self, slice_index: int) -> None:
        with self._lock:
            if self.cursor.slice <= slice_index:
                self.cursor = Cursor(slice_index + 1)
        self.maybe_save()

    # ---- saving --------------------------------------------------------------------------------
    def maybe_save(self) -> None:
        now = self._clock()
        if now - self._last_save >= self.save_every:
            self.save()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            c = self.cursor
            return {
                "version": STATE_VERSION,
                "tool": "eksaudit",
                "mode": "fetch",
                "query": self.identity,
                "query_hash": query_hash(self.identity),
                "window": [self.window.start_ms, self.window.end_ms],
                "window_text": self.window.describe(),
                "slices": [list(s) for s in (self.slices or [])],
                "cursor": {"slice": c.slice, "last_ts": c.last_ts, "ids": list(c.ids)},
                "delivered": self.delivered,
                "complete": self.complete,
                "saved_at": format_ms(int(time.time() * 1000)),
            }

    def save(self) -> None:
        """Write atomically: a crash leaves either the old or the new file, never half of one."""
        if self.before_save is not None:
            self.before_save()
        data = json.dumps(self.to_json(), indent=1).encode()
        self._last_save = self._clock()
        d = self.path.parent if str(self.path.parent) else Path(".")
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=d)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _describe(q: dict[str, Any]) -> str:
    parts = [f"{k}={v}" for k, v in q.items() if v not in (None, [], "")]
    return ", ".join(parts) or "unknown"
