"""What every command needs around its body: error rendering, exit statuses, Ctrl-C and closed pipes.

Commands are wrapped with `@command_runner`: the library raises `EksauditError`s, this turns them
into one line on stderr and the error's exit status; a closed stdout (`| head`) ends quietly with 0;
Ctrl-C exits 130 (commands that print a summary on Ctrl-C catch KeyboardInterrupt themselves first).
Any other OSError (a full disk under stdout: `cannot write output: No space left on device`) and
a NUL byte in an argument are one line and status 2 as well, never a traceback.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ..errors import EksauditError
from ..status import ExitStatus

if TYPE_CHECKING:
    from ..output.console import Console

F = TypeVar("F", bound=Callable[..., Any])


def messages() -> Console:
    """The Console every message goes through (stderr resolved at each call: tests swap sys.stderr)."""
    from ..output.console import Console

    return Console.for_messages()


def error(message: str) -> None:
    """Print `eksaudit: error: message` on stderr (control characters from a hostile file escaped)."""
    messages().error(message)


def warn(message: str) -> None:
    """Print `eksaudit: warning: message` on stderr (a callback for the library's `on_warning`)."""
    messages().warn(message)


def note(message: str) -> None:
    """Print `eksaudit: message` on stderr (what the command is doing)."""
    messages().note(message)


def after_interrupt() -> None:
    """Start a fresh line after the `^C` a terminal echoes, so what follows is not glued to it."""
    messages().break_line()


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF}


def _os_error_text(e: OSError) -> str:
    """`cannot write output: No space left on device`, or the error with its file name."""
    reason = e.strerror or str(e)
    if e.filename is None and e.errno in _WRITE_ERRNOS:
        return f"cannot write output: {reason}"
    return f"{e.filename}: {reason}" if e.filename is not None else reason


def command_runner(fn: F) -> F:
    """Run a command body and map its outcome to an exit status (see module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            status = fn(*args, **kwargs)
        except typer.Exit:
            raise
        except EksauditError as e:
            error(e.render())
            raise typer.Exit(int(e.status)) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(int(ExitStatus.MATCHED)) from None
        except OSError as e:  # what the library does not turn into an EksauditError: output, mostly
            error(_os_error_text(e))
            _silence_stdout()  # the interpreter's last flush of stdout would fail (and say so) again
            raise typer.Exit(int(ExitStatus.ERROR)) from None
        except ValueError as e:
            if "null byte" not in str(e):
                raise
            error("an argument contains a NUL byte (file names and values cannot)")
            raise typer.Exit(int(ExitStatus.ERROR)) from None
        except KeyboardInterrupt:
            after_interrupt()
            raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None
        raise typer.Exit(int(status if status is not None else ExitStatus.MATCHED))

    return wrapper  # type: ignore[return-value]
