"""Read audit events from files and stdin, whatever shape they come in, without flags.

`read_events()` recognises, file by file and line by line: audit `Event` JSON lines; `EventList`
objects; JSON arrays of events; CloudWatch records (`fetch -o cw`, `aws logs filter-log-events
--query events`); whole `filter-log-events` / `get-log-events` pages (`{"events": [...]}`, also
pretty-printed over many lines and several pages one after another); CloudWatch S3-export lines
(`2026-11-30T10:00:00.000Z {json}`); subscription / Firehose envelopes (`{"logEvents": [...]}`,
concatenated with or without separators); Lambda subscription events (`{"awslogs": {"data": ...}}`)
and Firehose transformation batches (`{"records": [{"data": ...}]}`); AKS diagnostic records
(`kube-audit`/`kube-audit-admin`, one per line or in an Event Hubs `{"records": [...]}`
envelope, see `kinds.py`); gzip streams (detected by
their magic bytes, nested up to three times) holding any of these. A UTF-8 BOM and CRLF are
accepted. Lines longer than `max_line_bytes` (default 16 MB, far above CloudWatch's 1 MB event
limit) are reported and skipped without ever being held whole: the reader keeps their first
`max_line_bytes` at most, then discards until the next newline (`_LineCap`).

Speed: a line that is an audit event is NOT parsed here. It is yielded as raw bytes, so the
condition's literal prefilter can reject it before any JSON parsing; only lines whose first key
says "wrapper" are parsed, and the parsed object is handed on (`obj=`) so nothing is parsed twice.
Memory stays flat for line-oriented input. A pretty-printed document is gathered until it closes;
the items of its `events` / `logEvents` / `items` array (or of a top-level array) are emitted as
each one closes, so a multi-gigabyte `filter-log-events` dump is streamed too. Any other open
document is held up to `max_document_bytes`.

Bad input never stops the read: `[Truncated...]` events (CloudWatch cuts events at its size
limit), lines that are not JSON, wrapper items whose message is not a JSON object, broken gzip
streams are reported to `on_bad(BadLine(source, line, reason))` and skipped; `strict=True` raises
`InputError` at the first one instead. A document that never closes is reported at its first
line and the lines after it are read again one by one (a stray `{` line loses nothing else).

Lines that start as the API server writes them (`{"kind":"Event",...`) are passed on without
validation (that is the point of the fast path): such a line that is not valid JSON becomes an
event whose `obj` is None and that matches no field. Callers that want it reported can call
`unparsable(ev)` on events that reach them. Other object lines are parsed once (the object is
handed on; one that does not parse is gathered as a multi-line document): an object that is
neither an audit event nor an envelope is still yielded, and named to `on_not_audit`
(`kinds.describe`).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import gzip
import io
import os
import re
import stat
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from ..errors import InputError
from . import event as _event_module
from . import sniff as _sniff
from .event import AuditEvent, CwMeta
from .kinds import NotAudit, aks_audit_log, azure_records, describe, is_audit_event, surely_event_text
from .slowjson import loads as _loads  # orjson, then the depth-unlimited fallback
from .sniff import (
    BOM,
    EVENT_PREFIX,
    TRUNCATED,
    LineKind,
    classify,
    is_gzip,
    looks_like_object,
    split_export,
)

STDIN_NAME = "<stdin>"
DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
_READ_BUFFER = 1 << 16
_MAX_GZIP_NESTING = 3

# structural characters outside strings; quote and backslash inside strings
_OUT = re.compile(rb'[\[\]{}"]')
_IN = re.compile(rb'["\\]')
_NONWS = re.compile(rb"[^ \t\r\n]")
_CONTAINER_KEY = re.compile(rb'"(events|logEvents|items)"\s*:\s*\Z')
_STR_MEMBER = {
    k: re.compile(rb'"' + k.encode() + rb'"\s*:\s*("(?:[^"\\]|\\.)*")')
    for k in ("logGroup", "logStream", "messageType")
}


def _metadata_complete(skeleton: bytes) -> bool:
    """The envelope text before `logEvents`'s array names all its metadata keys, none spelled with escapes."""
    return b"\\u" not in skeleton and all(rx.search(skeleton) for rx in _STR_MEMBER.values())


@dataclass(frozen=True)
class BadLine:
    """An input line that could not be read as an event (line None: the whole source)."""

    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}"


class ReadStats:
    """Collects bad lines and unopenable files so the CLI can print one warning at the end.

    Pass `on_bad=stats.on_bad, on_missing=stats.on_missing` to `read_events()`.
    """

    def __init__(self) -> None:
        self.bad = 0
        self.truncated = 0
        self.first: BadLine | None = None
        self.missing: list[InputError] = []

    def on_bad(self, bad: BadLine) -> None:
        self.bad += 1
        if "[Truncated...]" in bad.reason:
            self.truncated += 1
        if self.first is None:
            self.first = bad

    def on_missing(self, err: InputError) -> None:
        self.missing.append(err)

    def warning(self) -> str | None:
        """`3 unreadable lines skipped (first: file:12: reason)`, or None when all was read."""
        if not self.bad:
            return None
        noun = "line" if self.bad == 1 else "lines"
        extra = f", {self.truncated} truncated by CloudWatch" if self.truncated else ""
        return f"{self.bad} unreadable {noun} skipped{extra} (first: {self.first})"


def unparsable(ev: AuditEvent) -> BadLine | None:
    """A BadLine for an event whose raw text turned out not to be JSON (None if it parses)."""
    if ev.obj is not None:
        return None
    return BadLine(ev.source or "?", ev.line, "not valid JSON")


def read_events(
    inputs: Sequence[str] = (),
    *,
    strict: bool = False,
    on_bad: Callable[[BadLine], None] | None = None,
    stdin: BinaryIO | None = None,
    on_missing: Callable[[InputError], None] | None = None,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    required: Sequence[Iterable[bytes]] | None = None,
    on_not_audit: Callable[[NotAudit], None] | None = None,
    max_line_bytes: int | None = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[AuditEvent]:
    """Yield every event of `inputs` in order (no inputs, or `-`, is stdin read as bytes).

    `required` is an optional hint from the condition's prefilter: groups of literals, every
    matching event holding at least one literal of each group. When given, one group (the one
    with the fewest hits in the source's first block) is searched for at C speed, and plain event
    lines (`{"kind":"Event",...}`, read while no multi-line document is open) that hold none of its
    literals, nor an escape that could spell one of their characters (`\\u0064`), are skipped
    unread. Every other line is read as usual, so nothing that could match is lost and line
    numbers stay exact.

    A file that cannot be opened raises `InputError` naming it, unless `on_missing` is given (and
    not `strict`): then it is reported there and the other files are read, like grep does.
    Bad lines go to `on_bad` (ignored when None) or raise `InputError` when `strict`. JSON
    objects that are neither audit events nor envelopes of them (a GKE or CloudTrail record...)
    are still yielded, and reported to `on_not_audit` (see `kinds.NotAuditTally`), or raise
    `InputError` when `strict`. A line longer than `max_line_bytes` (None: no cap) is a bad
    line; a closed stdin is reported like a file that cannot be opened.

    >>> for ev in read_events(["audit.jsonl.gz"]):   # doctest: +SKIP
    ...     print(ev.source, ev.line, ev.obj["verb"])
    """
    names = list(inputs) or ["-"]
    anchors = _anchor_patterns(required)
    for name in names:
        if name == "-":
            stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
            if stream is None:  # `<&-`: there is no standard input at all
                err = InputError("cannot read: standard input is closed", STDIN_NAME)
                if strict or on_missing is None:
                    raise err
                on_missing(err)
                continue
            yield from _SourceReader(
                STDIN_NAME, strict, on_bad, max_document_bytes, anchors, on_not_audit,
                max_line=max_line_bytes,
            ).read(stream)
            continue
        try:
            f = open(name, "rb", buffering=_READ_BUFFER)  # noqa: SIM115 (closed below, generator)
        except (OSError, ValueError) as e:  # ValueError: a NUL byte in the name
            reason = e.strerror or e if isinstance(e, OSError) else "the file name contains a NUL byte"
            err = InputError(f"cannot open: {reason}", ascii(name)[1:-1] if "\0" in name else name)
            if strict or on_missing is None:
                raise err from None
            on_missing(err)
            continue
        with f:
            yield from _SourceReader(
                name, strict, on_bad, max_document_bytes, anchors, on_not_audit, max_line=max_line_bytes
            ).read(f)


def iter_source(
    stream: BinaryIO,
    source: str,
    *,
    strict: bool = False,
    on_bad: Callable[[BadLine], None] | None = None,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    on_not_audit: Callable[[NotAudit], None] | None = None,
    max_line_bytes: int | None = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[AuditEvent]:
    """Events of one already opened binary stream (any supported format, gzip included)."""
    return _SourceReader(
        source, strict, on_bad, max_document_bytes, None, on_not_audit, max_line=max_line_bytes
    ).read(stream)


class _Requeue:
    """Lines to read again first (after a document that never closed), then the rest of the source."""

    __slots__ = ("pending", "it")

    def __init__(self, pending: deque[tuple[int, bytes]], it: Iterator[tuple[int, bytes]]) -> None:
        self.pending = pending
        self.it = it

    def __iter__(self) -> _Requeue:
        return self

    def __next__(self) -> tuple[int, bytes]:
        if self.pending:
            return self.pending.popleft()
        return next(self.it)


@dataclass(frozen=True)
class _Container:
    """The array whose items are streamed, and the envelope metadata that applies to them."""

    name: str  # events, logEvents, items, or "" for a top-level array
    group: str | None = None
    stream: str | None = None
    control: bool = False


class _Accumulator:
    """Gathers the lines of multi-line (or concatenated) JSON documents and finds where each closes.

    The scan only stops at structural characters (regex jumps), keeps its state between lines
    (depth, inside a string, pending escape) so every byte is scanned once, and reports actions:
    ("doc", a, b) a complete top-level value, ("elem", a, b) a complete item of a streamed array,
    ("garbage", a, b) text between documents.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.offs: list[int] = []  # start offset of each fed line in buf
        self.nums: list[int] = []  # its line number
        self.pos = 0
        self.depth = 0
        self.in_str = False
        self.esc = False
        self.start = -1  # offset of the open top-level value, -1 when none is open
        self.start_line = 0
        self.top = 0
        self.container_depth = 0  # depth of the items of the streamed array (0: none)
        self.container = ""
        self.elem_start = -1
        self.elem_index = 0
        self.streamed = False  # items were (or will be) emitted one by one: never parse the whole
        self.group: str | None = None
        self.stream: str | None = None
        self.control = False
        self.ctx = _Container("")

    def add(self, n: int, line: bytes) -> None:
        self.offs.append(len(self.buf))
        self.nums.append(n)
        self.buf += line

    def line_of(self, off: int) -> int:
        i = bisect.bisect_right(self.offs, off) - 1
        return self.nums[max(i, 0)]

    def lines_after(self, lineno: int) -> list[tuple[int, bytes]]:
        out = []
        offs, buf = self.offs, self.buf
        for i, num in enumerate(self.nums):
            if num > lineno:
                end = offs[i + 1] if i + 1 < len(offs) else len(buf)
                out.append((num, bytes(buf[max(offs[i], 0) : end])))
        return out

    @property
    def open(self) -> bool:
        return self.start >= 0

    def held_bytes(self) -> int:
        """Bytes that must stay in memory: the open item when streaming, else the whole open value."""
        if not self.streamed:
            return len(self.buf)
        return len(self.buf) - (self.elem_start if self.elem_start >= 0 else self.pos)

    def _open_container(self, name: str, skeleton: bytes) -> None:
        if name == "logEvents" and not _metadata_complete(skeleton):
            # the envelope's logGroup/logStream/messageType may come after the array (keys sorted)
            # or be spelled with escapes: parse the whole document instead of streaming its items
            return
        self.container_depth = 2 if self.top == 0x7B else 1
        self.container = name
        self.elem_index = 0
        self.streamed = True
        self.group = self.stream = None
        self.control = False
        for key, rx in _STR_MEMBER.items():
            found = rx.findall(skeleton)
            if found:
                try:
                    val = orjson.loads(found[-1])  # duplicate keys: the last one wins, as in parsing
                except orjson.JSONDecodeError:
                    continue
                if key == "logGroup":
                    self.group = _str(val)
                elif key == "logStream":
                    self.stream = _str(val)
                else:
                    self.control = val == "CONTROL_MESSAGE"
        self.ctx = _Container(name, self.group, self.stream, self.control)

    def scan(self) -> list[tuple[str, int, int, Any]]:
        """Actions found in the bytes added since the last scan, each with the context it needs
        (several documents may close in one scan, so nothing is read from `self` afterwards)."""
        buf = self.buf
        n = len(buf)
        pos = self.pos
        out: list[tuple[str, int, int, Any]] = []
        while pos < n:
            if self.depth == 0:
                m = _NONWS.search(buf, pos)
                if m is None:
                    pos = n
                    break
                p = m.start()
                c = buf[p]
                if c == 0x7B or c == 0x5B:  # { [
                    self.start, self.start_line, self.top, self.depth = p, self.line_of(p), c, 1
                    self.streamed = False
                    self.container_depth = 0
                    self.group = self.stream = None
                    self.control = False
                    if c == 0x5B:
                        self._open_container("", b"")
                    pos = p + 1
                else:
                    nl = buf.find(b"\n", p)
                    end = n if nl < 0 else nl + 1
                    out.append(("garbage", p, end, None))
                    pos = end
                continue
            if self.esc:
                self.esc = False
                pos += 1
                continue
            if self.in_str:
                m = _IN.search(buf, pos)
                if m is None:
                    pos = n
                    break
                if buf[m.start()] == 0x22:
                    self.in_str = False
                    pos = m.end()
                elif m.end() < n:
                    pos = m.end() + 1
                else:
                    self.esc = True
                    pos = n
                continue
            m = _OUT.search(buf, pos)
            if m is None:
                pos = n
                break
            p = m.start()
            c = buf[p]
            pos = p + 1
            if c == 0x22:
                self.in_str = True
            elif c == 0x7B or c == 0x5B:
                if self.container_depth and self.depth == self.container_depth:
                    if self.elem_start < 0:
                        self.elem_start = p
                elif c == 0x5B and self.depth == 1 and self.top == 0x7B and not self.container_depth:
                    km = _CONTAINER_KEY.search(buf, max(self.start, p - 200), p)
                    if km and not self.streamed:
                        self._open_container(km.group(1).decode(), bytes(buf[self.start : p]))
                self.depth += 1
            else:
                self.depth -= 1
                if self.elem_start >= 0 and self.depth == self.container_depth:
                    out.append(("elem", self.elem_start, pos, (self.ctx, self.elem_index)))
                    self.elem_index += 1
                    self.elem_start = -1
                elif self.container_depth and self.depth < self.container_depth:
                    self.container_depth = 0
                if self.depth <= 0:
                    self.depth = 0
                    out.append(("doc", self.start, pos, (self.streamed, self.start_line)))
                    self.start = -1
        self.pos = pos
        return out

    def compact(self) -> None:
        """Drop what is no longer needed (everything before the open value, or before the open item)."""
        if self.start < 0:
            keep = self.pos
        elif self.streamed:
            keep = self.elem_start if self.elem_start >= 0 else self.pos
        else:
            keep = self.start
        if keep < (1 << 16):
            return
        del self.buf[:keep]
        i = max(bisect.bisect_right(self.offs, keep) - 1, 0)
        self.offs = [o - keep for o in self.offs[i:]]
        self.nums = self.nums[i:]
        self.pos -= keep
        if self.start >= 0:
            self.start = max(self.start - keep, 0)
        if self.elem_start >= 0:
            self.elem_start -= keep


_BLOCK = 1 << 20


def _plain_event_factory() -> Callable[[bytes, str, int], AuditEvent]:
    """`AuditEvent(raw, source=..., line=...)` for the hot path, built without the keyword call.

    Filling the slots directly takes less than half the time of the keyword-only constructor
    (~80 ns instead of ~200 ns, per event line of a large file). Used only while AuditEvent's
    slots are the ones known here; otherwise it is the constructor itself.
    """
    unparsed = getattr(_event_module, "_UNPARSED", None)
    if AuditEvent.__slots__ != ("raw", "_obj", "cw", "source", "line") or unparsed is None:
        return lambda raw, source, line: AuditEvent(raw, source=source, line=line)
    new = object.__new__

    def plain_event(raw: bytes, source: str, line: int, cls: type = AuditEvent) -> AuditEvent:
        ev = new(cls)
        ev.raw = raw
        ev._obj = unparsed
        ev.cw = None
        ev.source = source
        ev.line = line
        return ev

    return plain_event


_plain_event = _plain_event_factory()
_NL = b"\n"
_NO_PREFIX = b"\xff"  # never at the start of a UTF-8 line
_RBRACE = 0x7D  # `}`, the last byte of a plain event line


class _Anchor:
    """A group of required literals, found in a block: the next literal, or escape that may spell one.

    Escapes (`EscapeScan`) are looked for only before the next literal, so a block costs one regex
    pass for the literals plus a `find` per `\\u` escape (`\\u0026` in the API server's URIs).
    """

    __slots__ = ("rx", "lit", "escapes", "pattern")

    def __init__(self, lits: list[bytes]) -> None:
        from ..condition.prefilter import escape_scan

        self.pattern = b"|".join(re.escape(lit) for lit in lits)
        self.rx = re.compile(self.pattern)
        self.lit = lits[0] if len(lits) == 1 else None  # bytes.find beats the regex engine on one literal
        self.escapes = escape_scan(lits)

    def find(self, buf: Any, pos: int, end: int) -> int:
        """Offset of the next literal or spelling escape in `buf[pos:end]`, `end` when there is none."""
        if self.lit is not None:
            stop = buf.find(self.lit, pos, end)
            if stop < 0:
                stop = end
        else:
            m = self.rx.search(buf, pos, end)
            stop = m.start() if m is not None else end
        if self.escapes is not None and stop > pos:
            i = self.escapes.find(buf, pos, stop)
            if i >= 0:
                return i
        return stop

    def hits(self, sample: Any) -> int:
        n = len(self.rx.findall(sample))
        if self.escapes is not None:
            n += 1 if self.escapes.find(sample) >= 0 else 0
        return n


def _anchor_patterns(required: Sequence[Iterable[bytes]] | None) -> list[_Anchor]:
    """One anchor per usable group of literals (a literal spanning lines could not anchor a line).

    The anchor also stops at every escape that could spell a character of the group's literals: a
    line that writes `delete` as `\\u0064elete` is read, not skipped. The API server's `\\u0026` is
    not such an escape for most literals, so those lines are still skipped.
    """
    out: list[_Anchor] = []
    for group in required or ():
        lits = sorted(set(group), key=len, reverse=True)
        if lits and all(lits) and not any(b"\n" in lit or b"\r" in lit for lit in lits):
            out.append(_Anchor(lits))
    return out


def _rarest(patterns: list[_Anchor], sample: Any) -> _Anchor:
    """The anchor with the fewest hits in `sample` (the first block): fewer lines to turn into events."""
    if len(patterns) == 1:
        return patterns[0]
    data = bytes(sample)
    return min(patterns, key=lambda a: a.hits(data))


class _SourceReader:
    """Reads one file or stream; holds the state of a multi-line document in progress."""

    def __init__(
        self,
        source: str,
        strict: bool,
        on_bad: Callable[[BadLine], None] | None,
        max_doc: int,
        anchors: list[_Anchor] | None = None,
        on_not_audit: Callable[[NotAudit], None] | None = None,
        *,
        max_line: int | None = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.source = source
        self.on_not_audit = on_not_audit
        self.max_line = max_line
        self.long_mark = _long_line_mark()
        self.anchors = anchors or []
        # the plain-event shortcut; with sniff.FAST off no line has it, so every line is sniffed/parsed
        self.prefix = EVENT_PREFIX if _sniff.FAST else _NO_PREFIX
        self.strict = strict
        self.on_bad = on_bad
        self.max_doc = max_doc
        self.acc: _Accumulator | None = None
        self.pending: deque[tuple[int, bytes]] = deque()
        self.io_error: tuple[int | None, str] | None = None

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

    # --- the stream -------------------------------------------------------------------------
    def read(self, stream: BinaryIO) -> Iterator[AuditEvent]:
        f: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream, _READ_BUFFER)  # type: ignore[arg-type]
        gz = False
        try:
            for _ in range(_MAX_GZIP_NESTING):
                if not is_gzip(f.peek(2)[:2]):
                    break
                # not wrapped in another BufferedReader: on a truncated stream its multi-chunk
                # reads would drop the data already decompressed; GzipFile returns it line by line
                f = gzip.GzipFile(fileobj=f, mode="rb")
                gz = True
            if self.max_line is not None:
                f = io.BufferedReader(_LineCap(f, self.max_line, self.long_mark), _READ_BUFFER)
            first = f.readline()
        except (OSError, EOFError, zlib.error) as e:
            self.bad(1, f"cannot decompress: {e}")
            return
        if not first:
            return
        if first.startswith(BOM):
            first = first[len(BOM) :]
        try:
            if gz:
                yield from self._process(self._guarded(f, first))
            else:
                yield from self._process(((1, first),))
                yield from self._blocks(f)
        except OSError as e:  # a read error on a plain file (gzip errors are caught in _guarded)
            self.io_error = (None, f"read error: {e}")
        yield from self._finish()
        if self.io_error is not None:
            self.bad(*self.io_error)

    def _blocks(self, f: Any) -> Iterator[AuditEvent]:
        """Events of the lines after the first, read in blocks; the hot path of a plain JSON-lines file.

        A plain event line (`{"kind":"Event",...}` ending right before its newline, no document
        open) becomes an event at once, sliced out of the block; any other line goes through the
        same steps as in `_process`. Lines are found with `find` (memchr), so line numbers stay
        exact at little cost. With anchors, see `_anchored_blocks`.
        """
        if self.anchors:
            yield from self._anchored_blocks(f)
            return
        src = self.source
        event = _plain_event
        prefix = self.prefix
        nl = _NL
        rbrace = _RBRACE
        n = 1  # lines already numbered
        rest: list[bytes] = []  # the start of a line not yet ended (a line may span many blocks)
        while True:
            buf = f.read(_BLOCK)
            if not buf:
                if rest:
                    yield from self._other(n + 1, b"".join(rest))
                return
            find = buf.find
            p = 0
            if rest:  # the line cut by the block edge, joined with its end
                q = find(nl)
                if q < 0:
                    rest.append(buf)
                    continue
                rest.append(buf[: q + 1])
                line = b"".join(rest)
                rest = []
                n += 1
                p = q + 1
                if line.startswith(prefix) and line.endswith(b"}\n") and self.acc is None:
                    yield event(line[:-1], src, n)
                else:
                    yield from self._other(n, line)
            end = buf.rfind(nl) + 1
            if end <= p:
                if p < len(buf):
                    rest.append(buf[p:])
                continue
            if end < len(buf):
                rest.append(buf[end:])
            starts = buf.startswith
            while p < end:
                q = find(nl, p)
                n += 1
                if starts(prefix, p) and buf[q - 1] == rbrace and self.acc is None:
                    yield event(buf[p:q], src, n)
                else:
                    yield from self._other(n, buf[p : q + 1])
                p = q + 1

    def _anchored_blocks(self, f: Any) -> Iterator[AuditEvent]:
        """`_blocks` with anchors: plain event lines without the anchor are skipped unread.

        Such a line could only have become an event that the prefilter rejects. The anchor (the
        group of required literals with the fewest hits in the first block) is found with one
        regex pass per block, and skipped lines cost a few C calls each. Blocks are read into
        one reused buffer (most lines are never copied out, and a fresh megabyte per block
        makes the allocator hand memory back and fault it in again, block after block).
        """
        src = self.source
        event = _plain_event
        prefix = self.prefix
        nl = _NL
        rbrace = _RBRACE
        find: Any = None
        n = 1  # lines already numbered
        buf = bytearray(_BLOCK)
        view = memoryview(buf)
        keep = 0  # bytes at the start of buf that belong to a line not yet ended
        while True:
            got = f.readinto(view[keep:])
            if not got:
                if keep:
                    yield from self._other(n + 1, bytes(buf[:keep]))
                return
            filled = keep + got
            if find is None:
                find = _rarest(self.anchors, view[:filled]).find
            end = buf.rfind(nl, 0, filled) + 1
            if end == 0:  # no line ends yet: read on, into a larger buffer if this one is full
                keep = filled
                if filled == len(buf):
                    view.release()
                    buf.extend(bytes(len(buf)))
                    view = memoryview(buf)
                continue
            nlfind = buf.find
            starts = buf.startswith
            p = 0
            mpos = find(buf, 0, end)
            while p < end:
                q = nlfind(nl, p)
                n += 1
                if q <= mpos and starts(prefix, p) and buf[q - 1] == rbrace and self.acc is None:
                    p = q + 1  # a plain event line without the anchor: cannot match
                    continue
                if q > mpos:
                    mpos = find(buf, q + 1, end)
                if starts(prefix, p) and buf[q - 1] == rbrace and self.acc is None:
                    yield event(view[p:q].tobytes(), src, n)
                else:
                    yield from self._other(n, view[p : q + 1].tobytes())
                p = q + 1
            keep = filled - end
            if keep:
                buf[:keep] = bytes(view[end:filled])  # a copy: the two ranges may overlap

    def _other(self, n: int, line: bytes) -> Iterator[AuditEvent]:
        """One line that is not a plain event line (or comes while a document is open), as `_process` reads it."""
        if self.acc is None:
            if line.startswith(self.prefix):
                s = line.rstrip()
                if s.endswith(b"}"):
                    yield AuditEvent(s, source=self.source, line=n)
                    return
            yield from self._slow(n, line)
        else:
            yield from self._feed(n, line)
        if self.pending:
            yield from self._process(_Requeue(self.pending, iter(())))

    def _guarded(self, f: Any, first: bytes) -> Iterator[tuple[int, bytes]]:
        n = 1
        yield 1, first
        try:
            for line in f:
                n += 1
                yield n, line
        except (OSError, EOFError, zlib.error) as e:
            self.io_error = (n + 1, f"cannot decompress: {e}")

    def _finish(self) -> Iterator[AuditEvent]:
        while self.acc is not None:
            acc, self.acc = self.acc, None
            if not acc.open:
                break
            if acc.streamed:
                self.bad(acc.start_line, "unterminated JSON document (input ends inside it)")
                break
            self.bad(acc.start_line, "unterminated JSON document (input ends inside it)")
            yield from self._process(iter(acc.lines_after(acc.start_line)))

    def _process(self, numbered: Iterable[tuple[int, bytes]]) -> Iterator[AuditEvent]:
        src = self.source
        event = AuditEvent
        prefix = self.prefix
        it: Iterator[tuple[int, bytes]] = iter(numbered)
        while True:
            for n, line in it:
                # the fast path: an API server event line, passed on unparsed
                if line.startswith(prefix) and self.acc is None:
                    s = line.rstrip()
                    if s.endswith(b"}"):
                        yield event(s, source=src, line=n)
                        continue
                if self.acc is not None:
                    yield from self._feed(n, line)
                else:
                    yield from self._slow(n, line)
                if self.pending and not isinstance(it, _Requeue):
                    it = _Requeue(self.pending, it)
                    break
            else:
                return

    # --- one line ---------------------------------------------------------------------------
    def _slow(self, n: int, line: bytes) -> Iterator[AuditEvent]:
        if self._too_long(n, line):
            return
        s = line.strip()
        kind = classify(s)
        if kind is LineKind.EVENT:
            if surely_event_text(s):  # the common case, without another generator
                yield AuditEvent(s, source=self.source, line=n)
            else:
                yield from self._object_text(s, n, "", line)
        elif kind is LineKind.BLANK:
            return
        elif kind is LineKind.PARSE:
            try:
                obj = _loads(s)
            except orjson.JSONDecodeError:
                self.acc = _Accumulator()
                yield from self._feed(n, line)
                return
            yield from self._expand(obj, n, "", raw=s)
        elif kind is LineKind.EXPORT:
            ts, msg = split_export(s)  # type: ignore[misc]
            if self._message_ok(msg, n, "export line: "):
                yield AuditEvent(msg, cw=CwMeta(timestamp=ts), source=self.source, line=n)
        elif kind is LineKind.TRUNCATED:
            self.bad(n, "event truncated by CloudWatch ([Truncated...])")
        else:
            self.bad(n, f"not JSON: {_snippet(s)}")

    def _object_text(self, s: bytes, n: int, where: str, line: bytes | None = None) -> Iterator[AuditEvent]:
        """An object's text: unparsed if its first member says audit event, else parsed once and sorted.

        A `line` that does not parse may open a pretty-printed document (its first line can end
        with the `}` of an inner object): it is gathered like any other open document.
        """
        if surely_event_text(s):
            yield AuditEvent(s, source=self.source, line=n)
            return
        try:
            obj = _loads(s)
        except orjson.JSONDecodeError:
            if line is None:
                yield AuditEvent(s, obj=None, source=self.source, line=n)  # reported when evaluated
            else:
                self.acc = _Accumulator()
                yield from self._feed(n, line)
            return
        yield from self._expand(obj, n, where, raw=s)

    def _message_ok(self, msg: bytes, n: int, where: str) -> bool:
        if msg.endswith(TRUNCATED):
            self.bad(n, f"{where}message truncated by CloudWatch ([Truncated...])")
            return False
        if not looks_like_object(msg):
            self.bad(n, f"{where}message is not a JSON object: {_snippet(msg)}")
            return False
        return True

    def _too_long(self, n: int, line: bytes) -> bool:
        """True (and reported) when `line` is what `_LineCap` left of an over-long line."""
        mark = self.long_mark
        if self.max_line is None or not line.endswith(b"\n") or mark not in line[-64:]:
            return False
        size = line[line.rindex(mark) + len(mark) : -1]
        if not size.isdigit():
            return False
        self.bad(n, f"line of {int(size)} bytes skipped: longer than the {self.max_line}-byte line cap (--max-line-bytes)")
        return True

    # --- documents over several lines ----------------------------------------------------------
    def _feed(self, n: int, line: bytes) -> Iterator[AuditEvent]:
        acc = self.acc
        assert acc is not None
        if self._too_long(n, line):
            line = b"\n"  # the document lost a line: it will not parse, and is reported then
        acc.add(n, line)
        for kind, a, b, extra in acc.scan():
            if kind == "elem":
                yield from self._element(acc, a, b, *extra)
            elif kind == "doc":
                streamed, start_line = extra
                if streamed:
                    continue
                data = bytes(acc.buf[a:b])
                try:
                    obj = _loads(data)
                except orjson.JSONDecodeError as e:
                    self.bad(start_line, f"invalid JSON: {e}")
                    if acc.line_of(b - 1) > start_line:
                        self._requeue(acc, start_line)
                        return
                    continue
                yield from self._expand(obj, acc.line_of(a), "", raw=None if b"\n" in data else data)
            else:
                self.bad(acc.line_of(a), f"not JSON: {_snippet(bytes(acc.buf[a:b]).strip())}")
        if not acc.open:
            self.acc = None
            return
        if acc.held_bytes() > self.max_doc:
            if acc.streamed:
                self.bad(acc.line_of(acc.elem_start), f"JSON item larger than {self.max_doc} bytes skipped")
                self.acc = None
            else:
                self.bad(acc.start_line, f"JSON document not closed within {self.max_doc} bytes")
                self._requeue(acc, acc.start_line)
            return
        acc.compact()

    def _requeue(self, acc: _Accumulator, after: int) -> None:
        """Forget the document; read the lines after its first one again, one by one."""
        self.acc = None
        self.pending.extendleft(reversed(acc.lines_after(after)))

    def _element(self, acc: _Accumulator, a: int, b: int, ctx: _Container, i: int) -> Iterator[AuditEvent]:
        where = f"{ctx.name}[{i}]"
        line = acc.line_of(a)
        try:
            obj = _loads(bytes(acc.buf[a:b]))
        except orjson.JSONDecodeError as e:
            self.bad(line, f"{where}: invalid JSON: {e}")
            return
        yield from self._item(obj, line, where, ctx)

    def _item(self, obj: Any, line: int, where: str, ctx: _Container) -> Iterator[AuditEvent]:
        if ctx.name == "logEvents":
            if not ctx.control:
                yield from self._record(obj, line, where, ctx.group, ctx.stream)
        else:
            yield from self._expand(obj, line, where)

    # --- parsed values --------------------------------------------------------------------------
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
                group, stream = _str(value.get("logGroup")), _str(value.get("logStream"))
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
        msg = item.get("message")
        if not isinstance(msg, str):
            if item.get("kind") == "Event" or "auditID" in item:
                yield _event(item, None, self.source, n)
            else:
                self.bad(n, f"{label}CloudWatch log event without a message")
            return
        data = msg.encode("utf-8", "surrogateescape").rstrip(b"\r\n")
        if not self._message_ok(data.strip(), n, label):
            return
        meta = CwMeta(
            log_stream=_str(item.get("logStreamName")) or stream,
            timestamp=_int(item.get("timestamp")),
            ingestion_time=_int(item.get("ingestionTime")),
            event_id=_str(item.get("eventId")) or _str(item.get("id")),
            log_group=_str(item.get("logGroupName")) or group,
        )
        yield AuditEvent(data, cw=meta, source=self.source, line=n)

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
            for _ in range(_MAX_GZIP_NESTING):
                if not is_gzip(payload):
                    break
                payload = _gunzip(payload, self.max_doc)
        except (TypeError, binascii.Error, OSError, EOFError, zlib.error) as e:
            self.bad(n, f"{where}: cannot decode: {e}")
            return
        acc = _Accumulator()
        acc.add(n, payload)
        for kind, a, b, extra in acc.scan():
            if kind == "garbage":
                self.bad(n, f"{where}: not JSON: {_snippet(bytes(acc.buf[a:b]).strip())}")
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


def _long_line_mark() -> bytes:
    """What `_LineCap` writes in place of the end of an over-long line: unguessable, so no input forges it."""
    return b"\x00eksaudit-long-line-" + os.urandom(8).hex().encode() + b":"


_NL_RX = re.compile(rb"\n")


class _LineCap(io.RawIOBase):
    """A stream that never passes on more than `cap` bytes of one line.

    Lines within the cap pass unchanged (read straight into the caller's buffer: no copy on the hot
    path). Of a longer line, at most its first `cap` bytes are passed on (the reader above may have
    taken them already); the rest is discarded up to its newline, which is replaced by
    `mark + b"<length>\n"`, so the line above ends there, its number stays exact, and the reader
    reports it (`_SourceReader._too_long`). Reads are at most `cap + 1` bytes, so any line that ends
    inside one read is within the cap; only the line running across reads needs counting.
    """

    def __init__(self, src: Any, cap: int, mark: bytes) -> None:
        super().__init__()
        self.src = src
        self._read = _available_reader(src)
        self.cap = max(int(cap), 1)
        self.mark = mark
        self.cur = 0  # bytes of the current (unfinished) line passed on so far
        self.skipping = -1  # >= 0: length so far of an over-long line being discarded
        self.out = b""  # bytes to hand out before reading on (after an over-long line)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        if self.out:
            k = min(len(view), len(self.out))
            view[:k] = self.out[:k]
            self.out = self.out[k:]
            return k
        want = min(len(view), self.cap + 1)
        while True:
            got = self._read(view[:want])
            if not got:  # end of input
                if self.skipping >= 0:
                    self._ended_long(self.skipping, b"")
                    return self.readinto(b)
                return 0
            m = _NL_RX.search(view, 0, got)
            first = m.start() if m is not None else -1
            if self.skipping >= 0:
                if first < 0:
                    self.skipping += got
                    continue
                self._ended_long(self.skipping + first, bytes(view[first + 1 : got]))
                return self.readinto(b)
            if first < 0:
                if self.cur + got <= self.cap:
                    self.cur += got
                    return got
                k = self.cap - self.cur  # pass the line up to the cap, discard the rest
                self.skipping = self.cur + got
                self.cur = 0
                if k > 0:
                    return k
                continue
            if self.cur + first > self.cap:  # the line that ends here is too long
                total = self.cur + first
                self.cur = 0
                self._ended_long(total, bytes(view[first + 1 : got]))
                return self.readinto(b)
            self.cur = got - 1 - _last_nl(view, got)
            return got

    def _ended_long(self, total: int, rest: bytes) -> None:
        """The over-long line ended (its length is `total`): hand out the mark, then `rest`."""
        self.skipping = -1
        self.out = self.mark + b"%d\n" % total + rest
        nl = rest.rfind(b"\n")
        self.cur = len(rest) - 1 - nl if nl >= 0 else len(rest)
        # `rest` is shorter than one read, so every line it ends is within the cap; its unfinished
        # tail counts towards the next line (cur)


def _available_reader(src: Any) -> Callable[[memoryview], int]:
    """`readinto` for a regular file (never blocks); for a pipe or terminal, one that returns what is
    there (a line typed or piped in is read at once, as `readline` would), via `peek`. A gzip
    stream is read one chunk at a time: a longer read of a truncated stream would lose the data
    already decompressed (see `_SourceReader.read`)."""
    if isinstance(src, gzip.GzipFile):
        return src.readinto1
    try:
        regular = stat.S_ISREG(os.fstat(src.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        regular = False
    peek = getattr(src, "peek", None)
    if regular or peek is None:
        return src.readinto  # type: ignore[no-any-return]
    readinto = src.readinto

    def read_available(view: memoryview) -> int:
        n = len(peek(1))  # what is buffered; one read of the stream first when nothing is
        if not n:
            return 0
        return readinto(view[:n] if n < len(view) else view)  # type: ignore[no-any-return]

    return read_available


def _last_nl(view: memoryview, got: int) -> int:
    """Offset of the last newline in view[:got] (one is known to exist), looked for from the end."""
    w = 4096
    while True:
        lo = max(0, got - w)
        i = bytes(view[lo:got]).rfind(b"\n")
        if i >= 0:
            return lo + i
        w *= 16


def _event(obj: Any, raw: bytes | None, source: str, n: int) -> AuditEvent:
    if raw is None:
        return AuditEvent.from_obj(obj, source=source, line=n)
    return AuditEvent(raw, obj=obj, source=source, line=n)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def _snippet(s: bytes, n: int = 40) -> str:
    text = s[:n].decode("utf-8", "replace")
    return repr(text + ("..." if len(s) > n else ""))
