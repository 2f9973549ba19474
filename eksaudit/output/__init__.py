"""Writers that turn matched events and alerts into lines: jsonl, cw, table, csv, falco, falco-json, counts.

Commands use `open_sink(opts, Console.from_env(opts.color), registry)`; each format module also
works alone on an iterable (`jsonl.event_lines`, `cw.cw_lines`, ...).
"""

from .console import Console, use_color
from .options import ColorMode, OutputFormat, OutputOptions
from .query import Query, compile_query
from .sink import Sink, check_options, open_sink, resolve_format

__all__ = [
    "ColorMode",
    "Console",
    "OutputFormat",
    "OutputOptions",
    "Query",
    "Sink",
    "check_options",
    "compile_query",
    "open_sink",
    "resolve_format",
    "use_color",
]
