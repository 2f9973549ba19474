"""`filter`/`fields` on every core: byte ranges of a file (or chunks of a stream) scanned in workers.

A plain (not gzip), regular file larger than `CHUNK_BYTES` is cut into chunks of about that size,
each ending right after a line that ends with `}` and before a line that starts like the API
server writes an event (`{"kind":"Event",`): two JSON values with only a line break between them
are never inside one valid document, so such a split almost never falls inside one. Workers
(`fork` start method: the compiled condition, ruleset, registry and options are inherited, never
pickled) read their range through the ordinary `SourceReader` and `scan` into a sink that renders
into memory, and hand back the rendered bytes, the `--count-by` counts, the rules summary, the bad
lines and non-audit objects (line numbers relative to the chunk). The parent writes chunks
strictly in input order, shifts line numbers by the lines before the chunk (counted only when a
chunk reports something) and merges the rest, so stdout, stderr and the exit status are those of the sequential scan
(`--jobs 1`, the slow twin the property tests compare this with).

Why this is exact: a chunk's reader starts as a fresh reader does, which is the sequential
reader's state at the split only if no multi-line document was open there. The worker says so: a
chunk that ends with a document still open (or lines waiting to be read again, or a read error)
is `unclean`, and the parent reads the file sequentially from that chunk's start (a clean point,
by induction) to its end. So is a file with no split point within a chunk's length (pretty-printed
documents, CloudWatch pages, re-spelled events): it is read in one process from the last split.

`--limit` stays exact: without rules a worker records, after each match, the length of its
output and of its report lists, and the parent cuts the chunk that reaches the limit there. What
cannot be merged exactly is left to the sequential scan (`can_split`): `-o table` (the first rows
fix the column widths), `--limit` with rules (alerts past the limit still count in the summary)
or with `--count-by`.

Stdin and `.gz` inputs cannot be read at an offset: the parent reads them as the sequential
reader would and cuts them into chunks that it hands to the workers (`stream.py`).

The worker processes, their pipes and what one worker does with a chunk live in `worker.py`.

Memory: at most `2 * jobs` chunks are in flight, each result holds at most a chunk's output.
Ctrl-C and a closed stdout terminate the workers (they ignore SIGINT themselves, and die with
the parent on Linux).
"""

from __future__ import annotations

import itertools
import os
import re
import stat
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import EksauditError, InputError
from ..events.batches import BlockSlot
from ..events.blocks import anchor_patterns
from ..events.envelopes import BadLine
from ..events.event import AuditEvent
from ..events.kinds import NotAudit
from ..events.readers import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    STDIN_NAME,
    SourceReader,
    open_input,
    read_events,
)
from ..events.sniff import is_gzip
from ..output.options import OutputFormat, OutputOptions
from ..output.sink import Sink
from ..pipeline import ScanStats, scan
from ..timewindow import Window

if TYPE_CHECKING:
    from .stream import Cutter, Spool
    from .worker import Result as _Result

__all__ = ["CHUNK_BYTES", "ScanJob", "can_split", "default_jobs", "scan_files"]

#: bytes per chunk (internal knob: tests set it to a few hundred so random inputs span many chunks)
CHUNK_BYTES = 8 << 20  # 4 MB: 3-9% more wall time (a chunk costs about 0.5 ms of set-up in a worker)
#: a split point: after a line ending with `}`, before a plain event line
_SPLIT = re.compile(rb'\}\r?\n(?=\{"kind":"Event",)')
_PROBE = 1 << 16  # bytes read at a time while looking for a split point


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class ScanJob:
    """What a scan needs besides its inputs and sink; workers inherit it through fork."""

    opts: OutputOptions
    registry: Any
    condition: Any = None
    rules: Any = None
    window: Window | None = None
    strict: bool = False
    max_line_bytes: int | None = DEFAULT_MAX_LINE_BYTES
    required: Any = None  # the condition's required literals (the readers' anchors), or None
    color: bool = False  # the parent Console's: workers render exactly as it would
    stdout_isatty: bool = False
    report_unparsable: bool = True  # filter reports event lines that are not JSON; fields does not
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES


def can_split(job: ScanJob, fmt: OutputFormat) -> bool:
    """False when the output needs state that chunks cannot merge exactly (see the module doc)."""
    opts = job.opts
    if fmt is OutputFormat.TABLE and not opts.count_by:
        return False
    return not (opts.limit is not None and (job.rules is not None or opts.count_by))


# --- the parent ---------------------------------------------------------------------------------
def scan_files(
    names: Sequence[str],
    sink: Sink,
    job: ScanJob,
    *,
    jobs: int,
    on_bad: Callable[[BadLine], None] | None = None,
    on_missing: Callable[[InputError], None] | None = None,
    on_not_audit: Callable[[NotAudit], None] | None = None,
    on_unparsable: Callable[[AuditEvent], None] | None = None,
    summary: Any = None,
    stats: ScanStats | None = None,
) -> ScanStats:
    """`scan(read_events(names, ...), sink, ...)` with large plain files split over `jobs` processes.

    The callbacks are `read_events`'s and `scan`'s; `summary` (rules) receives every alert (it is
    `scan`'s `on_alert` for inputs read here, merged for inputs read by workers). Call it only when
    `can_split` says yes.
    """
    st = stats if stats is not None else ScanStats()
    run = _Run(sink, job, max(1, jobs), on_bad, on_missing, on_not_audit, on_unparsable, summary, st)
    try:
        for name in list(names) or ["-"]:
            if sink.done:
                break
            size = _splittable(name) if run.jobs > 1 else None
            if size is not None and name == "-":
                run.split_file(_STDIN_FILE, size, STDIN_NAME)
                os.lseek(0, 0, os.SEEK_END)  # read, as one process would leave it
            elif size is not None:
                run.split_file(name, size)
            elif run.jobs > 1 and _streamable(name):
                run.split_stream(name)
            else:
                run.sequential([name])
    finally:
        run.close()
    return st


_STDIN_FILE = "/dev/stdin"  # stdin redirected from a regular file (`< audit.log`) is split like it


def _splittable(name: str) -> int | None:
    """The size of a regular, plain (not gzip) file worth splitting; None to read it sequentially.

    Standard input is one when it is a regular file read from its start (`eksaudit ... < FILE`),
    and is `sys.stdin` (a caller that replaced `sys.stdin` has its own stream).
    """
    if name == "-":
        return _stdin_file_size()
    try:
        st = os.stat(name)
        if not stat.S_ISREG(st.st_mode) or st.st_size <= CHUNK_BYTES:
            return None
        with open(name, "rb") as f:
            if is_gzip(f.read(2)):
                return None
    except (OSError, ValueError):  # the sequential reader reports it
        return None
    return st.st_size


def _stdin_file_size() -> int | None:
    try:
        if sys.stdin.buffer.fileno() != 0 or not os.path.exists(_STDIN_FILE):
            return None
        st = os.fstat(0)
        if (not stat.S_ISREG(st.st_mode) or st.st_size <= CHUNK_BYTES or os.lseek(0, 0, os.SEEK_CUR) != 0
                or is_gzip(os.pread(0, 2, 0))):
            return None
    except (AttributeError, OSError, ValueError):  # no stdin, not a file, a test's stand-in
        return None
    return st.st_size


def _streamable(name: str) -> bool:
    """Standard input or a gzip file: read by the parent, chunks scanned by workers (stream.py).

    Not a terminal: someone typing or pasting events expects each one answered at once.
    """
    if name == "-":
        try:
            return not sys.stdin.isatty()
        except (AttributeError, ValueError):  # no stdin, or a closed one: the sequential reader says so
            return False
    try:
        with open(name, "rb") as f:
            return is_gzip(f.read(2))
    except (OSError, ValueError):  # the sequential reader reports it
        return False


def _chunks(f: Any, size: int, chunk: int) -> Iterator[tuple[int, int]]:
    """(start, end) byte ranges covering the file; end -1: read the rest in one process."""
    start = 0
    while start < size:
        target = start + chunk
        if target >= size:
            yield start, size
            return
        split = _find_split(f, target, min(size, target + chunk))
        if split is None:
            if target + chunk >= size:
                yield start, size
            else:
                yield start, -1
            return
        yield start, split
        start = split


def _find_split(f: Any, pos: int, stop: int) -> int | None:
    """The first split point after byte `pos`, looked for until byte `stop`; None if there is none."""
    keep = b""  # the end of the previous read: a split point may straddle two reads
    base = pos  # file offset of the first byte after `keep`
    while base < stop:
        f.seek(base)
        new = f.read(_PROBE)
        if not new:
            return None
        data = keep + new
        m = _SPLIT.search(data)
        if m is not None:
            return base - len(keep) + m.end()
        keep = data[-24:]
        base += len(new)
    return None


class _Run:
    """The parent's side: the pool, chunks in flight, merging results into the real sink."""

    def __init__(
        self, sink: Sink, job: ScanJob, jobs: int, on_bad: Any, on_missing: Any, on_not_audit: Any,
        on_unparsable: Any, summary: Any, stats: ScanStats,
    ) -> None:
        self.sink, self.job, self.jobs = sink, job, jobs
        self.on_bad, self.on_missing, self.on_not_audit = on_bad, on_missing, on_not_audit
        self.on_unparsable = on_unparsable if job.report_unparsable else None
        self.summary = summary
        self.stats = stats
        self.pool: Any = None
        self.counter = getattr(getattr(sink, "writer", None), "counter", None)  # --count-by
        self.slot = BlockSlot()  # for the inputs read here from their start (not the shifted readers)

    def _scan(self, events: Any, on_unparsable: Any) -> None:
        job = self.job
        scan(
            events, self.sink, condition=job.condition, rules=job.rules, window=job.window,
            on_alert=self.summary.add if self.summary is not None else None,
            on_unparsable=on_unparsable, stats=self.stats, slot=self.slot,
        )

    def sequential(self, names: list[str]) -> None:
        job = self.job
        events = read_events(
            names, strict=job.strict, on_bad=self.on_bad, on_missing=self.on_missing, required=job.required,
            on_not_audit=self.on_not_audit, max_line_bytes=job.max_line_bytes,
            max_document_bytes=job.max_document_bytes, slot=self.slot,
        )
        self._scan(events, self.on_unparsable)

    def sequential_from(self, name: str, start: int, lines: int, source: str | None = None) -> None:
        """The rest of `name` from `start` (a clean split point) in this process, lines shifted."""
        reader = self._shifted(SourceReader, source or name, lines)
        with open(name, "rb", buffering=1 << 16) as f:
            f.seek(start)
            self._scan_shifted(reader, f, lines)

    def _shifted(self, cls: type[SourceReader], source: str, lines: int, *args: Any, **kwargs: Any) -> Any:
        """A reader (`cls`) of what comes after `lines` lines: it reports line numbers as the whole input's."""
        job = self.job
        on_bad, on_na = self.on_bad, self.on_not_audit
        return cls(
            *args, source, anchors=anchor_patterns(job.required), max_line=job.max_line_bytes, strict=job.strict,
            max_doc=job.max_document_bytes, **kwargs,
            on_bad=(lambda b: on_bad(_shift_bad(b, lines))) if on_bad is not None else None,
            on_not_audit=(lambda x: on_na(_shift_na(x, lines))) if on_na is not None else None,
        )

    def _scan_shifted(self, reader: SourceReader, stream: Any, lines: int) -> None:
        """`_scan` of a `_shifted` reader's events: unparsable events and errors shifted too."""
        unparsable = self.on_unparsable

        def shifted_unparsable(ev: AuditEvent) -> None:
            assert unparsable is not None
            unparsable(AuditEvent(ev.raw, obj=None, source=ev.source, line=_plus(ev.line, lines)))

        try:
            self._scan(reader.read(stream), shifted_unparsable if unparsable is not None else None)
        except InputError as e:
            raise _shift_error(e, lines) from None

    def _in_order(self, tasks: Iterator[tuple[tuple[Any, ...], Any]], merge: Callable[[Any, _Result], None]) -> list[Any]:
        """Tasks (a worker's arguments, a key) through the pool, at most two per worker in flight,
        each result handed to `merge(key, result)` in input order.

        Stops when the tasks run out or the sink is done (returns []), or at the first unclean
        chunk: returns the keys from that one on (their results are not used; the pool is closed).
        """
        pool = self.pool
        inflight: deque[Any] = deque()
        more = True
        while True:
            while more and len(inflight) < 2 * self.jobs:
                task = next(tasks, None)
                if task is None:
                    more = False
                    break
                pool.submit(task[0])
                inflight.append(task[1])
            if not inflight:
                return []
            res = pool.result()
            if res.unclean:
                self.close()
                return list(inflight)
            merge(inflight.popleft(), res)
            if self.sink.done:
                return []

    def split_file(self, name: str, size: int, source: str | None = None) -> None:
        """A file in byte ranges over the workers (`source`: the name to report, if not `name`)."""
        if self.pool is None:
            from .worker import Workers  # only a file worth splitting needs the workers (small ones: never)

            self.pool = Workers(self.job, self.jobs)
        rest: int | None = None
        with open(name, "rb") as f:
            lines = _LineCount(f.fileno())
            anchor = _rarest_anchor(self.job, f)

            def tasks() -> Iterator[tuple[tuple[Any, ...], int]]:
                nonlocal rest
                for start, end in _chunks(f, size, CHUNK_BYTES):
                    if end < 0:  # no split point ahead: the rest in one process
                        rest = start
                        return
                    yield (name, start, end, anchor, source), start

            unclean = self._in_order(
                tasks(), lambda start, res: self._merge(res, lines.before(start) if res.reports else 0))
            if self.sink.done:
                return
            if unclean:
                rest = unclean[0]
            before = lines.before(rest) if rest is not None else 0
        if rest is not None:
            self.sequential_from(name, rest, before, source)

    def split_stream(self, name: str) -> None:
        """Stdin or a gzip file: read and cut here (stream.py), chunks scanned by the workers."""
        job = self.job
        try:
            source, stream = open_input(name)
        except InputError as err:
            if job.strict or self.on_missing is None:
                raise err from None
            self.on_missing(err)
            return
        try:
            self._split_opened(source, stream)
        finally:
            if name != "-":
                stream.close()

    def _split_opened(self, source: str, stream: Any) -> None:
        from .stream import Cutter, Spool  # only a stream needs them

        job = self.job
        reader = SourceReader(
            source, anchors=anchor_patterns(job.required), max_line=job.max_line_bytes, strict=job.strict,
            on_bad=self.on_bad, max_doc=job.max_document_bytes, on_not_audit=self.on_not_audit,
        )
        opened = reader.open(stream)
        if opened is None:
            return
        f, first, gz = opened
        if is_gzip(first[:2]):  # still gzip after the nesting limit: a chunk's reader would unwrap it
            self._scan(reader.read_opened(f, first, gz), self.on_unparsable)
            return
        spool = Spool()
        cutter = Cutter(f, first, gz, CHUNK_BYTES, spool)
        chunks = iter(cutter)
        try:
            head = next(chunks, None)
            if head is None or cutter.ended:  # one chunk, or nothing to cut: no workers
                chunks.close()
                self._tail(source, cutter, 0, Spool.read(*head[:2]) if head else (), reader.long_mark)
                return
            # Forked now, the workers hold no more of the parent's buffers than a block read.
            if self.pool is None:
                from .worker import Workers

                self.pool = Workers(job, self.jobs)
            self._stream_chunks(source, cutter, head, chunks, spool, reader.long_mark)
        finally:
            spool.close()

    def _stream_chunks(self, source: str, cutter: Cutter, head: tuple[str, int, int],
                       gen: Generator[tuple[str, int, int], None, None], spool: Spool, mark: bytes) -> None:
        """The chunks of a stream to the workers, their results merged in order; the rest in one reader."""
        from .stream import Spool

        job = self.job
        lines = 0  # lines of the chunks merged

        def tasks() -> Iterator[tuple[tuple[Any, ...], tuple[str, int, int]]]:
            anchor = _rarest_of(job, b"".join(Spool.read(head[0], min(head[1], 1 << 20))))
            for chunk in itertools.chain([head], gen):
                path, size, _ = chunk
                yield (path, 0, size, anchor, source, mark), chunk

        def merge(chunk: tuple[str, int, int], res: _Result) -> None:
            nonlocal lines
            spool.free(chunk[0])
            self._merge(res, lines if res.reports else 0)
            lines += chunk[2]

        unclean = self._in_order(tasks(), merge)
        if self.sink.done:
            return
        gen.close()  # a chunk handed out is off the cutter's hands even if it is not used
        if not unclean and not cutter.stopped:
            return
        held = (block for path, size, _ in unclean for block in Spool.read(path, size))
        self._tail(source, cutter, lines, held, mark)

    def _tail(self, source: str, cutter: Cutter, lines: int, held: Iterable[bytes], mark: bytes) -> None:
        """The rest of a stream in this process: chunks held, then what the cutter left; lines shifted."""
        from .stream import Tail, TailReader

        reader = self._shifted(TailReader, source, lines, cutter, lines, capped_mark=mark)
        self._scan_shifted(reader, Tail(itertools.chain(held, cutter.rest())), lines)

    def _merge(self, res: _Result, lines: int) -> None:
        sink = self.sink
        limit = sink.limit
        take = res.count
        out, n_bad, n_na = len(res.data), len(res.bad), len(res.not_audit)
        cut = False
        if limit is not None and sink.count + res.count >= limit and res.marks:
            take = limit - sink.count
            out, n_bad, n_na = res.marks[take - 1]
            cut = True
        if self.on_not_audit is not None:
            for item in res.not_audit[:n_na]:
                self.on_not_audit(_shift_na(item, lines))
        for kind, line, what in res.bad[:n_bad]:
            if kind == "bad":
                if self.on_bad is not None:
                    self.on_bad(BadLine(res.source, _plus(line, lines), what))
            elif self.on_unparsable is not None:
                self.on_unparsable(AuditEvent(what, obj=None, source=res.source, line=_plus(line, lines)))
        sink.rendered(res.data[:out] if out < len(res.data) else res.data, take)
        if self.counter is not None and res.counts:
            self.counter.merge(res.counts)
        if self.summary is not None and res.summary is not None:
            self.summary.merge(res.summary)
        st = self.stats
        st.events += res.events
        st.matched += take if cut else res.matched
        st.alerts += res.alerts
        if res.error is not None and not cut:
            raise _shift_error(res.error, lines)

    def close(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()  # nothing useful is left in flight: stale chunks after a limit or an error


class _LineCount:
    """Lines before a byte offset of a file, counted only when a chunk's reports need shifting.

    Most chunks report nothing, so their lines are never counted; offsets only grow, and what
    was counted is not counted again.
    """

    def __init__(self, fd: int) -> None:
        self.fd, self.pos, self.lines = fd, 0, 0

    def before(self, offset: int) -> int:
        while self.pos < offset:
            data = os.pread(self.fd, min(1 << 20, offset - self.pos), self.pos)
            if not data:
                break
            self.lines += data.count(b"\n")
            self.pos += len(data)
        return self.lines


def _rarest_anchor(job: ScanJob, f: Any) -> int | None:
    """Which of the condition's anchors every chunk searches: the one rarest in the file's first block."""
    f.seek(0)
    return _rarest_of(job, f.read(1 << 20))


def _rarest_of(job: ScanJob, sample: bytes) -> int | None:
    """The anchor rarest in `sample` (a file's first block, a stream's first chunk); None: no choice.

    The sequential reader makes this choice once per input (`blocks._rarest`); each chunk making it
    again on its own first block cost a regex pass over a megabyte per chunk. Any anchor is as
    sound as another; the choice only saves time.
    """
    anchors = anchor_patterns(job.required)
    if len(anchors) < 2 or not all(hasattr(a, "hits") for a in anchors):
        return None
    return min(range(len(anchors)), key=lambda i: anchors[i].hits(sample))


def _plus(line: int | None, lines: int) -> int | None:
    return None if line is None else line + lines


def _shift_bad(b: BadLine, lines: int) -> BadLine:
    return BadLine(b.source, _plus(b.line, lines), b.reason)


def _shift_na(x: NotAudit, lines: int) -> NotAudit:
    return replace(x, line=_plus(x.line, lines))


def _shift_error(e: EksauditError, lines: int) -> EksauditError:
    if isinstance(e, InputError) and e.line is not None and lines:
        return InputError(e.message, e.source, e.line + lines)
    return e
