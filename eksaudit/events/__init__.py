"""Audit events and the readers that turn every supported input format into them.

The names below are imported on first use: the field library needs `events.slowjson` and
`events.event` to build its registry, not the readers (`fields`, completion and `--help` don't read).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AuditEvent": "event",
    "BadLine": "readers",
    "CwMeta": "event",
    "NotAudit": "kinds",
    "NotAuditTally": "kinds",
    "ReadStats": "readers",
    "iter_source": "readers",
    "read_events": "readers",
    "unparsable": "readers",
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
