"""Audit timestamps (`stageTimestamp`, `requestReceivedTimestamp`) to integer nanoseconds.

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
def parse_ts_ns(text: str) -> int | None:
    """RFC 3339 text to ns since the epoch; None when it is not such a time."""
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
