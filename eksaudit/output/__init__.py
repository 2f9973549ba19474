"""Writers that turn matched events and alerts into lines: jsonl, cw, table, csv, falco, falco-json, counts.

Commands use `open_sink(opts, Console.from_env(opts.color), registry)`; each format module also
works alone on an iterable (`jsonl.event_lines`, `cw.cw_lines`, ...).

The names below are imported on first use: every command loads `output.options` to declare its
options, and should not pay for the writers (and the readers they import) to do so.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
