"""Push the checkable part of a condition to CloudWatch: the core shared by both dialects.

Every translation is a SOUND SUPERSET: each event the full condition accepts also matches what is
sent to the server, so the server only removes events that can never match; the full condition is
always evaluated again client-side (docs/cloudwatch.md, "Filtering and pushdown"). The rules:

* only checks on fields whose resolved `path` is a plain object-key walk are pushed;
* under `and`, a conjunct that cannot be pushed is dropped (the conjunction gets weaker, still a
  superset); under `or`, the disjunction is pushed only when every branch is;
* `not` is never pushed (Falco's `not` is true on missing values, CloudWatch's comparisons are
  not), nor case-insensitive operators, regex, pmatch, transformers, `val()` right-hand sides;
* `!=` is pushed only when written literally and only on schema-known string/number paths;
* a value the server syntax cannot spell exactly is weakened to a literal prefix (`"pre*"`),
  suffix or infix segment, or the check is dropped;
* JSON types come from the audit.k8s.io/v1 Event schema (`AUDIT_SCHEMA`): `responseStatus.code`
  is compared as an unquoted number, `verb` as a quoted string. For paths outside that table the
  node type is unknown, so only equality is pushed, in forms that also match the number/boolean
  spelling of the value.

The dialects differ only in how one check becomes server-side leaves: `pattern.filter_pattern`
(FilterLogEvents JSON filter patterns) and `insights.insights_query` (Logs Insights). Both walk
the condition with `Translator` and keep, within the server's size limits, the most selective
top-level clauses (`build`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...condition import ast
from ...condition.operators import parse_uint64
from ...errors import EksauditError

MAX_SAFE_INT = 2**53  # CloudWatch compares numbers as doubles; stay where they are exact
KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # a key both dialects can write unquoted
JSON_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")

# JSON types of the audit.k8s.io/v1 Event fields eksaudit pushes (apiserver's Event schema).
AUDIT_SCHEMA: dict[tuple[str, ...], str] = {
    **{
        (k,): "string"
        for k in ("kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "userAgent",
                  "requestReceivedTimestamp", "stageTimestamp")
    },
    **{("user", k): "string" for k in ("username", "uid")},
    **{("impersonatedUser", k): "string" for k in ("username", "uid")},
    **{
        ("objectRef", k): "string"
        for k in ("resource", "namespace", "name", "uid", "apiGroup", "apiVersion", "resourceVersion",
                  "subresource")
    },
    **{("responseStatus", k): "string" for k in ("status", "reason", "message")},
    ("responseStatus", "code"): "number",
    ("user", "groups"): "strlist",
    ("impersonatedUser", "groups"): "strlist",
    ("sourceIPs",): "strlist",
}

_SELECTIVE_KEYS = {
    ("verb",): 10,
    ("objectRef", "resource"): 10,
    ("objectRef", "namespace"): 9,
    ("objectRef", "name"): 9,
    ("user", "username"): 9,
    ("stage",): 2,
    ("level",): 2,
    ("kind",): 1,
    ("apiVersion",): 1,
}


@dataclass(frozen=True)
class Pushdown:
    """The server-side part of a condition.

    `pattern` is the filter pattern / Insights filter (None when nothing useful could be pushed),
    `reason` a one-line human summary, `pushed` the condition text of each pushed top-level clause
    and `dropped` one "clause: why" line per clause kept client-side only (for `--explain`).
    """

    pattern: str | None
    reason: str
    pushed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# A tiny boolean tree of server-side leaves. TRUE = "cannot push, matches anything" (a superset of
# whatever it replaces); FALSE = "can never be true" (e.g. `in ()`).


@dataclass(frozen=True)
class Leaf:
    """One server-side comparison; `score` ranks selectivity, `wildcards` counts `[*]` selectors."""

    text: str
    score: int = 5
    wildcards: int = 0


@dataclass(frozen=True)
class Group:
    """All (`kind` "and") or any (`kind` "or") of `children`."""

    kind: str
    children: tuple[Any, ...]


class _Const:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


TRUE = _Const("TRUE")
FALSE = _Const("FALSE")


class Skip(Exception):
    """A check that stays client-side; the message says why (shown by --explain)."""


def _group(kind: str, children: Sequence[Any], unit: _Const, zero: _Const) -> Any:
    """Flattened `kind` of `children`: `unit` children vanish, a `zero` child decides alone."""
    out: list[Any] = []
    for c in children:
        if c is zero:
            return zero
        if c is not unit:
            out.extend(c.children if isinstance(c, Group) and c.kind == kind else [c])
    if not out:
        return unit
    return out[0] if len(out) == 1 else Group(kind, tuple(out))


def and_of(children: Sequence[Any]) -> Any:
    return _group("and", children, TRUE, FALSE)


def or_of(children: Sequence[Any]) -> Any:
    return _group("or", children, FALSE, TRUE)


def _wildcards(node: Any) -> int:
    if isinstance(node, Leaf):
        return node.wildcards
    if isinstance(node, Group):
        return sum(_wildcards(c) for c in node.children)
    return 0


def _score(node: Any) -> float:
    if isinstance(node, Leaf):
        return node.score
    if isinstance(node, Group) and node.kind == "and":
        return max(_score(c) for c in node.children)
    if isinstance(node, Group):
        return min(_score(c) for c in node.children) - math.log2(len(node.children))
    return 0


def _render(node: Any, and_op: str, or_op: str) -> str:
    if isinstance(node, Leaf):
        return node.text
    op = and_op if node.kind == "and" else or_op
    parts = []
    for c in node.children:
        s = _render(c, and_op, or_op)
        parts.append(f"({s})" if isinstance(c, Group) else s)
    return f" {op} ".join(parts)


# --------------------------------------------------------------------------------------------
# Field classification and values


@dataclass(frozen=True)
class Target:
    """Where a check looks in the JSON event, and what the schema says is there."""

    path: tuple[str, ...]
    kind: str  # "string" | "number" | "strlist" | "any" | "anylist"
    score: int


def _bound_path(left: ast.Expr, resolver: Any) -> tuple[Any, str, tuple[str, ...]]:
    """The resolved field of a check's left side, its name and its plain JSON path, or Skip."""
    if isinstance(left, ast.FieldTransformerExpr):
        raise Skip(f"transformer {left.transformer}() is evaluated client-side")
    if not isinstance(left, ast.FieldExpr):
        raise Skip("left-hand side is not a field")
    try:
        bound = resolver.resolve(left.field, left.arg)
    except EksauditError as e:
        raise Skip(str(e)) from None
    path = getattr(bound, "path", None)
    if not path:
        raise Skip(f"{left.field} is not a plain JSON path")
    if left.arg is not None:
        raise Skip(f"{left.field}[{left.arg}]: field arguments are evaluated client-side")
    return bound, left.field, tuple(path)


def classify(left: ast.Expr, resolver: Any) -> Target:
    """The JSON target of a check's left side (a field with a plain path), or Skip saying why not."""
    bound, name, path = _bound_path(left, resolver)
    ftype = getattr(bound, "type", "string")
    schema = AUDIT_SCHEMA.get(path)
    where = ".".join(path)
    if getattr(bound, "is_list", False):
        if ftype != "string":
            raise Skip(f"{name}: list of {ftype} is evaluated client-side")
        if schema not in (None, "strlist"):
            raise Skip(f"{name}: JSON type at {where} is not a list")
        kind = "strlist" if schema == "strlist" else "anylist"
    elif ftype == "string":
        if schema not in (None, "string"):
            raise Skip(f"{name}: JSON value at {where} is a {schema}")
        kind = "string" if schema == "string" else "any"
    elif ftype == "uint64":
        if schema != "number":
            raise Skip(f"{name}: JSON type of {where} is not known to be numeric")
        kind = "number"
    else:
        raise Skip(f"{name}: {ftype} fields are evaluated client-side")
    return Target(path, kind, _SELECTIVE_KEYS.get(path, 7))


def check_values(check: ast.BinaryCheckExpr) -> list[str]:
    """The literal right-hand side values of a check, or Skip."""
    r = check.right
    if isinstance(r, ast.ValueExpr):
        return [r.value]
    if isinstance(r, ast.ListExpr):
        return [v.value for v in r.values]
    if isinstance(r, ast.FieldTransformerExpr):
        raise Skip("right-hand side fields/transformers are evaluated client-side")
    if isinstance(r, ast.IdentifierExpr):
        return [r.name]  # a list name left after substitution is a single value
    raise Skip("unsupported right-hand side")


def uint_literal(text: str) -> int:
    """A uint64 literal read as the condition compiler reads it, if the server compares it exactly."""
    n = parse_uint64(text)
    if n is None:
        raise Skip(f"{text!r} is not a 64-bit unsigned number")
    if n >= MAX_SAFE_INT:
        raise Skip(f"{text} is too large to compare exactly server-side")
    return n


def glob_prefix(g: str) -> tuple[str, bool]:
    """The literal prefix of a glob and whether the glob is all literal."""
    m = re.search(r"[*?\[\\]", g)
    return (g, True) if m is None else (g[: m.start()], False)


def null_ok(op: str, v: str) -> bool:
    """Whether the check accepts a JSON null (the field library renders it as the value "null")."""
    if op in ("=", "in", "intersects"):
        return v == "null"
    if op == "!=":
        return v != "null"
    if op == "startswith":
        return "null".startswith(v)
    if op == "endswith":
        return "null".endswith(v)
    if op == "contains":
        return v in "null"
    if op == "icontains":
        return v.lower() in "null"
    if op in ("glob", "iglob"):
        prefix, literal = glob_prefix(v.lower() if op == "iglob" else v)
        return prefix == "null" if literal else "null".startswith(prefix)
    return True


def combine_values(check: ast.BinaryCheckExpr, parts: list[Any]) -> Any:
    """Per-value leaves combined as the operator/modifier demands (always a superset)."""
    mod = check.modifier
    if mod is None and " " in check.op:  # "op modifier" spelled inside op
        mod = check.op.split()[1]
    if mod == "allof":
        return and_of(parts)
    return or_of(parts)  # in/intersects/anyof; oneof (exactly one ⇒ at least one)


def base_op(check: ast.BinaryCheckExpr) -> str:
    """The operator without its modifier, `==` spelled `=`."""
    op = check.op.split()[0]
    return "=" if op == "==" else op


# --------------------------------------------------------------------------------------------
# The generic walk: the two dialects only differ in how one check becomes leaves.

CheckFn = Callable[[ast.BinaryCheckExpr, Target], Any]


def conjuncts(e: ast.Expr) -> list[ast.Expr]:
    """The top-level clauses of `e`: the children of nested `and`s, flattened, in order."""
    if isinstance(e, ast.AndExpr):
        return [c for child in e.children for c in conjuncts(child)]
    return [e]


class Translator:
    """Turns a condition into a leaf tree with `check`; notes why each dropped check stays local."""

    def __init__(self, resolver: Any, check: CheckFn, *, roots: frozenset[str] | None = None) -> None:
        self.resolver = resolver
        self.check = check
        self.roots = roots
        self.notes: list[str] = []

    def skip(self, e: ast.Expr, why: str) -> Any:
        self.notes.append(f"{ast.as_string(e)}: {why}")
        return TRUE

    def tr(self, e: ast.Expr) -> Any:
        if isinstance(e, ast.AndExpr):
            return and_of([self.tr(c) for c in e.children])
        if isinstance(e, ast.OrExpr):
            return or_of([self.tr(c) for c in e.children])
        if isinstance(e, ast.NotExpr):
            return self.skip(e, "'not' is true on missing values; never pushed")
        if isinstance(e, ast.IdentifierExpr):
            return self.skip(e, "unexpanded macro")
        if isinstance(e, ast.UnaryCheckExpr):
            return self.skip(e, "'exists' has no exact server-side form")
        if isinstance(e, ast.BinaryCheckExpr):
            try:
                target = classify(e.left, self.resolver)
                if self.roots is not None and target.path[0] not in self.roots:
                    raise Skip(f"{'.'.join(target.path)} may be beyond the fields Insights discovers")
                return self.check(e, target)
            except Skip as s:
                return self.skip(e, str(s))
        return self.skip(e, "unsupported expression")


@dataclass(frozen=True)
class Syntax:
    """How a dialect writes a tree and how much the server takes."""

    wrap: Callable[[str], str]
    and_op: str
    or_op: str
    max_chars: int
    max_wildcards: int | None = None

    def text(self, nodes: list[Any]) -> str:
        return self.wrap(_render(and_of(nodes), self.and_op, self.or_op))


def _fit(translated: list[tuple[int, ast.Expr, Any]], syntax: Syntax, dropped: list[str]) -> list[tuple[int, ast.Expr, Any]]:
    """The most selective clauses that fit the limits, in their original order (others to `dropped`)."""
    kept: list[tuple[int, ast.Expr, Any]] = []
    for item in sorted(translated, key=lambda t: (-_score(t[2]), t[0])):
        trial = sorted(kept + [item], key=lambda t: t[0])
        text = syntax.text([t[2] for t in trial])
        if len(text) > syntax.max_chars:
            dropped.append(f"{ast.as_string(item[1])}: over the {syntax.max_chars}-character limit")
        elif syntax.max_wildcards is not None and sum(_wildcards(t[2]) for t in trial) > syntax.max_wildcards:
            dropped.append(f"{ast.as_string(item[1])}: over the {syntax.max_wildcards}-wildcard limit")
        else:
            kept = trial
    return kept


def build(expr: ast.Expr, tr: Translator, syntax: Syntax) -> Pushdown:
    """Translate each top-level clause of `expr` and keep what fits `syntax`'s limits."""
    clauses = conjuncts(expr)
    translated: list[tuple[int, ast.Expr, Any]] = []
    for i, c in enumerate(clauses):
        node = tr.tr(c)
        if node is FALSE:
            return Pushdown(None, f"the condition can never be true ({ast.as_string(c)})", [], tr.notes)
        if node is not TRUE:
            translated.append((i, c, node))
    if not translated:
        why = tr.notes[0] if len(tr.notes) == 1 else "; ".join(tr.notes[:3])
        return Pushdown(None, f"nothing can be pushed: {why}" if why else "nothing can be pushed", [], tr.notes)
    dropped = list(tr.notes)
    kept = _fit(translated, syntax, dropped)
    if not kept:
        return Pushdown(None, "nothing fits the server-side limits", [], dropped)
    n_all = len(clauses)
    reason = f"pushed {len(kept)} of {n_all} clause{'s' if n_all != 1 else ''}"
    if dropped:
        reason += f"; {len(dropped)} check{'s' if len(dropped) != 1 else ''} kept client-side"
    return Pushdown(syntax.text([t[2] for t in kept]), reason, [ast.as_string(t[1]) for t in kept], dropped)
