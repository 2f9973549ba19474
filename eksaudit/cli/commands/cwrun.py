"""What `fetch` and `watch` share around a CloudWatch run: the output (`RunOutput`: an OutputSession
printing into `--output-file` or a byte-counting stdout), its flushing before a checkpoint and its
rewind after a failed write, and stop signals. Messages go through the runtime's Console."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from ...status import ExitStatus
from ..runtime import note

if TYPE_CHECKING:
    from ..session import OutputSession


def describe_groups(target: Any) -> str:
    """`/aws/eks/a/cluster`, or `3 log groups (/aws/eks/a/cluster, ...)` for several."""
    groups = target.log_groups
    return groups[0] if len(groups) == 1 else f"{len(groups)} log groups ({', '.join(groups)})"


@dataclass
class RunOutput:
    """Where a fetch or watch run prints: the OutputSession (console, sink, summary) and the file under
    it (`out`: `--output-file`, or stdout with its written bytes counted; None for a terminal or -q).

    The counted bytes are what the checkpoints record (see cloudwatch/outfile.py).
    """

    session: OutputSession
    out: Any  # cloudwatch.outfile.OutputFile | None

    @classmethod
    def open(
        cls, opts: Any, registry: Any, ruleset: Any, *, output_file: str | None, recorded: dict[str, Any] | None,
        count_stdout: bool = True, terminal: BinaryIO | None = None, line_buffered: bool = False,
    ) -> RunOutput:
        """`recorded` is the output a state file recorded ({"path", "bytes"}): that file is cut back to
        it. `terminal` replaces stdout when stdout is a terminal (fetch's progress line guards it)."""
        from ..session import OutputSession

        out = _open_file(output_file, recorded, opts.quiet) if output_file or count_stdout else None
        try:
            stdout = out if out is not None else terminal
            session = OutputSession.open(opts, registry, ruleset, stdout=stdout, line_buffered=line_buffered)
        except BaseException:
            if out is not None:
                out.close()
            raise
        return cls(session, out)

    @property
    def sink(self) -> Any:
        return self.session.sink

    @property
    def recorded(self) -> dict[str, Any] | None:
        """What a checkpoint records of `--output-file`: its path and length now (None for stdout)."""
        out = self.out
        return {"path": out.path, "bytes": out.written} if out is not None and out.path is not None else None

    def flush(self) -> None:
        """Everything printed so far written (and fsynced for a file): a checkpoint may count it now."""
        self.session.sink.flush()
        if self.out is not None and self.out.path is not None:
            self.out.sync()

    def failed(self, exc: OSError, checkpoint: Any = None) -> None:
        """After a failed write: drop what was not written; freeze fetch's checkpoint at what was.

        A file (`--output-file`, or a full disk under stdout) keeps the last checkpoint: it counts only
        flushed events. A closed pipe goes further back (see outfile.py): the reader may have dropped
        what it read last.
        """
        out = self.out
        if out is not None:
            out.discard()
        if checkpoint is None:
            return
        if isinstance(exc, BrokenPipeError) and out is not None and out.path is None:
            checkpoint.rewind(out.written - out.unread_bound())
        checkpoint.frozen = True

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


def _open_file(output_file: str | None, recorded: dict[str, Any] | None, quiet: bool) -> Any:
    """`--output-file FILE` (cut back to the recorded length), else a counting stdout.

    stdout on a terminal is left to Python (None): nobody pipes a terminal, and the progress line
    must interleave with it.
    """
    from ...cloudwatch.outfile import OutputFile

    if output_file is not None:
        path = os.path.abspath(output_file)
        truncate_to = None
        if recorded is not None:
            if recorded.get("path") == path:
                truncate_to = int(recorded["bytes"])
            elif not quiet:
                note(f"the state file recorded output to {recorded.get('path')}, not {path}: nothing is cut back")
        return OutputFile.append(path, truncate_to)
    if quiet:
        return None
    try:
        if sys.stdout.isatty():
            return None
        sys.stdout.flush()
        return OutputFile(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # a test runner's captured stdout
        return None


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
