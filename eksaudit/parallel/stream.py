"""`--jobs` for stdin and gzip: the parent reads the stream once and cuts it into chunks for workers.

A pipe cannot be read at an offset, nor a gzip stream entered in the middle, so the parent reads
such an input itself, exactly as the sequential reader would (`SourceReader.open`: the same gzip
unwrapping, the same line cap and mark; of a truncated gzip stream, the lines the sequential
reader's line-by-line reads get), and cuts what it read at split points (`_SPLIT`, as for files)
into chunks. Each chunk is
written to a temporary file in TMPDIR (a task pipe could deadlock: a busy worker does not read
it) that a worker scans like a range of any file, with a reader that takes the line cap as done.

What workers cannot do is left to one reader in the parent (`Tail`): the chunks from the first
unclean one on (a document open at its end), a stream with no split point for `GIVE_UP` chunk lengths,
and the stream's end after a read or decompression error, which that reader reports where the
sequential reader does (after the last complete line the stream gave).

Measured (benchmarks/streams.py, 200,000 events, `not ka.verb in (get, list, watch)`, 2 CPUs):
the parent's copying and the output it writes bound the gain: 1.0-1.3x in wall time, for up to
60% more CPU; a question that prints little gains more. See docs/guide.md.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from typing import Any

from ..errors import EksauditError
from ..events.event import AuditEvent
from ..events.readers import SourceReader

_BLOCK = 1 << 18  # bytes read at a time: the parent holds about two of them
_KEEP = 32  # bytes held back from a read: more than a split point spans (`}\r\n{"kind":"Event",`)
GIVE_UP = 8  # chunk lengths without a split point after which the rest of the stream is read in one process
#: a split point: after a line ending with `}`, before a plain event line (the same as for files)
_SPLIT = re.compile(rb'\}\r?\n(?=\{"kind":"Event",)')


class Cutter:
    """Chunks of an opened stream (`SourceReader.open`), written to the spool's files as they are read.

    Iterating gives (file, length, lines) per chunk, each ending at a split point; the last one
    ends where the stream ends. The parent holds no more than a block read and a few bytes: the
    last `_KEEP` bytes read wait for the next read, in case a split point straddles the two. It
    stops early, leaving `rest()` to a single reader, when no split point comes within `GIVE_UP *
    size` bytes (pretty-printed documents, CloudWatch pages: nothing to cut) or when reading fails;
    `error` is then what the sequential reader would report (line relative to the stream's start).
    """

    def __init__(self, f: Any, first: bytes, gz: bool, size: int, spool: Spool) -> None:
        self.size = size
        self.spool = spool
        self.error: tuple[int | None, str] | None = None
        self.stopped = False  # iteration ended before the stream did (see `rest`)
        self.ended = False  # the chunk handed out last ends the stream
        self._hold = first  # read, not written yet
        self._cur: _Chunk | None = None  # the chunk being written
        self._seen = first.count(b"\n")  # newlines read so far
        self._pieces = self._gz_lines(f) if gz else self._blocks(f)

    def _gz_lines(self, f: Any) -> Iterator[bytes]:
        """The complete lines of a gzip stream, a block of them at a time.

        The sequential reader reads gzip line by line (`SourceReader._guarded`): on a truncated
        stream it gets every line the data before the break completes, never the line the break
        cuts. `read1` hands out all data decompressed before the break, so the bytes after the
        last line end wait for the next block, and are dropped at the break.
        """
        cut = b""  # the start of a line that the next block may complete
        try:
            while block := f.read1(_BLOCK):
                end = block.rfind(b"\n") + 1
                if end == 0:
                    cut += block
                    continue
                lines = cut + block[:end] if cut else block[:end]
                cut = block[end:]
                self._seen += lines.count(b"\n")
                yield lines
        except (OSError, EOFError, zlib.error) as e:
            self.error = (self._seen + 1, f"cannot decompress: {e}")
            return
        if cut:  # the last line, without a line end: the sequential reader reads it too
            yield cut

    def _blocks(self, f: Any) -> Iterator[bytes]:
        try:
            while block := f.read(_BLOCK):
                yield block
        except OSError as e:  # as `SourceReader.read_opened` reports a read error
            self.error = (None, f"read error: {e}")

    def __iter__(self) -> Iterator[tuple[str, int, int]]:
        # State lives in `_hold` and `_cur`, never in locals across a `yield`: a consumer that stops
        # (closes this generator) leaves everything not handed out to `rest`.
        size = self.size
        for piece in self._pieces:
            self._hold = self._hold + piece if self._hold else piece
            while True:
                data = self._hold
                cur = self._cur if self._cur is not None else self._open()
                if cur.length + len(data) < size:
                    break
                m = _SPLIT.search(data, max(0, size - cur.length - 24))
                if m is None:
                    if cur.length + len(data) >= GIVE_UP * size:
                        self.stopped = True
                        return
                    break
                cur.write(data, 0, m.end())
                self._hold = data[m.end() :]
                yield self._close()
            data = self._hold
            keep = len(data) - _KEEP
            if keep > 0:
                (self._cur if self._cur is not None else self._open()).write(data, 0, keep)
                self._hold = data[keep:]
        if self.error is not None:
            self.stopped = True  # the end of a broken stream: read by the tail, which reports it
            return
        if self._hold:
            (self._cur if self._cur is not None else self._open()).write(self._hold, 0, len(self._hold))
            self._hold = b""
        if self._cur is not None and self._cur.length:
            self.ended = True  # this chunk is the last
            yield self._close()

    def _open(self) -> _Chunk:
        self._cur = _Chunk(self.spool.take())
        return self._cur

    def _close(self) -> tuple[str, int, int]:
        cur, self._cur = self._cur, None
        assert cur is not None
        return cur.close()

    def rest(self) -> Iterator[bytes]:
        """What iteration left, in order: the chunk being written, the bytes held, then the rest of
        the stream (its error noted in `error`). Iteration must be over first."""
        cur, self._cur = self._cur, None
        if cur is not None:
            path, length, _ = cur.close()
            yield from self.spool.read(path, length)
        if self._hold:
            hold, self._hold = self._hold, b""
            yield hold
        yield from self._pieces


class _Chunk:
    """A chunk's file while it is written: its length and lines so far."""

    __slots__ = ("path", "fd", "length", "lines", "ends_line")

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)  # an idle file is written over
        except OSError as e:
            raise _spool_error(e) from None
        self.length = self.lines = 0
        self.ends_line = True

    def write(self, data: bytes, a: int, b: int) -> None:
        with memoryview(data) as mv:
            view = mv[a:b]
            try:
                while view:
                    view = view[os.write(self.fd, view) :]
            except OSError as e:  # a full or read-only TMPDIR
                raise _spool_error(e) from None
        self.length += b - a
        self.lines += data.count(b"\n", a, b)
        self.ends_line = data[b - 1] == 0x0A

    def close(self) -> tuple[str, int, int]:
        os.close(self.fd)
        return self.path, self.length, self.lines + (0 if self.ends_line else 1)


def _spool_error(e: OSError) -> EksauditError:
    return EksauditError(f"cannot write the temporary files that carry stdin or gzip input to the workers "
                         f"({e.strerror or e}, in {tempfile.gettempdir()}): set TMPDIR, or read with --jobs 1")


class Tail(io.RawIOBase):
    """A readable stream over an iterator of byte strings."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        super().__init__()
        self._pieces = pieces
        self._cur = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._cur:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._cur = memoryview(piece)
        n = min(len(b), len(self._cur))
        b[:n] = self._cur[:n]
        self._cur = self._cur[n:]
        return n


class TailReader(SourceReader):
    """The parent's reader of a `Tail`: reports the stream's error (`cutter.error`) at its end.

    `lines` is the number of lines before the tail; the error's line is made relative to the
    tail, as every line number this reader reports (the caller shifts them back).
    """

    def __init__(self, cutter: Cutter, lines: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cutter = cutter
        self.lines_before = lines

    def _finish(self) -> Iterator[AuditEvent]:
        yield from super()._finish()
        err = self.cutter.error
        if err is not None and self.io_error is None:
            line, reason = err
            self.io_error = (None if line is None else line - self.lines_before, reason)


class Spool:
    """Temporary files that carry chunks to the workers (in TMPDIR; they rarely leave the page cache).

    A few files are written over and over (`take` hands out a free one, `free` gives it back
    when its chunk's result is in): writing over pages a file already has costs less system time
    than a new file per chunk. The folder is named after the process (tests look for leftovers).
    """

    def __init__(self) -> None:
        try:
            self.dir = tempfile.mkdtemp(prefix=f"eksaudit-{os.getpid()}-")
        except OSError as e:
            raise _spool_error(e) from None
        self.idle: list[str] = []
        self.n = 0

    def take(self) -> str:
        if self.idle:
            return self.idle.pop()
        self.n += 1
        return os.path.join(self.dir, f"{self.n}.chunk")

    def free(self, path: str) -> None:
        self.idle.append(path)

    @staticmethod
    def read(path: str, size: int) -> Iterator[bytes]:
        """A chunk back, a block at a time (the parent reads it itself after an unclean chunk)."""
        with open(path, "rb") as f:
            while size > 0 and (block := f.read(min(_BLOCK, size))):
                size -= len(block)
                yield block

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
