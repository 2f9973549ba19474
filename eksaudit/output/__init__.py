"""Writers that turn matched events and alerts into lines: jsonl, cw, table, csv, falco, falco-json, counts.

Commands use `open_sink(opts, Console.from_env(opts.color), registry)`; each format module also
works alone on an iterable (`jsonl.event_lines`, `cw.cw_lines`, ...).

The names below are imported on first use: every command loads `output.options` to declare its
options, and should not pay for the writers (and the readers they import) to do so.
"""

from __future__ import annotations

from eksaudit.lazyexports import lazy_exports

_EXPORTS = {
    "ColorMode": "options",
    "Console": "console",
    "OutputFormat": "options",
    "OutputOptions": "options",
    "Query": "query",
    "Sink": "sink",
    "check_options": "sink",
    "compile_query": "query",
    "open_sink": "sink",
    "resolve_format": "sink",
    "use_color": "console",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
