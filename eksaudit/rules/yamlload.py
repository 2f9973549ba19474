"""The YAML layer of rules files, with yaml-cpp's semantics rather than PyYAML's.

Falco reads rules with yaml-cpp, whose `as<string>` returns a scalar's original text: `items: [010,
yes, 1.0]` are the strings "010", "yes" and "1.0", never 8, True or a float. So this module composes
the YAML node graph (no YAML 1.1 typing at all) and turns it into plain containers that remember
where they came from: `YStr` (a str with its line), `YMap` (a dict with its line and each key's
line) and `YSeq` (a list with its line). Null (an empty plain value, `~`, `null`) becomes None, as
yaml-cpp sees it; a quoted `""` stays an empty string.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import RulesError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"))
_FALSE = frozenset(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"))


class YStr(str):
    """A scalar's original text, with the 1-based line and column where it starts."""

    line: int
    col: int

    def __new__(cls, value: str, line: int = 0, col: int = 0) -> YStr:
        s = super().__new__(cls, value)
        s.line = line
        s.col = col
        return s


class YMap(dict):
    """A mapping (first occurrence of a duplicate key wins, as yaml-cpp's lookup does)."""

    line: int = 0
    key_lines: dict[str, int]

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}

    def line_of(self, key: str) -> int:
        """The line of `key` (of the map itself when the key is absent)."""
        return self.key_lines.get(key, self.line)


class YSeq(list):
    """A sequence with the line where it starts."""

    line: int = 0

    def __init__(self, items: list[Any] | None = None, line: int = 0) -> None:
        super().__init__(items or [])
        self.line = line


def is_scalar(v: Any) -> bool:
    return isinstance(v, str)


def line_of(v: Any, default: int = 0) -> int:
    """The line a value starts on (`default` for None)."""
    return getattr(v, "line", default) or default


def to_bool(v: str) -> bool | None:
    """yaml-cpp's boolean table: y/n, yes/no, true/false, on/off in lower, Capitalised or UPPER case."""
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return None


def _convert(node: yaml.Node) -> Any:
    line = node.start_mark.line + 1
    col = node.start_mark.column + 1
    if isinstance(node, yaml.ScalarNode):
        if not node.style and node.value in _NULLS:
            return None
        return YStr(node.value, line, col)
    if isinstance(node, yaml.SequenceNode):
        return YSeq([_convert(n) for n in node.value], line)
    if isinstance(node, yaml.MappingNode):
        m = YMap(line)
        for knode, vnode in node.value:
            if isinstance(knode, yaml.ScalarNode):
                key = knode.value
            else:  # a complex key can never match a rules key; keep it visible for "unknown key"
                key = str(_convert(knode))
            if key in m:
                continue
            m[key] = _convert(vnode)
            m.key_lines[key] = knode.start_mark.line + 1
        return m
    return None  # pragma: no cover - compose never yields other node kinds


def load_documents(text: str, filename: str) -> list[Any]:
    """All documents of a YAML text as converted values (None for empty documents).

    A YAML syntax error becomes a RulesError naming the file and line.
    """
    try:
        return [_convert(doc) if doc is not None else None for doc in yaml.compose_all(text, Loader=_Loader)]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = e.problem or e.context or "invalid YAML"
        raise RulesError(f"{filename}{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise RulesError(f"{filename}: invalid YAML: {e}") from None
