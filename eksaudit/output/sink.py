"""The one output facade commands use: `open_sink(...)` → `.event(ev)` / `.alert(a)` … `.close()`.

It checks option combinations (UsageError, before anything is printed), resolves `--fields` /
`--count-by` through the registry (FieldError before any output), compiles `--query` once, picks
the writer, and applies `--limit` (`.done` turns True once reached) and `-q` (count, print nothing).

With rules, a match is an alert: `.count` counts alerts and `--limit` stops after N alerts. Writers
that print events (jsonl, cw, table, csv, --fields, --count-by) print an event once even when it
triggers several rules in a row.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..events.event import AuditEvent
from .columns import columns_presence_reads, columns_reads, field_columns
from .console import Console
from .jsonl import FieldsJsonlWriter, JsonlWriter
from .options import OutputFormat, OutputOptions
from .query import compile_query

# The other writers are imported by open_sink when chosen: tabulate alone costs ~15 ms of start-up.

_ALERT_FORMATS = (OutputFormat.FALCO, OutputFormat.FALCO_JSON)
_JSON_FORMATS = (OutputFormat.JSONL, OutputFormat.CW, OutputFormat.FALCO_JSON)
_BATCH = 1 << 18  # bytes of lines held before one write (see Sink._batcher)
BATCH_ALERTS = True  # the slow twin: False, every alert through `Sink.alert` and its writer's `alert`


def resolve_format(opts: OutputOptions, default_format: OutputFormat, has_rules: bool) -> OutputFormat:
    """The format to use: `-o`, else falco with rules (unless --fields/--count-by ask for values)."""
    if opts.format is not None:
        return OutputFormat(opts.format)
    default = OutputFormat(default_format)
    if opts.fields or opts.count_by:
        return OutputFormat.JSONL if default in _ALERT_FORMATS else default
    if has_rules:
        return OutputFormat.FALCO
    return default


def check_options(opts: OutputOptions, fmt: OutputFormat, has_rules: bool) -> None:
    """Reject combinations that cannot mean anything, with the fix in the message."""
    if fmt in _ALERT_FORMATS and not has_rules:
        raise UsageError(f"-o {fmt.value} prints rule alerts: it needs rules (-r RULES)")
    if opts.top is not None and not opts.count_by:
        raise UsageError("--top needs --count-by")
    if opts.top is not None and opts.top < 1:
        raise UsageError("--top must be at least 1")
    if opts.limit is not None and opts.limit < 1:
        raise UsageError("--limit must be at least 1")
    if opts.fields and opts.count_by:
        raise UsageError("--fields and --count-by cannot be used together (--count-by prints its fields)")
    for flag, given in (("--fields", opts.fields), ("--count-by", opts.count_by)):
        if given and fmt not in (OutputFormat.JSONL, OutputFormat.TABLE, OutputFormat.CSV):
            raise UsageError(f"{flag} prints field values: use it with -o jsonl, table or csv, not -o {fmt.value}")
    if opts.query and fmt not in _JSON_FORMATS:
        raise UsageError(f"--query reshapes JSON output: use it with -o jsonl, cw or falco-json, not -o {fmt.value}")


class Sink:
    """Accepts matches, prints them in the chosen format, stops accepting at `--limit`."""

    def __init__(self, writer: Any, *, limit: int | None, quiet: bool, console: Console, alerts: bool) -> None:
        self._writer = writer
        self._limit = limit
        self._quiet = quiet
        self._console = console
        self._alert_writer = alerts
        self._last_event: AuditEvent | None = None
        self.count = 0
        self.done = False
        self.format: OutputFormat | None = None
        # what printing reads of an event's JSON (None: maybe all of it): lets the scan loop keep a
        # projected partial object on matched events (pipeline.py); `open_sink` fills it in
        self.reads: frozenset[tuple[str, ...]] | None = None
        self.presence_reads: frozenset[tuple[str, ...]] | None = None  # of those, read for being there only
        self._pending: list[bytes] = []
        self._direct: Any = None  # what `direct()` hands out
        self._raw_direct = False  # `_direct` reads only `ev.raw` (the fast JSON-lines writer)
        line_of = getattr(writer, "alert_line", None)
        if BATCH_ALERTS and not quiet and limit is None and alerts and line_of is not None and not console.line_buffered:
            self.alert = self._fast_alert_writer(line_of, console)  # type: ignore[method-assign]
        if not quiet and limit is None and not alerts:
            if isinstance(writer, JsonlWriter) and writer.query is None:
                self.event = self._fast_event_writer(console)  # type: ignore[method-assign]
            else:
                self.event = self._direct_event(writer.event)  # type: ignore[method-assign]
                self._direct = writer.event
        # matches may come as one reused event (events/batches.py): the writer reads fields only,
        # or (`needs_raw`) only the raw text, which the block's taker then cuts out per match
        self.needs_raw = self._direct is not None and self._raw_direct
        self.batchable = self.needs_raw or (self._direct is not None and getattr(writer, "reads_raw", True) is False)

    def _direct_event(self, write_event: Any) -> Any:
        """Nothing to check per event (no limit, not quiet, an event writer): count and hand on."""

        def event(ev: AuditEvent) -> None:
            self.count += 1
            write_event(ev)

        return event

    def _batcher(self, console: Console) -> Any:
        """`hold(line)`: lines held in `_pending` and written in one call (`_drain`) once they
        pass `_BATCH` bytes (and by `flush()`, which `close()` and the scan loop call when it stops,
        even on Ctrl-C). One write per line costs a system call per line on a pipe."""
        write = console.stdout.write
        pending = self._pending = []
        append = pending.append
        limit = _BATCH
        size = 0

        def drain() -> None:
            nonlocal size
            if pending:
                pending.append(b"")
                data = b"\n".join(pending)
                pending.clear()
                size = 0
                write(data)

        def hold(line: bytes) -> None:
            nonlocal size
            append(line)
            size += len(line)
            if size > limit:
                drain()

        self._drain = drain
        return hold

    def _fast_event_writer(self, console: Console) -> Any:
        """`-o jsonl` with nothing else: the raw bytes, written in batches (`_batcher`); line-buffered
        output (a terminal, `watch`) is written and flushed line by line."""
        write = console.stdout.write
        if console.line_buffered:
            flush = console.stdout.flush

            def event_now(ev: AuditEvent) -> None:
                self.count += 1
                write(ev.raw + b"\n")
                flush()

            return event_now
        hold = self._batcher(console)

        def event(ev: AuditEvent) -> None:
            self.count += 1
            hold(ev.raw)

        def uncounted(ev: AuditEvent) -> None:  # `event` for `direct()`: counted by the caller
            hold(ev.raw)

        self._direct = uncounted
        self._raw_direct = True  # `uncounted` reads `ev.raw` alone, and keeps that, not the event
        return event

    def _fast_alert_writer(self, line_of: Any, console: Console) -> Any:
        """`-o falco`/`falco-json` with nothing else (no limit, not `-q`, not line-buffered): each
        alert's line (`writer.alert_line`) written in batches (`_batcher`), without `alert`'s checks."""
        hold = self._batcher(console)

        def alert(a: Any) -> None:
            self.count += 1
            hold(line_of(a))

        return alert

    def bulk(self) -> Any:
        """`Counter.bulk()` of a `--count-by` of one column whose matches go straight to the counter
        (what `direct()` hands out), else None: a taken block's matches counted at once."""
        counter = getattr(self._writer, "counter", None)
        if counter is None or self._direct is None or self._direct != counter.add:
            return None
        return counter.bulk()

    def direct(self) -> Any:
        """The writer's own function for a match, when a match needs nothing else (no `--limit`,
        not `-q`, events printed as events), else None.

        For the scan loop's hot path: it calls the function per match, then `counted(n)` once with
        the number of matches it passed (`.done` never turns True in this mode).
        """
        return self._direct

    def counted(self, n: int) -> None:
        """`n` matches written through `direct()`'s function."""
        self.count += n

    def flush(self) -> None:
        """Write out everything printed so far: the batch of held events, then the console's stream.

        Checkpointing commands call it before recording progress (nothing recorded as delivered
        may still sit in a buffer); the scan loop calls it when it stops.
        """
        if self._pending:
            self._drain()
        self._console.flush()

    def event(self, ev: AuditEvent) -> None:
        """A matching event (no rules)."""
        if self.done:
            return
        self.count += 1
        if not self._quiet:
            if self._alert_writer:
                raise UsageError("this output format prints rule alerts, not events")
            self._writer.event(ev)
        if self._limit is not None and self.count >= self._limit:
            self.done = True

    def alert(self, alert: Any) -> None:
        """A rule alert: printed as an alert (falco formats), else as its event (once per event)."""
        if self.done:
            return
        if self._pending:
            self._drain()
        self.count += 1
        if not self._quiet:
            if self._alert_writer:
                self._writer.alert(alert)
            else:
                ev = alert.event
                if ev is not self._last_event:
                    self._last_event = ev
                    self._writer.event(ev)
        if self._limit is not None and self.count >= self._limit:
            self.done = True

    @property
    def alerts_only(self) -> bool:
        """Alerts are printed as alerts (Falco's formats) or not at all: nothing reads an alert's
        event but its rule's output fields and time (so it may hold a partial object)."""
        return self._alert_writer or self._quiet

    # --- output rendered by worker processes (eksaudit.parallel) ---------------------------------
    @property
    def writer(self) -> Any:
        """The format's writer (the parallel scan merges `--count-by` counts into its counter)."""
        return self._writer

    @property
    def limit(self) -> int | None:
        return self._limit

    def rows_only(self) -> None:
        """This sink renders a part of the output (a worker's chunk): no CSV header, the parent prints it."""
        skip = getattr(self._writer, "skip_header", None)
        if skip is not None:
            skip()

    def rendered(self, data: bytes, count: int) -> None:
        """`count` matches another process rendered in this sink's format (`rows_only`), written as they are."""
        if self._pending:
            self._drain()
        self.count += count
        if data and not self._quiet:
            header = getattr(self._writer, "ensure_header", None)
            if header is not None:
                header()
            self._console.stdout.write(data)
            if self._console.line_buffered:
                self._console.stdout.flush()
        if self._limit is not None and self.count >= self._limit:
            self.done = True

    def close(self) -> None:
        """Print what was held back (batched lines, tables' first batch, counts) and flush stdout."""
        self.flush()
        if not self._quiet:
            self._writer.close()
        self._console.flush()


def open_sink(
    opts: OutputOptions,
    console: Console,
    registry: Any,
    *,
    default_format: OutputFormat = OutputFormat.JSONL,
    has_rules: bool = False,
) -> Sink:
    """Validate the options and build the sink; raises UsageError / FieldError before any output."""
    fmt = resolve_format(opts, default_format, has_rules)
    check_options(opts, fmt, has_rules)
    fields = field_columns(opts.fields, registry) if opts.fields else None
    count_by = field_columns(opts.count_by, registry) if opts.count_by else None
    query = compile_query(opts.query)

    writer: Any
    if count_by is not None:
        from .counts import DEFAULT_MAX_MEMORY, CountsWriter

        max_memory = opts.max_memory if opts.max_memory is not None else DEFAULT_MAX_MEMORY
        writer = CountsWriter(console, count_by, fmt, top=opts.top, query=query, max_memory=max_memory)
    elif fmt is OutputFormat.FALCO:
        from .falco import FalcoTextWriter

        writer = FalcoTextWriter(console)
    elif fmt is OutputFormat.FALCO_JSON:
        from .falco import FalcoJsonWriter

        writer = FalcoJsonWriter(console, query)
    elif fmt is OutputFormat.CW:
        from .cw import CwWriter

        writer = CwWriter(console, query)
    elif fmt is OutputFormat.TABLE:
        from .columns import DEFAULT_COLUMNS
        from .table import TableWriter

        writer = TableWriter(console, fields or DEFAULT_COLUMNS)
    elif fmt is OutputFormat.CSV:
        from .columns import DEFAULT_COLUMNS
        from .csv import CsvWriter

        writer = CsvWriter(console, fields or DEFAULT_COLUMNS)
    elif fields is not None:
        writer = FieldsJsonlWriter(console, fields, query)
    else:
        writer = JsonlWriter(console, query)
    sink = Sink(
        writer,
        limit=opts.limit,
        quiet=opts.quiet,
        console=console,
        alerts=count_by is None and fmt in _ALERT_FORMATS,
    )
    sink.format = fmt
    sink.reads = _sink_reads(opts, fmt, registry)
    if opts.count_by and sink.reads is not None:
        sink.presence_reads = columns_presence_reads(opts.count_by, registry)
    return sink


def _sink_reads(opts: OutputOptions, fmt: OutputFormat, registry: Any) -> frozenset[tuple[str, ...]] | None:
    """What the chosen writer reads of an event's JSON: nothing for raw lines, the columns' paths."""
    if opts.quiet:
        return frozenset()
    if opts.query:
        return None
    refs = opts.count_by or opts.fields
    if refs:
        return columns_reads(refs, registry)
    if fmt is OutputFormat.JSONL:
        return frozenset()  # the raw text
    if fmt is OutputFormat.CW:
        from .cw import READS  # the raw text, CloudWatch metadata, else the event's time

        return READS
    return None
