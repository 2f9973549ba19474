"""Building test events: where a value goes in a nested JSON object."""

from __future__ import annotations

from typing import Any


def parent_at(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The object that holds `path`'s last member, objects made (or put in place of other values)
    on the way down: where tests write odd values."""
    node = obj
    for k in path[:-1]:
        nxt = node.get(k)
        if not isinstance(nxt, dict):
            nxt = node[k] = {}
        node = nxt
    return node
