"""Options shared by several commands, declared once as `Annotated` aliases.

A command lists the aliases in its signature and builds library objects with the helpers below
(`output_options`, `aws_target`), so every command spells and documents an option the same way.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..output.options import ColorMode, OutputFormat, OutputOptions
from .complete import complete_field_list, complete_priority, complete_rules

AWS = "AWS options"
TIME = "Time options"
OUT = "Output options"

# --- time ---------------------------------------------------------------------------------------
Since = Annotated[
    Optional[str],
    typer.Option("--since", help="Look back this long: 15m, 1h30m, 2d (units s m h d w).", rich_help_panel=TIME),
]
Start = Annotated[
    Optional[str],
    typer.Option(
        "--start", help="Window start: RFC 3339, epoch s/ms, now, -2h or '2h ago' (inclusive).", rich_help_panel=TIME
    ),
]
End = Annotated[
    Optional[str],
    typer.Option("--end", help="Window end, same forms as --start (exclusive).", rich_help_panel=TIME),
]

# --- AWS ----------------------------------------------------------------------------------------
Cluster = Annotated[
    Optional[list[str]],
    typer.Option(
        "--cluster",
        help="EKS cluster name: log group /aws/eks/NAME/cluster, streams kube-apiserver-audit*. "
        "Repeat for several clusters (merged in time order).",
        rich_help_panel=AWS,
    ),
]
LogGroup = Annotated[
    Optional[list[str]],
    typer.Option("--log-group", help="CloudWatch log group name; repeatable, combinable with --cluster.", rich_help_panel=AWS),
]
StreamPrefix = Annotated[
    Optional[str],
    typer.Option(
        "--stream-prefix",
        help="Log stream name prefix (default kube-apiserver-audit, with --log-group too; '' for every stream).",
        rich_help_panel=AWS,
    ),
]
Region = Annotated[Optional[str], typer.Option("--region", help="AWS region.", rich_help_panel=AWS)]
Profile = Annotated[Optional[str], typer.Option("--profile", help="AWS named profile.", rich_help_panel=AWS)]
EndpointUrl = Annotated[
    Optional[str],
    typer.Option("--endpoint-url", help="CloudWatch Logs endpoint URL (e.g. a local test endpoint).", rich_help_panel=AWS),
]
MaxRps = Annotated[
    float,
    typer.Option("--max-rps", min=0.1, help="FilterLogEvents requests per second, shared by all workers.", rich_help_panel=AWS),
]

# --- conditions and rules -------------------------------------------------------------------------
Rules = Annotated[
    Optional[list[str]],
    typer.Option("-r", "--rules", autocompletion=complete_rules, help="Falco rules file, Sigma rule file, a directory of them, or a built-in ruleset name (eks); repeatable, loaded in order."),
]
MinPriority = Annotated[
    Optional[str],
    typer.Option("--min-priority", autocompletion=complete_priority, help="With -r: only rules at this priority or more severe (e.g. WARNING)."),
]
Strict = Annotated[bool, typer.Option("--strict", help="Stop at the first unreadable input line or JSON object that is not an audit event (exit 2).")]

# --- output -------------------------------------------------------------------------------------
Output = Annotated[
    Optional[OutputFormat],
    typer.Option(
        "-o", "--output", help="jsonl (default), cw, table, csv, falco, falco-json (falco is the default with -r).",
        rich_help_panel=OUT,
    ),
]
Fields = Annotated[
    Optional[str], typer.Option("--fields", autocompletion=complete_field_list, help="Print these fields instead of events: F1,F2.", rich_help_panel=OUT)
]
CountBy = Annotated[
    Optional[str],
    typer.Option("--count-by", autocompletion=complete_field_list, help="Count matches per distinct value of F1,F2, largest first.", rich_help_panel=OUT),
]
Top = Annotated[Optional[int], typer.Option("--top", min=1, help="With --count-by: only the N largest.", rich_help_panel=OUT)]
Limit = Annotated[Optional[int], typer.Option("--limit", min=1, help="Stop after N matches.", rich_help_panel=OUT)]
Query = Annotated[
    Optional[str], typer.Option("--query", help="JMESPath expression applied to each JSON output object.", rich_help_panel=OUT)
]
Color = Annotated[
    ColorMode, typer.Option("--color", help="Colour: auto (terminal only, honours NO_COLOR), always, never.", rich_help_panel=OUT)
]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="Print nothing; the exit status tells.", rich_help_panel=OUT)]
OutputFile = Annotated[
    Optional[str],
    typer.Option(
        "--output-file",
        metavar="FILE",
        help="Append the output to FILE instead of stdout. With --state, exactly once even across "
        "SIGKILL: the state records FILE's length at each checkpoint and a resumed run first cuts FILE "
        "back to it (stdout is at-least-once after SIGKILL).",
        rich_help_panel=OUT,
    ),
]


def split_list(value: str | None) -> list[str]:
    """`a,b , c` → ['a', 'b', 'c'] (field references never contain commas outside brackets)."""
    if not value:
        return []
    out: list[str] = []
    depth = 0
    cur = ""
    for ch in value:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            if cur.strip():
                out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def output_options(
    output: OutputFormat | None,
    fields: str | None,
    count_by: str | None,
    top: int | None,
    limit: int | None,
    query: str | None,
    color: ColorMode,
    quiet: bool,
) -> OutputOptions:
    return OutputOptions(
        format=output,
        fields=split_list(fields),
        count_by=split_list(count_by),
        top=top,
        limit=limit,
        query=query,
        color=color,
        quiet=quiet,
    )


# --- resource bounds (hostile input) ----------------------------------------------------------------
MaxLineBytes = Annotated[
    str,
    typer.Option(
        "--max-line-bytes", metavar="SIZE",
        help="Skip (and report) input lines longer than this: bytes, or K, M, G (1024-based).",
    ),
]
MaxMemory = Annotated[
    str,
    typer.Option(
        "--max-memory", metavar="SIZE",
        help="With --count-by: keep counts in memory up to about this much, then in a temporary file.",
        rich_help_panel=OUT,
    ),
]

Jobs = Annotated[
    Optional[int],
    typer.Option(
        "--jobs", min=1, metavar="N",
        help="Worker processes for large inputs: files, stdin, .gz (default: the CPUs available; "
        "1: no workers). Output is the same as with 1.",
    ),
]

_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str, option: str) -> int:
    """`16M`, `256MB`, `1GiB`, `4096` → bytes (units are powers of 1024); UsageError otherwise."""
    import re

    from ..errors import UsageError

    m = re.fullmatch(r"\s*([0-9]{1,15})\s*([kmgt]?)(?:i?b)?\s*", text, re.I)
    if m is None or int(m.group(1)) == 0:
        raise UsageError(f"invalid {option} {text!r}: use a positive size such as 16M, 512K or 1G")
    return int(m.group(1)) * _SIZE_UNITS[m.group(2).lower()]
