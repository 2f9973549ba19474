"""`-o cw`: CloudWatch records, the shape FilterLogEvents returns and `read_events` reads back.

Keys, always in this order: `logStreamName`, `timestamp`, `ingestionTime`, `eventId`, `message`.
`message` is the event's raw text. For an event that did not come from CloudWatch (a local file),
metadata it does not have is `null`, except `timestamp`, which is taken from the event's
`stageTimestamp` (else `requestReceivedTimestamp`) in ms, since that is what CloudWatch would have
stamped it with; it is `null` only when the event has no readable time either.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ..events.event import AuditEvent
from .console import Console
from .query import Query

_TS_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(?:([Zz])|([+-])(\d{2}):?(\d{2}))?\Z"
)


def parse_ms(text: Any) -> int | None:
    """RFC 3339 text (no zone means UTC, as `kubectl` style dumps sometimes write) → ms, else None."""
    if not isinstance(text, str):
        return None
    m = _TS_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, _z, sign, oh, om = m.groups()
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if sign:
        off = int(oh) * 3600 + int(om) * 60
        secs -= off if sign == "+" else -off
    return secs * 1000 + (int(frac[:3].ljust(3, "0")) if frac else 0)


def event_time_ms(ev: AuditEvent) -> int | None:
    o = ev.obj
    if isinstance(o, dict):
        for key in ("stageTimestamp", "requestReceivedTimestamp", "timestamp"):
            ms = parse_ms(o.get(key))
            if ms is not None:
                return ms
    return None


def cw_record(ev: AuditEvent) -> dict[str, Any]:
    cw = ev.cw
    ts = cw.timestamp if cw is not None and cw.timestamp is not None else event_time_ms(ev)
    return {
        "logStreamName": cw.log_stream if cw is not None else None,
        "timestamp": ts,
        "ingestionTime": cw.ingestion_time if cw is not None else None,
        "eventId": cw.event_id if cw is not None else None,
        "message": ev.raw.decode("utf-8", "replace"),
    }


def cw_lines(events: Iterable[AuditEvent], query: Query | None = None) -> Iterator[bytes]:
    for ev in events:
        rec = cw_record(ev)
        yield query.dumps(rec) if query is not None else orjson.dumps(rec)


class CwWriter:
    def __init__(self, console: Console, query: Query | None = None) -> None:
        self.console = console
        self.query = query

    def event(self, ev: AuditEvent) -> None:
        rec = cw_record(ev)
        self.console.write_line(self.query.dumps(rec) if self.query is not None else orjson.dumps(rec))

    def close(self) -> None:
        pass
