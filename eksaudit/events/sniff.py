"""Cheap format detection: decide from a line's first bytes whether it must be parsed at all.

Most input lines are plain audit events. They are passed on unparsed (the condition's literal
prefilter rejects most of them before any JSON parsing), so everything here looks only at a
line's prefix: its first key, a timestamp prefix, gzip magic bytes. Only lines that may be a
wrapper (CloudWatch record, `filter-log-events` page, subscription envelope, EventList) are parsed
by the reader, and then exactly once.

The looks are spelling-proof (docs/conditions.md): a first key written with escapes is decoded
before it is compared, and a line that might spell `...List` through an escape is parsed. `FAST =
False` makes the reader parse every JSON line instead (the slow twin the property tests use).
"""

from __future__ import annotations

import calendar
import re
from enum import Enum

import orjson

GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
TRUNCATED = b"[Truncated...]"  # what CloudWatch appends to an event it cut short
TRUNCATED_STR = TRUNCATED.decode()

#: the exact prefix the API server writes; the overwhelmingly common case, tested first
EVENT_PREFIX = b'{"kind":"Event",'

#: first keys of objects that wrap events (CloudWatch records as `fetch -o cw` and the AWS CLI
#: print them, `filter-log-events`/`get-log-events` pages, subscription/Firehose envelopes,
#: Lambda subscription events and Firehose transformation batches)
WRAPPER_FIRST_KEYS = frozenset(
    {
        "events",
        "logEvents",
        "messageType",
        "owner",
        "logGroup",
        "logStream",
        "logGroupName",
        "logStreamName",
        "subscriptionFilters",
        "message",
        "timestamp",
        "ingestionTime",
        "eventId",
        "id",
        "nextToken",
        "nextForwardToken",
        "nextBackwardToken",
        "searchedLogStreams",
        "awslogs",
        "records",
        "invocationId",
    }
)
#: first keys shared by audit events and Kubernetes lists: look further before parsing
AMBIGUOUS_FIRST_KEYS = frozenset({"apiVersion", "kind", "items", "metadata"})

#: the internal switch: False parses every line that may be JSON (no first-key or prefix shortcuts)
FAST = True

_FIRST_KEY_RE = re.compile(rb'\{\s*"([A-Za-z@_$][A-Za-z0-9@_$-]*)"\s*:\s*')
_ESCAPED_KEY_RE = re.compile(rb'\{\s*("(?:[^"\\]|\\.)*")\s*:')
# `List"` ends a kind such as EventList in plain text; these escapes could spell one of its letters
_LIST_ESCAPE = re.compile(rb"\\u00(?:4[cC]|69|73|74)")
# CloudWatch export to S3: "2026-11-30T10:00:00.000Z {json}" (fraction optional)
_EXPORT_RE = re.compile(rb"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z[ \t]")


class LineKind(str, Enum):
    BLANK = "blank"
    EVENT = "event"  # a JSON object line to pass on unparsed
    PARSE = "parse"  # a JSON value that may be a wrapper: parse it (or gather a multi-line document)
    EXPORT = "export"  # `<RFC 3339 timestamp> <message>` (CloudWatch S3 export)
    TRUNCATED = "truncated"
    GARBAGE = "garbage"


def is_gzip(head: bytes) -> bool:
    return head[:2] == GZIP_MAGIC


def first_key(line: bytes) -> str | None:
    """The first key of a JSON object line (`{"events": [` → `events`), None if there is none."""
    m = _FIRST_KEY_RE.match(line)
    if m:
        return m.group(1).decode()
    m = _ESCAPED_KEY_RE.match(line)  # `{"\u0065vents": [`: the same key, spelled with escapes
    if m:
        try:
            key = orjson.loads(m.group(1))
        except orjson.JSONDecodeError:
            return None
        return key if isinstance(key, str) else None
    return None


def classify(s: bytes) -> LineKind:
    """What to do with one stripped line (no surrounding whitespace, no BOM)."""
    if not s:
        return LineKind.BLANK
    c = s[:1]
    if c.isdigit() and _EXPORT_RE.match(s):
        return LineKind.EXPORT
    if s.endswith(TRUNCATED):
        return LineKind.TRUNCATED
    if c == b"{":
        if not s.endswith(b"}") or not FAST:
            return LineKind.PARSE  # pretty-printed document opening, or not JSON at all
        if s.startswith(EVENT_PREFIX):
            return LineKind.EVENT
        key = first_key(s)
        if key in WRAPPER_FIRST_KEYS:
            return LineKind.PARSE
        if key in AMBIGUOUS_FIRST_KEYS:
            # `{"apiVersion":..., "items": [...], "kind": "EventList"}` from kubectl (any kind
            # ending in List has its items read); an Event never has top-level items, but its
            # request/response objects may mention the word: parse to be sure.
            return LineKind.PARSE if b'List"' in s or _LIST_ESCAPE.search(s) else LineKind.EVENT
        return LineKind.EVENT
    if c == b"[":
        return LineKind.PARSE
    return LineKind.GARBAGE


def split_export(s: bytes) -> tuple[int, bytes] | None:
    """`2026-11-30T10:00:00.000Z {json}` → (ms since epoch, message bytes); None if not that shape."""
    m = _EXPORT_RE.match(s)
    if not m:
        return None
    y, mo, d, h, mi, sec, frac = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(sec), 0, 0, 0))
    ms = int((frac or b"0").ljust(3, b"0")[:3])
    return secs * 1000 + ms, s[m.end() :].strip()


def looks_like_object(s: bytes) -> bool:
    """A cheap shape test for a message: a JSON object (validated later, only if needed)."""
    return s[:1] == b"{" and s[-1:] == b"}"
