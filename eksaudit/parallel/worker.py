"""The worker side of `--jobs`: forked processes, their pipes, and the scan of one chunk.

`Workers` forks the processes (after the driver in `__init__.py` has set the job they inherit);
`work` is what a worker does with one byte range: read it through the ordinary `SourceReader`,
`scan` it into a sink that renders into memory, and hand back a `Result` (line numbers relative to
the chunk) for the parent to merge in input order.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import EksauditError
from ..events.batches import BlockSlot
from ..events.blocks import anchor_patterns
from ..events.event import AuditEvent
from ..events.kinds import NotAudit
from ..events.readers import SourceReader
from ..output.console import Console
from ..output.sink import Sink, open_sink
from ..pipeline import ScanStats, scan

if TYPE_CHECKING:
    from . import ScanJob

_NEVER_SPILL = 1 << 62  # a worker's counts are a chunk's: they never need the spill file

_JOB: ScanJob | None = None  # set before the workers fork: what every worker scans with
_ANCHORS: Any = None


class Workers:
    """`n` forked processes; chunk i goes to worker i % n and its result is read back in order.

    Not `multiprocessing.Pool`: its helper threads made Ctrl-C hang now and then (terminate
    waiting on a queue the interrupt left half-used). Here a task is a small message on the
    worker's own pipe, a result a length-prefixed pickle on another; a worker that is ahead waits
    on its full pipe until the parent needs its result, so it holds at most one result. `close`
    kills the workers (SIGKILL: they may be busy with chunks nobody needs) and reaps them.
    """

    def __init__(self, job: ScanJob, n: int) -> None:
        global _JOB, _ANCHORS
        _JOB, _ANCHORS = job, None
        self.trim = _Trim()  # the parent reads the chunks' results
        self.procs: list[tuple[int, int, Any]] = []  # (pid, task pipe, result pipe)
        self.sent = self.received = 0
        self.buf = bytearray()  # the last result's output, read here: one buffer, not a fresh one per chunk
        self.view = memoryview(self.buf)
        import gc

        gc.freeze()  # the workers' collections skip what they inherit: fewer pages copied on write
        try:
            for _ in range(n):
                self._spawn()
        except BaseException:
            self.close()
            raise
        finally:
            gc.unfreeze()

    def _spawn(self) -> None:
        task_r, task_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's code
            code = 0
            try:
                os.close(task_w)
                os.close(res_r)
                for _, w, r in self.procs:  # the other workers' pipes: only the parent holds them
                    os.close(w)
                    os.close(r.fileno())
                _init_worker()
                _serve(task_r, res_w)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(task_r)
        os.close(res_w)
        self.procs.append((pid, task_w, os.fdopen(res_r, "rb")))

    def submit(self, task: tuple[Any, ...]) -> None:
        import pickle

        data = pickle.dumps(task)
        pid, w, _ = self.procs[self.sent % len(self.procs)]
        try:
            os.write(w, len(data).to_bytes(4, "little") + data)  # small: never fills the pipe
        except OSError:  # EPIPE: the worker is gone (not stdout: that must not read as `| head`)
            raise _ended(pid) from None
        self.sent += 1

    def result(self) -> Result:
        """The next chunk's result. Its `data` is a view of a buffer this object reuses: valid until
        the next call (the driver writes it out before asking again)."""
        import pickle

        pid, _, r = self.procs[self.received % len(self.procs)]
        self.received += 1
        head = r.read(16)
        payload = r.read(int.from_bytes(head[:8], "little")) if len(head) == 16 else b""
        if not payload:
            raise _ended(pid)
        ok, value = pickle.loads(payload)  # noqa: S301 (our own child's pipe)
        del payload
        if not ok:
            raise RuntimeError(f"in worker process {pid}:\n{value}")
        size = int.from_bytes(head[8:], "little")
        if size:
            if len(self.buf) < size:
                self.view.release()
                self.buf = bytearray(size + (size >> 2))
                self.view = memoryview(self.buf)
            if r.readinto(self.view[:size]) != size:
                raise _ended(pid)
            value.data = self.view[:size]
        self.trim()
        return value

    def close(self) -> None:
        procs, self.procs = self.procs, []
        for pid, w, r in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.close(w)
            r.close()
        for pid, _, _ in procs:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _ended(pid: int) -> EksauditError:
    return EksauditError(f"worker process {pid} ended unexpectedly (out of memory?); --jobs 1 reads without workers")


def _serve(task_fd: int, result_fd: int) -> None:
    """A worker's loop: read a task (`work`'s arguments), scan, write the result; until the parent closes."""
    import pickle
    import traceback

    tasks = os.fdopen(task_fd, "rb")
    out = os.fdopen(result_fd, "wb")
    trim = _Trim()
    while True:
        head = tasks.read(4)
        if len(head) < 4:
            return
        task = pickle.loads(tasks.read(int.from_bytes(head, "little")))  # noqa: S301
        data: Any = b""
        try:
            res = work(*task)
            data, res.data = res.data, b""  # sent after the pickle, as it is: not copied into it
            payload = pickle.dumps((True, res), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            if isinstance(data, memoryview):
                data.release()
            data = b""  # the parent stops at the failure: nothing follows its pickle
            payload = pickle.dumps((False, traceback.format_exc()))
        out.write(len(payload).to_bytes(8, "little") + len(data).to_bytes(8, "little"))
        out.write(payload)
        if data:
            out.write(data)
        out.flush()
        if isinstance(data, memoryview):
            data.release()
        del payload, data
        trim()


class _Trim:
    """Gives the heap's free pages back to the system when a process has grown by `slack` bytes.

    A process that handles chunk after chunk allocates and frees blocks of a megabyte or two (a
    block read, a chunk's output, its pickle); glibc serves them from the heap, which fragments:
    measured, a worker grew from 21 to 63 MB over 340 chunks of 4 MB. Mapping such blocks instead
    (a fixed M_MMAP_THRESHOLD) keeps it flat but costs 15% more CPU in page faults, and
    `malloc_trim` after every chunk 40%; checking the size (one read of /proc/self/statm) and
    trimming when it grew costs nothing measurable. Each trim makes the next chunk fault its
    pages in again: with 8 MB of slack (not 4) `not ka.verb in (...)` over 500k events took 0.1 s
    less system time, at 77 MB for the three processes (16 MB: 94 MB).
    """

    def __init__(self, slack: int = 8 << 20) -> None:
        self.trim: Any = None
        try:
            import ctypes

            self.trim = ctypes.CDLL(None).malloc_trim
            self.limit = self._rss() + slack
        except (OSError, AttributeError, ValueError):  # not Linux/glibc: nothing to do
            self.trim = None

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __call__(self) -> None:
        if self.trim is not None and self._rss() > self.limit:
            self.trim(0)


def _init_worker() -> None:
    """Ctrl-C is the parent's to handle (it terminates the workers); die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        parent = os.getppid()
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            os._exit(0)
    except (OSError, AttributeError):  # not Linux: a worker still ends when its task pipe closes
        pass


# --- a worker --------------------------------------------------------------------------------------
@dataclass
class Result:
    """One chunk, scanned (line numbers relative to the chunk)."""

    source: str
    data: bytes | memoryview  # the rendered output (a view of a reused buffer: write it out before the next result)
    count: int  # matches the sink counted (alerts with rules)
    matched: int  # events that matched
    events: int
    alerts: int
    bad: list[tuple[str, int | None, Any]]  # ("bad", line, reason) / ("unparsable", line, raw), in order
    not_audit: list[NotAudit]
    marks: list[tuple[int, int, int]] | None  # with --limit: (output, bad, not_audit) lengths after each match
    counts: dict[tuple[Any, ...], int] | None
    summary: Any
    error: EksauditError | None
    unclean: bool

    @property
    def reports(self) -> bool:
        """True when something in the chunk carries a line number (to shift by the lines before it)."""
        return bool(self.bad or self.not_audit or self.error is not None)


class _Range(io.RawIOBase):
    """Bytes [start, end) of a file descriptor."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        self.fd, self.pos, self.end = fd, start, end

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        """The file's descriptor: the line cap reads a regular file in whole blocks, not a buffer at a time."""
        return self.fd

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.end - self.pos)
        if n <= 0:
            return 0
        with memoryview(b) as view:
            k = os.preadv(self.fd, [view[:n]], self.pos)  # into the reader's buffer
        self.pos += k
        return k


class _ChunkReader(SourceReader):
    """A SourceReader that, at the end of its range, says whether a document was still open."""

    unclean = False

    def _finish(self) -> Iterator[AuditEvent]:
        if self.acc is not None or self.pending or self.io_error is not None:
            self.unclean = True  # the parent reads this chunk again, sequentially
            return iter(())
        return super()._finish()


class _Marks:
    """The worker's sink with --limit: notes, after each match, how long each output list is."""

    def __init__(self, sink: Sink, out: io.BytesIO, bad: list[Any], na: list[Any]) -> None:
        self.sink, self.out, self.bad, self.na = sink, out, bad, na
        self.marks: list[tuple[int, int, int]] = []
        self.done = False

    def event(self, ev: AuditEvent) -> None:
        self.sink.event(ev)
        self.marks.append((self.out.tell(), len(self.bad), len(self.na)))
        self.done = self.sink.done

    def alert(self, alert: Any) -> None:  # with rules there are no marks (can_split)
        self.sink.alert(alert)
        self.done = self.sink.done

    def flush(self) -> None:
        self.sink.flush()


_OUT: io.BytesIO | None = None


def _output() -> io.BytesIO:
    """The worker's output buffer, rewound: one for every chunk, written over, never shrunk.

    A fresh BytesIO per chunk grows to the chunk's output (megabytes when many events match) and
    is freed again: measured, about half of a worker's page faults (a third of its CPU time with
    `not ka.verb in (...)`). `tell()` is where this chunk's output ends.
    """
    global _OUT
    if _OUT is None:
        _OUT = io.BytesIO()
    _OUT.seek(0)
    return _OUT


def work(name: str, start: int, end: int, anchor: int | None, source: str | None = None,
         mark: bytes | None = None) -> Result:
    """Scan bytes [start, end) of file `name`. A chunk of a stream (stream.py) comes as a temporary
    file: `source` is then the name to report and `mark` the parent's line-cap mark (lines capped)."""
    global _ANCHORS
    job = _JOB
    assert job is not None
    if _ANCHORS is None:
        _ANCHORS = anchor_patterns(job.required)
    anchors = _ANCHORS if anchor is None else [_ANCHORS[anchor]]
    out = _output()
    console = Console(out, io.StringIO(), job.stdout_isatty, job.color, line_buffered=False)
    opts = replace(job.opts, max_memory=_NEVER_SPILL)
    sink = open_sink(opts, console, job.registry, has_rules=job.rules is not None)
    sink.rows_only()
    bad: list[tuple[str, int | None, Any]] = []
    na: list[NotAudit] = []
    texts: dict[str, str] = {}

    def on_na(x: NotAudit) -> None:  # the same text object for equal texts: pickled once
        na.append(replace(x, text=texts.setdefault(x.text, x.text)))

    source = source if source is not None else name
    slot = BlockSlot()
    reader = _ChunkReader(
        source, anchors=anchors, max_line=job.max_line_bytes, capped_mark=mark, strict=job.strict, slot=slot,
        on_bad=lambda b: bad.append(("bad", b.line, b.reason)), max_doc=job.max_document_bytes, on_not_audit=on_na,
    )
    summary = job.rules.new_summary() if job.rules is not None else None
    target: Any = _Marks(sink, out, bad, na) if job.opts.limit is not None else sink
    stats = ScanStats()
    error: EksauditError | None = None
    fd = os.open(name, os.O_RDONLY)
    try:
        raw = _Range(fd, start, end)
        try:
            scan(
                reader.read(io.BufferedReader(raw, 1 << 16)), target, condition=job.condition, rules=job.rules,
                window=job.window, on_alert=summary.add if summary is not None else None,
                on_unparsable=(lambda ev: bad.append(("unparsable", ev.line, ev.raw))) if job.report_unparsable else None,
                stats=stats, slot=slot,
            )
        except EksauditError as e:
            error = e
    finally:
        os.close(fd)
    counter = getattr(sink.writer, "counter", None)
    data = out.getbuffer()[: out.tell()]  # what this chunk wrote (the buffer may hold more, from earlier)
    return Result(
        source=source, data=data, count=sink.count, matched=stats.matched,
        events=stats.events, alerts=stats.alerts, bad=bad, not_audit=na,
        marks=target.marks if isinstance(target, _Marks) else None,
        counts=counter.counts if counter is not None else None, summary=summary, error=error,
        unclean=reader.unclean and error is None and not sink.done,
    )
