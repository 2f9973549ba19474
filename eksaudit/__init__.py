"""eksaudit: query Amazon EKS Kubernetes audit logs with Falco's fields, conditions and rules.

The library behind the `eksaudit` command (docs/library.md has tested examples). The entry
points, imported on first use so that `import eksaudit` stays cheap:

    >>> from eksaudit import read_events, default_registry, compile_condition
    >>> cond = compile_condition("ka.verb=delete and ka.target.resource=secrets", default_registry())
    >>> hits = [ev for ev in read_events(["audit.jsonl"]) if cond.matches(ev)]   # doctest: +SKIP

`read_events` reads every supported input (`ReadStats` and `NotAuditTally` collect what was not
an audit event), `load_rules(["eks"], default_registry())` loads Falco rules files (or the built-in
`eks` ruleset) into a `Ruleset` whose `match` gives `Alert`s, `resolve_window` turns
`--since/--start/--end` into a half-open `Window` (`event_time_ms` is the time it applies to),
and `fetch_window(make_client(target), target, window)` pulls a CloudWatch window of an
`AwsTarget`.
"""

from __future__ import annotations

from eksaudit.lazyexports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "AuditEvent": "eksaudit.events.event",
    "CwMeta": "eksaudit.events.event",
    "read_events": "eksaudit.events.readers",
    "iter_source": "eksaudit.events.readers",
    "ReadStats": "eksaudit.events.readers",
    "BadLine": "eksaudit.events.readers",
    "NotAudit": "eksaudit.events.kinds",
    "NotAuditTally": "eksaudit.events.kinds",
    "FieldRegistry": "eksaudit.fields.registry",
    "default_registry": "eksaudit.fields",
    "compile_condition": "eksaudit.condition",
    "CompiledCondition": "eksaudit.condition",
    "parse": "eksaudit.condition",
    "load_rules": "eksaudit.rules",
    "Ruleset": "eksaudit.rules",
    "Alert": "eksaudit.rules",
    "Priority": "eksaudit.rules",
    "fetch_window": "eksaudit.cloudwatch.fetch",
    "AwsTarget": "eksaudit.cloudwatch.client",
    "make_client": "eksaudit.cloudwatch.client",
    "resolve_window": "eksaudit.timewindow",
    "Window": "eksaudit.timewindow",
    "event_time_ms": "eksaudit.pipeline",
    "EksauditError": "eksaudit.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
