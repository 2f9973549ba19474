"""Small builders shared by the field tests (a uniquely named module, importable from test files)."""

from __future__ import annotations

from typing import Any

from eksaudit.events.event import AuditEvent, CwMeta


def make_event(obj: Any, cw: CwMeta | None = None) -> AuditEvent:
    try:
        return AuditEvent.from_obj(obj, cw=cw)
    except TypeError:  # values orjson cannot write (ints beyond 64 bits): keep the object as given
        return AuditEvent(b"{}", obj=obj, cw=cw)


def audit(**fields: Any) -> dict[str, Any]:
    """A minimal audit event (it has an auditID, so ka.* fields apply) plus the given keys."""
    base: dict[str, Any] = {"kind": "Event", "auditID": "a-1"}
    base.update(fields)
    return base
