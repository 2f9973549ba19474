"""The slow twin of the Sigma translation: Sigma's semantics evaluated directly on an event's JSON.

eksaudit runs a Sigma rule as the Falco condition `translate.to_condition` writes for it (fast:
the engine's guards, prefilters and compiled operators). This module evaluates the same rule tree
straight from the definitions in docs/sigma.md, with Python's `re` instead of Falco's operators,
and the property tests compare the two on random rules and odd events.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import re2

from ..fields.jsonwalk import as_string
from .translate import (
    FLAT_MAPS,
    STAR,
    And,
    ExistsTest,
    FieldTest,
    KeywordTest,
    Not,
    NullTest,
    Or,
    Pattern,
    Wild,
)

_MISSING = object()
_INDEX_RE = re.compile(r"[0-9]+\Z")


def lookup(obj: Any, path: tuple[str, ...]) -> Any:
    """The value at a split dotted path (objects by key, arrays by decimal index), or _MISSING."""
    v = obj
    for p in path:
        if isinstance(v, dict):
            if p not in v:
                return _MISSING
            v = v[p]
        elif isinstance(v, list) and _INDEX_RE.match(p) and int(p) < len(v):
            v = v[int(p)]
        else:
            return _MISSING
    return v


@lru_cache(maxsize=4096)
def _pattern_rx(key: tuple[tuple[bool, str], ...], cased: bool) -> re.Pattern[str]:
    body = "".join((".*" if t == "*" else ".") if wild else re.escape(t) for wild, t in key)
    flags = re.DOTALL | re.ASCII | (0 if cased else re.IGNORECASE)
    return re.compile(body, flags)


def _matches_pattern(text: str, p: Pattern, cased: bool) -> bool:
    # the cache key says which tokens are wildcards: Wild("*") == "*" as strings
    key = tuple((isinstance(t, Wild), str(t)) for t in p)
    return _pattern_rx(key, cased).fullmatch(text) is not None


@lru_cache(maxsize=1024)
def _search_rx(pattern: str) -> Any:
    o = re2.Options()
    o.posix_syntax = True
    o.longest_match = True
    o.log_errors = False
    return re2.compile(pattern, options=o)


def evaluate(node: object, obj: Any) -> bool:
    """Does the rule tree match the event object (a parsed audit event)?"""
    if isinstance(node, And):
        return all(evaluate(i, obj) for i in node.items)
    if isinstance(node, Or):
        return any(evaluate(i, obj) for i in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, obj)
    if isinstance(node, ExistsTest):
        return (lookup(obj, node.path) is not _MISSING) is node.expected
    if isinstance(node, NullTest):
        v = lookup(obj, node.path)
        # as documented: the string "null" is not told apart from JSON null (jevt.value gives both as null)
        return v is _MISSING or v is None or v in ("", "null")
    if isinstance(node, FieldTest):
        v = lookup(obj, node.path)
        if v is _MISSING:
            return False
        text = as_string(v)
        if node.kind == "re":
            results = (_search_rx(str(r)).search(text) is not None for r in node.values)
        else:
            results = (_matches_pattern(text, p, node.cased) for p in node.values if isinstance(p, tuple))
        return all(results) if node.join == "and" else any(results)
    if isinstance(node, KeywordTest):
        text = as_string(obj)
        results = (_matches_pattern(text, (STAR, *p, STAR), node.cased) for p in node.values)
        return all(results) if node.join == "and" else any(results)
    raise TypeError(f"not a Sigma rule tree node: {node!r}")


__all__ = ["FLAT_MAPS", "evaluate", "lookup"]
