"""Fixtures for field tests: the registry and `x(ref, obj)` to extract one reference from one event."""

from __future__ import annotations

from typing import Any

import pytest
from fields_testkit import make_event

from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry


@pytest.fixture(scope="session")
def registry():
    return default_registry()


@pytest.fixture(scope="session")
def x(registry):
    """x(ref, obj_or_event) -> extracted value."""

    def _x(ref: str, obj: Any) -> Any:
        ev = obj if isinstance(obj, AuditEvent) else make_event(obj)
        return registry.resolve_ref(ref).extract(ev)

    return _x
