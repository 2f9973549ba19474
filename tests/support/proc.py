"""A child process whose pipes are read with deadlines: a test waits on what it can observe.

A test that reads a child's stdout with a bare `readline()` hangs the whole run when the line never
comes (a loaded machine, a bug); one that sleeps and then signals races the child's start-up. `Child`
reads stdout and stderr together through `select` (so neither pipe can fill and block the child),
and every wait has a deadline after which it fails with what it waited for, the exit status and the
child's stderr so far. Use it as a context manager: a child still running at the end is killed.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

DEADLINE_S = 60.0  # generous: under load (CI runs two workers on two cores) a start-up alone takes seconds


class Child:
    """`subprocess.Popen(args)` with stdout and stderr piped, stdin closed; read it with deadlines."""

    def __init__(self, args: Sequence[str], **popen: Any) -> None:
        self.args = list(args)
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, **popen
        )
        self._out = bytearray()
        self._err = bytearray()
        self._sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._sel.register(self.proc.stdout, selectors.EVENT_READ, self._out)
        self._sel.register(self.proc.stderr, selectors.EVENT_READ, self._err)

    # ---- reading ---------------------------------------------------------------------------------
    def _pump(self, timeout: float) -> bool:
        """Read what is available within `timeout` s; False once both pipes are at their end."""
        if not self._sel.get_map():
            return False
        for key, _ in self._sel.select(max(0.0, timeout)):
            data = os.read(key.fd, 65536)
            if data:
                key.data.extend(data)
            else:
                self._sel.unregister(key.fileobj)
        return bool(self._sel.get_map())

    def _stdout_open(self) -> bool:
        return any(key.data is self._out for key in self._sel.get_map().values())

    def _fail(self, what: str, timeout: float) -> AssertionError:
        rc = self.proc.poll()
        state = "still running" if rc is None else f"exited with status {rc}"
        return AssertionError(
            f"waited {timeout:g}s for {what}; the process {state}\n"
            f"command: {' '.join(self.args)}\nstdout (unread): {bytes(self._out[:2000])!r}\n"
            f"stderr: {self.stderr.decode(errors='replace')}"
        )

    def readline(self, *, timeout: float = DEADLINE_S, what: str = "a line on stdout") -> bytes:
        """The next stdout line (with its newline); fails if none comes within `timeout` s or stdout ends."""
        deadline = time.monotonic() + timeout
        while True:
            nl = self._out.find(b"\n")
            if nl >= 0:
                line = bytes(self._out[: nl + 1])
                del self._out[: nl + 1]
                return line
            left = deadline - time.monotonic()
            if not self._stdout_open():
                raise self._fail(what + " (stdout ended first)", timeout)
            if left <= 0:
                raise self._fail(what, timeout)
            self._pump(left)

    def readlines(self, n: int, *, timeout: float = DEADLINE_S, what: str = "") -> list[bytes]:
        """The next `n` stdout lines, all within `timeout` s."""
        deadline = time.monotonic() + timeout
        return [
            self.readline(timeout=max(0.0, deadline - time.monotonic()), what=f"line {i + 1} of {n} {what}".strip())
            for i in range(n)
        ]

    @property
    def stderr(self) -> bytes:
        """What the child wrote on stderr so far (as far as read: any wait reads it)."""
        return bytes(self._err)

    def wait_stderr(self, needle: bytes, *, timeout: float = DEADLINE_S) -> None:
        """Wait until `needle` shows on stderr (e.g. the line a command prints once it is set up)."""
        deadline = time.monotonic() + timeout
        while needle not in self._err:
            left = deadline - time.monotonic()
            if left <= 0 or not self._pump(left) and needle not in self._err:
                raise self._fail(f"{needle!r} on stderr", timeout)

    def close_stdout(self) -> None:
        """Close our end of stdout, as `| head -1` does once it has its line."""
        assert self.proc.stdout is not None
        if self._stdout_open():
            self._sel.unregister(self.proc.stdout)
        self.proc.stdout.close()

    # ---- ending ----------------------------------------------------------------------------------
    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def finish(self, *, timeout: float = DEADLINE_S, what: str = "the process to end") -> tuple[bytes, bytes]:
        """Wait for the exit and both pipes' ends; (the rest of stdout, all of stderr). Kills on timeout."""
        deadline = time.monotonic() + timeout
        while self._pump(max(0.0, deadline - time.monotonic())) or self.proc.poll() is None:
            if time.monotonic() >= deadline:
                err = self._fail(what, timeout)
                self.kill()
                raise err
            if not self._sel.get_map():  # pipes closed (or handed on) but still running
                time.sleep(0.02)
        out = bytes(self._out)
        self._out.clear()
        return out, self.stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=DEADLINE_S)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        self._sel.close()
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


def wait_until(ready: Callable[[], bool], *, timeout: float = DEADLINE_S, what: str = "the condition",
               child: Child | None = None, interval: float = 0.02) -> None:
    """Poll `ready()` until true; fail after `timeout` s naming `what` (and the child's state, if given).

    With `child`, its pipes are read while waiting (a child blocked on a full pipe would never get there).
    """
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() >= deadline:
            if child is not None:
                raise child._fail(what, timeout)
            raise AssertionError(f"waited {timeout:g}s for {what}")
        if child is not None and child._sel.get_map():
            child._pump(interval)
        else:
            time.sleep(interval)
