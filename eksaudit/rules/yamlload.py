"""The YAML layer of rules files, with yaml-cpp's semantics rather than PyYAML's.

Falco reads rules with yaml-cpp, whose `as<string>` returns a scalar's original text: `items: [010,
yes, 1.0]` are the strings "010", "yes" and "1.0", never 8, True or a float. So this module composes
the YAML node graph (no YAML 1.1 typing at all) and turns it into plain containers that remember
where they came from: `YStr` (a str with its line), `YMap` (a dict with its line and each key's
line) and `YSeq` (a list with its line). Null (an empty plain value, `~`, `null`) becomes None, as
yaml-cpp sees it; a quoted `""` stays an empty string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import RulesError

if TYPE_CHECKING:
    import yaml  # imported when a text is parsed: a file read before comes from the cache (yamlcache.py)

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


# Aliases share one node in the composed graph, and converting copies it at every use, so nine
# levels of nine aliases ("billion laughs") would build 10^9 values. Rules files hardly ever use
# aliases; these bounds leave room for any honest use and stop a bomb after a few milliseconds.
MAX_ALIASES = 10_000  # alias uses in the file (outside other aliases' expansions)
MAX_ALIAS_NODES = 100_000  # values built by expanding aliases, nested ones included, in total


class _Converter:
    """Node graph -> YStr/YMap/YSeq, counting what aliases expand to (see the bounds above)."""

    def __init__(self, filename: str) -> None:
        import yaml

        self.yaml = yaml
        self.filename = filename
        self.seen: set[int] = set()  # ids of nodes converted at least once: a second visit is an alias
        self.path: set[int] = set()  # nodes being converted (an alias to one of them is a cycle)
        self.aliases = 0
        self.alias_nodes = 0
        self.depth_in_alias = 0
        self.outer_line = 0  # where the outermost alias being expanded is used (what to fix)

    def _too_much(self, line: int, what: str) -> RulesError:
        return RulesError(f"{self.filename}:{line}: invalid YAML: {what}")

    def convert(self, node: yaml.Node, use_line: int) -> Any:
        """Convert `node`; `use_line` is where it is used (an alias's node starts at its anchor)."""
        key = id(node)
        if key in self.path:
            raise self._too_much(use_line, "recursive alias (a value that contains itself)")
        # a node met again is an alias; inside an expansion everything is met again, so only the
        # outermost alias counts as a use, and everything it builds counts towards the size
        alias = key in self.seen
        if alias:
            if not self.depth_in_alias:
                self.aliases += 1
                self.outer_line = use_line
                if self.aliases > MAX_ALIASES:
                    raise self._too_much(use_line, f"more than {MAX_ALIASES:,} alias uses (a YAML alias bomb?)")
            self.depth_in_alias += 1
        else:
            self.seen.add(key)
        if self.depth_in_alias:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise self._too_much(self.outer_line, f"aliases expand to more than {MAX_ALIAS_NODES:,} values "
                                     "(a YAML alias bomb?)")
        self.path.add(key)
        try:
            return self._node(node)
        finally:
            self.path.discard(key)
            if alias:
                self.depth_in_alias -= 1

    def _node(self, node: yaml.Node) -> Any:
        yaml = self.yaml
        line = node.start_mark.line + 1
        col = node.start_mark.column + 1
        if isinstance(node, yaml.ScalarNode):
            if not node.style and node.value in _NULLS:
                return None
            return YStr(node.value, line, col)
        if isinstance(node, yaml.SequenceNode):
            return YSeq([self.convert(n, line) for n in node.value], line)
        if isinstance(node, yaml.MappingNode):
            m = YMap(line)
            for knode, vnode in node.value:
                kline = knode.start_mark.line + 1
                if isinstance(knode, yaml.ScalarNode):
                    key = knode.value
                else:  # a complex key can never match a rules key; keep it visible for "unknown key"
                    key = str(self.convert(knode, kline))
                if key in m:
                    continue
                m[key] = self.convert(vnode, kline)
                m.key_lines[key] = kline
            return m
        return None  # pragma: no cover - compose never yields other node kinds


CACHING = True  # the slow twin: False, every text parsed (no documents kept or read, yamlcache.py)


def load_documents(text: str, filename: str) -> list[Any]:
    """All documents of a YAML text as converted values (None for empty documents).

    A YAML syntax error becomes a RulesError naming the file and line, and so do aliases that
    expand beyond MAX_ALIASES uses or MAX_ALIAS_NODES values, and an alias that contains itself.
    A text parsed before comes from the cache (`yamlcache`), the same documents without PyYAML.
    """
    if not CACHING:
        return _parse(text, filename)
    from . import yamlcache

    docs = yamlcache.load(text)
    if docs is None:
        docs = _parse(text, filename)
        yamlcache.store(text, docs)
    return docs


def _parse(text: str, filename: str) -> list[Any]:
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [_Converter(filename).convert(doc, doc.start_mark.line + 1) if doc is not None else None
                for doc in yaml.compose_all(text, Loader=loader)]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = e.problem or e.context or "invalid YAML"
        raise RulesError(f"{filename}{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise RulesError(f"{filename}: invalid YAML: {e}") from None
