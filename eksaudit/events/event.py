"""An audit event as it travels through eksaudit: original bytes, JSON parsed at most once.

Output is byte-exact (`-o jsonl` prints `raw` unchanged), so the raw text is the event's identity;
the parsed object is computed lazily because the literal prefilter rejects most lines of a large
input before anyone needs the JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from . import slowjson

_UNPARSED: Any = object()
UNPARSED: Any = _UNPARSED  # `_obj` of an event not parsed yet (the scan loop's projection sets and resets it)


@dataclass(frozen=True, slots=True)
class CwMeta:
    """CloudWatch metadata of an event that came from CloudWatch (FilterLogEvents, exports, envelopes)."""

    log_stream: str | None = None
    timestamp: int | None = None  # ms since epoch, as CloudWatch stored it
    ingestion_time: int | None = None  # ms since epoch
    event_id: str | None = None
    log_group: str | None = None


class AuditEvent:
    """One audit event.

    `raw` is the event's JSON text as UTF-8 bytes, without a line terminator. `obj` is the parsed
    JSON value (usually a dict), or None when the text is not valid JSON. `source`/`line` say where
    the event was read (for error messages); `cw` carries CloudWatch metadata when there is some.
    """

    __slots__ = ("raw", "_obj", "cw", "source", "line")

    def __init__(
        self,
        raw: bytes,
        *,
        obj: Any = _UNPARSED,
        cw: CwMeta | None = None,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.raw = raw
        self._obj = obj
        self.cw = cw
        self.source = source
        self.line = line

    @classmethod
    def from_obj(cls, obj: Any, **kwargs: Any) -> AuditEvent:
        """An event built from an already parsed object (serialised compactly for `raw`)."""
        return cls(slowjson.dumps(obj), obj=obj, **kwargs)

    @classmethod
    def from_cloudwatch(
        cls,
        record: Mapping[str, Any],
        *,
        log_group: str | None = None,
        log_stream: str | None = None,
        source: str | None = None,
        line: int | None = None,
    ) -> AuditEvent:
        """A CloudWatch log event (`FilterLogEvents`/`GetLogEvents` item, subscription `logEvents`
        item, `fetch -o cw` line) as an AuditEvent: its `message` exactly as stored, as bytes.

        The one place a CloudWatch record becomes an event. `message` must be a str (callers
        report records without one). A trailing line end is dropped (one line per event on
        output); text that is not valid UTF-8 (a lone surrogate) is kept byte for byte
        (surrogateescape). The record's own `logGroupName`/`logStreamName` win over `log_group`/
        `log_stream` (the envelope's or the query's); fields of the wrong type are left out.
        """
        raw = record["message"].encode("utf-8", "surrogateescape").rstrip(b"\r\n")
        meta = CwMeta(
            log_stream=nonempty_str(record.get("logStreamName")) or log_stream,
            timestamp=_int_or_none(record.get("timestamp")),
            ingestion_time=_int_or_none(record.get("ingestionTime")),
            event_id=nonempty_str(record.get("eventId")) or nonempty_str(record.get("id")),
            log_group=nonempty_str(record.get("logGroupName")) or log_group,
        )
        return cls(raw, cw=meta, source=source, line=line)

    @property
    def obj(self) -> Any:
        """The parsed JSON (None if `raw` is not valid JSON). Parsed once, on first use.

        What orjson rejects (nesting deeper than 1,024, `1e999`, invalid UTF-8) is parsed again by
        `slowjson.parse`: an attacker who shapes an object must not make the event invisible.
        """
        o = self._obj
        if o is _UNPARSED:
            try:
                o = orjson.loads(self.raw)
            except orjson.JSONDecodeError:
                try:
                    o = slowjson.parse(self.raw)
                except slowjson.JSONParseError:
                    o = None
            self._obj = o
        return o

    @property
    def failed_to_parse(self) -> bool:
        """True when the JSON was parsed (by someone) and is not valid; never parses by itself."""
        return self._obj is None

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    def __repr__(self) -> str:
        where = f" {self.source}:{self.line}" if self.source else ""
        return f"<AuditEvent{where} {self.raw[:60]!r}>"


def _plain_event_factory() -> Any:
    new = object.__new__
    unparsed = _UNPARSED

    def plain_event(raw: bytes, source: str, line: int, cls: type = AuditEvent) -> AuditEvent:
        """`AuditEvent(raw, source=..., line=...)` for the readers' hot path, without the keyword call.

        Filling the slots directly takes less than half the time of the keyword-only constructor
        (~80 ns instead of ~200 ns, per event line of a large file); a test checks that every slot
        is set as the constructor sets it. (A closure: its cells are read faster than globals.)
        """
        ev = new(cls)
        ev.raw = raw
        ev._obj = unparsed
        ev.cw = None
        ev.source = source
        ev.line = line
        return ev

    return plain_event


plain_event: Callable[[bytes, str, int], AuditEvent] = _plain_event_factory()


def nonempty_str(v: Any) -> str | None:
    """`v` when it is a non-empty str, else None (metadata read from untrusted JSON)."""
    return v if isinstance(v, str) and v else None


def _int_or_none(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None
