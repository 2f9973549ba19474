"""`eksaudit fetch`: a time window of the EKS audit log from CloudWatch Logs, filtered, in time order."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from ...errors import UsageError
from ...status import ExitStatus
from .. import options as o
from ..reporting import print_summary
from ..runtime import after_interrupt, command_runner, warn

app = typer.Typer()

DEFAULT_SINCE = "1h"


class Engine(str, Enum):
    EVENTS = "events"
    INSIGHTS = "insights"


@app.command(
    "fetch",
    help=(
        "Fetch a time window of the audit log from CloudWatch Logs (FilterLogEvents), in time order, "
        "each event exactly once; filter it with a Falco condition (--filter) or rules files (-r). "
        f"Without time options the window is the last {DEFAULT_SINCE} (--since {DEFAULT_SINCE}).\n\n"
        "Examples:\n\n"
        "  eksaudit fetch --cluster prod --since 2h --filter 'ka.verb=delete and ka.target.resource=secrets'\n\n"
        "  eksaudit fetch --cluster prod --start 2026-11-30T10:00Z --end 2026-11-30T11:00Z -r eks\n\n"
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
    filter_expr: Annotated[
        Optional[str], typer.Option("--filter", help="Falco condition, evaluated on every event (e.g. ka.verb=delete).")
    ] = None,
    rules: o.Rules = None,
    min_priority: o.MinPriority = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine", help="events: FilterLogEvents (exact, every event); insights: a Logs Insights query (billed per GB scanned)."
        ),
    ] = Engine.EVENTS,
    no_pushdown: Annotated[
        bool, typer.Option("--no-pushdown", help="Do not send a CloudWatch filter pattern; filter only locally.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the window, slices and server-side pattern/query, then exit (no AWS call).")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Time slices fetched in parallel.")] = 4,
    max_rps: o.MaxRps = 5.0,
    state: Annotated[
        Optional[str],
        typer.Option("--state", metavar="FILE", help="Save progress here; re-running the same query resumes without repeats."),
    ] = None,
    output: o.Output = None,
    fields: o.Fields = None,
    count_by: o.CountBy = None,
    top: o.Top = None,
    limit: o.Limit = None,
    query: o.Query = None,
    color: o.Color = o.ColorMode.AUTO,
    quiet: o.Quiet = False,
) -> ExitStatus:
    from ...cloudwatch.client import AwsTarget
    from ...cloudwatch.fetch import plan_slices
    from ...fields import default_registry
    from ...pipeline import build_matching
    from ...timewindow import format_ms, resolve_window

    target = AwsTarget.from_options(cluster, log_group, stream_prefix, region, profile, endpoint_url)
    relative_window = start is None and end is None
    window = resolve_window(since, start, end, default_since=DEFAULT_SINCE)
    assert window is not None and window.end_ms is not None
    registry = default_registry()
    condition, ruleset = build_matching(filter_expr, rules, registry, min_priority=min_priority, on_warning=warn)
    pattern, reason = _pushdown(condition, registry, engine, no_pushdown)

    if explain:
        lines = [f"log group: {target.log_group}", f"stream prefix: {target.stream_prefix or '(all streams)'}"]
        lines.append(window.describe())
        if engine is Engine.INSIGHTS:
            from ...cloudwatch.pushdown import insights_query

            ast = condition.ast if condition is not None and not no_pushdown else None
            lines.append("engine: insights (StartQuery/GetQueryResults)")
            lines.append(f"query: {insights_query(ast, registry, stream_prefix=target.stream_prefix)}")
        else:
            slices = plan_slices(window, workers)
            lines.append(f"engine: events (FilterLogEvents), {len(slices)} slices, {workers} workers, {max_rps:g} requests/s")
            for i, (s, e) in enumerate(slices):
                lines.append(f"  slice {i + 1}: [{format_ms(s)}, {format_ms(e)})")
            lines.append(f"filter pattern: {pattern if pattern is not None else '(none)'}")
        lines.append(f"pushdown: {reason}")
        if condition is not None or ruleset is not None:
            lines.append("client side: the full condition/rules are evaluated on every event")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        return ExitStatus.MATCHED

    if not quiet:
        sys.stderr.write(f"eksaudit: {window.describe()}\n")
        sys.stderr.flush()
    opts = o.output_options(output, fields, count_by, top, limit, query, color, quiet)
    if engine is Engine.INSIGHTS:
        if state:
            raise UsageError("--state works with --engine events only")
        return _run_insights(target, window, condition, ruleset, registry, opts, quiet, no_pushdown)
    return _run_events(
        target, window, relative_window, condition, ruleset, registry, opts, quiet,
        pattern=pattern, workers=workers, max_rps=max_rps, state=state, filter_expr=filter_expr, rules=rules,
        min_priority=min_priority,
    )


def _pushdown(condition: Any, registry: Any, engine: Engine, no_pushdown: bool) -> tuple[str | None, str]:
    if condition is None:
        return None, "no --filter: every event is fetched"
    if no_pushdown:
        return None, "disabled by --no-pushdown"
    if engine is Engine.INSIGHTS:
        return None, "the condition is translated to a Logs Insights filter"
    from ...cloudwatch.pushdown import filter_pattern

    pd = filter_pattern(condition.ast, registry)
    return pd.pattern, pd.reason


def _open_output(opts: Any, registry: Any, has_rules: bool, stdout: Any = None) -> Any:
    from ...output.console import Console
    from ...output.options import OutputFormat
    from ...output.sink import open_sink

    console = Console.from_env(opts.color, stdout=stdout)
    default_format = OutputFormat.FALCO if has_rules else OutputFormat.JSONL
    return open_sink(opts, console, registry, default_format=default_format, has_rules=has_rules)


def _run_events(
    target: Any,
    window: Any,
    relative_window: bool,
    condition: Any,
    ruleset: Any,
    registry: Any,
    opts: Any,
    quiet: bool,
    *,
    pattern: str | None,
    workers: int,
    max_rps: float,
    state: str | None,
    filter_expr: str | None,
    rules: list[str] | None,
    min_priority: str | None,
) -> ExitStatus:
    from ...cloudwatch.checkpoint import Checkpoint
    from ...cloudwatch.client import make_client
    from ...cloudwatch.fetch import fetch_window
    from ...cloudwatch.paging import PageStats
    from ...cloudwatch.progress import ProgressLine
    from ...pipeline import ScanStats, scan

    checkpoint = None
    if state:
        identity = {
            "log_group": target.log_group,
            "stream_prefix": target.stream_prefix,
            "filter": filter_expr,
            "pattern": pattern,
            "rules": list(rules or []),
            "min_priority": min_priority,
            "engine": "events",
        }
        checkpoint = Checkpoint.open(
            state, identity, window, relative_window=relative_window, on_note=None if quiet else _note
        )
        if checkpoint.complete and not quiet:
            _note(f"{state} says this query already completed; nothing left to fetch")
    client = make_client(target, max_pool=workers + 4)
    stats = PageStats()
    summary = None
    if ruleset is not None:
        from ...rules.summary import Summary

        summary = Summary()
    seen = [0]
    progress = None
    if not quiet and sys.stderr.isatty():
        progress = ProgressLine(stats, lambda: seen[0], sys.stderr)
    guarded = progress.guard(sys.stdout.buffer) if progress is not None and sys.stdout.isatty() else None
    sink = _open_output(opts, registry, ruleset is not None, stdout=guarded)
    if checkpoint is not None:
        checkpoint.before_save = sink.flush  # nothing recorded as delivered may sit in a buffer
    run = fetch_window(
        client, target, window, pattern=pattern, workers=workers, max_rps=max_rps, stats=stats,
        checkpoint=checkpoint, on_warning=None if quiet else warn,
    )
    scan_stats = ScanStats()
    if progress is not None:
        progress.start()
    interrupted = False
    try:
        scan(
            _counting(run, seen), sink, condition=condition, rules=ruleset,
            on_alert=summary.add if summary is not None else None, stats=scan_stats,
        )
        sink.close()
        run.close(last_delivered=True)
    except KeyboardInterrupt:
        interrupted = True
        after_interrupt()
        run.close(last_delivered=False)
    finally:
        if progress is not None:
            progress.stop()
        run.close(last_delivered=False)
    if summary is not None and not quiet:
        print_summary(summary)
    if interrupted:
        return ExitStatus.INTERRUPTED
    return ExitStatus.MATCHED if scan_stats.matched else ExitStatus.NO_MATCH


def _counting(events: Any, counter: list[int]) -> Any:
    """Count events as they are scanned, for the progress line (scan's own count is set at the end)."""
    for ev in events:
        counter[0] += 1
        yield ev


def _run_insights(
    target: Any, window: Any, condition: Any, ruleset: Any, registry: Any, opts: Any, quiet: bool, no_pushdown: bool
) -> ExitStatus:
    from ...cloudwatch.client import make_client
    from ...cloudwatch.insights import run_insights
    from ...pipeline import scan

    client = make_client(target)
    summary = None
    if ruleset is not None:
        from ...rules.summary import Summary

        summary = Summary()
    sink = _open_output(opts, registry, ruleset is not None)
    expr = condition.ast if condition is not None and not no_pushdown else None
    events = run_insights(client, target, window, expr, registry, on_warning=None if quiet else warn)
    try:
        st = scan(events, sink, condition=condition, rules=ruleset, on_alert=summary.add if summary is not None else None)
        sink.close()
    except KeyboardInterrupt:
        if summary is not None and not quiet:
            print_summary(summary)
        return ExitStatus.INTERRUPTED
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()
    if summary is not None and not quiet:
        print_summary(summary)
    return ExitStatus.MATCHED if st.matched else ExitStatus.NO_MATCH


def _note(message: str) -> None:
    sys.stderr.write(f"eksaudit: {message}\n")
    sys.stderr.flush()
