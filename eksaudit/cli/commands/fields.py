"""`eksaudit fields`: the field catalogue, field descriptions, and field extraction from events."""

# Annotations are evaluated at definition (no `from __future__ import annotations`): Typer reads
# them at every start-up, and a string annotation costs it an eval (tests/cli/test_startup.py).
import re
import sys
from typing import Annotated, Optional

import typer

from ...errors import FieldError
from ...status import ExitStatus
from .. import options as o
from ..complete import complete_field
from ..reporting import InputReport
from ..runtime import command_runner

app = typer.Typer()

# A positional argument in one of these namespaces names a field, never a file.
FIELD_ARG_RE = re.compile(r"(ka|jevt|json|eks|cw)\.[A-Za-z0-9_.]*(\[.*\])?\Z", re.S)


def split_fields_and_files(args: list[str]) -> tuple[list[str], list[str]]:
    fields = [a for a in args if FIELD_ARG_RE.match(a)]
    files = [a for a in args if not FIELD_ARG_RE.match(a)]
    return fields, files


@app.command(
    "fields",
    help=(
        "List, describe or extract fields.\n\n"
        "No FIELD: print the field catalogue. FIELD(s) with events coming in (files, or a pipe on "
        "stdin): print those fields of every event (missing is null). FIELD(s) without input, or "
        "--describe: describe each field.\n\n"
        "Example: eksaudit fields ka.user.name ka.verb < audit.log"
    ),
)
@command_runner
def fields_command(
    args: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="[FIELD...] [FILE...]", autocompletion=complete_field, help="Field names (ka.*, eks.*, cw.*, jevt.*, json.*) and input files."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Catalogue and descriptions as JSON.")] = False,
    describe: Annotated[bool, typer.Option("--describe", help="Describe the fields even when input is given.")] = False,
    strict: o.Strict = False,
    output: o.Output = None,
    limit: o.Limit = None,
    query: o.Query = None,
    color: o.Color = o.ColorMode.AUTO,
    quiet: o.Quiet = False,
    max_line_bytes: o.MaxLineBytes = "16M",
    jobs: o.Jobs = None,
) -> ExitStatus:
    from ...fields import default_registry, parse_field_ref

    registry = default_registry()
    field_refs, files = split_fields_and_files(list(args or []))
    if not field_refs:
        if files:
            raise FieldError(f"{files[0]!r} is not a field name (fields are ka.*, eks.*, cw.*, jevt.*, json.*)")
        return _print_catalogue(registry, json_out, quiet)
    defs = []
    for ref in field_refs:
        name, _arg = parse_field_ref(ref)
        defn = registry.get(name)
        if defn is None:
            raise FieldError(f"unknown field {name!r}", registry.suggest(name))
        defs.append(defn)
    stdin_open = sys.stdin is not None  # `<&-`: no input can come in, so describe
    extract = not describe and (bool(files) or (stdin_open and not sys.stdin.isatty()))
    if not extract:
        return _print_descriptions(defs, json_out, quiet)
    for ref in field_refs:
        registry.resolve_ref(ref)  # extraction needs valid arguments: a key field needs its [KEY]
    line_cap = o.parse_size(max_line_bytes, "--max-line-bytes")
    return _extract(field_refs, files, registry, strict, output, limit, query, color, quiet, line_cap, jobs)


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _print_catalogue(registry, json_out: bool, quiet: bool) -> ExitStatus:
    import orjson  # here, not at the top: every command's start-up loads this module
    from tabulate import tabulate

    from ...fields.describe import describe_field

    if quiet:
        return ExitStatus.MATCHED
    rows = [describe_field(d) for d in registry]
    if json_out:
        _write("".join(orjson.dumps(r).decode() + "\n" for r in rows))
        return ExitStatus.MATCHED
    table = [
        (r["name"] + ("[" + r["argument_syntax"] + "]" if r["argument_syntax"] else ""), r["type"],
         "yes" if r["list"] else "", r["description"])
        for r in rows
    ]
    _write(tabulate(table, headers=["field", "type", "list", "description"], tablefmt="plain") + "\n")
    return ExitStatus.MATCHED


def _print_descriptions(defs, json_out: bool, quiet: bool) -> ExitStatus:
    import orjson

    from ...fields.describe import describe_field, describe_text

    if quiet:
        return ExitStatus.MATCHED
    if json_out:
        _write("".join(orjson.dumps(describe_field(d)).decode() + "\n" for d in defs))
    else:
        _write("\n".join(describe_text(d) for d in defs))
    return ExitStatus.MATCHED


def _extract(field_refs, files, registry, strict, output, limit, query, color, quiet, line_cap, jobs) -> ExitStatus:
    from ...events.batches import BlockSlot
    from ...output.options import OutputOptions
    from ...parallel import ScanJob, can_split, default_jobs
    from ...pipeline import scan
    from ..session import OutputSession

    opts = OutputOptions(format=output, fields=field_refs, limit=limit, query=query, color=color, quiet=quiet)
    session = OutputSession.open(opts, registry)
    report = InputReport(quiet=quiet, console=session.console)
    console = session.console
    job = ScanJob(
        opts, registry, strict=strict, max_line_bytes=line_cap, color=console.color,
        stdout_isatty=console.stdout_isatty, report_unparsable=False,
    )
    workers = jobs if jobs is not None else default_jobs()
    try:
        if workers > 1 and can_split(job, session.format):
            stats = report.scan_files(files, session, job, jobs=workers)
        else:
            slot = BlockSlot()
            events = report.read(files, strict=strict, max_line_bytes=line_cap, slot=slot)
            stats = scan(events, session.sink, slot=slot)
        session.close()
    finally:
        report.finish()
    if report.missing:
        return ExitStatus.ERROR
    return ExitStatus.MATCHED if stats.matched else ExitStatus.NO_MATCH
