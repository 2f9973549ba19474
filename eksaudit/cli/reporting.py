"""Messages commands print on stderr while reading input: unreadable lines, missing files, JSON that
is not audit events, and the rules summary. All of it goes through a `Console`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .runtime import messages

if TYPE_CHECKING:
    from ..events.event import AuditEvent
    from ..output.console import Console

_SHOWN = 5  # unreadable lines reported one by one before only counting


class BadLineReporter:
    """Reports unreadable input lines on stderr with file and line, then a count at the end.

    Files that cannot be opened are reported at once and the other inputs are still read (as grep
    does); `missing` tells the command to end with status 2 after printing what it found.
    """

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console if console is not None else messages()
        self.count = 0
        self.missing = 0

    def __call__(self, bad: Any) -> None:
        self.count += 1
        if not self.quiet and self.count <= _SHOWN:
            self.console.message(f"eksaudit: warning: {bad.source}:{bad.line}: {bad.reason}")

    def on_missing(self, err: Any) -> None:
        self.missing += 1
        self.console.message(f"eksaudit: error: {err}")

    def on_unparsable(self, ev: Any) -> None:
        """An event line that looked like JSON but did not parse (found only when it was evaluated)."""
        from ..events.readers import BadLine

        self(BadLine(ev.source or "<input>", ev.line, "not valid JSON"))

    def finish(self) -> None:
        if self.count and not self.quiet:
            more = f" ({self.count - _SHOWN} not shown)" if self.count > _SHOWN else ""
            self.console.warn(f"{self.count} unreadable input line(s) skipped{more}")


class InputReport:
    """Reads FILE arguments (or stdin) and says what was wrong with them: `read()`, then `finish()`.

    `missing` counts files that could not be opened: the command ends with status 2 after printing
    what the other inputs held.
    """

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console if console is not None else messages()
        self.bad = BadLineReporter(quiet=quiet, console=self.console)
        from ..events.kinds import NotAuditTally

        self.not_audit = NotAuditTally()  # one warning per input that holds JSON other than audit events

    def read(
        self, files: list[str], *, strict: bool, max_line_bytes: int, required: Any = None, slot: Any = None
    ) -> Iterator[AuditEvent]:
        from ..events.readers import read_events

        return read_events(
            files, strict=strict, on_bad=self.bad, on_missing=self.bad.on_missing, required=required,
            on_not_audit=self.not_audit.add, max_line_bytes=max_line_bytes, slot=slot,
        )

    def scan_files(self, files: list[str], session: Any, job: Any, *, jobs: int) -> Any:
        """`scan` of `read()`'s events into `session`, large plain files split over `jobs` processes."""
        from ..parallel import scan_files

        return scan_files(
            files, session.sink, job, jobs=jobs, on_bad=self.bad, on_missing=self.bad.on_missing,
            on_not_audit=self.not_audit.add, on_unparsable=self.bad.on_unparsable, summary=session.summary,
        )

    @property
    def missing(self) -> int:
        return self.bad.missing

    def finish(self) -> None:
        """The count of unreadable lines, and one warning per input that was not audit events."""
        self.bad.finish()
        if not self.quiet:
            self.not_audit.report(self.console.warn)


def print_summary(summary: Any, console: Console | None = None) -> None:
    """Falco's end-of-run summary, on stderr."""
    text = summary.render()
    (console if console is not None else messages()).message(text[:-1] if text.endswith("\n") else text)
