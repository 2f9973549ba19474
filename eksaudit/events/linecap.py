"""The line cap: a stream that never passes on more than `cap` bytes of one line.

Lines longer than the cap (default 16 MB, far above CloudWatch's 1 MB event limit) are reported and
skipped without ever being held whole: the reader keeps their first `cap` bytes at most, then
discards until the next newline, which it replaces by an unguessable mark and the line's length.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
from collections.abc import Callable
from typing import Any


def long_line_mark() -> bytes:
    """What `LineCap` writes in place of the end of an over-long line: unguessable, so no input forges it."""
    return b"\x00eksaudit-long-line-" + os.urandom(8).hex().encode() + b":"


_NL_RX = re.compile(rb"\n")


class LineCap(io.RawIOBase):
    """A stream that never passes on more than `cap` bytes of one line.

    Lines within the cap pass unchanged (read straight into the caller's buffer: no copy on the hot
    path). Of a longer line, at most its first `cap` bytes are passed on (the reader above may have
    taken them already); the rest is discarded up to its newline, which is replaced by
    `mark + b"<length>\n"`, so the line above ends there, its number stays exact, and the reader
    reports it (`SourceReader._too_long`). Reads are at most `cap + 1` bytes, so any line that ends
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
    already decompressed (see `SourceReader.read`)."""
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
