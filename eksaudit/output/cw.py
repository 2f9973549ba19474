"""`-o cw`: CloudWatch records, the shape FilterLogEvents returns and `read_events` reads back.

Keys, always in this order: `logStreamName`, `timestamp`, `ingestionTime`, `eventId`, `message`.
`message` is the event's raw text. For an event that did not come from CloudWatch (a local file),
metadata it does not have is `null`, except `timestamp`, which is taken from the event's
`stageTimestamp` (else `requestReceivedTimestamp`) in ms, since that is what CloudWatch would have
stamped it with; it is `null` only when the event has no readable time either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ..events.event import AuditEvent
from ..timestamps import ts_ms
from .jsonl import JsonObjectWriter
from .query import Query


def parse_ms(text: Any) -> int | None:
    """RFC 3339 text (no zone means UTC, as `kubectl` style dumps sometimes write) → ms, else None.

    The one timestamp parser (`timestamps.ts_ms`), with surrounding blanks ignored.
    """
    return ts_ms(text.strip()) if isinstance(text, str) else None


# What `event_time_ms` reads of an event's JSON (a sink's `reads`, see output/sink.py)
READS = frozenset({("stageTimestamp",), ("requestReceivedTimestamp",), ("timestamp",)})


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


class CwWriter(JsonObjectWriter):
    """One CloudWatch record per event (`cw_record`), reshaped by `--query` if given."""

    def event(self, ev: AuditEvent) -> None:
        self.write(cw_record(ev))
