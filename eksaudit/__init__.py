"""eksaudit: query Amazon EKS Kubernetes audit logs with Falco's fields, conditions and rules.

The library behind the `eksaudit` command. The main entry points, imported on first use so that
`import eksaudit` stays cheap:

    >>> from eksaudit import read_events, default_registry, compile_condition
    >>> cond = compile_condition("ka.verb=delete and ka.target.resource=secrets", default_registry())
    >>> hits = [ev for ev in read_events(["audit.jsonl"]) if cond.matches(ev)]   # doctest: +SKIP

`load_rules(["eks"], default_registry())` loads Falco rules files (or the built-in `eks` ruleset),
`fetch_window` pulls a CloudWatch window, `resolve_window` turns `--since/--start/--end` into a
half-open window.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "AuditEvent": "eksaudit.events.event",
    "CwMeta": "eksaudit.events.event",
    "read_events": "eksaudit.events.readers",
    "FieldRegistry": "eksaudit.fields.registry",
    "default_registry": "eksaudit.fields",
    "compile_condition": "eksaudit.condition",
    "parse": "eksaudit.condition",
    "load_rules": "eksaudit.rules",
    "fetch_window": "eksaudit.cloudwatch.fetch",
    "resolve_window": "eksaudit.timewindow",
    "Window": "eksaudit.timewindow",
    "EksauditError": "eksaudit.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'eksaudit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
