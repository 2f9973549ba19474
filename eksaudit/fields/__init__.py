"""The field library: every ka.*, eks.*, cw.*, jevt.*/json.* field in one registry."""

from __future__ import annotations

from functools import lru_cache

from .registry import ArgKind, BoundField, FieldDef, FieldRegistry, FieldType, parse_field_ref

__all__ = [
    "ArgKind",
    "BoundField",
    "FieldDef",
    "FieldRegistry",
    "FieldType",
    "default_registry",
    "parse_field_ref",
]


@lru_cache(maxsize=1)
def default_registry() -> FieldRegistry:
    """The registry of every field eksaudit knows (built once)."""
    from .catalog import build_registry

    return build_registry()
