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
`max_line_bytes` at most, then discards until the next newline (`linecap.py`).

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

This module reads lines and hands them on; the jobs live in their own modules: `blocks.py` (the
block fast path and anchored skipping), `jsonscan.py` (the byte scanner that gathers multi-line
documents and streams array items), `envelopes.py` (wrapper decoding, bad-input reporting),
`linecap.py` (the line cap), `sniff.py` / `kinds.py` (what a line or object is).
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain
from typing import Any, BinaryIO

import orjson

from ..errors import InputError
from . import sniff as _sniff
from .batches import BlockSlot
from .blocks import Anchor, anchor_patterns, read_blocks
from .envelopes import MAX_GZIP_NESTING, BadLine, Decoder, snippet
from .event import AuditEvent, CwMeta
from .jsonscan import Accumulator
from .kinds import NotAudit, surely_event_text
from .linecap import LineCap, long_line_mark
from .slowjson import loads as _loads  # orjson, then the depth-unlimited fallback
from .sniff import BOM, EVENT_PREFIX, LineKind, classify, is_gzip, split_export

__all__ = [
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "STDIN_NAME",
    "BadLine",
    "ReadStats",
    "iter_source",
    "read_events",
    "unparsable",
]

STDIN_NAME = "<stdin>"
DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
_READ_BUFFER = 1 << 16
_NO_PREFIX = b"\xff"  # never at the start of a UTF-8 line



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
    slot: BlockSlot | None = None,
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
    line; a closed stdin is reported like a file that cannot be opened. `slot`: the scan loop's
    `BlockSlot`, through which it may take whole blocks of plain event lines instead of their
    events (`batches.py`; the same `slot` goes to `pipeline.scan`).

    >>> for ev in read_events(["audit.jsonl.gz"]):   # doctest: +SKIP
    ...     print(ev.source, ev.line, ev.obj["verb"])
    """
    names = list(inputs) or ["-"]
    reader = partial(
        SourceReader, anchors=anchor_patterns(required), max_line=max_line_bytes, strict=strict,
        on_bad=on_bad, max_doc=max_document_bytes, on_not_audit=on_not_audit, slot=slot,
    )
    for name in names:
        try:
            source, f = open_input(name, stdin)
        except InputError as err:
            if strict or on_missing is None:
                raise err from None
            on_missing(err)
            continue
        if name == "-":  # not ours to close
            yield from reader(source).read(f)
            continue
        with f:
            yield from reader(source).read(f)


def open_input(name: str, stdin: BinaryIO | None = None) -> tuple[str, BinaryIO]:
    """(the name reports use, the opened stream) of an input: a file, or `-` for standard input.

    Raises InputError naming the input when it cannot be opened (a closed stdin included).
    """
    if name == "-":
        stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", None)
        if stream is None:  # `<&-`: there is no standard input at all
            raise InputError("cannot read: standard input is closed", STDIN_NAME)
        return STDIN_NAME, stream
    try:
        return name, open(name, "rb", buffering=_READ_BUFFER)  # noqa: SIM115 (the caller closes it)
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the name
        reason = e.strerror or e if isinstance(e, OSError) else "the file name contains a NUL byte"
        raise InputError(f"cannot open: {reason}", ascii(name)[1:-1] if "\0" in name else name) from None


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
    yield from SourceReader(
        source, max_line=max_line_bytes, strict=strict, on_bad=on_bad, max_doc=max_document_bytes,
        on_not_audit=on_not_audit,
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


class SourceReader(Decoder):
    """Reads one file or stream; holds the state of a multi-line document in progress."""

    def __init__(
        self,
        source: str,
        anchors: list[Anchor] | None = None,
        *,
        max_line: int | None = DEFAULT_MAX_LINE_BYTES,
        capped_mark: bytes | None = None,
        slot: BlockSlot | None = None,
        **decoding: Any,
    ) -> None:
        super().__init__(source, **decoding)
        self.slot = slot  # where a scan loop may take whole blocks of plain event lines (batches.py)
        self.max_line = max_line
        self.capped = capped_mark is not None  # the input went through a LineCap already (--jobs chunks)
        self.long_mark = capped_mark if capped_mark is not None else long_line_mark()
        self.anchors = anchors or []
        # the plain-event shortcut; with sniff.FAST off no line has it, so every line is sniffed/parsed
        self.prefix = EVENT_PREFIX if _sniff.FAST else _NO_PREFIX
        self.acc: Accumulator | None = None
        self.pending: deque[tuple[int, bytes]] = deque()
        self.io_error: tuple[int | None, str] | None = None

    # --- the stream -------------------------------------------------------------------------
    def read(self, stream: BinaryIO) -> Iterator[AuditEvent]:
        """The events of `stream` (gzip detected); its first line is read now, the rest as iterated.

        A plain stream's events come from a chain of the first line, the blocks (`read_blocks`)
        and the end, not from a generator of its own: one frame less to resume per event.
        """
        opened = self.open(stream)
        return iter(()) if opened is None else self.read_opened(*opened)

    def open(self, stream: BinaryIO) -> tuple[Any, bytes, bool] | None:
        """The stream to read lines from (gzip unwrapped, lines capped), its first line and whether
        it was gzip; None when there is nothing to read (a stream that cannot be decompressed is
        reported). `read` is `open` then `read_opened`; `--jobs` reads stdin and gzip through them too.
        """
        f: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream, _READ_BUFFER)  # type: ignore[arg-type]
        gz = False
        try:
            for _ in range(MAX_GZIP_NESTING):
                if not is_gzip(f.peek(2)[:2]):
                    break
                # not wrapped in another BufferedReader: on a truncated stream its multi-chunk
                # reads would drop the data already decompressed; GzipFile returns it line by line
                f = gzip.GzipFile(fileobj=f, mode="rb")
                gz = True
            if self.max_line is not None and not self.capped:
                f = io.BufferedReader(LineCap(f, self.max_line, self.long_mark), _READ_BUFFER)
            first = f.readline()
        except (OSError, EOFError, zlib.error) as e:
            self.bad(1, f"cannot decompress: {e}")
            return None
        if not first:
            return None
        return f, first, gz

    def read_opened(self, f: Any, first: bytes, gz: bool) -> Iterator[AuditEvent]:
        """The events of an opened stream (`open`), from its first line on."""
        if first.startswith(BOM):
            first = first[len(BOM) :]
        if gz:
            return self._read_gz(f, first)
        # a read error on a plain file ends read_blocks, which notes it in `io_error` for `_end`
        return chain(self._process(((1, first),)), read_blocks(self, f), self._end())

    def _read_gz(self, f: Any, first: bytes) -> Iterator[AuditEvent]:
        try:
            yield from self._process(self._guarded(f, first))
        except OSError as e:  # gzip errors are caught in _guarded
            self.io_error = (None, f"read error: {e}")
        yield from self._end()

    def _end(self) -> Iterator[AuditEvent]:
        yield from self._finish()
        if self.io_error is not None:
            self.bad(*self.io_error)

    def other(self, n: int, line: bytes) -> Iterator[AuditEvent]:
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
        if kind is LineKind.EVENT and surely_event_text(s):
            yield AuditEvent(s, source=self.source, line=n)
        elif kind is LineKind.BLANK:
            return
        elif kind is LineKind.PARSE or kind is LineKind.EVENT:
            # parsed once; a line that does not parse may open a pretty-printed document (its
            # first line can end with the `}` of an inner object): it is gathered like any other
            try:
                obj = _loads(s)
            except orjson.JSONDecodeError:
                self.acc = Accumulator()
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
            self.bad(n, f"not JSON: {snippet(s)}")

    def _too_long(self, n: int, line: bytes) -> bool:
        """True (and reported) when `line` is what `LineCap` left of an over-long line."""
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
                self.bad(acc.line_of(a), f"not JSON: {snippet(bytes(acc.buf[a:b]).strip())}")
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

    def _requeue(self, acc: Accumulator, after: int) -> None:
        """Forget the document; read the lines after its first one again, one by one."""
        self.acc = None
        self.pending.extendleft(reversed(acc.lines_after(after)))
