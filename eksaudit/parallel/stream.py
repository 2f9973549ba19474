"""`--jobs` for stdin and gzip: the parent reads the stream once and cuts it into chunks for workers.

A pipe cannot be read at an offset, nor a gzip stream entered in the middle, so the parent reads
such an input itself, exactly as the sequential reader would (`SourceReader.open`: the same gzip
unwrapping, the same line cap and mark; gzip line by line, which decides what a truncated stream
yields), and cuts what it read at split points (`_SPLIT`, as for files) into chunks. Each chunk is
written to a temporary file (a task pipe could deadlock: a busy worker does not read it) that a
worker scans like a range of any file, with a reader that takes the line cap as done.

What workers cannot do is left to one reader in the parent (`Tail`): the chunks from the first
unclean one on (a document open at its end), a stream with no split point for `GIVE_UP` chunk lengths,
and the stream's end after a read or decompression error, which that reader reports where the
sequential reader does (after the last complete line the stream gave).

Measured on 200,000 demo events (280 MB), `not ka.verb in (get, list, watch)`: see
docs/performance.md.
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

from ..events.event import AuditEvent
from ..events.readers import SourceReader

_BLOCK = 1 << 20
GIVE_UP = 8  # chunk lengths without a split point after which the rest of the stream is read in one process
#: a split point: after a line ending with `}`, before a plain event line (the same as for files)
_SPLIT = re.compile(rb'\}\r?\n(?=\{"kind":"Event",)')


class Cutter:
    """Chunks of an opened stream (`SourceReader.open`), each ending at a split point.

    Iterating gives (data, lines) per chunk, data a view valid until the next chunk is asked for;
    the last chunk ends where the stream ends. It stops
    early, leaving `rest()` to a single reader, when no split point comes within `GIVE_UP * size`
    bytes (pretty-printed documents, CloudWatch pages: nothing to cut) or when reading fails; `error` is then what the sequential reader would report (line relative to
    the stream's start).
    """

    def __init__(self, f: Any, first: bytes, gz: bool, size: int) -> None:
        self.size = size
        self.error: tuple[int | None, str] | None = None
        self.lines = 0  # lines in the chunks handed out
        self.stopped = False  # iteration ended before the stream did (see `rest`)
        self._buf = bytearray(first)
        self._seen = first.count(b"\n")  # newlines read so far, chunks included
        self._pieces = self._gz_lines(f) if gz else self._blocks(f)

    def _gz_lines(self, f: Any) -> Iterator[bytes]:
        """Line by line, as `SourceReader._guarded` reads gzip (what a truncated stream yields)."""
        try:
            for line in f:
                self._seen += 1
                yield line
        except (OSError, EOFError, zlib.error) as e:
            self.error = (self._seen + 1, f"cannot decompress: {e}")

    def _blocks(self, f: Any) -> Iterator[bytes]:
        try:
            while block := f.read(_BLOCK):
                yield block
        except OSError as e:  # as `SourceReader.read_opened` reports a read error
            self.error = (None, f"read error: {e}")

    def __iter__(self) -> Iterator[tuple[memoryview, int]]:
        buf = self._buf
        size = self.size
        look = 0  # where the next search for a split point starts (earlier bytes have none)
        for piece in self._pieces:
            buf += piece
            while len(buf) >= size:
                m = _SPLIT.search(buf, max(look, size - 24))
                if m is None:
                    if len(buf) >= GIVE_UP * size:
                        self.stopped = True
                        return
                    look = len(buf) - 24
                    break
                end = m.end()
                look = 0
                yield from self._chunk(buf, end)
        if self.error is not None:
            self.stopped = True  # the end of a broken stream: read by the tail, which reports it
            return
        if buf:
            yield from self._chunk(buf, len(buf))

    def _chunk(self, buf: bytearray, end: int) -> Iterator[tuple[memoryview, int]]:
        """`buf[:end]` as a view (valid until the next item is asked for: not copied), then cut off."""
        n = buf.count(b"\n", 0, end) + (0 if buf[end - 1] == 0x0A else 1)
        self.lines += n
        try:
            with memoryview(buf) as whole, whole[:end] as view:
                yield view, n
        finally:  # also when the consumer stops here (`close`): the chunk was handed out
            del buf[:end]

    def rest(self) -> Iterator[bytes]:
        """What iteration left: the bytes held, then the rest of the stream (errors noted in `error`).

        The iterator over the chunks must be finished or closed first."""
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            yield data
        yield from self._pieces


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
    """Temporary files that carry chunks to the workers (in /dev/shm when there is one).

    A few files are written over and over (`put` takes the next free one, `free` gives it back
    when its chunk's result is in): writing over pages a file already has costs a third of the
    system time of a new file per chunk (measured: 1.1 s against 0.3 s for 280 MB).
    """

    def __init__(self) -> None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self.dir = tempfile.mkdtemp(prefix=f"eksaudit-{os.getpid()}-", dir=base)
        self.idle: list[str] = []
        self.n = 0

    def put(self, data: bytes | memoryview) -> str:
        """A file whose first `len(data)` bytes are `data`."""
        if self.idle:
            path = self.idle.pop()
        else:
            self.n += 1
            path = os.path.join(self.dir, f"{self.n}.chunk")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return path

    @staticmethod
    def get(path: str, size: int) -> bytes:
        """A chunk back (the parent reads it itself after an unclean chunk)."""
        with open(path, "rb") as f:
            return f.read(size)

    def free(self, path: str) -> None:
        self.idle.append(path)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
