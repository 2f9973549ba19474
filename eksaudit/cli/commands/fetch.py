"""`eksaudit fetch`: a time window of the EKS audit log from CloudWatch Logs, filtered, in time order."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
import sys
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from ...errors import UsageError
from ...status import ExitStatus
from .. import options as o
from ..runtime import after_interrupt, command_runner, messages, note, warn
from .cwrun import RunOutput, StopSignals, describe_groups

app = typer.Typer()

DEFAULT_SINCE = "1h"


class Engine(str, Enum):
    EVENTS = "events"
    INSIGHTS = "insights"


FilterOpt = Annotated[
    Optional[str], typer.Option("--filter", help="Falco condition, evaluated on every event (e.g. ka.verb=delete).")
]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine", help="events: FilterLogEvents (exact, every event); insights: a Logs Insights query (billed per GB scanned)."
    ),
]
NoPushdown = Annotated[
    bool, typer.Option("--no-pushdown", help="Do not send a CloudWatch filter pattern; filter only locally.")
]
Explain = Annotated[
    bool, typer.Option("--explain", help="Print the window, slices and server-side pattern/query, then exit (no AWS call).")
]
Workers = Annotated[
    Optional[int],
    typer.Option(
        "--workers", min=1, max=64,
        help="Time slices fetched in parallel (default: 4, more when pages are slow, to keep --max-rps).",
    ),
]
State = Annotated[
    Optional[str],
    typer.Option(
        "--state",
        metavar="FILE",
        help="Save progress here; re-running the same query resumes after the last event written "
        "(SIGINT, SIGTERM, SIGHUP, a closed pipe, a full disk). With --since, a later run continues "
        "from the saved end to now (incremental export). After SIGKILL, stdout may repeat the "
        "events since the last checkpoint (about a second); --output-file FILE never does.",
    ),
]


@dataclass
class _Job:
    """One fetch, as asked: where, when, what to match, and how to write it."""

    target: Any
    window: Any
    relative_window: bool
    condition: Any
    ruleset: Any
    registry: Any
    opts: Any
    quiet: bool
    pattern: str | None
    identity: dict[str, Any]
    output_file: str | None


@app.command(
    "fetch",
    help=(
        "Fetch a time window of the audit log from CloudWatch Logs (FilterLogEvents), in time order, "
        "each event exactly once; filter it with a Falco condition (--filter) or rules files (-r). "
        f"Without time options the window is the last {DEFAULT_SINCE} (--since {DEFAULT_SINCE}). "
        "Several --cluster/--log-group options fetch several log groups, merged in time order.\n\n"
        "Examples:\n\n"
        "  eksaudit fetch --cluster prod --since 2h --filter 'ka.verb=delete and ka.target.resource=secrets'\n\n"
        "  eksaudit fetch --cluster prod --start 2026-11-30T10:00Z --end 2026-11-30T11:00Z -r eks\n\n"
        "  eksaudit fetch --cluster prod --cluster staging --since 1h -r eks\n\n"
        "  eksaudit fetch --cluster prod --since 1d --explain"
    ),
)
@command_runner
def fetch_command(
    cluster: o.Cluster = None,
    log_group: o.LogGroup = None,
    stream_prefix: o.StreamPrefix = None,
    region: o.Region = None,
    profile: o.Profile = None,
    endpoint_url: o.EndpointUrl = None,
    since: o.Since = None,
    start: o.Start = None,
    end: o.End = None,
    filter_expr: FilterOpt = None,
    rules: o.Rules = None,
    min_priority: o.MinPriority = None,
    engine: EngineOpt = Engine.EVENTS,
    no_pushdown: NoPushdown = False,
    explain: Explain = False,
    workers: Workers = None,
    max_rps: o.MaxRps = 5.0,
    state: State = None,
    output: o.Output = None,
    output_file: o.OutputFile = None,
    fields: o.Fields = None,
    count_by: o.CountBy = None,
    top: o.Top = None,
    limit: o.Limit = None,
    query: o.Query = None,
    color: o.Color = o.ColorMode.AUTO,
    quiet: o.Quiet = False,
) -> ExitStatus | int:
    from ...cloudwatch.checkpoint import query_identity
    from ...cloudwatch.client import AwsTarget
    from ...fields import default_registry
    from ...pipeline import build_matching
    from ...timewindow import resolve_window

    target = AwsTarget.from_options(cluster, log_group, stream_prefix, region, profile, endpoint_url)
    window = resolve_window(since, start, end, default_since=DEFAULT_SINCE)
    assert window is not None and window.end_ms is not None
    registry = default_registry()
    condition, ruleset = build_matching(filter_expr, rules, registry, min_priority=min_priority, on_warning=warn)
    pattern, reason = _pushdown(condition, registry, engine, no_pushdown)
    if explain:
        lines = _explain(target, window, engine, condition, ruleset, registry, pattern, reason, no_pushdown, workers,
                         max_rps)
        return _print_lines(lines, color)
    if not quiet:
        note(window.describe() if len(target.log_groups) == 1 else f"{describe_groups(target)}, {window.describe()}")
    job = _Job(
        target, window, start is None and end is None, condition, ruleset, registry,
        o.output_options(output, fields, count_by, top, limit, query, color, quiet), quiet, pattern,
        query_identity(target.log_groups, target.stream_prefix, filter_expr, pattern, rules, min_priority, engine="events"),
        output_file,
    )
    if engine is Engine.INSIGHTS:
        if state:
            raise UsageError("--state works with --engine events only")
        return _run_insights(job, no_pushdown)
    return _run_events(job, workers=workers, max_rps=max_rps, state=state)


def _print_lines(lines: list[str], color: Any) -> ExitStatus:
    from ...output.console import Console

    console = Console.from_env(color)
    console.write_lines([line.encode() for line in lines])
    console.flush()
    return ExitStatus.MATCHED


def _explain(target: Any, window: Any, engine: Engine, condition: Any, ruleset: Any, registry: Any,
             pattern: str | None, reason: str, no_pushdown: bool, workers: int | None, max_rps: float) -> list[str]:
    """What `--explain` prints: the window, slices and the server-side pattern or query."""
    from ...timewindow import format_ms

    groups = target.log_groups
    lines = [f"log group: {g}" for g in groups]
    lines.append(f"stream prefix: {target.stream_prefix or '(all streams)'}")
    lines.append(window.describe())
    if engine is Engine.INSIGHTS:
        from ...cloudwatch.pushdown.insights import insights_query

        ast = condition.ast if condition is not None and not no_pushdown else None
        lines.append("engine: insights (StartQuery/GetQueryResults)" + (", one query per group" if len(groups) > 1 else ""))
        lines.append(f"query: {insights_query(ast, registry, stream_prefix=target.stream_prefix)}")
    else:
        from ...cloudwatch.fetch import DEFAULT_WORKERS, plan_slices

        slices = plan_slices(window, workers or DEFAULT_WORKERS)
        pool = f"{workers} workers" if workers else f"{DEFAULT_WORKERS} workers (more if pages are slow)"
        per = f" x {len(groups)} log groups" if len(groups) > 1 else ""
        lines.append(f"engine: events (FilterLogEvents), {len(slices)} slices{per}, {pool}, {max_rps:g} requests/s")
        for i, (s, e) in enumerate(slices):
            lines.append(f"  slice {i + 1}: [{format_ms(s)}, {format_ms(e)})")
        lines.append(f"filter pattern: {pattern if pattern is not None else '(none)'}")
    lines.append(f"pushdown: {reason}")
    if condition is not None or ruleset is not None:
        lines.append("client side: the full condition/rules are evaluated on every event")
    return lines


def _pushdown(condition: Any, registry: Any, engine: Engine, no_pushdown: bool) -> tuple[str | None, str]:
    if condition is None:
        return None, "no --filter: every event is fetched"
    if no_pushdown:
        return None, "disabled by --no-pushdown"
    if engine is Engine.INSIGHTS:
        return None, "the condition is translated to a Logs Insights filter"
    from ...cloudwatch.pushdown.pattern import filter_pattern

    pd = filter_pattern(condition.ast, registry)
    return pd.pattern, pd.reason


def _open_checkpoint(job: _Job, state: str | None) -> Any:
    if not state:
        return None
    from ...cloudwatch.checkpoint import Checkpoint

    on_note = None if job.quiet else note
    checkpoint = Checkpoint.open(state, job.identity, job.window, relative_window=job.relative_window, on_note=on_note)
    if checkpoint.complete and not job.quiet:
        note(f"{state} says this query already completed; nothing left to fetch")
    return checkpoint


def _run_events(job: _Job, *, workers: int | None, max_rps: float, state: str | None) -> ExitStatus | int:
    from ...cloudwatch.client import make_client
    from ...cloudwatch.fetch import fetch_window
    from ...cloudwatch.paging import PageStats
    from ...output.progress import ProgressLine

    checkpoint = _open_checkpoint(job, state)
    client = make_client(job.target, max_pool=(workers or 16) + 4)
    stats = PageStats()
    seen = [0]
    progress = terminal = None
    stderr = messages().stderr
    if not job.quiet and stderr.isatty():
        progress = ProgressLine(stats, lambda: seen[0], stderr)
        if sys.stdout.isatty():  # the same terminal: each data write first erases the progress line
            terminal = progress.guard(sys.stdout.buffer)
    output = RunOutput.open(
        job.opts, job.registry, job.ruleset, output_file=job.output_file, terminal=terminal,
        recorded=checkpoint.output if checkpoint is not None else None,
    )
    if checkpoint is not None:
        checkpoint.output = output.recorded
        checkpoint.before_save = output.flush  # nothing recorded as delivered may sit in a buffer
        if output.out is not None:
            checkpoint.output_size = lambda: output.out.written
    run = fetch_window(
        client, job.target, job.window, pattern=job.pattern, workers=workers, max_rps=max_rps, stats=stats,
        checkpoint=checkpoint, on_warning=None if job.quiet else warn,
    )
    try:
        return _drive(job, run, output, checkpoint, progress, seen, state)
    finally:
        output.close()


def _drive(job: _Job, run: Any, output: RunOutput, checkpoint: Any, progress: Any, seen: list[int],
           state: str | None) -> ExitStatus | int:
    """Scan the run into the output; on a signal, a closed pipe or a full disk, leave a true checkpoint."""
    from ...cloudwatch.outfile import write_error
    from ...pipeline import ScanStats, scan

    session = output.session
    scan_stats = ScanStats()
    if progress is not None:
        progress.start()
    interrupted = False
    signals = StopSignals(run.request_stop)
    with signals:
        try:
            scan(
                _counting(run, seen), session.sink, condition=job.condition, rules=job.ruleset,
                on_alert=session.on_alert, stats=scan_stats,
            )
            session.close()
            run.close(last_delivered=True)
        except KeyboardInterrupt:
            interrupted = True
            after_interrupt()
            run.close(last_delivered=False)
        except OSError as e:
            output.failed(e, checkpoint)
            run.close(last_delivered=False)
            if isinstance(e, BrokenPipeError):
                raise
            raise write_error(e, job.output_file or "stdout", state) from None
        finally:
            if progress is not None:
                progress.stop()
            run.close(last_delivered=False)
    session.print_summary()
    if interrupted:
        return signals.status
    return ExitStatus.MATCHED if scan_stats.matched else ExitStatus.NO_MATCH


def _counting(events: Any, counter: list[int]) -> Any:
    """Count events as they are scanned, for the progress line (scan's own count is set at the end)."""
    for ev in events:
        counter[0] += 1
        yield ev


def _run_insights(job: _Job, no_pushdown: bool) -> ExitStatus:
    from ...cloudwatch.client import make_client
    from ...cloudwatch.insights import run_insights
    from ...pipeline import scan

    client = make_client(job.target)
    output = RunOutput.open(
        job.opts, job.registry, job.ruleset, output_file=job.output_file, recorded=None, count_stdout=False
    )
    session = output.session
    expr = job.condition.ast if job.condition is not None and not no_pushdown else None
    events = run_insights(client, job.target, job.window, expr, job.registry, on_warning=None if job.quiet else warn)
    try:
        st = scan(events, session.sink, condition=job.condition, rules=job.ruleset, on_alert=session.on_alert)
        session.close()
    except KeyboardInterrupt:
        session.print_summary()
        return ExitStatus.INTERRUPTED
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()
        output.close()
    session.print_summary()
    return ExitStatus.MATCHED if st.matched else ExitStatus.NO_MATCH
