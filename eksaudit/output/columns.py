"""What a row is made of: the default event columns, `--fields` columns, and how a value prints.

A column is `(header, getter)`; a getter takes an event and returns None (no value), a scalar or a
list, the same contract as the field registry's extractors, so `--fields` columns and the default
columns go through the same table, CSV and counts writers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..events.event import AuditEvent

Getter = Callable[[AuditEvent], Any]
Column = tuple[str, Getter]


def _obj(ev: AuditEvent) -> dict[str, Any]:
    o = ev.obj
    return o if isinstance(o, dict) else {}


def _sub(d: Any, key: str) -> Any:
    return d.get(key) if isinstance(d, dict) else None


def col_time(ev: AuditEvent) -> Any:
    o = _obj(ev)
    return o.get("stageTimestamp") or o.get("requestReceivedTimestamp") or o.get("timestamp")


def col_user(ev: AuditEvent) -> Any:
    return _sub(_obj(ev).get("user"), "username")


def col_verb(ev: AuditEvent) -> Any:
    return _obj(ev).get("verb")


def col_resource(ev: AuditEvent) -> Any:
    """`pods/exec` (resource/subresource); a non-resource request shows its URI (`/healthz`)."""
    o = _obj(ev)
    ref = o.get("objectRef")
    res = _sub(ref, "resource")
    if not res:
        return o.get("requestURI") if ref is None else None
    sub = _sub(ref, "subresource")
    return f"{res}/{sub}" if sub else res


def col_namespace_name(ev: AuditEvent) -> Any:
    """`ns/name`; `name` for cluster-scoped objects; `ns/` for a collection (list, create)."""
    ref = _obj(ev).get("objectRef")
    ns, name = _sub(ref, "namespace"), _sub(ref, "name")
    if ns and name:
        return f"{ns}/{name}"
    if name:
        return name
    if ns:
        return f"{ns}/"
    return None


def col_code(ev: AuditEvent) -> Any:
    return _sub(_obj(ev).get("responseStatus"), "code")


DEFAULT_COLUMNS: list[Column] = [
    ("time", col_time),
    ("user", col_user),
    ("verb", col_verb),
    ("resource", col_resource),
    ("namespace/name", col_namespace_name),
    ("code", col_code),
]


def field_columns(refs: Sequence[str], registry: Any) -> list[Column]:
    """`--fields` references resolved once (FieldError for an unknown one, before any output)."""
    cols: list[Column] = []
    for ref in refs:
        bound = registry.resolve_ref(ref)
        cols.append((ref, bound.extract))
    return cols


def columns_reads(refs: Sequence[str], registry: Any) -> frozenset[tuple[str, ...]] | None:
    """The JSON paths the `--fields`/`--count-by` columns read (None: one reads the whole event)."""
    out: set[tuple[str, ...]] = set()
    for ref in refs:
        reads = getattr(registry.resolve_ref(ref), "reads", None)
        if reads is None:
            return None
        out.update(tuple(p) for p in reads)
    return frozenset(out)


def columns_presence_reads(refs: Sequence[str], registry: Any) -> frozenset[tuple[str, ...]] | None:
    """Of `columns_reads`, the paths read only for being there (condition/resolver.py)."""
    from ..condition.resolver import presence_reads

    return presence_reads(registry.resolve_ref(ref) for ref in refs)


def cell_text(value: Any) -> str:
    """A value as one table/CSV cell: no value is empty, lists are joined with commas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(cell_text(v) for v in value)
    return str(value)


def json_value(value: Any) -> Any:
    """A value for JSON output: tuples (hashable count keys) become arrays again."""
    if isinstance(value, tuple):
        return [json_value(v) for v in value]
    return value
