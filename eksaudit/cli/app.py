"""The root Typer app: one sub-app per command module, lifted to the top level."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
import importlib
import importlib.util
import os
import sys

import typer

app = typer.Typer(
    name="eksaudit",
    help="Query Amazon EKS Kubernetes audit logs with Falco's ka.* fields, conditions and rules.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)



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


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Query Amazon EKS Kubernetes audit logs with Falco's ka.* fields, conditions and rules."""


# Order is the order of `eksaudit --help`.
COMMANDS = ("fetch", "filter", "fields", "watch", "sigma", "demo")

for _name in COMMANDS:
    _modname = f"eksaudit.cli.commands.{_name}"
    if importlib.util.find_spec(_modname) is not None:
        app.add_typer(importlib.import_module(_modname).app)


def main() -> None:
    """Console-script entry point (Ctrl-C before a command took over still exits 130 quietly)."""
    if sys.stderr is None:  # `2>&-`: warnings and errors have nowhere to go; the exit status still tells
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
    if sys.stdout is None:  # `>&-`: say so, rather than fail on the first write with a traceback
        from .runtime import error

        error("cannot write output: standard output is closed")
        raise SystemExit(2)
    try:
        app(prog_name="eksaudit")
    except KeyboardInterrupt:
        raise SystemExit(130) from None
