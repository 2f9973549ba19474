"""The process environment output goes to: streams, terminal or not, colour or not (one object).

Commands build it once with `Console.from_env(color_mode)`; tests build it directly with
`io.BytesIO`/`io.StringIO` and the flags they want, so no writer ever looks at `sys.stdout`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import BinaryIO, TextIO

from ..safetext import escape_message
from .options import ColorMode

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RED = "\x1b[31m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"


def use_color(mode: ColorMode | str, isatty: bool, environ: Mapping[str, str] | None = None) -> bool:
    """`always`/`never` win; `auto` colours only a terminal, and not when NO_COLOR is set or TERM=dumb.

    (no-color.org: a command-line flag overrides NO_COLOR, so `--color always` still colours.)
    """
    mode = ColorMode(mode)
    if mode is ColorMode.ALWAYS:
        return True
    if mode is ColorMode.NEVER:
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("TERM") == "dumb":
        return False
    return isatty


class Console:
    """Where data (stdout, bytes) and messages (stderr, text) go, and how.

    `line_buffered`: flush after every line. True on a terminal (people watch it) or when asked
    (`watch` piping into another program); otherwise output stays block-buffered, which is what
    makes `-o jsonl` over millions of lines cheap. `streaming` is True only when asked: then the
    table writer prints each row at once instead of laying out a first batch.
    """

    def __init__(
        self,
        stdout: BinaryIO,
        stderr: TextIO,
        stdout_isatty: bool = False,
        color: bool = False,
        *,
        line_buffered: bool | None = None,
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.stdout_isatty = stdout_isatty
        self.color = color
        self.line_buffered = stdout_isatty if line_buffered is None else (line_buffered or stdout_isatty)
        # asked for explicitly (`watch`): items trickle in, so writers must not hold rows back
        self.streaming = bool(line_buffered)

    @classmethod
    def from_env(
        cls,
        color_mode: ColorMode | str = ColorMode.AUTO,
        *,
        line_buffered: bool = False,
        stdout: BinaryIO | None = None,
        stderr: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Console:
        """The process's own streams (resolved now, not at import time)."""
        out = stdout if stdout is not None else sys.stdout.buffer
        err = stderr if stderr is not None else sys.stderr
        try:
            isatty = out.isatty()
        except (AttributeError, ValueError):
            isatty = False
        return cls(out, err, isatty, use_color(color_mode, isatty, environ), line_buffered=line_buffered)

    @classmethod
    def for_messages(cls, stderr: TextIO | None = None) -> Console:
        """A Console that only speaks to people (stderr, resolved now): for what is said before or
        outside a command's output, such as the error `command_runner` reports. Writing data to it
        is a bug and raises."""
        return cls(_NoData(), stderr if stderr is not None else sys.stderr)  # type: ignore[arg-type]

    def write_line(self, data: bytes) -> None:
        """One line of data (newline added); flushed at once when line-buffered."""
        self.stdout.write(data + b"\n")
        if self.line_buffered:
            self.stdout.flush()

    def write_lines(self, lines: list[bytes]) -> None:
        if not lines:
            return
        self.stdout.write(b"\n".join(lines) + b"\n")
        if self.line_buffered:
            self.stdout.flush()

    def flush(self) -> None:
        self.stdout.flush()

    def message(self, text: str) -> None:
        """A line for people on stderr (warnings, summaries): never mixed into the data."""
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def note(self, text: str) -> None:
        """`eksaudit: text` on stderr (what the command is doing: the window, a resume point)."""
        self.message(f"eksaudit: {text}")

    def warn(self, text: str) -> None:
        """`eksaudit: warning: text`, control characters from a hostile file escaped."""
        self.message(f"eksaudit: warning: {escape_message(text)}")

    def error(self, text: str) -> None:
        """`eksaudit: error: text`, control characters from a hostile file escaped."""
        self.message(f"eksaudit: error: {escape_message(text)}")

    def break_line(self) -> None:
        """Start a fresh stderr line after the `^C` a terminal echoes, so what follows is not glued to it."""
        try:
            if self.stderr.isatty():
                self.stderr.write("\n")
                self.stderr.flush()
        except (OSError, ValueError):
            pass

    def paint(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.color and code else text


class _NoData:
    """The data stream of a messages-only Console: any write is a programming error, said loudly."""

    def write(self, data: bytes) -> int:
        raise RuntimeError("this Console carries messages only (Console.for_messages): no data stream")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False
