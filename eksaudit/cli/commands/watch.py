"""`eksaudit watch`: follow the audit log live, every event exactly once, matches printed as they come."""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from typing import Annotated, Any, Optional

import typer

from ...errors import UsageError
from ...status import ExitStatus
from .. import options as o
from ..reporting import print_summary
from ..runtime import after_interrupt, command_runner, warn

app = typer.Typer()

DEFAULT_SINCE = "1m"


@app.command(
    "watch",
    help=(
        "Follow the audit log in CloudWatch Logs as it is written, printing each event (or each match "
        "of --filter, or each alert of -r rules) once, as it arrives. Events that CloudWatch ingests "
        "late, with timestamps older than what was already printed, are still printed, once: every "
        "time range is read again after a lag allowance (--lag, learned from the observed ingestion "
        "delay by default). Throttling and network errors never stop it. Runs until --until, "
        "--max-events or Ctrl-C; --state FILE lets a restart continue where it stopped.\n\n"
        "Examples:\n\n"
        "  eksaudit watch --cluster prod -r eks\n\n"
        "  eksaudit watch --cluster prod --filter 'ka.verb in (create,delete) and ka.target.resource=secrets'\n\n"
        "  eksaudit watch --cluster prod --since 10m --until now --state watch.json"
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
    filter_expr: Annotated[
        Optional[str], typer.Option("--filter", help="Falco condition; only matching events are printed.")
    ] = None,
    rules: o.Rules = None,
    min_priority: o.MinPriority = None,
    no_pushdown: Annotated[
        bool, typer.Option("--no-pushdown", help="Do not send a CloudWatch filter pattern; filter only locally.")
    ] = False,
    lag: Annotated[
        Optional[float],
        typer.Option(
            "--lag",
            metavar="SECONDS",
            min=0.0,
            help="Re-read each time range this long after its end to catch late events "
            "(default: adaptive, twice the p99 ingestion delay, 10 s to 10 min).",
        ),
    ] = None,
    poll: Annotated[
        float,
        typer.Option("--poll", metavar="SECONDS", min=0.05, help="Seconds between polls (longer when idle)."),
    ] = 2.0,
    since: o.Since = None,
    start: o.Start = None,
    until: Annotated[
        Optional[str],
        typer.Option(
            "--until",
            metavar="T",
            help="Stop once every event before T has been printed (T: RFC 3339, epoch s/ms, now, -2h).",
            rich_help_panel=o.TIME,
        ),
    ] = None,
    max_events: Annotated[
        Optional[int], typer.Option("--max-events", min=1, metavar="N", help="Stop after N matches.")
    ] = None,
    max_rps: o.MaxRps = 5.0,
    state: Annotated[
        Optional[str],
        typer.Option(
            "--state",
            metavar="FILE",
            help="Checkpoint here (atomically); a restart resumes without loss or repeats after SIGINT, "
            "SIGTERM, SIGHUP or a full disk. After SIGKILL, stdout may repeat the events since the last "
            "checkpoint; --output-file FILE never does (exactly once).",
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
) -> int:
    from ...cloudwatch.client import AwsTarget, make_client
    from ...cloudwatch.tail import load_state, query_hash, save_state, watch_events
    from ...fields import default_registry
    from ...output.console import Console
    from ...output.options import OutputFormat
    from ...output.sink import open_sink
    from ...pipeline import ScanStats, build_matching, scan
    from ...timewindow import format_ms, parse_time, resolve_window

    target = AwsTarget.from_options(cluster, log_group, stream_prefix, region, profile, endpoint_url)
    window = resolve_window(since, start, None, default_since=DEFAULT_SINCE, open_end=True)
    assert window is not None
    now_ms = int(time.time() * 1000)
    until_ms = parse_time(until, now_ms) if until is not None else None
    registry = default_registry()
    condition, ruleset = build_matching(filter_expr, rules, registry, min_priority=min_priority, on_warning=warn)
    pattern = None
    if condition is not None and not no_pushdown:
        from ...cloudwatch.pushdown.pattern import filter_pattern

        pattern = filter_pattern(condition.ast, registry).pattern
    qhash = query_hash(
        target.log_group, target.stream_prefix, filter_expr, pattern, "\n".join(rules or []), min_priority
    )
    saved = load_state(state, query=qhash) if state else None
    first_ms = saved.confirm_ms if saved is not None else window.start_ms
    if until_ms is not None and until_ms <= first_ms:
        raise UsageError(f"--until {format_ms(until_ms)} is not after the start {format_ms(first_ms)}")

    opts = o.output_options(output, fields, count_by, top, limit, query, color, quiet)
    if max_events is not None:
        opts.limit = max_events if opts.limit is None else min(opts.limit, max_events)
    from ...cloudwatch.outfile import OutputFile, write_error
    from .fetch import open_output

    # --output-file is cut back to the length the checkpoint recorded (what was written after it is
    # written again); stdout that is not a terminal is written with its bytes counted (EPIPE rewind)
    out: OutputFile | None = open_output(output_file, _Recorded(saved.output if saved is not None else None), quiet)
    console = Console.from_env(opts.color, line_buffered=True, stdout=out)
    sink = open_sink(
        opts, console, registry,
        default_format=OutputFormat.FALCO if ruleset is not None else OutputFormat.JSONL,
        has_rules=ruleset is not None,
    )
    client = make_client(target)
    summary = None
    if ruleset is not None:
        from ...rules.summary import Summary

        summary = Summary()

    snapshots: list[tuple[int, Any]] = []  # (stdout bytes, state) of recent checkpoints, for EPIPE
    counting = out is not None and out.path is None

    def checkpoint(st: Any) -> None:
        if state:
            sink.flush()  # what the checkpoint counts as delivered must be out first
            if out is not None and out.path is not None:
                out.sync()
                st.output = {"path": out.path, "bytes": out.written}
            elif out is not None:
                snapshots.append((out.written, st))
                del snapshots[:-64]
            save_state(state, st)

    tail = watch_events(
        client, target.log_group, stream_prefix=target.stream_prefix, pattern=pattern,
        start_ms=window.start_ms, until_ms=until_ms, poll_s=poll, lag_s=lag, max_rps=max_rps,
        state=saved, query=qhash, on_warning=None if quiet else warn, on_checkpoint=checkpoint,
    )
    if not quiet:
        _announce(target, tail, saved, state, until_ms, lag, pattern)

    first_state = tail.state()  # where this run started: the rewind target when nothing is sure
    signals = _StopSignals(tail)
    events = iter(tail)
    stats = ScanStats()
    interrupted = False
    try:
        with signals:
            try:
                scan(events, sink, condition=condition, rules=ruleset,
                     on_alert=summary.add if summary is not None else None, stats=stats)
            except KeyboardInterrupt:
                interrupted = True
                after_interrupt()
            interrupted = interrupted or tail.stop_requested
            events.close()
            sink.close()
    except BrokenPipeError:
        # the reader went away, maybe dropping what it read last: go back to a checkpoint older than
        # what the pipe and the reader's buffer can hold (at-least-once; see cloudwatch/outfile.py)
        if state and out is not None and counting:
            out.discard()
            limit = out.written - out.unread_bound()
            older = [st for n, st in snapshots if n <= limit]
            save_state(state, older[-1] if older else first_state)
        raise
    except OSError as e:  # a full disk: the last checkpoint counts only what was written
        if out is not None:
            out.discard()
        raise write_error(e, output_file or "stdout", state) from None
    except BaseException:
        checkpoint(tail.state())  # a fatal AWS error: what was printed stays delivered
        raise
    finally:
        if out is not None:
            out.close()
    checkpoint(tail.state())
    if not quiet:
        st = tail.stats
        sys.stderr.write(
            f"eksaudit: watch delivered {st.delivered} event(s), {st.late} of them ingested late, "
            f"{st.duplicates} re-read and suppressed, {st.errors} failure(s) survived; lag {tail.lag.current_ms() / 1000:g}s\n"
        )
        sys.stderr.flush()
    if summary is not None and not quiet:
        print_summary(summary)
    if interrupted:
        return signals.status
    return int(ExitStatus.MATCHED if stats.matched else ExitStatus.NO_MATCH)


class _StopSignals:
    """Ctrl-C (and SIGTERM, SIGHUP) end the watch at a safe point: between two events, or at once while it
    waits (sleep, network). A second signal interrupts whatever is running."""

    def __init__(self, tail: Any) -> None:
        self.tail = tail
        self.hits = 0
        self.status = int(ExitStatus.INTERRUPTED)
        self._old: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        self.hits += 1
        self.status = 128 + signum
        self.tail.request_stop()
        if self.tail.interruptible or self.hits > 1:
            raise KeyboardInterrupt

    def __enter__(self) -> _StopSignals:
        for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
            with contextlib.suppress(ValueError, OSError):  # not the main thread: leave signals alone
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, old)



def _announce(target: Any, tail: Any, saved: Any, state: str | None, until_ms: int | None, lag: float | None,
              pattern: str | None) -> None:
    from ...timewindow import format_ms

    streams = f"{target.stream_prefix}*" if target.stream_prefix else "all streams"
    when = (
        f"resuming from {state} at {format_ms(saved.confirm_ms)}" if saved is not None
        else f"from {format_ms(tail.confirm_ms)}"
    )
    end = f" until {format_ms(until_ms)}" if until_ms is not None else " (Ctrl-C to stop)"
    lag_text = f"lag {lag:g}s" if lag is not None else "adaptive lag"
    push = f"; filter pattern {pattern}" if pattern else ""
    sys.stderr.write(f"eksaudit: watching {target.log_group} ({streams}) {when}{end}; {lag_text}{push}\n")
    sys.stderr.flush()


class _Recorded:
    """What fetch's `open_output` reads from a checkpoint: the recorded output file and length."""

    def __init__(self, output: dict[str, Any] | None) -> None:
        self.output = output
