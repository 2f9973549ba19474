"""`eksaudit demo`: a local CloudWatch Logs with a realistic EKS audit log and an attack, queried for real."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
import sys
from typing import Annotated

import typer

from ...status import ExitStatus
from ..runtime import command_runner

app = typer.Typer()


@app.command(
    "demo",
    help=(
        "Start a local CloudWatch Logs endpoint on 127.0.0.1 (moto; pip install 'eksaudit[demo]'), load "
        "it with two hours of a realistic EKS cluster's audit log (about 20,000 events with an attack "
        "inside) through the real AWS API, then run fetch, filter and the built-in rules against it, "
        "printing each command line before its output, and stop the endpoint.\n\n"
        "With --serve, keep the endpoint running after loading and print the --endpoint-url, region "
        "and example commands to try, until Ctrl-C.\n\n"
        "Examples:\n\n"
        "  eksaudit demo\n\n"
        "  eksaudit demo --serve --port 4566"
    ),
)
@command_runner
def demo_command(
    serve: Annotated[
        bool, typer.Option("--serve", help="Keep the loaded endpoint running (until Ctrl-C) instead of running the tour.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the normal traffic (the attack is always the same).")] = 0,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="With --serve: port to listen on (default: a free one).")
    ] = 0,
) -> ExitStatus:
    from ...demo import tour

    if serve:
        tour.serve(sys.stdout, seed=seed, port=port)
        return ExitStatus.MATCHED
    tour.run_demo(sys.stdout, seed=seed)
    return ExitStatus.MATCHED
