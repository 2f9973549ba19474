"""Audit events and the readers that turn every supported input format into them.

The names below are imported on first use: the field library needs `events.slowjson` and
`events.event` to build its registry, not the readers (`fields`, completion and `--help` don't read).
"""

from __future__ import annotations

from eksaudit.lazyexports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
