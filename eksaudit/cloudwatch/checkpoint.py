"""`--state FILE`: fetch and watch progress, saved atomically so a re-run resumes without loss or repeats.

Both commands write one format: a JSON object with `version`, `tool`, `mode` ("fetch" or "watch"),
`query` (what was asked: group(s), stream prefix, filter, pattern, rules; `query_identity`),
`query_hash` (its sha256), `saved_at`, then the mode's own progress. It is written in one way
(`write_atomically`: a temp file in the same folder, fsync, os.replace: a crash leaves the old file
or the new one, never half of one), read in one way (`read_state_file`), and checked field by
field with one wording (`state file FILE: field NAME: problem; fix it, delete it or use another
--state file`). A different query with the same file is a UsageError (exit 2).

**fetch** (`Checkpoint`) delivers events in time order, slice after slice, so progress is one
cursor: slices before `cursor.slice` were delivered completely; in `cursor.slice`, every event up
to `last_ts` was delivered, and at `last_ts` exactly the eventIds in `ids`. A resumed slice
restarts its query at `last_ts` and skips those ids: nothing delivered is repeated, nothing
undelivered is lost. (If the process dies between printing and the next save, the events since the
last save are printed again: at-least-once.) Over several log groups the cursor is still one
(events are merged in time order): its ids are `GROUP|eventId` (dedup.group_key), since eventIds
are unique only within a group. The file also records the window and slices; a window given
relatively (`--since`, or the default) is taken from the file, since "1h ago" moved since the
first run.

**watch** (`WatchState`, kept by `WatchCheckpoint`) saves what a restart of the tail needs: both
cursors, the learned lag and the ids that can still be re-read (see tail.py).

Watch files written before the two formats were one still load: they held a 16-digit hash of the
query in `query` and no `query_hash` (`_watch_v1_hash` recomputes it from the identity).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..timewindow import Window, format_ms
from .outfile import SaveHistory

STATE_VERSION = 1
_MODES = ("fetch", "watch")


# ---- the format both commands share ----------------------------------------------------------------


def query_identity(
    log_groups: Sequence[str],
    stream_prefix: str | None,
    filter_expr: str | None,
    pattern: str | None,
    rules: Sequence[str] | None,
    min_priority: str | None,
    **extra: Any,
) -> dict[str, Any]:
    """What a state file must have been written for (its hash is checked on resume).

    One log group keeps the original `log_group` key (older fetch state files still resume);
    several are one sorted `log_groups` list, so a state reused with another set of groups is a
    usage error. `extra` adds what else identifies the query (fetch: `engine`).
    """
    groups = list(log_groups)
    where: dict[str, Any] = {"log_group": groups[0]} if len(groups) == 1 else {"log_groups": groups}
    return {
        **where,
        "stream_prefix": stream_prefix,
        "filter": filter_expr,
        "pattern": pattern,
        "rules": list(rules or []),
        "min_priority": min_priority,
        **extra,
    }


def query_hash(identity: Mapping[str, Any]) -> str:
    """The query's fingerprint: sha256 of its identity as canonical JSON."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _watch_v1_hash(identity: Mapping[str, Any]) -> str:
    """The hash watch stored in `query` before the formats were one (its files must still resume)."""
    groups = identity.get("log_groups") or [identity.get("log_group")]
    parts = (
        "\n".join(groups), identity.get("stream_prefix"), identity.get("filter"), identity.get("pattern"),
        "\n".join(identity.get("rules") or []), identity.get("min_priority"),
    )
    text = "\x1f".join("" if p is None else p for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def state_header(mode: str, identity: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every state file starts with."""
    return {
        "version": STATE_VERSION,
        "tool": "eksaudit",
        "mode": mode,
        "query": dict(identity),
        "query_hash": query_hash(identity),
        "saved_at": format_ms(int(time.time() * 1000)),
    }


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old or the new file, never half of one:
    a temp file in the same folder (created if missing), fsync, os.replace."""
    p = Path(path)
    d = p.parent if str(p.parent) else Path(".")
    d.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_state_file(path: str | os.PathLike[str], mode: str) -> dict[str, Any] | None:
    """The state file's object, checked for `mode` and version; None when there is none yet (missing
    or empty). Anything else that cannot be resumed is a UsageError naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"state file {p} is unreadable ({e}): delete it or use another --state file") from e
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise UsageError(f"state file {p} is not JSON ({e}): delete it or use another --state file") from e
    check_header(data, mode, str(p))
    return data


def check_header(data: Any, mode: str, source: str) -> None:
    """An object of this mode and version (a watch file given to fetch is said as such)."""
    if not isinstance(data, Mapping):
        raise UsageError(f"state file {source}: not a {mode} state file (a JSON {type(data).__name__}, not an object)")
    got = data.get("mode")
    if got != mode:
        if got in _MODES:
            raise UsageError(f"state file {source} was written by eksaudit {got}, not {mode}: use another --state file")
        raise _bad(source, "mode", f"expected {mode!r}, got {got!r}")
    if data.get("version") != STATE_VERSION:
        raise _bad(source, "version", f"expected {STATE_VERSION}, got {data.get('version')!r}")


def check_query(data: Mapping[str, Any], identity: Mapping[str, Any], source: str) -> None:
    """The file belongs to this query (a version 1 watch file without any query hash: to any)."""
    saved = data.get("query")
    if "query_hash" in data:
        if data["query_hash"] == query_hash(identity):
            return
    elif data.get("mode") == "watch" and (saved is None or saved == _watch_v1_hash(identity)):
        return
    raise UsageError(
        f"state file {source} belongs to a different query ({_describe(saved)}): use another --state file or delete it"
    )


def _bad(source: str, name: str, problem: str) -> UsageError:
    return UsageError(f"state file {source}: field {name}: {problem}; fix it, delete it or use another --state file")


def _describe(q: Any) -> str:
    if not isinstance(q, Mapping):
        return "saved as a hash only" if isinstance(q, str) else "unknown"
    parts = [f"{k}={v}" for k, v in q.items() if v not in (None, [], "")]
    return ", ".join(parts) or "unknown"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _count(data: Mapping[str, Any], name: str, source: str) -> int:
    """A non-negative integer field that defaults to 0 (delivered, late)."""
    v = data.get(name, 0)
    if not _is_int(v) or v < 0:
        raise _bad(source, name, f"expected a non-negative integer, got {v!r}")
    return int(v)


def _output(data: Mapping[str, Any], source: str) -> dict[str, Any] | None:
    """`output`: the --output-file and its length at the save ({"path": FILE, "bytes": N}), or null."""
    out = data.get("output")
    if out is not None and not (
        isinstance(out, Mapping) and isinstance(out.get("path"), str) and _is_int(out.get("bytes")) and out["bytes"] >= 0
    ):
        raise _bad(source, "output", f"expected {{\"path\": FILE, \"bytes\": N}} or null, got {out!r}")
    return dict(out) if out is not None else None


# ---- fetch -----------------------------------------------------------------------------------------


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
        # bytes written to the output so far (called after before_save); recorded with the cursor
        self.output_size: Callable[[], int] | None = None
        # {"path": FILE, "bytes": N}: the --output-file and its length at the last save (exactly once)
        self.output: dict[str, Any] | None = None
        self.extend_to_ms: int | None = None
        self.frozen = False  # set after a failed write: the file on disk is final for this run
        # (output bytes, cursor, delivered) at each save of this run, oldest first (see rewind)
        self._history: SaveHistory[tuple[Cursor, int]] = SaveHistory((_copy(self.cursor), delivered), 4096)

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
        """A new checkpoint, or the saved one if `path` holds progress of this same query.

        With a relative window (`--since`), a later run continues from the saved window's end to the
        new end: a finished window is replaced by `[saved end, new end)`, an unfinished one is finished
        first and then extended (`extend_to_ms`), so repeated runs export each event once, without gaps.
        """
        p = Path(path)
        data = read_state_file(p, "fetch")
        if data is None:
            return cls(p, identity, window)
        saved_window, slices, cursor, delivered, output = validate_state(data, str(p))
        check_query(data, identity, str(p))
        _check_group_ids(identity, cursor, str(p))
        if saved_window != window:
            if not relative_window:
                raise UsageError(
                    f"state file {p} was written for {saved_window.describe()}, not {window.describe()}: "
                    "use the same --start/--end, another --state file, or delete it"
                )
            assert saved_window.end_ms is not None and window.end_ms is not None
            if window.end_ms > saved_window.end_ms:
                if cursor.slice >= len(slices):  # finished: the next window starts where it ended
                    nxt = Window(saved_window.end_ms, window.end_ms)
                    if on_note is not None:
                        on_note(f"continuing after the window saved in {p}: {nxt.describe()}")
                    ck = cls(p, identity, nxt, delivered=delivered)
                    ck.output = output
                    return ck
                if on_note is not None:
                    on_note(
                        f"finishing the {saved_window.describe()} saved in {p}, then continuing to "
                        f"{format_ms(window.end_ms)}"
                    )
                ck = cls(p, identity, saved_window, slices=slices, cursor=cursor, delivered=delivered)
                ck.extend_to_ms = window.end_ms
                ck.output = output
                return ck
            if on_note is not None:
                on_note(f"resuming the {saved_window.describe()} saved in {p}")
        ck = cls(p, identity, saved_window, slices=slices, cursor=cursor, delivered=delivered)
        ck.output = output
        return ck

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
                **state_header("fetch", self.identity),
                "window": [self.window.start_ms, self.window.end_ms],
                "window_text": self.window.describe(),
                "slices": [list(s) for s in (self.slices or [])],
                "cursor": {"slice": c.slice, "last_ts": c.last_ts, "ids": list(c.ids)},
                "delivered": self.delivered,
                "complete": self.complete,
                "output": dict(self.output) if self.output is not None else None,
            }

    def rewind(self, max_bytes: int) -> None:
        """Go back to the newest save at which at most `max_bytes` of output had been written, and save.

        For a pipe whose reader went away (EPIPE): what the reader consumed is unknown, only that it
        is at most what was written minus what may still sit unread in the pipe and the reader's
        buffer; resuming there delivers again what the reader may have dropped (at-least-once).
        """
        with self._lock:
            cursor, delivered = self._history.at_most(max_bytes)
            self.cursor = _copy(cursor)
            self.delivered = delivered
        self.frozen = False
        self.save(flush=False)
        self.frozen = True

    def save(self, *, flush: bool = True) -> None:
        """Write atomically: a crash leaves either the old or the new file, never half of one.

        The output is flushed first (`before_save`); if that fails (EPIPE, ENOSPC) nothing is saved,
        so the file only ever counts events that were written.
        """
        if self.frozen:
            return
        if flush and self.before_save is not None:
            self.before_save()
            if self.output_size is not None:
                written = self.output_size()
                if self.output is not None:
                    self.output["bytes"] = written
                with self._lock:
                    self._history.add(written, (_copy(self.cursor), self.delivered))
        data = json.dumps(self.to_json(), indent=1).encode()
        self._last_save = self._clock()
        write_atomically(self.path, data)


def _check_group_ids(identity: dict[str, Any], cursor: Cursor, source: str) -> None:
    """Over several log groups (`log_groups` in the query) each cursor id is `GROUP|eventId`."""
    groups = identity.get("log_groups")
    if not groups:
        return
    for k in cursor.ids:
        group, sep, eid = k.partition("|")
        if not sep or not eid or group not in groups:
            raise _bad(source, "cursor.ids", f"{k!r} is not GROUP|eventId with one of this query's log groups")


def _copy(c: Cursor) -> Cursor:
    return Cursor(c.slice, c.last_ts, list(c.ids))


def validate_state(
    data: Any, source: str
) -> tuple[Window, list[tuple[int, int]], Cursor, int, dict[str, Any] | None]:
    """Check a fetch state file field by field; a UsageError (exit 2) names the file and the field.

    A hand-edited or foreign file must never be half-trusted: `slice: -1` would re-deliver the
    whole window, `last_ts: "abc"` would crash mid-run.
    """

    def bad(name: str, problem: str) -> UsageError:
        return _bad(source, name, problem)

    check_header(data, "fetch", source)
    w = data.get("window")
    if not (isinstance(w, list) and len(w) == 2 and all(_is_int(x) and x >= 0 for x in w) and w[0] < w[1]):
        raise bad("window", f"expected [start_ms, end_ms] with start < end, got {w!r}")
    window = Window(w[0], w[1])
    raw_slices = data.get("slices")
    if not isinstance(raw_slices, list) or not raw_slices:
        raise bad("slices", "expected a non-empty list of [start_ms, end_ms]")
    slices: list[tuple[int, int]] = []
    expect = w[0]
    for n, sl in enumerate(raw_slices):
        if not (isinstance(sl, list) and len(sl) == 2 and all(_is_int(x) for x in sl) and sl[0] < sl[1]):
            raise bad(f"slices[{n}]", f"expected [start_ms, end_ms] with start < end, got {sl!r}")
        if sl[0] != expect:
            raise bad(f"slices[{n}]", f"starts at {sl[0]}, expected {expect} (slices must tile the window)")
        expect = sl[1]
        slices.append((sl[0], sl[1]))
    if expect != w[1]:
        raise bad("slices", f"end at {expect}, not at the window end {w[1]}")
    c = data.get("cursor")
    if not isinstance(c, dict):
        raise bad("cursor", f"expected an object, got {type(c).__name__}")
    si = c.get("slice")
    if not _is_int(si) or not 0 <= si <= len(slices):
        raise bad("cursor.slice", f"expected an integer from 0 to {len(slices)}, got {si!r}")
    last_ts = c.get("last_ts")
    if last_ts is not None:
        if not _is_int(last_ts):
            raise bad("cursor.last_ts", f"expected an integer (ms) or null, got {last_ts!r}")
        if si == len(slices) or not slices[si][0] <= last_ts < slices[si][1]:
            raise bad("cursor.last_ts", f"{last_ts} is not inside slice {si}")
    ids = c.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad("cursor.ids", "expected a list of eventId strings")
    if ids and last_ts is None:
        raise bad("cursor.ids", "eventIds without cursor.last_ts")
    delivered = _count(data, "delivered", source)
    return window, slices, Cursor(si, last_ts, list(ids)), delivered, _output(data, source)


# ---- watch -----------------------------------------------------------------------------------------


@dataclass
class WatchState:
    """What a restart of the tail needs: both cursors, the learned lag, the ids that can still be re-read
    (`seen`: [key, timestamp], see dedup.record_key), the counters and the recorded --output-file length."""

    confirm_ms: int
    fast_ms: int
    lag_ms: int
    seen: list[tuple[str, int]] = field(default_factory=list)
    lag_samples: list[tuple[int, int]] = field(default_factory=list)  # (observed at ms, lag ms)
    delivered: int = 0
    late: int = 0
    output: dict[str, Any] | None = None  # {"path": --output-file, "bytes": its length at this checkpoint}

    def to_json(self) -> dict[str, Any]:
        """The watch fields of the state file (WatchCheckpoint adds the query and the header)."""
        return {
            "version": STATE_VERSION,
            "mode": "watch",
            "confirm_ms": self.confirm_ms,
            "fast_ms": self.fast_ms,
            "lag_ms": self.lag_ms,
            "delivered": self.delivered,
            "late": self.late,
            "seen": [[k, ts] for k, ts in self.seen],
            "lag_samples": [[a, b] for a, b in self.lag_samples],
            "output": dict(self.output) if self.output is not None else None,
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str = "<state>") -> WatchState:
        """Validated field by field: a UsageError (exit 2) names the file and the bad field."""
        check_header(data, "watch", source)
        for name in ("confirm_ms", "fast_ms", "lag_ms"):
            v = data.get(name)
            if not _is_int(v) or v < 0:
                raise _bad(source, name, f"expected a non-negative integer (ms), got {v!r}")
        if data["fast_ms"] < data["confirm_ms"]:
            raise _bad(source, "fast_ms", f"{data['fast_ms']} is before confirm_ms {data['confirm_ms']}")
        seen = data.get("seen", [])
        if not isinstance(seen, list) or not all(
            isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) and _is_int(x[1]) for x in seen
        ):
            raise _bad(source, "seen", "expected a list of [eventId, timestamp_ms]")
        samples = data.get("lag_samples", [])
        if not isinstance(samples, list) or not all(
            isinstance(x, list) and len(x) == 2 and _is_int(x[0]) and _is_int(x[1]) for x in samples
        ):
            raise _bad(source, "lag_samples", "expected a list of [at_ms, lag_ms]")
        return cls(
            confirm_ms=data["confirm_ms"],
            fast_ms=data["fast_ms"],
            lag_ms=data["lag_ms"],
            seen=[(k, ts) for k, ts in seen],
            lag_samples=[(a, b) for a, b in samples],
            delivered=_count(data, "delivered", source),
            late=_count(data, "late", source),
            output=_output(data, source),
        )


class WatchCheckpoint:
    """`watch --state FILE`: where the tail's WatchState is kept, and for which query."""

    def __init__(self, path: str | os.PathLike[str], identity: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.identity = dict(identity)

    def load(self) -> WatchState | None:
        """The saved state, None if there is none yet; refuses one written for another query."""
        data = read_state_file(self.path, "watch")
        if data is None:
            return None
        state = WatchState.from_json(data, source=str(self.path))
        check_query(data, self.identity, str(self.path))
        return state

    def save(self, state: WatchState) -> None:
        data = {**state_header("watch", self.identity), **state.to_json()}
        write_atomically(self.path, json.dumps(data, separators=(",", ":")).encode())
