"""What the condition engine needs from a field library, as a protocol.

The engine never imports `eksaudit.fields`: it is handed a resolver, so Falco's grammar vectors run
against a toy registry and ka.* fields are just one implementation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class ResolvedField(Protocol):
    """A field name with its argument, ready to extract values from events.

    `type` is one of "string", "uint64", "bool", "abstime", "reltime", "ipaddr", "ipnet".
    `extract(event)` returns None for "no value", a scalar for scalar fields, and a non-empty list
    for list fields (an empty list is also treated as no value).
    `path` is the JSON object-key path when the field is a plain path into the event (the value then
    appears verbatim in the raw JSON: used by the literal prefilter and by CloudWatch pushdown).
    `string_ops` means string operators apply to the decimal text of a numeric field.
    """

    name: str
    arg: str | None
    type: str
    is_list: bool
    path: tuple[str, ...] | None
    string_ops: bool

    def extract(self, event: Any) -> Any: ...


class FieldResolver(Protocol):
    def resolve(self, name: str, arg: str | None) -> ResolvedField:
        """Return the bound field, or raise `eksaudit.errors.FieldError` (with suggestions)."""
        ...

    def names(self) -> Iterable[str]:
        """Every known field name (for did-you-mean)."""
        ...


def presence_reads(fields: Iterable[Any]) -> frozenset[tuple[str, ...]] | None:
    """The paths these bound fields read only to know whether they are there (None: some field
    reads the whole object).

    A field with a `path` depends on an event only through the value at that path and whether its
    other `reads` are present (the audit gate of most `ka.*` fields): part of what `path` means,
    and tested for every such field of eksaudit's registry. Any path another field reads for its
    value is not presence-only.
    """
    presence: set[tuple[str, ...]] = set()
    values: set[tuple[str, ...]] = set()
    for f in fields:
        reads = getattr(f, "reads", None)
        if reads is None:
            return None
        path = getattr(f, "path", None)
        for p in reads:
            (presence if path is not None and tuple(p) != tuple(path) else values).add(tuple(p))
        if path is not None:
            values.add(tuple(path))
    return frozenset(presence - values)
