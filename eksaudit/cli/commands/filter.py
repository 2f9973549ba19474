"""`eksaudit filter EXPR [FILE...]`: grep for audit events with Falco conditions or rules files."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
from typing import Annotated, Optional

import typer

from ...errors import UsageError
from ...status import ExitStatus
from .. import options as o
from ..reporting import InputReport
from ..runtime import after_interrupt, command_runner, warn

app = typer.Typer()


@app.command(
    "filter",
    no_args_is_help=False,
    help=(
        "Print the audit events that match a Falco condition (EXPR), or the alerts of Falco rules "
        "files (-r). Reads files or stdin in any supported format (JSON lines, EventList, CloudWatch "
        "records, AWS CLI output, S3 exports, Firehose envelopes, AKS diagnostic exports, .gz).\n\n"
        "Examples:\n\n"
        "  eksaudit filter 'ka.verb=delete and ka.target.resource=secrets' audit.log\n\n"
        "  eksaudit fetch --cluster prod --since 1h | eksaudit filter -r eks"
    ),
)
@command_runner
def filter_command(
    args: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="[EXPR] [FILE...]", help="The condition (unless -r is given), then input files; '-' is stdin."),
    ] = None,
    rules: o.Rules = None,
    min_priority: o.MinPriority = None,
    strict: o.Strict = False,
    since: o.Since = None,
    start: o.Start = None,
    end: o.End = None,
    output: o.Output = None,
    fields: o.Fields = None,
    count_by: o.CountBy = None,
    top: o.Top = None,
    limit: o.Limit = None,
    query: o.Query = None,
    color: o.Color = o.ColorMode.AUTO,
    quiet: o.Quiet = False,
    max_line_bytes: o.MaxLineBytes = "16M",
    max_memory: o.MaxMemory = "256M",
    jobs: o.Jobs = None,
) -> ExitStatus:
    from ...events.batches import BlockSlot
    from ...fields import default_registry
    from ...output.console import Console
    from ...parallel import ScanJob, can_split, default_jobs
    from ...pipeline import build_matching, scan
    from ...timewindow import resolve_window
    from ..session import OutputSession

    expr, positional = _condition_and_files(args, rules)
    registry = default_registry()
    window = resolve_window(since, start, end)
    condition, ruleset = build_matching(expr, rules, registry, min_priority=min_priority, on_warning=warn)
    opts = o.output_options(output, fields, count_by, top, limit, query, color, quiet)
    opts.max_memory = o.parse_size(max_memory, "--max-memory")
    line_cap = o.parse_size(max_line_bytes, "--max-line-bytes")
    console = Console.from_env(opts.color)
    if window is not None and not quiet:
        console.note(f"{window.describe()} (on stageTimestamp)")
    report = InputReport(quiet=quiet, console=console)
    session = OutputSession.open(opts, registry, ruleset, console=console)
    required = getattr(condition, "required", None) if ruleset is None else None
    job = ScanJob(
        opts, registry, condition, ruleset, window, strict=strict, max_line_bytes=line_cap, required=required,
        color=console.color, stdout_isatty=console.stdout_isatty,
    )
    workers = jobs if jobs is not None else default_jobs()
    try:
        if workers > 1 and can_split(job, session.format):
            stats = report.scan_files(positional, session, job, jobs=workers)
        else:
            slot = BlockSlot()
            events = report.read(positional, strict=strict, max_line_bytes=line_cap, required=required, slot=slot)
            stats = scan(
                events, session.sink, condition=condition, rules=ruleset, window=window,
                on_alert=session.on_alert, on_unparsable=report.bad.on_unparsable, slot=slot,
            )
        session.close()
    except KeyboardInterrupt:
        after_interrupt()
        session.print_summary()
        return ExitStatus.INTERRUPTED
    finally:
        report.finish()
    session.print_summary()
    if report.missing:
        return ExitStatus.ERROR
    return ExitStatus.MATCHED if stats.matched else ExitStatus.NO_MATCH


def _condition_and_files(args: list[str] | None, rules: list[str] | None) -> tuple[str | None, list[str]]:
    """EXPR then FILE... (without -r), or FILE... alone (with -r)."""
    positional = list(args or [])
    if rules:
        return None, positional
    if not positional:
        raise UsageError("missing condition: eksaudit filter EXPR [FILE...] (or -r RULES [FILE...])")
    return positional[0], positional[1:]
