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
    workers: Annotated[
        Optional[int],
        typer.Option(
            "--workers", min=1, max=64,
            help="Time slices fetched in parallel (default: 4, more when pages are slow, to keep --max-rps).",
        ),
    ] = None,
    max_rps: o.MaxRps = 5.0,
    state: Annotated[
        Optional[str],
        typer.Option(
            "--state",
            metavar="FILE",
            help="Save progress here; re-running the same query resumes after the last event written "
            "(SIGINT, SIGTERM, SIGHUP, a closed pipe, a full disk). With --since, a later run continues "
            "from the saved end to now (incremental export). After SIGKILL, stdout may repeat the "
            "events since the last checkpoint (about a second); --output-file FILE never does.",
        ),
    ] = None,
    output: o.Output = None,
    output_file: o.OutputFile = None,
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
            from ...cloudwatch.pushdown.insights import insights_query

            ast = condition.ast if condition is not None and not no_pushdown else None
            lines.append("engine: insights (StartQuery/GetQueryResults)")
            lines.append(f"query: {insights_query(ast, registry, stream_prefix=target.stream_prefix)}")
        else:
            from ...cloudwatch.fetch import DEFAULT_WORKERS

            slices = plan_slices(window, workers or DEFAULT_WORKERS)
            pool = f"{workers} workers" if workers else f"{DEFAULT_WORKERS} workers (more if pages are slow)"
            lines.append(f"engine: events (FilterLogEvents), {len(slices)} slices, {pool}, {max_rps:g} requests/s")
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
        return _run_insights(target, window, condition, ruleset, registry, opts, quiet, no_pushdown, output_file)
    return _run_events(
        target, window, relative_window, condition, ruleset, registry, opts, quiet,
        pattern=pattern, workers=workers, max_rps=max_rps, state=state, filter_expr=filter_expr, rules=rules,
        min_priority=min_priority, output_file=output_file,
    )


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
    workers: int | None,
    max_rps: float,
    state: str | None,
    filter_expr: str | None,
    rules: list[str] | None,
    min_priority: str | None,
    output_file: str | None = None,
) -> ExitStatus | int:
    from ...cloudwatch.checkpoint import Checkpoint
    from ...cloudwatch.client import make_client
    from ...cloudwatch.fetch import fetch_window
    from ...cloudwatch.outfile import write_error
    from ...cloudwatch.paging import PageStats
    from ...output.progress import ProgressLine
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
    client = make_client(target, max_pool=(workers or 16) + 4)
    stats = PageStats()
    summary = None
    if ruleset is not None:
        from ...rules.summary import Summary

        summary = Summary()
    seen = [0]
    progress = None
    if not quiet and sys.stderr.isatty():
        progress = ProgressLine(stats, lambda: seen[0], sys.stderr)
    out = open_output(output_file, checkpoint, quiet)
    guarded = None
    if out is None and progress is not None and sys.stdout.isatty():
        guarded = progress.guard(sys.stdout.buffer)
    sink = _open_output(opts, registry, ruleset is not None, stdout=out if out is not None else guarded)
    if checkpoint is not None:
        checkpoint.before_save = _flusher(sink, out)  # nothing recorded as delivered may sit in a buffer
        if out is not None:
            checkpoint.output_size = lambda: out.written
    run = fetch_window(
        client, target, window, pattern=pattern, workers=workers, max_rps=max_rps, stats=stats,
        checkpoint=checkpoint, on_warning=None if quiet else warn,
    )
    scan_stats = ScanStats()
    if progress is not None:
        progress.start()
    interrupted = False
    signals = StopSignals(run.request_stop)
    try:
        with signals:
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
            except OSError as e:
                output_failed(e, out, checkpoint)
                run.close(last_delivered=False)
                if isinstance(e, BrokenPipeError):
                    raise
                raise write_error(e, output_file or "stdout", state) from None
            finally:
                if progress is not None:
                    progress.stop()
                run.close(last_delivered=False)
    finally:
        if out is not None:
            out.close()
    if summary is not None and not quiet:
        print_summary(summary)
    if interrupted:
        return signals.status
    return ExitStatus.MATCHED if scan_stats.matched else ExitStatus.NO_MATCH


def open_output(output_file: str | None, checkpoint: Any, quiet: bool) -> Any:
    """`--output-file FILE` (cut back to the checkpoint's recorded length), else a counting stdout.

    stdout on a terminal is left to Python (None): nobody pipes a terminal, and the progress line
    must interleave with it.
    """
    import os

    from ...cloudwatch.outfile import OutputFile

    if output_file is not None:
        path = os.path.abspath(output_file)
        recorded = checkpoint.output if checkpoint is not None else None
        truncate_to = None
        if recorded is not None:
            if recorded.get("path") == path:
                truncate_to = int(recorded["bytes"])
            elif not quiet:
                _note(f"the state file recorded output to {recorded.get('path')}, not {path}: nothing is cut back")
        out = OutputFile.append(path, truncate_to)
        if checkpoint is not None:
            checkpoint.output = {"path": path, "bytes": out.written}
        return out
    if checkpoint is not None and checkpoint.output is not None:
        checkpoint.output = None  # this run does not write that file: its recorded length no longer applies
    if quiet:
        return None
    try:
        if sys.stdout.isatty():
            return None
        sys.stdout.flush()
        return OutputFile(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # a test runner's captured stdout
        return None


def _flusher(sink: Any, out: Any) -> Any:
    def flush() -> None:
        sink.flush()
        if out is not None and out.path is not None:
            out.sync()

    return flush


def output_failed(exc: OSError, out: Any, checkpoint: Any) -> None:
    """After a failed write: freeze the checkpoint at what was really written, and drop the rest.

    A file (`--output-file`, or a full disk under stdout) keeps the last checkpoint: it counts only
    flushed events. A closed pipe goes further back (see outfile.py): the reader may have dropped
    what it read last.
    """
    if out is not None:
        out.discard()
    if checkpoint is None:
        return
    if isinstance(exc, BrokenPipeError) and out is not None and out.path is None:
        checkpoint.rewind(out.written - out.unread_bound())
    checkpoint.frozen = True


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP end the run at a safe point (`stop()`, between two events), so the
    checkpoint saved on the way out counts exactly what was written; a second signal interrupts at once.
    Exit status 128 + the signal number (130 for Ctrl-C)."""

    def __init__(self, stop: Any) -> None:
        self.stop = stop
        self.hits = 0
        self.status = int(ExitStatus.INTERRUPTED)
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.hits += 1
        self.status = 128 + signum
        self.stop()
        if self.hits > 1:
            raise KeyboardInterrupt

    def __enter__(self) -> StopSignals:
        import contextlib
        import signal

        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            with contextlib.suppress(ValueError, OSError):  # not the main thread: leave signals alone
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        import contextlib
        import signal

        for sig, old in self._old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)


def _counting(events: Any, counter: list[int]) -> Any:
    """Count events as they are scanned, for the progress line (scan's own count is set at the end)."""
    for ev in events:
        counter[0] += 1
        yield ev


def _run_insights(
    target: Any, window: Any, condition: Any, ruleset: Any, registry: Any, opts: Any, quiet: bool, no_pushdown: bool,
    output_file: str | None = None,
) -> ExitStatus:
    from ...cloudwatch.client import make_client
    from ...cloudwatch.insights import run_insights
    from ...pipeline import scan

    client = make_client(target)
    summary = None
    if ruleset is not None:
        from ...rules.summary import Summary

        summary = Summary()
    out = open_output(output_file, None, quiet) if output_file else None
    sink = _open_output(opts, registry, ruleset is not None, stdout=out)
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
        if out is not None:
            out.close()
    if summary is not None and not quiet:
        print_summary(summary)
    return ExitStatus.MATCHED if st.matched else ExitStatus.NO_MATCH


def _note(message: str) -> None:
    sys.stderr.write(f"eksaudit: {message}\n")
    sys.stderr.flush()
