"""`-o jsonl`: each event exactly as received (byte-exact), or its `--fields` object, one per line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from ..events.event import AuditEvent
from .columns import Column
from .console import Console
from .query import Query


def event_lines(events: Iterable[AuditEvent], query: Query | None = None) -> Iterator[bytes]:
    """Raw event bytes (no newline), or the --query result of each event's JSON."""
    if query is None:
        for ev in events:
            yield ev.raw
    else:
        for ev in events:
            yield query.dumps(ev.obj)


def fields_object(ev: AuditEvent, columns: Sequence[Column]) -> dict:
    """`{"F1": value, ...}`: missing is null, list fields are arrays."""
    return {name: get(ev) for name, get in columns}


class JsonObjectWriter:
    """The writers that print one JSON value per line (events, `--fields` objects, cw records, Falco JSON
    alerts): `write(obj)` applies `--query`, else orjson."""

    def __init__(self, console: Console, query: Query | None = None) -> None:
        self.console = console
        self.query = query

    def write(self, obj: Any) -> None:
        self.console.write_line(self.query.dumps(obj) if self.query is not None else orjson.dumps(obj))

    def close(self) -> None:
        pass


class JsonlWriter(JsonObjectWriter):
    """Raw events; the hot path of `filter`: one buffered write per event, no flush unless line-buffered."""

    def event(self, ev: AuditEvent) -> None:
        data = ev.raw if self.query is None else self.query.dumps(ev.obj)
        self.console.write_line(data)


class FieldsJsonlWriter(JsonObjectWriter):
    """`--fields F1,F2`: one `{"F1": value, ...}` object per event."""

    reads_raw = False  # only the columns' fields, during `event` (Sink.batchable)

    def __init__(self, console: Console, columns: Sequence[Column], query: Query | None = None) -> None:
        super().__init__(console, query)
        self.columns = list(columns)

    def event(self, ev: AuditEvent) -> None:
        self.write(fields_object(ev, self.columns))
