"""Reading Sigma rule files: YAML with types and lines, detection items and conditions -> IR.

YAML is read as Sigma tools read it (PyYAML's YAML 1.1 typing: `401` is a number, `'401'` a
string, `null`/`~`/empty a null), keeping each node's line so every error names file:line.
Anything this translator does not support (aggregations, correlation rules, placeholders,
unsupported modifiers) is an error, never a rule that silently matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import RulesError
from ..rules.model import Priority, RuleInfo, Where
from .translate import (
    QMARK,
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
    literal,
    parse_sigma_string,
    split_path,
    to_condition,
)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LEVELS = {
    "informational": Priority.INFORMATIONAL,
    "low": Priority.NOTICE,
    "medium": Priority.WARNING,
    "high": Priority.ERROR,
    "critical": Priority.CRITICAL,
}
DEFAULT_LEVEL = "medium"

# Modifiers of the Sigma specification (v2.1) that eksaudit does not implement: named in errors.
KNOWN_UNSUPPORTED = frozenset((
    "neq", "windash", "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide", "lt", "lte", "gt",
    "gte", "minute", "hour", "day", "week", "month", "year", "cidr", "expand", "fieldref", "i", "m", "s",
))
_SUPPORTED = ("contains", "startswith", "endswith", "all", "re", "cased", "exists")

OUTPUT_FIELDS = (
    "(user=%ka.user.name verb=%ka.verb resource=%ka.target.resource subresource=%ka.target.subresource "
    "ns=%ka.target.namespace name=%ka.target.name uri=%ka.uri code=%ka.response.code "
    "sourceips=%ka.sourceips useragent=%ka.useragent)"
)


class SigmaError(RulesError):
    """A Sigma rule this translator cannot load (the message starts with file:line)."""


@dataclass
class SigmaRule:
    """One Sigma rule, translated: `condition` is the Falco condition text that runs it."""

    title: str
    file: str
    line: int
    condition: str
    priority: Priority
    level: str
    tags: tuple[str, ...]
    description: str
    rule_id: str | None
    cond_line: int
    logsource: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    tree: object = None  # the detection as a rule tree (eksaudit.sigma.translate nodes)

    @property
    def output(self) -> str:
        # `%` starts a field reference in Falco outputs, and there is no escape for it.
        return f"{self.title.replace('%', ' percent')} {OUTPUT_FIELDS}"

    def rule_info(self) -> RuleInfo:
        """The rule as the rules engine's Collector takes it (source k8s_audit)."""
        return RuleInfo(
            name=self.title, cond=self.condition, output=self.output, desc=self.description,
            priority=self.priority, where=Where(self.file, self.line, "Sigma rule", self.title),
            source="k8s_audit", tags=set(self.tags), cond_line=self.cond_line, output_line=self.line,
        )


@dataclass
class SigmaSkip:
    """A Sigma rule not for Kubernetes audit logs (its logsource), skipped with a warning."""

    title: str
    file: str
    line: int
    logsource: dict[str, Any]

    @property
    def message(self) -> str:
        ls = ", ".join(f"{k}: {v}" for k, v in self.logsource.items()) or "none"
        return (f"{self.file}:{self.line}: Sigma rule '{self.title}': skipped: logsource ({ls}) is not "
                "Kubernetes audit (product: kubernetes, service: audit)")


# ------------------------------------------------------------------------------------- YAML


def _compose(text: str, name: str) -> list[yaml.Node | None]:
    try:
        return list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SigmaError(f"{name}{line}: invalid YAML: {e.problem or e.context or 'invalid YAML'}") from None
    except yaml.YAMLError as e:
        raise SigmaError(f"{name}: invalid YAML: {e}") from None


def _keys(node: yaml.Node) -> set[str]:
    if not isinstance(node, yaml.MappingNode):
        return set()
    return {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def looks_like_sigma(text: str) -> bool:
    """True when the first YAML document is a mapping with `detection` and `logsource` (a Sigma rule)."""
    if "detection" not in text or "logsource" not in text:
        return False
    try:
        for doc in yaml.compose_all(text, Loader=_Loader):
            if doc is None:
                continue
            return {"detection", "logsource"} <= _keys(doc)
    except yaml.YAMLError:
        return False
    return False


_CONSTRUCTOR = yaml.SafeLoader("")


def _scalar(node: yaml.ScalarNode) -> Any:
    """A scalar typed as YAML 1.1 (PyYAML) types it; timestamps and others keep their text."""
    tag = node.tag.rsplit(":", 1)[-1]
    if tag in ("int", "float", "bool", "null"):
        return _CONSTRUCTOR.construct_object(node)
    return node.value


def _plain(node: yaml.Node | None) -> Any:
    """A node as plain Python values (for metadata: title, tags, logsource...)."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return [_plain(n) for n in node.value]
    return {str(_plain(k)): _plain(v) for k, v in node.value}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _items(node: yaml.MappingNode) -> list[tuple[str, yaml.Node, int]]:
    return [(str(_plain(k)), v, _line(k)) for k, v in node.value]


# ---------------------------------------------------------------------------- detection items


# The keys of an audit.k8s.io Event (v1, and v1beta1's metadata/timestamp): a field outside them
# can never be present, which is worth a warning (SigmaHQ rules use abstract names like `hostPath`).
EVENT_KEYS = frozenset((
    "kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "impersonatedUser",
    "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject", "responseObject",
    "requestReceivedTimestamp", "stageTimestamp", "annotations", "metadata", "timestamp",
))


class _Rule:
    """Translation of one rule document; `fail` raises SigmaError at file:line."""

    def __init__(self, file: str, title: str) -> None:
        self.file = file
        self.title = title
        self.warnings: list[str] = []

    def fail(self, line: int, message: str) -> SigmaError:
        return SigmaError(f"{self.file}:{line}: Sigma rule '{self.title}': {message}")

    # values
    def _value_pattern(self, v: Any, line: int) -> Pattern:
        if isinstance(v, bool):
            return literal("true" if v else "false")
        if isinstance(v, (int, float)):
            return literal(repr(v) if isinstance(v, float) else str(v))
        if isinstance(v, str):
            return parse_sigma_string(v)
        raise self.fail(line, f"unsupported value {v!r}")

    def _values(self, node: yaml.Node) -> list[tuple[Any, int]]:
        if isinstance(node, yaml.SequenceNode):
            out = []
            for n in node.value:
                if not isinstance(n, yaml.ScalarNode):
                    raise self.fail(_line(n), "a value list may hold only plain values (strings, numbers)")
                out.append((_scalar(n), _line(n)))
            if not out:
                raise self.fail(_line(node), "empty value list (it could never match)")
            return out
        if isinstance(node, yaml.ScalarNode):
            return [(_scalar(node), _line(node))]
        raise self.fail(_line(node), "a field value must be a value or a list of values, not a map")

    def field_item(self, key: str, node: yaml.Node, line: int) -> object:
        name, *mods = key.split("|")
        for m in mods:
            if m not in _SUPPORTED:
                if m in KNOWN_UNSUPPORTED:
                    raise self.fail(line, f"modifier '{m}' is not supported by eksaudit (supported: {', '.join(_SUPPORTED)})")
                raise self.fail(line, f"unknown modifier '{m}'")
        if len(set(mods)) != len(mods):
            raise self.fail(line, f"modifier repeated in '{key}'")
        values = self._values(node)
        if not name:
            return self._keywords(values, mods, line)
        path = split_path(name)
        if any(not p for p in path):
            raise self.fail(line, f"invalid field name '{name}'")
        if path[0] not in EVENT_KEYS:
            self.warnings.append(
                f"{self.file}:{line}: Sigma rule '{self.title}': field '{name}' is not in Kubernetes audit events "
                "(no such top-level key), so it never matches"
            )
        if "exists" in mods:
            if len(mods) != 1:
                raise self.fail(line, "'exists' cannot be combined with other modifiers")
            if len(values) != 1 or not isinstance(values[0][0], bool):
                raise self.fail(line, "'exists' takes one boolean value (true or false)")
            return ExistsTest(path, values[0][0])
        join = "and" if "all" in mods else "or"
        if "all" in mods and len(values) < 2:
            raise self.fail(line, "'all' needs a list of two or more values (the Sigma specification forbids it on one value)")
        nulls = [ln for v, ln in values if v is None]
        if nulls:
            if len(values) > 1:
                raise self.fail(nulls[0], "null cannot be part of a value list (Sigma specification)")
            if [m for m in mods if m != "all"]:
                raise self.fail(line, "null cannot take modifiers")
            return NullTest(path)
        wrap = [m for m in mods if m in ("contains", "startswith", "endswith")]
        if "re" in mods:
            if wrap or "cased" in mods:
                raise self.fail(line, f"'re' cannot be combined with {', '.join(wrap + [m for m in mods if m == 'cased'])}")
            regexes = []
            for v, ln in values:
                if not isinstance(v, str):
                    raise self.fail(ln, "'re' takes a string (a regular expression)")
                self._check_regex(v, ln)
                regexes.append(v)
            return FieldTest(path, "re", tuple(regexes), True, join)
        if len(wrap) > 1:
            raise self.fail(line, f"modifiers {' and '.join(wrap)} cannot be combined")
        pats = tuple(self._wrap(self._value_pattern(v, ln), wrap[0] if wrap else None) for v, ln in values)
        return FieldTest(path, "match", pats, "cased" in mods, join)

    @staticmethod
    def _wrap(p: Pattern, how: str | None) -> Pattern:
        if how == "contains":
            return (STAR, *p, STAR)
        if how == "startswith":
            return (*p, STAR)
        if how == "endswith":
            return (STAR, *p)
        return p

    def _check_regex(self, pattern: str, line: int) -> None:
        from ..condition.operators import RegexError, compile_regex
        from .translate import regex_text

        try:
            compile_regex(regex_text(pattern))
        except RegexError as e:
            raise self.fail(line, f"regular expression {pattern!r}: {e} (RE2 POSIX syntax, as Falco's regex)") from None

    def _keywords(self, values: list[tuple[Any, int]], mods: list[str], line: int) -> object:
        bad = [m for m in mods if m not in ("all", "cased")]
        if bad:
            raise self.fail(line, f"keyword search does not take modifier '{bad[0]}'")
        if "all" in mods and len(values) < 2:
            raise self.fail(line, "'all' needs a list of two or more values")
        for v, ln in values:
            if v is None:
                raise self.fail(ln, "a keyword cannot be null")
        pats = tuple(self._value_pattern(v, ln) for v, ln in values)
        return KeywordTest(pats, "cased" in mods, "and" if "all" in mods else "or")

    def search(self, node: yaml.Node) -> object:
        """One search identifier's definition: a map (AND), a list of maps/keywords (OR), a keyword."""
        if isinstance(node, yaml.MappingNode):
            items = _items(node)
            if not items:
                raise self.fail(_line(node), "empty map (it would match every event)")
            parts = [self.field_item(k, v, ln) for k, v, ln in items]
            return parts[0] if len(parts) == 1 else And(tuple(parts))
        if isinstance(node, yaml.SequenceNode):
            if not node.value:
                raise self.fail(_line(node), "empty list (it could never match)")
            if all(isinstance(n, yaml.ScalarNode) for n in node.value):
                return self._keywords(self._values(node), [], _line(node))
            parts = []
            for n in node.value:
                if isinstance(n, yaml.ScalarNode):
                    parts.append(self._keywords([(_scalar(n), _line(n))], [], _line(n)))
                elif isinstance(n, yaml.MappingNode):
                    parts.append(self.search(n))
                else:
                    raise self.fail(_line(n), "a list in a detection holds values or maps, not lists")
            return parts[0] if len(parts) == 1 else Or(tuple(parts))
        if isinstance(node, yaml.ScalarNode):
            return self._keywords([(_scalar(node), _line(node))], [], _line(node))
        raise self.fail(_line(node), "unsupported detection item")


# ------------------------------------------------------------------------------- conditions

_TOKEN_RE = re.compile(r"\s*(?:(\()|(\))|(\|)|([A-Za-z0-9_*.\-]+)|(\S))")


class _CondParser:
    """`or` < `and` < `not` < `1 of`/`all of` < parentheses (the specification's precedence)."""

    def __init__(self, text: str, idents: dict[str, object], fail: Callable[[str], SigmaError]) -> None:
        self.text = text
        self.idents = idents
        self.fail = fail
        self.tokens: list[tuple[str, int]] = []
        pos = 0
        while True:
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                break
            if m.group(3):
                raise fail(f"condition '{text}': aggregations ('| count() ...', '| near ...') are not supported "
                           f"(column {m.start(3) + 1})")
            if m.group(5):
                raise fail(f"condition '{text}': unexpected '{m.group(5)}' at column {m.start(5) + 1}")
            tok = next(g for g in m.groups() if g)
            self.tokens.append((tok, m.start(m.lastindex or 0) + 1))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, int]:
        if self.i >= len(self.tokens):
            raise self.fail(f"condition '{self.text}': unexpected end")
        t = self.tokens[self.i]
        self.i += 1
        return t

    def parse(self) -> object:
        if not self.tokens:
            raise self.fail("empty condition")
        e = self.or_()
        if self.i < len(self.tokens):
            tok, col = self.tokens[self.i]
            raise self.fail(f"condition '{self.text}': unexpected '{tok}' at column {col}")
        return e

    def or_(self) -> object:
        items = [self.and_()]
        while self.peek() == "or":
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> object:
        items = [self.not_()]
        while self.peek() == "and":
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_(self) -> object:
        if self.peek() == "not":
            self.take()
            return Not(self.not_())
        return self.atom()

    def atom(self) -> object:
        tok, col = self.take()
        if tok == "(":
            e = self.or_()
            t, c = self.take() if self.peek() is not None else (None, len(self.text) + 1)
            if t != ")":
                raise self.fail(f"condition '{self.text}': expected ')' at column {c}")
            return e
        if tok in ("1", "any", "all") and self.peek() == "of":
            self.take()
            target, tcol = self.take()
            names = self._select(target, tcol)
            items = tuple(self.idents[n] for n in names)
            if len(items) == 1:
                return items[0]
            return Or(items) if tok != "all" else And(items)
        if tok in ("and", "or", "of", "them", ")") or tok.isdigit() and self.peek() == "of":
            if tok.isdigit():
                raise self.fail(f"condition '{self.text}': '{tok} of' is not supported (use '1 of' or 'all of')")
            raise self.fail(f"condition '{self.text}': unexpected '{tok}' at column {col}")
        if tok not in self.idents:
            raise self.fail(f"condition '{self.text}': unknown search identifier '{tok}' at column {col}")
        return self.idents[tok]

    def _select(self, target: str, col: int) -> list[str]:
        if target == "them":
            names = [n for n in self.idents if not n.startswith("_")]
        elif "*" in target:
            rx = re.compile(".*".join(re.escape(p) for p in target.split("*")) + r"\Z")
            names = [n for n in self.idents if rx.match(n)]
        else:
            names = [target] if target in self.idents else []
        if not names:
            raise self.fail(f"condition '{self.text}': '{target}' (column {col}) names no search identifier")
        return names


# ------------------------------------------------------------------------------------ rules


def _is_k8s_audit(ls: dict[str, Any]) -> bool:
    def norm(k: str) -> str | None:
        v = ls.get(k)
        return str(v).strip().lower() if v is not None else None

    return (norm("product") == "kubernetes" and norm("service") == "audit"
            and norm("category") in (None, "application"))


def _rule(doc: yaml.MappingNode, file: str) -> SigmaRule | SigmaSkip:
    top = {k: (v, ln) for k, v, ln in _items(doc)}
    line = _line(doc)
    title_v = _plain(top["title"][0]) if "title" in top else None
    if not isinstance(title_v, str) or not title_v.strip():
        raise SigmaError(f"{file}:{line}: Sigma rule has no title")
    title = title_v.strip()
    r = _Rule(file, title)
    ls = _plain(top["logsource"][0])
    if not isinstance(ls, dict):
        raise r.fail(top["logsource"][1], "logsource must be a map")
    if not _is_k8s_audit(ls):
        return SigmaSkip(title, file, line, ls)
    det, det_line = top["detection"]
    if not isinstance(det, yaml.MappingNode):
        raise r.fail(det_line, "detection must be a map")
    idents: dict[str, object] = {}
    cond_node: yaml.Node | None = None
    cond_line = det_line
    for key, node, ln in _items(det):
        if key == "condition":
            cond_node, cond_line = node, ln
        elif key == "timeframe":
            raise r.fail(ln, "'timeframe' (aggregation over time) is not supported")
        else:
            idents[key] = r.search(node)
    if cond_node is None:
        raise r.fail(det_line, "detection has no condition")
    conds = _plain(cond_node)
    if isinstance(conds, str):
        conds = [conds]
    if not isinstance(conds, list) or not conds or not all(isinstance(c, str) for c in conds):
        raise r.fail(cond_line, "condition must be a string or a list of strings")
    trees = [_CondParser(c, idents, lambda msg: r.fail(cond_line, msg)).parse() for c in conds]
    tree = trees[0] if len(trees) == 1 else Or(tuple(trees))
    level_v = _plain(top["level"][0]) if "level" in top else None
    level = str(level_v).strip().lower() if level_v is not None else DEFAULT_LEVEL
    if level not in LEVELS:
        raise r.fail(top["level"][1], f"unknown level '{level_v}' (use {', '.join(LEVELS)})")
    tags_v = _plain(top["tags"][0]) if "tags" in top else None
    if tags_v is not None and not isinstance(tags_v, list):
        raise r.fail(top["tags"][1], "tags must be a list")
    desc = _plain(top["description"][0]) if "description" in top else None
    rid = _plain(top["id"][0]) if "id" in top else None
    return SigmaRule(
        title=title, file=file, line=line, condition=to_condition(tree), priority=LEVELS[level], level=level,
        tags=tuple(sorted(str(t) for t in tags_v or () if t is not None)),
        description=" ".join(str(desc).split()) if desc else title, rule_id=str(rid) if rid is not None else None,
        cond_line=cond_line, logsource=ls, warnings=r.warnings, tree=tree,
    )


def read_sigma_text(text: str, name: str) -> list[SigmaRule | SigmaSkip]:
    """The Sigma rules of one file's text (one per YAML document); SigmaError at file:line."""
    out: list[SigmaRule | SigmaSkip] = []
    for doc in _compose(text, name):
        if doc is None:
            continue
        if not isinstance(doc, yaml.MappingNode):
            raise SigmaError(f"{name}:{_line(doc)}: not a Sigma rule (a YAML map is expected)")
        keys = _keys(doc)
        if "correlation" in keys:
            raise SigmaError(f"{name}:{_line(doc)}: Sigma correlation rules are not supported")
        if "filter" in keys and "detection" not in keys:
            raise SigmaError(f"{name}:{_line(doc)}: Sigma filters (meta filters) are not supported")
        if "action" in keys:
            raise SigmaError(f"{name}:{_line(doc)}: Sigma rule collections ('action: {_plain(dict(_items_nodes(doc))['action'])}') are not supported")
        missing = [k for k in ("title", "logsource", "detection") if k not in keys]
        if missing:
            raise SigmaError(f"{name}:{_line(doc)}: not a Sigma rule: no {', '.join(missing)}")
        out.append(_rule(doc, name))
    return out


def _items_nodes(doc: yaml.MappingNode) -> list[tuple[str, yaml.Node]]:
    return [(str(_plain(k)), v) for k, v in doc.value]


def read_sigma_file(path: str | Path) -> list[SigmaRule | SigmaSkip]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SigmaError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SigmaError(f"{p}: cannot read: {e}") from None
    return read_sigma_text(text, str(path))


__all__ = ["QMARK", "STAR", "SigmaError", "SigmaRule", "SigmaSkip", "Wild", "looks_like_sigma", "read_sigma_file",
           "read_sigma_text"]
