"""Messages commands print on stderr: unreadable input lines and the rules summary."""

from __future__ import annotations

import sys
from typing import Any

_SHOWN = 5  # unreadable lines reported one by one before only counting


class BadLineReporter:
    """Reports unreadable input lines on stderr with file and line, then a count at the end.

    Files that cannot be opened are reported at once and the other inputs are still read (as grep
    does); `missing` tells the command to end with status 2 after printing what it found.
    """

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.count = 0
        self.missing = 0

    def __call__(self, bad: Any) -> None:
        self.count += 1
        if not self.quiet and self.count <= _SHOWN:
            sys.stderr.write(f"eksaudit: warning: {bad.source}:{bad.line}: {bad.reason}\n")

    def on_missing(self, err: Any) -> None:
        self.missing += 1
        sys.stderr.write(f"eksaudit: error: {err}\n")

    def on_unparsable(self, ev: Any) -> None:
        """An event line that looked like JSON but did not parse (found only when it was evaluated)."""
        from ..events.readers import BadLine

        self(BadLine(ev.source or "<input>", ev.line, "not valid JSON"))

    def finish(self) -> None:
        if self.count and not self.quiet:
            more = f" ({self.count - _SHOWN} not shown)" if self.count > _SHOWN else ""
            sys.stderr.write(f"eksaudit: warning: {self.count} unreadable input line(s) skipped{more}\n")
            sys.stderr.flush()


def print_summary(summary: Any) -> None:
    """Falco's end-of-run summary, on stderr."""
    text = summary.render()
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()
