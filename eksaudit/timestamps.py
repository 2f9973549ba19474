"""Audit timestamps (`stageTimestamp`, `requestReceivedTimestamp`) to integer nanoseconds.

One parser for the fields (`ka.latency`, `jevt.rawtime`), the alert time of rules and local time
windows; it imports nothing from eksaudit, so every layer may use it.

Falco uses `stageTimestamp` as the event time (RFC 3339 with any number of fractional digits).
Integer arithmetic keeps nanoseconds exact (a float would lose them). We also accept a space for
`T` and a missing zone (UTC), as some exports re-format the times; Falco would drop such events.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

_TS_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*([Zz]|[+-]\d\d:?\d\d)?\Z"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@lru_cache(maxsize=4096)
def _second_ns(prefix: str) -> int | None:
    """`YYYY-MM-DDTHH:MM:SS` (UTC) to ns since the epoch; cached, as consecutive events share seconds.

    A new second is its hour (cached too: a log spans few hours but may have a second per event)
    plus minutes and seconds, when they are ASCII digits in range; anything else, the general parser.
    """
    mi = prefix[14:16]
    se = prefix[17:19]
    if prefix[13:14] == ":" and prefix[16:17] == ":" and (mi + se).isascii() and mi.isdigit() and se.isdigit():
        minute = int(mi)
        second = int(se)
        if minute < 60 and second < 60:
            hour = _hour_ns(prefix[:13])
            if hour is not None:
                return hour + (minute * 60 + second) * 1_000_000_000
    return _parse_general(prefix + "Z")


@lru_cache(maxsize=1024)
def _hour_ns(prefix: str) -> int | None:
    """`YYYY-MM-DDTHH` (UTC) to ns since the epoch (None: no such date or hour)."""
    return _parse_general(prefix + ":00:00Z")


def parse_ts_ns(text: str) -> int | None:
    """RFC 3339 text to ns since the epoch; None when it is not such a time.

    The API server's own form (`2026-11-30T10:00:00.123456Z`) takes a fast path: the second is
    looked up in a cache and the fraction added, since this runs per event in `jevt.rawtime`.
    """
    if len(text) == 27 and text[19] == "." and text[26] == "Z" and text[10] == "T":  # microseconds
        frac = text[20:26]
        if frac.isdigit() and frac.isascii():
            base = _second_ns(text[:19])
            if base is not None:
                return base + int(frac) * 1000
    elif len(text) > 21 and text[19] == "." and text[-1] == "Z" and text[10] == "T":
        frac = text[20:-1]
        if frac.isdigit() and frac.isascii():
            base = _second_ns(text[:19])
            if base is not None:
                return base + int(frac[:9].ljust(9, "0"))
    return _parse_general(text)


def seconds_text(prefix: str) -> str | None:
    """`YYYY-MM-DDTHH:MM:SS` (UTC) as decimal seconds since the epoch when after it, else None.

    For `jevt.rawtime` of the API server's form: its nanoseconds are then these digits, the six of
    the fraction and `000`, with no arithmetic per event beyond this (fields/jevt.py). Nothing is
    cached per second (a log may hold a new one every event, and out of order): the minute's
    first second is (`minute_seconds`), and the second is its slot in `SECOND_SLOTS`.
    """
    if len(prefix) == 19 and prefix[16] == ":":
        s = SECOND_SLOTS.get(prefix[17:19])
        if s is not None:
            base = minute_seconds(prefix[:16])
            if base is not None:
                return str(base + s) if base + s > 0 else None
    ns = _second_ns(prefix)
    return None if ns is None or ns <= 0 else str(ns // 1_000_000_000)


SECOND_SLOTS = {f"{s:02d}": s for s in range(60)}  # `SS` (two ASCII digits below 60) -> its value


@lru_cache(maxsize=1024)
def minute_seconds(prefix: str) -> int | None:
    """Seconds since the epoch of minute `YYYY-MM-DDTHH:MM` (UTC), when `_second_ns` reads its
    seconds digit by digit (`HH:MM:SS` with ASCII digits, each second of it then this plus `SS`);
    else None."""
    mi = prefix[14:16]
    if len(prefix) != 16 or prefix[13] != ":" or not (mi.isascii() and mi.isdigit() and int(mi) < 60):
        return None
    hour = _hour_ns(prefix[:13])
    return None if hour is None else hour // 1_000_000_000 + int(mi) * 60


@lru_cache(maxsize=4096)
def _parse_general(text: str) -> int | None:
    m = _TS_RE.match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=timezone.utc)
    except ValueError:
        return None
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    delta = dt - _EPOCH
    secs = delta.days * 86_400 + delta.seconds
    ns = int((frac or "0")[:9].ljust(9, "0"))
    return secs * 1_000_000_000 + ns


def ts_ns(value: object) -> int | None:
    """`parse_ts_ns` for any JSON value (only strings can be times)."""
    return parse_ts_ns(value) if type(value) is str else None


def ts_ms(value: object) -> int | None:
    """Milliseconds since the epoch (rounded down) for any JSON value, or None."""
    ns = ts_ns(value)
    return None if ns is None else ns // 1_000_000
