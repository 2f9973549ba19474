"""Envelope decoding: the events inside CloudWatch pages, subscription and Firehose envelopes, AKS records.

A wrapper is parsed once; its items become events. A CloudWatch record's `message` is the event
exactly as stored (`AuditEvent.from_cloudwatch`); Lambda subscription and Firehose payloads are
base64, usually gzip, holding envelopes (`_blob`); AKS records hold the event in `properties.log`
(`kinds.aks_audit_log`). Anything that cannot be read is reported as a `BadLine`, and reading
goes on.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import InputError
from .event import AuditEvent, nonempty_str
from .jsonscan import Accumulator, Container
from .kinds import NotAudit, aks_audit_log, azure_records, describe, is_audit_event, surely_event_text
from .slowjson import loads as _loads  # orjson, then the depth-unlimited fallback
from .sniff import TRUNCATED, is_gzip, looks_like_object

MAX_GZIP_NESTING = 3


@dataclass(frozen=True)
class BadLine:
    """An input line that could not be read as an event (line None: the whole source)."""

    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}"


class Decoder:
    """Turns parsed JSON values into events, and says what it cannot read.

    The base of the source reader: it holds where the values come from and where bad input is
    reported. `_expand` sorts a value: an audit event, a CloudWatch page or subscription envelope,
    a Lambda/Firehose blob, an AKS record or Event Hubs batch, a list of any of these, or some other
    object (still an event, and named to `on_not_audit`).
    """

    def __init__(
        self,
        source: str,
        *,
        max_doc: int,
        strict: bool = False,
        on_bad: Callable[[BadLine], None] | None = None,
        on_not_audit: Callable[[NotAudit], None] | None = None,
    ) -> None:
        self.source, self.max_doc = source, max_doc
        # where bad input and objects that are not audit events go (strict: an InputError)
        self.strict, self.on_bad, self.on_not_audit = strict, on_bad, on_not_audit

    # --- reporting --------------------------------------------------------------------------
    def bad(self, line: int | None, reason: str) -> None:
        if self.strict:
            raise InputError(reason, self.source, line)
        if self.on_bad is not None:
            self.on_bad(BadLine(self.source, line, reason))

    def not_audit(self, value: Any, line: int, where: str) -> None:
        """A JSON object that is no audit event (still yielded: jevt.* fields read any JSON)."""
        family, text = describe(value)
        item = NotAudit(self.source, line, family, text, where)
        if self.strict:
            raise InputError(f"not an audit event: it looks like {text}", self.source, line)
        if self.on_not_audit is not None:
            self.on_not_audit(item)

    def _message_ok(self, msg: bytes, n: int, where: str) -> bool:
        if msg.endswith(TRUNCATED):
            self.bad(n, f"{where}message truncated by CloudWatch ([Truncated...])")
            return False
        if not looks_like_object(msg):
            self.bad(n, f"{where}message is not a JSON object: {snippet(msg)}")
            return False
        return True

    def _object_text(self, s: bytes, n: int, where: str) -> Iterator[AuditEvent]:
        """An object's text: unparsed if its first member says audit event, else parsed once and sorted."""
        if surely_event_text(s):
            yield AuditEvent(s, source=self.source, line=n)
            return
        try:
            obj = _loads(s)
        except orjson.JSONDecodeError:
            yield AuditEvent(s, obj=None, source=self.source, line=n)  # reported when evaluated
            return
        yield from self._expand(obj, n, where, raw=s)

    def _element(self, acc: Accumulator, a: int, b: int, ctx: Container, i: int) -> Iterator[AuditEvent]:
        where = f"{ctx.name}[{i}]"
        line = acc.line_of(a)
        try:
            obj = _loads(bytes(acc.buf[a:b]))
        except orjson.JSONDecodeError as e:
            self.bad(line, f"{where}: invalid JSON: {e}")
            return
        yield from self._item(obj, line, where, ctx)

    def _item(self, obj: Any, line: int, where: str, ctx: Container) -> Iterator[AuditEvent]:
        if ctx.name == "logEvents":
            if not ctx.control:
                yield from self._record(obj, line, where, ctx.group, ctx.stream)
        else:
            yield from self._expand(obj, line, where)

    def _expand(self, value: Any, n: int, where: str, raw: bytes | None = None) -> Iterator[AuditEvent]:
        """Events of one parsed JSON value: an event, a wrapper of events, or a list of either."""
        src = self.source
        if isinstance(value, dict):
            kind = value.get("kind")
            if is_audit_event(value):
                yield _event(value, raw, src, n)
                return
            inner = value.get("logEvents")
            if isinstance(inner, list):
                if value.get("messageType") == "CONTROL_MESSAGE":
                    return  # CloudWatch's "checking health of destination" ping, not a log event
                group, stream = nonempty_str(value.get("logGroup")), nonempty_str(value.get("logStream"))
                for i, item in enumerate(inner):
                    yield from self._record(item, n, f"{where}logEvents[{i}]", group, stream)
                return
            inner = value.get("events")
            if isinstance(inner, list):
                for i, item in enumerate(inner):
                    yield from self._expand(item, n, f"{where}events[{i}]")
                return
            inner = value.get("items")
            if isinstance(inner, list) and isinstance(kind, str) and kind.endswith("List"):
                for i, item in enumerate(inner):
                    yield from self._expand(item, n, f"{where}items[{i}]")
                return
            if isinstance(value.get("message"), str) and not (isinstance(kind, str) and "apiVersion" in value):
                yield from self._record(value, n, where, None, None)  # (a Kubernetes Event has a message too)
                return
            inner = value.get("awslogs")
            if isinstance(inner, dict) and isinstance(inner.get("data"), str):
                yield from self._blob(inner["data"], n, f"{where}awslogs.data")
                return
            inner = value.get("records")
            if isinstance(inner, list) and all(isinstance(r, dict) and "data" in r for r in inner):
                for i, rec in enumerate(inner):
                    yield from self._blob(rec.get("data"), n, f"{where}records[{i}].data")
                return
            log = aks_audit_log(value)
            if log is not None:
                yield from self._aks(log, n, f"{where}properties.log" if not where else f"{where}.properties.log")
                return
            inner = azure_records(value)
            if inner is not None:
                for i, rec in enumerate(inner):
                    yield from self._expand(rec, n, f"{where}records[{i}]")
                return
            self.not_audit(value, n, where)
            yield _event(value, raw, src, n)  # some other JSON object: jevt.* fields still apply
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from self._expand(item, n, f"{where}[{i}]")
        else:
            label = f"{where}: " if where else ""
            self.bad(n, f"{label}not an audit event (a JSON {type(value).__name__})")

    def _record(
        self, item: Any, n: int, where: str, group: str | None, stream: str | None
    ) -> Iterator[AuditEvent]:
        """A CloudWatch log event: its `message` is the audit event, exactly as stored."""
        label = f"{where}: " if where else ""
        if not isinstance(item, dict):
            self.bad(n, f"{label}not a CloudWatch log event")
            return
        if not isinstance(item.get("message"), str):
            if item.get("kind") == "Event" or "auditID" in item:
                yield _event(item, None, self.source, n)
            else:
                self.bad(n, f"{label}CloudWatch log event without a message")
            return
        ev = AuditEvent.from_cloudwatch(item, log_group=group, log_stream=stream, source=self.source, line=n)
        if self._message_ok(ev.raw.strip(), n, label):
            yield ev

    def _aks(self, log: Any, n: int, where: str) -> Iterator[AuditEvent]:
        """`properties.log` of an AKS kube-audit record: the audit event as a JSON string, or an object."""
        if isinstance(log, dict):
            yield from self._expand(log, n, where)
            return
        data = log.encode("utf-8", "surrogateescape").strip()
        if self._message_ok(data, n, f"{where}: "):
            yield from self._object_text(data, n, where)

    def _blob(self, data: Any, n: int, where: str) -> Iterator[AuditEvent]:
        """Base64 (usually gzip) payload of a Lambda subscription event or Firehose record."""
        try:
            payload = base64.b64decode(data, validate=True)
            for _ in range(MAX_GZIP_NESTING):
                if not is_gzip(payload):
                    break
                payload = _gunzip(payload, self.max_doc)
        except (TypeError, binascii.Error, OSError, EOFError, zlib.error) as e:
            self.bad(n, f"{where}: cannot decode: {e}")
            return
        acc = Accumulator()
        acc.add(n, payload)
        for kind, a, b, extra in acc.scan():
            if kind == "garbage":
                self.bad(n, f"{where}: not JSON: {snippet(bytes(acc.buf[a:b]).strip())}")
                continue
            if kind == "doc" and extra[0]:
                continue  # its items were already emitted
            try:
                obj = _loads(bytes(acc.buf[a:b]))
            except orjson.JSONDecodeError as e:
                self.bad(n, f"{where}: invalid JSON: {e}")
                continue
            if kind == "elem":
                ctx, i = extra
                yield from self._item(obj, n, f"{where}: {ctx.name}[{i}]", ctx)
            else:
                yield from self._expand(obj, n, where)
        if acc.open:
            self.bad(n, f"{where}: unterminated JSON document")


def _gunzip(data: bytes, limit: int) -> bytes:
    """`gzip.decompress` that stops past `limit` bytes (a small blob must not expand to gigabytes)."""
    out = bytearray()
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += d.decompress(data, limit + 1 - len(out))
        if len(out) > limit or d.unconsumed_tail:
            raise OSError(f"decompresses to more than {limit} bytes")
        if not d.eof:
            raise EOFError("compressed data ended before the end-of-stream marker")
        data = d.unused_data.lstrip(b"\0")  # gzip tolerates zero padding after a member
    return bytes(out)



def _event(obj: Any, raw: bytes | None, source: str, n: int) -> AuditEvent:
    if raw is None:
        return AuditEvent.from_obj(obj, source=source, line=n)
    return AuditEvent(raw, obj=obj, source=source, line=n)


def snippet(s: bytes, n: int = 40) -> str:
    text = s[:n].decode("utf-8", "replace")
    return repr(text + ("..." if len(s) > n else ""))
