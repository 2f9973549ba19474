"""Where fetch and watch write: stdout or `--output-file FILE`, counting the bytes really written.

The checkpoint records progress only after the output was flushed, together with how many bytes
had been written. That count is what makes the two guarantees possible:

* `--output-file FILE` is opened for appending; the checkpoint records its length after each flush,
  and a resumed run first truncates FILE to that length. Whatever the previous run wrote after its
  last checkpoint (even half a line, even after SIGKILL) is cut and written again: exactly once.
* stdout cannot be truncated. When its reader goes away (EPIPE, `| head -50`), what the reader
  consumed is unknown, only bounded: at most what was written, minus what may still sit in the pipe
  and in the reader's buffer. The checkpoint goes back to a save before that bound (`PIPE_SLACK`),
  so the next run delivers the first event the reader did not print (at-least-once, nothing lost).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import deque
from typing import Generic, TypeVar

from ..errors import UsageError

T = TypeVar("T")

# What a reader that exits (head, grep -m) may have read but not printed: its own buffer. GNU head
# reads 8 KiB at a time, grep 96 KiB; 256 KiB covers the usual tools generously.
PIPE_SLACK = 256 * 1024
_DEFAULT_PIPE_SIZE = 64 * 1024
_BUFFER = 256 * 1024


class OutputFile:
    """A binary stream on a file descriptor: writes are buffered, `flush()` writes them with os.write.

    `written` counts bytes the kernel accepted (partial writes included), so it is exact even when a
    flush fails half way (EPIPE, ENOSPC); the unwritten rest stays buffered and is never counted.
    """

    def __init__(self, fd: int, *, path: str | None = None, owns_fd: bool = False, start: int = 0) -> None:
        self.fd = fd
        self.path = path
        self._owns = owns_fd
        self._buf: list[bytes] = []
        self._size = 0
        self.written = start
        self.failed = False

    @classmethod
    def append(cls, path: str, truncate_to: int | None = None) -> OutputFile:
        """Open `path` for appending (created if missing), first cut to `truncate_to` bytes if given."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as e:
            raise UsageError(f"--output-file {path}: cannot open it: {e.strerror or e}") from None
        try:
            size = os.fstat(fd).st_size
            if truncate_to is not None:
                if size < truncate_to:
                    raise UsageError(
                        f"--output-file {path} is {size} bytes, shorter than the {truncate_to} bytes the state "
                        "file records: it was changed since; use another --output-file or --state file"
                    )
                if size > truncate_to:
                    os.ftruncate(fd, truncate_to)  # what the last run wrote after its last checkpoint
                size = truncate_to
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path=path, owns_fd=True, start=size)

    # the subset of BinaryIO that Console and the sinks use
    def write(self, data: bytes) -> int:
        if data:
            self._buf.append(bytes(data))
            self._size += len(data)
            if self._size >= _BUFFER:
                self.flush()
        return len(data)

    def flush(self) -> None:
        if not self._buf:
            return
        data = memoryview(b"".join(self._buf))
        self._buf = [bytes(data)]
        try:
            while data:
                n = os.write(self.fd, data)
                self.written += n
                data = data[n:]
                self._buf = [bytes(data)] if data else []
                self._size = len(data)
        except OSError:
            self.failed = True
            raise

    def sync(self) -> None:
        """fsync a regular file (a power cut must not leave the checkpoint ahead of the data)."""
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.fstat(self.fd).st_mode):
                os.fsync(self.fd)

    def isatty(self) -> bool:
        try:
            return os.isatty(self.fd)
        except OSError:
            return False

    def fileno(self) -> int:
        return self.fd

    def discard(self) -> None:
        """Drop what could not be written (after EPIPE), so closing does not try again."""
        self._buf = []
        self._size = 0

    def close(self) -> None:
        if self._owns:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self._owns = False

    def unread_bound(self) -> int:
        """How much of what was written a vanished reader may not have printed (pipe + reader buffer)."""
        size = _DEFAULT_PIPE_SIZE
        with contextlib.suppress(OSError, AttributeError, ValueError):
            import fcntl

            size = fcntl.fcntl(self.fd, getattr(fcntl, "F_GETPIPE_SZ", 1032))
        return size + PIPE_SLACK



class SaveHistory(Generic[T]):
    """The saves of a run, each with how many output bytes had been written at it (oldest first, the
    newest `limit` kept): after EPIPE, `at_most(written - unread_bound())` is the newest save whose
    events the vanished reader surely received. The first save (0 bytes) is never dropped."""

    def __init__(self, first: T, limit: int) -> None:
        self._first = first
        self._saves: deque[tuple[int, T]] = deque(maxlen=limit)

    def add(self, written: int, save: T) -> None:
        self._saves.append((written, save))

    def at_most(self, max_bytes: int) -> T:
        chosen = self._first
        for written, save in self._saves:
            if written <= max_bytes:
                chosen = save
        return chosen


def write_error(exc: OSError, where: str, state: str | None) -> UsageError:
    """The one-line error for a failed output write (ENOSPC, EFBIG, EIO...), saying what was kept."""
    kept = (
        f"; {state} records every event written before it, so the same command resumes at the first "
        "unwritten one" if state else ""
    )
    return UsageError(f"cannot write to {where}: {exc.strerror or exc}{kept}")
