"""Messages commands print on stderr: unreadable input lines and the rules summary."""

from __future__ import annotations

import sys
from typing import Any

_SHOWN = 5  # unreadable lines reported one by one before only counting


class BadLineReporter:
    """Reports unreadable input lines on stderr with file and line, then a count at the end."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.count = 0

    def __call__(self, bad: Any) -> None:
        self.count += 1
        if not self.quiet and self.count <= _SHOWN:
            sys.stderr.write(f"eksaudit: warning: {bad.source}:{bad.line}: {bad.reason}\n")

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
