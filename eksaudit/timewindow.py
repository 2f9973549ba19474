"""Time options (`--since/--start/--end`) resolved to a half-open window `[start, end)` in ms.

"Now" is injected (a clock callable) so tests freeze time and `watch` can use the server's clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from .errors import UsageError

Clock = Callable[[], float]  # seconds since the epoch, like time.time

_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION_RE = re.compile(r"(?:(\d+)([smhdw]))+?", re.I)
_DURATION_FULL_RE = re.compile(r"(?:\d+[smhdw])+\Z", re.I)
# Times are kept between the epoch and the end of year 9999 (what datetime can print): a hostile
# `--since 99999999999w` is a one-line usage error, not an overflow deep in the window code.
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_RANGE = "1970-01-01 .. 9999-12-31"


@dataclass(frozen=True, slots=True)
class Window:
    """Half-open `[start_ms, end_ms)`; `end_ms` None means open-ended (watch)."""

    start_ms: int
    end_ms: int | None

    def contains(self, ts_ms: int) -> bool:
        return ts_ms >= self.start_ms and (self.end_ms is None or ts_ms < self.end_ms)

    def describe(self) -> str:
        end = "(open)" if self.end_ms is None else format_ms(self.end_ms)
        return f"window [{format_ms(self.start_ms)}, {end})"


def format_ms(ms: int) -> str:
    """RFC 3339 in UTC with milliseconds, e.g. 2026-11-30T10:00:00.000Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_duration(text: str) -> int:
    """`15m`, `1h30m`, `2d`, `1w` → milliseconds."""
    t = text.strip()
    if not _DURATION_FULL_RE.match(t):
        raise UsageError(f"invalid duration {text!r}: use a number and a unit s, m, h, d or w (e.g. 15m, 1h30m)")
    ms = sum(int(n) * _UNITS_MS[u.lower()] for n, u in _DURATION_RE.findall(t))
    if ms > _MAX_MS:
        raise UsageError(f"invalid duration {_short(text)}: longer than the supported range ({_RANGE})")
    return ms


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _checked(ms: int, text: str, what: str) -> int:
    """`ms` if it lies in the supported range, else a UsageError naming the option value."""
    if not 0 <= ms <= _MAX_MS:
        raise UsageError(f"invalid {what} {_short(text)}: outside the supported range ({_RANGE})")
    return ms


def parse_iso_ms(text: str) -> int | None:
    """RFC 3339 / ISO 8601 text to ms since epoch (no zone means UTC); None if it is not such a time."""
    t = text.strip()
    if not t or not t[0].isdigit() or len(t) < 10 or t[4] != "-":
        return None
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(t.replace(" ", "T", 1) if len(t) > 10 and t[10] == " " else t)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return int(round(dt.timestamp() * 1000))
    except (ValueError, OverflowError):  # year 1 with a positive offset is before year 1 in UTC
        return None


def parse_time(text: str, now_ms: int) -> int:
    """A point in time: RFC 3339, epoch s (10 digits) or ms (13 digits), `now`, `-2h`, `2h ago`."""
    return _checked(_parse_time(text, now_ms), text, "time")


def _parse_time(text: str, now_ms: int) -> int:
    t = text.strip()
    low = t.lower()
    if low == "now":
        return now_ms
    if t.isdigit():
        if len(t) == 10:
            return int(t) * 1000
        if len(t) == 13:
            return int(t)
        raise UsageError(f"invalid time {text!r}: epoch times have 10 digits (seconds) or 13 (milliseconds)")
    if low.startswith("-") and _DURATION_FULL_RE.match(low[1:]):
        return now_ms - parse_duration(low[1:])
    if low.endswith(" ago") and _DURATION_FULL_RE.match(low[:-4].strip()):
        return now_ms - parse_duration(low[:-4].strip())
    ms = parse_iso_ms(t)
    if ms is None:
        raise UsageError(
            f"invalid time {text!r}: use RFC 3339 (2026-11-30T10:00:00Z), epoch seconds or ms, now, -2h or '2h ago'"
        )
    return ms


def resolve_window(
    since: str | None = None,
    start: str | None = None,
    end: str | None = None,
    *,
    clock: Clock = time.time,
    default_since: str | None = None,
    open_end: bool = False,
) -> Window | None:
    """Resolve the time options; None when no option is given and there is no default.

    `--since` and `--start` exclude each other. Without `--end` the window ends now (or stays open
    with `open_end`, for watch).
    """
    now_ms = int(clock() * 1000)
    if since and start:
        raise UsageError("--since and --start cannot be used together")
    if since is None and start is None and end is None and default_since is None:
        return None
    if since is not None:
        start_ms = now_ms - parse_duration(since)
        if start_ms < 0:
            raise UsageError(f"invalid --since {_short(since)}: reaches back before 1970-01-01")
    elif start is not None:
        start_ms = parse_time(start, now_ms)
    elif default_since is not None:
        start_ms = now_ms - parse_duration(default_since)
    else:
        start_ms = 0
    end_ms: int | None
    if end is not None:
        end_ms = parse_time(end, now_ms)
    else:
        end_ms = None if open_end else now_ms
    if end_ms is not None and end_ms <= start_ms:
        raise UsageError(f"empty time window: end {format_ms(end_ms)} is not after start {format_ms(start_ms)}")
    return Window(start_ms, end_ms)
