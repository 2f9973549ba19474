"""The root Typer app: one sub-app per command module, lifted to the top level."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
import importlib
import io
import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import typer


def package_version() -> str:
    """The installed distribution's version; the package's own `__version__` when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eksaudit")
    except PackageNotFoundError:
        from .. import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"eksaudit {package_version()}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Query Amazon EKS Kubernetes audit logs with Falco's ka.* fields, conditions and rules."""


# Order is the order of `eksaudit --help`.
COMMANDS = ("fetch", "filter", "fields", "watch", "sigma", "demo")


def build_app(commands: Sequence[str] = COMMANDS) -> typer.Typer:
    """The root app holding these commands (each module's app, lifted to the top level)."""
    root = typer.Typer(
        name="eksaudit",
        help="Query Amazon EKS Kubernetes audit logs with Falco's ka.* fields, conditions and rules.",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    root.callback()(_root)
    for name in commands:
        root.add_typer(importlib.import_module(f"eksaudit.cli.commands.{name}").app)
    return root


@lru_cache(maxsize=1)
def whole_app() -> typer.Typer:
    """Every command: `eksaudit --help`, completion, and `app` for tests and docs."""
    return build_app()


def __getattr__(name: str) -> Any:
    """`app` is the whole app, built when first asked for (`main` may build less)."""
    if name == "app":
        return whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app_for(args: Sequence[str]) -> typer.Typer:
    """Only the command being run, when the first argument names one; the whole app otherwise.

    Typer builds every command it holds at each start (13 ms for all six, 4 for `filter` alone),
    and each command module loads what it declares. `eksaudit CMD ...` runs exactly as with the
    whole app: root options come before CMD, and anything else (`--help`, `--version`, a
    mistyped command, shell completion, which reads no arguments) gets the whole app.
    """
    if args and args[0] in COMMANDS and "_EKSAUDIT_COMPLETE" not in os.environ:
        return build_app((args[0],))
    return whole_app()


def _buffer_stdout() -> None:
    """Block-buffered stdout even under `PYTHONUNBUFFERED=1` or `python -u` (container images often
    set it), where every line of output would be a system call of its own: output is flushed
    where people watch it (a terminal, `watch`) by the Console, not by the interpreter. The
    buffer writes to the same descriptor and never closes it; the interpreter flushes it at exit.
    """
    out = sys.stdout
    raw = getattr(out, "buffer", None)
    if not isinstance(raw, io.FileIO):  # already buffered (the default), or not a real file
        return
    buffered = io.BufferedWriter(io.FileIO(raw.fileno(), "wb", closefd=False), 1 << 16)
    # on a terminal, text written through sys.stdout (help, the demo) is line-buffered, as by default
    sys.stdout = io.TextIOWrapper(buffered, encoding=out.encoding, errors=out.errors, newline=None,
                                  line_buffering=raw.isatty())


def main() -> None:
    """Console-script entry point (Ctrl-C before a command took over still exits 130 quietly)."""
    if sys.stderr is None:  # `2>&-`: warnings and errors have nowhere to go; the exit status still tells
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
    if sys.stdout is None:  # `>&-`: say so, rather than fail on the first write with a traceback
        from .runtime import error

        error("cannot write output: standard output is closed")
        raise SystemExit(2)
    _buffer_stdout()
    try:
        _app_for(sys.argv[1:])(prog_name="eksaudit")
    except KeyboardInterrupt:
        raise SystemExit(130) from None
