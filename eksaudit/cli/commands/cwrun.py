"""What `fetch` and `watch` share around a CloudWatch run: the output (file or counted stdout), its
flushing and rewind after a failed write, stop signals, and the messages they print."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Any

from ...status import ExitStatus


def note(console: Any, message: str) -> None:
    """An informational line on stderr, through the Console."""
    console.message(f"eksaudit: {message}")


def describe_groups(target: Any) -> str:
    """`/aws/eks/a/cluster`, or `3 log groups (/aws/eks/a/cluster, ...)` for several."""
    groups = target.log_groups
    return groups[0] if len(groups) == 1 else f"{len(groups)} log groups ({', '.join(groups)})"


def new_summary(ruleset: Any) -> Any:
    if ruleset is None:
        return None
    from ...rules.summary import Summary

    return Summary()


def open_output(output_file: str | None, checkpoint: Any, quiet: bool, console: Any = None) -> Any:
    """`--output-file FILE` (cut back to the checkpoint's recorded length), else a counting stdout.

    stdout on a terminal is left to Python (None): nobody pipes a terminal, and the progress line
    must interleave with it.
    """
    from ...cloudwatch.outfile import OutputFile

    if output_file is not None:
        path = os.path.abspath(output_file)
        recorded = checkpoint.output if checkpoint is not None else None
        truncate_to = None
        if recorded is not None:
            if recorded.get("path") == path:
                truncate_to = int(recorded["bytes"])
            elif not quiet and console is not None:
                note(console, f"the state file recorded output to {recorded.get('path')}, not {path}: nothing is cut back")
        out = OutputFile.append(path, truncate_to)
        if checkpoint is not None:
            checkpoint.output = {"path": path, "bytes": out.written}
        return out
    if checkpoint is not None and checkpoint.output is not None:
        checkpoint.output = None  # this run does not write that file: its recorded length no longer applies
    if quiet:
        return None
    try:
        if sys.stdout.isatty():
            return None
        sys.stdout.flush()
        return OutputFile(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # a test runner's captured stdout
        return None


def flusher(sink: Any, out: Any) -> Any:
    def flush() -> None:
        sink.flush()
        if out is not None and out.path is not None:
            out.sync()

    return flush


def output_failed(exc: OSError, out: Any, checkpoint: Any) -> None:
    """After a failed write: freeze the checkpoint at what was really written, and drop the rest.

    A file (`--output-file`, or a full disk under stdout) keeps the last checkpoint: it counts only
    flushed events. A closed pipe goes further back (see outfile.py): the reader may have dropped
    what it read last.
    """
    if out is not None:
        out.discard()
    if checkpoint is None:
        return
    if isinstance(exc, BrokenPipeError) and out is not None and out.path is None:
        checkpoint.rewind(out.written - out.unread_bound())
    checkpoint.frozen = True


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP end the run at a safe point (`stop()`, between two events), so the
    checkpoint saved on the way out counts exactly what was written; a second signal interrupts at once,
    and so does the first while `waiting()` says the run is only waiting (sleep, network).
    Exit status 128 + the signal number (130 for Ctrl-C)."""

    def __init__(self, stop: Any, waiting: Any = None) -> None:
        self.stop = stop
        self.waiting = waiting or (lambda: False)
        self.hits = 0
        self.status = int(ExitStatus.INTERRUPTED)
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.hits += 1
        self.status = 128 + signum
        self.stop()
        if self.waiting() or self.hits > 1:
            raise KeyboardInterrupt

    def __enter__(self) -> StopSignals:
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            with contextlib.suppress(ValueError, OSError):  # not the main thread: leave signals alone
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)
