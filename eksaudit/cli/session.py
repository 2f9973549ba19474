"""What every printing command opens before its scan, in one place: the Console, the sink in the
resolved output format, and (with rules) the end-of-run summary.

filter, fields, fetch and watch print matches the same way::

    session = OutputSession.open(opts, registry, ruleset)  # UsageError/FieldError before any output
    scan(events, session.sink, condition=condition, rules=ruleset, on_alert=session.on_alert)
    session.close()           # held-back output (batches, tables, counts) written, stdout flushed
    session.print_summary()   # Falco's summary on stderr: only with rules and without -q

`stdout` replaces the process's stdout (fetch/watch: a byte-counting file, `--output-file`);
`line_buffered` flushes every line (watch); `console` reuses a Console the command already made
(to say something before the sink is opened). Messages go through `session.console`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..output.console import Console
from ..output.options import OutputFormat, OutputOptions
from ..output.sink import Sink, open_sink
from .reporting import print_summary


@dataclass
class OutputSession:
    console: Console
    sink: Sink
    summary: Any  # rules.summary.Summary, or None without rules
    quiet: bool

    @classmethod
    def open(
        cls,
        opts: OutputOptions,
        registry: Any,
        ruleset: Any = None,
        *,
        console: Console | None = None,
        stdout: BinaryIO | None = None,
        line_buffered: bool = False,
    ) -> OutputSession:
        """Check the options and open the sink (falco alerts with rules, else jsonl, unless `-o`)."""
        if console is None:
            console = Console.from_env(opts.color, line_buffered=line_buffered, stdout=stdout)
        sink = open_sink(opts, console, registry, has_rules=ruleset is not None)
        summary = ruleset.new_summary() if ruleset is not None else None
        return cls(console, sink, summary, opts.quiet)

    @property
    def format(self) -> OutputFormat:
        """The format printed in (`-o`, or the command's default resolved by `resolve_format`)."""
        assert self.sink.format is not None
        return self.sink.format

    @property
    def on_alert(self) -> Callable[[Any], None] | None:
        """`scan(on_alert=...)`: every alert counted for the summary (None without rules)."""
        return self.summary.add if self.summary is not None else None

    def close(self) -> None:
        """Print what the sink held back and flush stdout."""
        self.sink.close()

    def print_summary(self) -> None:
        """Falco's end-of-run summary on stderr, with rules and unless `-q`."""
        if self.summary is not None and not self.quiet:
            print_summary(self.summary, self.console)
