"""Every field eksaudit knows, gathered from the namespace modules into one registry."""

from __future__ import annotations

from . import cw, eks, jevt, ka
from .registry import FieldRegistry


def build_registry() -> FieldRegistry:
    """A fresh registry holding the ka.*, eks.*, cw.*, jevt.* and json.* fields (in that order)."""
    reg = FieldRegistry()
    for module in (ka, eks, cw, jevt):
        for defn in module.fields():
            reg.add(defn)
    return reg
