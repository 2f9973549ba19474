"""`eksaudit watch`: follow the audit log live, every event exactly once, matches printed as they come."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
import time
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import typer

from ...errors import UsageError
from ...status import ExitStatus
from .. import options as o
from ..runtime import after_interrupt, command_runner, note, warn
from .cwrun import RunOutput, StopSignals, describe_groups

app = typer.Typer()

DEFAULT_SINCE = "1m"

FilterOpt = Annotated[Optional[str], typer.Option("--filter", help="Falco condition; only matching events are printed.")]
NoPushdown = Annotated[
    bool, typer.Option("--no-pushdown", help="Do not send a CloudWatch filter pattern; filter only locally.")
]
Lag = Annotated[
    Optional[float],
    typer.Option(
        "--lag",
        metavar="SECONDS",
        min=0.0,
        help="Re-read each time range this long after its end to catch late events "
        "(default: adaptive, twice the p99 ingestion delay, 10 s to 10 min).",
    ),
]
Poll = Annotated[
    float, typer.Option("--poll", metavar="SECONDS", min=0.05, help="Seconds between polls (longer when idle).")
]
Until = Annotated[
    Optional[str],
    typer.Option(
        "--until",
        metavar="T",
        help="Stop once every event before T has been printed (T: RFC 3339, epoch s/ms, now, -2h).",
        rich_help_panel=o.TIME,
    ),
]
MaxEvents = Annotated[Optional[int], typer.Option("--max-events", min=1, metavar="N", help="Stop after N matches.")]
State = Annotated[
    Optional[str],
    typer.Option(
        "--state",
        metavar="FILE",
        help="Checkpoint here (atomically); a restart resumes without loss or repeats after SIGINT, "
        "SIGTERM, SIGHUP or a full disk. After SIGKILL, stdout may repeat the events since the last "
        "checkpoint; --output-file FILE never does (exactly once).",
    ),
]


@app.command(
    "watch",
    help=(
        "Follow the audit log in CloudWatch Logs as it is written, printing each event (or each match "
        "of --filter, or each alert of -r rules) once, as it arrives. Events that CloudWatch ingests "
        "late, with timestamps older than what was already printed, are still printed, once: every "
        "time range is read again after a lag allowance (--lag, learned from the observed ingestion "
        "delay by default). Throttling and network errors never stop it. Runs until --until, "
        "--max-events or Ctrl-C; --state FILE lets a restart continue where it stopped. Several "
        "--cluster/--log-group options watch several log groups at once.\n\n"
        "Examples:\n\n"
        "  eksaudit watch --cluster prod -r eks\n\n"
        "  eksaudit watch --cluster prod --filter 'ka.verb in (create,delete) and ka.target.resource=secrets'\n\n"
        "  eksaudit watch --cluster prod --since 10m --until now --state watch.json\n\n"
        "  eksaudit watch --cluster prod --cluster staging -r eks"
    ),
)
@command_runner
def watch_command(
    cluster: o.Cluster = None,
    log_group: o.LogGroup = None,
    stream_prefix: o.StreamPrefix = None,
    region: o.Region = None,
    profile: o.Profile = None,
    endpoint_url: o.EndpointUrl = None,
    filter_expr: FilterOpt = None,
    rules: o.Rules = None,
    min_priority: o.MinPriority = None,
    no_pushdown: NoPushdown = False,
    lag: Lag = None,
    poll: Poll = 2.0,
    since: o.Since = None,
    start: o.Start = None,
    until: Until = None,
    max_events: MaxEvents = None,
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
) -> int:
    from ...cloudwatch.checkpoint import WatchCheckpoint, query_identity
    from ...cloudwatch.client import AwsTarget
    from ...fields import default_registry
    from ...pipeline import build_matching
    from ...timewindow import format_ms, parse_time, resolve_window

    target = AwsTarget.from_options(cluster, log_group, stream_prefix, region, profile, endpoint_url)
    window = resolve_window(since, start, None, default_since=DEFAULT_SINCE, open_end=True)
    assert window is not None
    until_ms = parse_time(until, int(time.time() * 1000)) if until is not None else None
    registry = default_registry()
    condition, ruleset = build_matching(filter_expr, rules, registry, min_priority=min_priority, on_warning=warn)
    pattern = _pattern(condition, registry, no_pushdown)
    identity = query_identity(target.log_groups, target.stream_prefix, filter_expr, pattern, rules, min_priority)
    store = WatchCheckpoint(state, identity) if state else None
    saved = store.load() if store is not None else None
    first_ms = saved.confirm_ms if saved is not None else window.start_ms
    if until_ms is not None and until_ms <= first_ms:
        raise UsageError(f"--until {format_ms(until_ms)} is not after the start {format_ms(first_ms)}")
    opts = o.output_options(output, fields, count_by, top, limit, query, color, quiet)
    if max_events is not None:
        opts.limit = max_events if opts.limit is None else min(opts.limit, max_events)
    # --output-file is cut back to the length the checkpoint recorded (what was written after it is
    # written again); stdout that is not a terminal is written with its bytes counted (EPIPE rewind)
    output = RunOutput.open(
        opts, registry, ruleset, output_file=output_file, recorded=saved.output if saved is not None else None,
        line_buffered=True,
    )
    run = _Run(output, store, quiet, output_file)
    tail = run.tail(
        target, pattern=pattern, start_ms=window.start_ms, until_ms=until_ms, poll_s=poll, lag_s=lag,
        max_rps=max_rps, state=saved,
    )
    if not quiet:
        _announce(target, tail, saved, state, until_ms, lag, pattern)
    return run.drive(tail, condition, ruleset)


def _pattern(condition: Any, registry: Any, no_pushdown: bool) -> str | None:
    if condition is None or no_pushdown:
        return None
    from ...cloudwatch.pushdown.pattern import filter_pattern

    return filter_pattern(condition.ast, registry).pattern


@dataclass
class _Run:
    """One watch: its output, checkpoints and the EPIPE rewind bookkeeping."""

    output: RunOutput
    store: Any  # WatchCheckpoint, or None without --state
    quiet: bool
    output_file: str | None
    saves: Any = None  # outfile.SaveHistory of the states saved with stdout's length, for EPIPE

    def tail(self, target: Any, **kwargs: Any) -> Any:
        from ...cloudwatch.client import make_client
        from ...cloudwatch.watch import watch_events

        groups = target.log_groups
        return watch_events(
            make_client(target), groups[0] if len(groups) == 1 else groups, stream_prefix=target.stream_prefix,
            on_warning=None if self.quiet else warn, on_checkpoint=self.checkpoint, **kwargs,
        )

    def checkpoint(self, st: Any) -> None:
        if self.store is None:
            return
        self.output.flush()  # what the checkpoint counts as delivered must be out first
        st.output = self.output.recorded
        if st.output is None and self.saves is not None:
            self.saves.add(self.output.out.written, st)
        self.store.save(st)

    def drive(self, tail: Any, condition: Any, ruleset: Any) -> int:
        from ...cloudwatch.outfile import SaveHistory, write_error
        from ...pipeline import ScanStats, scan

        out = self.output.out
        session = self.output.session
        if out is not None and out.path is None:  # where this run started: the rewind target when nothing is sure
            self.saves = SaveHistory(tail.state(), 64)
        signals = StopSignals(tail.request_stop, lambda: tail.interruptible)
        events = iter(tail)
        stats = ScanStats()
        interrupted = False
        try:
            with signals:
                try:
                    scan(events, session.sink, condition=condition, rules=ruleset, on_alert=session.on_alert,
                         stats=stats)
                except KeyboardInterrupt:
                    interrupted = True
                    after_interrupt()
                interrupted = interrupted or tail.stop_requested
                events.close()
                session.close()
        except BrokenPipeError as e:
            # the reader went away, maybe dropping what it read last: go back to a checkpoint older than
            # what the pipe and the reader's buffer can hold (at-least-once; see cloudwatch/outfile.py)
            if self.store is not None and self.saves is not None:
                self.output.failed(e)
                self.store.save(self.saves.at_most(out.written - out.unread_bound()))
            raise
        except OSError as e:  # a full disk: the last checkpoint counts only what was written
            self.output.failed(e)
            state = str(self.store.path) if self.store is not None else None
            raise write_error(e, self.output_file or "stdout", state) from None
        except BaseException:
            self.checkpoint(tail.state())  # a fatal AWS error: what was printed stays delivered
            raise
        finally:
            self.output.close()
        self.checkpoint(tail.state())
        self.report(tail)
        if interrupted:
            return signals.status
        return int(ExitStatus.MATCHED if stats.matched else ExitStatus.NO_MATCH)

    def report(self, tail: Any) -> None:
        if self.quiet:
            return
        st = tail.stats
        note(
            f"watch delivered {st.delivered} event(s), {st.late} of them ingested late, "
            f"{st.duplicates} re-read and suppressed, {st.errors} failure(s) survived; lag {tail.lag.current_ms() / 1000:g}s",
        )
        self.output.session.print_summary()


def _announce(target: Any, tail: Any, saved: Any, state: str | None, until_ms: int | None,
              lag: float | None, pattern: str | None) -> None:
    from ...timewindow import format_ms

    streams = f"{target.stream_prefix}*" if target.stream_prefix else "all streams"
    when = (
        f"resuming from {state} at {format_ms(saved.confirm_ms)}" if saved is not None
        else f"from {format_ms(tail.confirm_ms)}"
    )
    end = f" until {format_ms(until_ms)}" if until_ms is not None else " (Ctrl-C to stop)"
    lag_text = f"lag {lag:g}s" if lag is not None else "adaptive lag"
    push = f"; filter pattern {pattern}" if pattern else ""
    note(f"watching {describe_groups(target)} ({streams}) {when}{end}; {lag_text}{push}")
