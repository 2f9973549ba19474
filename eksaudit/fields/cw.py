"""The `cw.*` fields: CloudWatch Logs metadata of events that came from CloudWatch.

Events read from plain audit files have no such metadata, so these fields then have no value.
"""

from __future__ import annotations

from typing import Any

from .registry import FieldDef, FieldType

_UINT64_MAX = (1 << 64) - 1


def _meta(event: Any) -> Any:
    return getattr(event, "cw", None)


def _stream(event: Any, arg: Any) -> str | None:
    m = _meta(event)
    v = None if m is None else m.log_stream
    return v if type(v) is str else None


def _event_id(event: Any, arg: Any) -> str | None:
    m = _meta(event)
    v = None if m is None else m.event_id
    return v if type(v) is str else None


def _log_group(event: Any, arg: Any) -> str | None:
    m = _meta(event)
    v = None if m is None else m.log_group
    return v if type(v) is str else None


def _uint(v: Any) -> int | None:
    return v if type(v) is int and 0 <= v <= _UINT64_MAX else None


def _timestamp(event: Any, arg: Any) -> int | None:
    m = _meta(event)
    return None if m is None else _uint(m.timestamp)


def _ingestion_time(event: Any, arg: Any) -> int | None:
    m = _meta(event)
    return None if m is None else _uint(m.ingestion_time)


def _ingestion_lag(event: Any, arg: Any) -> int | None:
    m = _meta(event)
    if m is None:
        return None
    ts, ing = _uint(m.timestamp), _uint(m.ingestion_time)
    if ts is None or ing is None or ing < ts:
        return None
    return ing - ts


def fields() -> list[FieldDef]:
    """Every `cw.*` field definition."""
    S, U = FieldType.STRING, FieldType.UINT64
    return [
        FieldDef("cw.stream", S, "The CloudWatch log stream the event was read from.", _stream, reads=()),
        FieldDef("cw.log_group", S, "The CloudWatch log group the event was read from.", _log_group, reads=()),
        FieldDef("cw.event_id", S, "The CloudWatch event id (unique within the log group).", _event_id, reads=()),
        FieldDef("cw.timestamp", U, "The CloudWatch event timestamp, in ms since the epoch.", _timestamp, reads=()),
        FieldDef("cw.ingestion_time", U, "When CloudWatch ingested the event, in ms since the epoch.",
                 _ingestion_time, reads=()),
        FieldDef("cw.ingestion_lag", U,
                 "Milliseconds from the CloudWatch timestamp to ingestion (no value if negative).",
                 _ingestion_lag, reads=()),
    ]
