"""An audit event as it travels through eksaudit: original bytes, JSON parsed at most once.

Output is byte-exact (`-o jsonl` prints `raw` unchanged), so the raw text is the event's identity;
the parsed object is computed lazily because the literal prefilter rejects most lines of a large
input before anyone needs the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from . import slowjson

_UNPARSED: Any = object()


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
    def is_audit_event(self) -> bool:
        """True when the JSON is an object with `auditID` (Falco's gate for every ka.* field)."""
        o = self.obj
        return isinstance(o, dict) and "auditID" in o

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
