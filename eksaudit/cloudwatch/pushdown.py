"""Push the checkable part of a condition to CloudWatch: a JSON filter pattern or an Insights filter.

Every translation here is a SOUND SUPERSET: each event the full condition accepts also matches
what is sent to the server, so the server only removes events that can never match; the full
condition is always evaluated again client-side. Soundness rules (cloudwatch.md §1.8, §4.7):

* only checks on fields whose resolved `path` is a plain object-key walk are pushed;
* under `and`, a conjunct that cannot be pushed is dropped (the conjunction gets weaker, still a
  superset); under `or`, the disjunction is pushed only when every branch is;
* `not` is never pushed (Falco's `not` is true on missing values, CloudWatch's comparisons are
  not), nor case-insensitive operators, regex, pmatch, transformers, `val()` right-hand sides;
* `!=` is pushed only when written literally and only on schema-known string/number paths;
* a value the pattern syntax cannot spell exactly is weakened to a literal prefix (`"pre*"`),
  suffix or infix segment, or the check is dropped;
* JSON types come from the audit.k8s.io/v1 Event schema (`AUDIT_SCHEMA`): `responseStatus.code`
  is compared as an unquoted number, `verb` as a quoted string. For paths outside that table the
  node type is unknown, so only equality is pushed, in forms that also match the number/boolean
  spelling of the value.

Limits (§1.8): a pattern is at most 1,024 characters and three selector wildcards (`[*]`); when
over, whole top-level clauses are dropped, least selective first. Insights queries are at most
10,000 characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..condition.ast import (
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    FieldTransformerExpr,
    IdentifierExpr,
    ListExpr,
    NotExpr,
    OrExpr,
    UnaryCheckExpr,
    ValueExpr,
)
from ..errors import EksauditError

MAX_PATTERN_CHARS = 1024
MAX_PATTERN_WILDCARDS = 3  # selector wildcards (`[*]`) per compound pattern
MAX_QUERY_CHARS = 10_000
_MAX_SAFE_INT = 2**53  # CloudWatch compares numbers as doubles; stay where they are exact

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

# Insights discovers a bounded number of fields per JSON event (in document order), so only keys
# that come before requestObject/responseObject in an audit event are used there.
_INSIGHTS_ROOTS = frozenset(
    {"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "impersonatedUser",
     "sourceIPs", "userAgent", "objectRef", "responseStatus"}
)

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_JSON_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_UINT_RE = re.compile(r"\s*([+-]?)([0-9]+)\Z")
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
class _Leaf:
    text: str
    score: int = 5
    wildcards: int = 0


@dataclass(frozen=True)
class _And:
    children: tuple[Any, ...]


@dataclass(frozen=True)
class _Or:
    children: tuple[Any, ...]


class _Const:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


TRUE = _Const("TRUE")
FALSE = _Const("FALSE")


class _Skip(Exception):
    """A check that stays client-side; the message says why (shown by --explain)."""


def _and(children: Sequence[Any]) -> Any:
    out: list[Any] = []
    for c in children:
        if c is FALSE:
            return FALSE
        if c is TRUE:
            continue
        out.extend(c.children if isinstance(c, _And) else [c])
    if not out:
        return TRUE
    return out[0] if len(out) == 1 else _And(tuple(out))


def _or(children: Sequence[Any]) -> Any:
    out: list[Any] = []
    for c in children:
        if c is TRUE:
            return TRUE
        if c is FALSE:
            continue
        out.extend(c.children if isinstance(c, _Or) else [c])
    if not out:
        return FALSE
    return out[0] if len(out) == 1 else _Or(tuple(out))


def _wildcards(node: Any) -> int:
    if isinstance(node, _Leaf):
        return node.wildcards
    if isinstance(node, (_And, _Or)):
        return sum(_wildcards(c) for c in node.children)
    return 0


def _score(node: Any) -> float:
    if isinstance(node, _Leaf):
        return node.score
    if isinstance(node, _And):
        return max(_score(c) for c in node.children)
    if isinstance(node, _Or):
        return min(_score(c) for c in node.children) - math.log2(len(node.children))
    return 0


def _render(node: Any, and_op: str, or_op: str) -> str:
    if isinstance(node, _Leaf):
        return node.text
    op = and_op if isinstance(node, _And) else or_op
    parts = []
    for c in node.children:
        s = _render(c, and_op, or_op)
        parts.append(f"({s})" if isinstance(c, (_And, _Or)) else s)
    return f" {op} ".join(parts)


# --------------------------------------------------------------------------------------------
# Condition text for --explain (the condition package's renderer is not imported: cloudwatch reads
# the AST only).


def render_condition(e: Expr) -> str:
    """A readable rendering of a condition AST (close to Falco's as_string)."""
    if isinstance(e, (AndExpr, OrExpr)):
        op = " and " if isinstance(e, AndExpr) else " or "
        return "(" + op.join(render_condition(c) for c in e.children) + ")"
    if isinstance(e, NotExpr):
        return "not " + render_condition(e.child)
    if isinstance(e, IdentifierExpr):
        return e.name
    if isinstance(e, ValueExpr):
        v = e.value
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' if re.search(r"[\s=\\\"'(),]", v) or not v else v
    if isinstance(e, ListExpr):
        return "(" + ", ".join(render_condition(v) for v in e.values) + ")"
    if isinstance(e, FieldExpr):
        return e.field if e.arg is None else f"{e.field}[{e.arg}]"
    if isinstance(e, FieldTransformerExpr):
        s = e.transformer + "(" + ",".join(render_condition(a) for a in e.args) + ")"
        return s if e.arg is None else f"{s}[{e.arg}]"
    if isinstance(e, UnaryCheckExpr):
        return f"{render_condition(e.left)} {e.op}"
    if isinstance(e, BinaryCheckExpr):
        op = e.op if e.modifier is None or " " in e.op else f"{e.op} {e.modifier}"
        return f"{render_condition(e.left)} {op} {render_condition(e.right)}"
    return type(e).__name__


# --------------------------------------------------------------------------------------------
# Field classification


@dataclass(frozen=True)
class _Target:
    path: tuple[str, ...]
    kind: str  # "string" | "number" | "strlist" | "any" | "anylist"
    score: int


def _classify(left: Expr, resolver: Any) -> _Target:
    if isinstance(left, FieldTransformerExpr):
        raise _Skip(f"transformer {left.transformer}() is evaluated client-side")
    if not isinstance(left, FieldExpr):
        raise _Skip("left-hand side is not a field")
    try:
        bound = resolver.resolve(left.field, left.arg)
    except EksauditError as e:
        raise _Skip(str(e)) from None
    path = getattr(bound, "path", None)
    if not path:
        raise _Skip(f"{left.field} is not a plain JSON path")
    if left.arg is not None:
        raise _Skip(f"{left.field}[{left.arg}]: field arguments are evaluated client-side")
    path = tuple(path)
    ftype = getattr(bound, "type", "string")
    is_list = bool(getattr(bound, "is_list", False))
    schema = AUDIT_SCHEMA.get(path)
    if is_list:
        if ftype != "string":
            raise _Skip(f"{left.field}: list of {ftype} is evaluated client-side")
        kind = "strlist" if schema == "strlist" else "anylist"
        if schema not in (None, "strlist"):
            raise _Skip(f"{left.field}: JSON type at {'.'.join(path)} is not a list")
    elif ftype == "string":
        if schema == "string":
            kind = "string"
        elif schema is None:
            kind = "any"
        else:
            raise _Skip(f"{left.field}: JSON value at {'.'.join(path)} is a {schema}")
    elif ftype == "uint64":
        if schema != "number":
            raise _Skip(f"{left.field}: JSON type of {'.'.join(path)} is not known to be numeric")
        kind = "number"
    else:
        raise _Skip(f"{left.field}: {ftype} fields are evaluated client-side")
    return _Target(path, kind, _SELECTIVE_KEYS.get(path, 7))


def _values(check: BinaryCheckExpr) -> list[str]:
    r = check.right
    if isinstance(r, ValueExpr):
        return [r.value]
    if isinstance(r, ListExpr):
        return [v.value for v in r.values]
    if isinstance(r, FieldTransformerExpr):
        raise _Skip("right-hand side fields/transformers are evaluated client-side")
    if isinstance(r, IdentifierExpr):
        return [r.name]  # a list name left after substitution is a single value
    raise _Skip("unsupported right-hand side")


def _uint(text: str) -> int:
    """Falco's uint64 literal conversion (sscanf %lu: optional sign, decimal, -1 wraps)."""
    m = _UINT_RE.match(text)
    if not m:
        raise _Skip(f"{text!r} is not a number")
    n = int(m.group(2))
    if m.group(1) == "-" and n:
        n = 2**64 - n
    if n >= 2**64:
        raise _Skip(f"{text!r} does not fit in 64 bits")
    if n >= _MAX_SAFE_INT:
        raise _Skip(f"{text} is too large to compare exactly server-side")
    return n


# --------------------------------------------------------------------------------------------
# The generic walk: the two dialects only differ in how one check becomes leaves.

_CheckFn = Callable[[BinaryCheckExpr, _Target], Any]


class _Translator:
    def __init__(self, resolver: Any, check: _CheckFn, *, roots: frozenset[str] | None = None) -> None:
        self.resolver = resolver
        self.check = check
        self.roots = roots
        self.notes: list[str] = []

    def skip(self, e: Expr, why: str) -> Any:
        self.notes.append(f"{render_condition(e)}: {why}")
        return TRUE

    def tr(self, e: Expr) -> Any:
        if isinstance(e, AndExpr):
            return _and([self.tr(c) for c in e.children])
        if isinstance(e, OrExpr):
            kids = [self.tr(c) for c in e.children]
            return _or(kids)
        if isinstance(e, NotExpr):
            return self.skip(e, "'not' is true on missing values; never pushed")
        if isinstance(e, IdentifierExpr):
            return self.skip(e, "unexpanded macro")
        if isinstance(e, UnaryCheckExpr):
            return self.skip(e, "'exists' has no exact server-side form")
        if isinstance(e, BinaryCheckExpr):
            try:
                target = _classify(e.left, self.resolver)
                if self.roots is not None and target.path[0] not in self.roots:
                    raise _Skip(f"{'.'.join(target.path)} may be beyond the fields Insights discovers")
                return self.check(e, target)
            except _Skip as s:
                return self.skip(e, str(s))
        return self.skip(e, "unsupported expression")


def _top_clauses(e: Expr) -> list[Expr]:
    if isinstance(e, AndExpr):
        out: list[Expr] = []
        for c in e.children:
            out.extend(_top_clauses(c))
        return out
    return [e]


def _modifier_combine(check: BinaryCheckExpr, parts: list[Any]) -> Any:
    """Per-value leaves combined as the operator/modifier demands (always a superset)."""
    mod = check.modifier
    if mod is None and " " in check.op:  # "op modifier" spelled inside op
        mod = check.op.split()[1]
    if mod == "allof":
        return _and(parts)
    return _or(parts)  # in/intersects/anyof; oneof (exactly one ⇒ at least one)


def _base_op(check: BinaryCheckExpr) -> str:
    op = check.op.split()[0]
    return "=" if op == "==" else op


def _build(
    expr: Expr,
    tr: _Translator,
    *,
    wrap: Callable[[str], str],
    and_op: str,
    or_op: str,
    max_chars: int,
    max_wildcards: int | None,
) -> Pushdown:
    clauses = _top_clauses(expr)
    translated: list[tuple[int, Expr, Any]] = []
    for i, c in enumerate(clauses):
        node = tr.tr(c)
        if node is FALSE:
            return Pushdown(None, f"the condition can never be true ({render_condition(c)})", [], tr.notes)
        if node is not TRUE:
            translated.append((i, c, node))
    if not translated:
        why = tr.notes[0] if len(tr.notes) == 1 else "; ".join(tr.notes[:3])
        return Pushdown(None, f"nothing can be pushed: {why}" if why else "nothing can be pushed", [], tr.notes)
    # keep the most selective clauses that fit the limits
    order = sorted(translated, key=lambda t: (-_score(t[2]), t[0]))
    kept: list[tuple[int, Expr, Any]] = []
    dropped = list(tr.notes)
    for item in order:
        trial = sorted(kept + [item], key=lambda t: t[0])
        text = wrap(_render(_and([t[2] for t in trial]), and_op, or_op))
        wc = sum(_wildcards(t[2]) for t in trial)
        if len(text) > max_chars:
            dropped.append(f"{render_condition(item[1])}: over the {max_chars}-character limit")
        elif max_wildcards is not None and wc > max_wildcards:
            dropped.append(f"{render_condition(item[1])}: over the {max_wildcards}-wildcard limit")
        else:
            kept = trial
    if not kept:
        return Pushdown(None, "nothing fits the server-side limits", [], dropped)
    kept.sort(key=lambda t: t[0])
    text = wrap(_render(_and([t[2] for t in kept]), and_op, or_op))
    pushed = [render_condition(t[1]) for t in kept]
    n_all = len(clauses)
    reason = f"pushed {len(kept)} of {n_all} clause{'s' if n_all != 1 else ''}"
    if dropped:
        reason += f"; {len(dropped)} check{'s' if len(dropped) != 1 else ''} kept client-side"
    return Pushdown(text, reason, pushed, dropped)


# --------------------------------------------------------------------------------------------
# JSON filter patterns


def _selector(path: tuple[str, ...], star: bool = False) -> str:
    for k in path:
        if not _KEY_RE.match(k):
            raise _Skip(f"key {k!r} cannot be written in a filter-pattern selector")
    return "$." + ".".join(path) + ("[*]" if star else "")


def _expressible(ch: str) -> bool:
    """Characters a quoted pattern value can hold literally (`*` is always a wildcard)."""
    return ch not in '"\\*' and ch.isprintable()


def _first_bad(v: str) -> int:
    """Index of the first character a quoted pattern value cannot hold literally (len(v) if none)."""
    return next((i for i, c in enumerate(v) if not _expressible(c)), len(v))


def _pat_eq_string(sel: str, v: str, score: int, wc: int, *, exact_only: bool = False) -> Any:
    """`sel = "v"`, or a prefix superset `"pre*"` when v holds characters a pattern cannot spell."""
    if v == "":
        raise _Skip("empty value: a filter pattern cannot match only empty strings")
    i = _first_bad(v)
    if i == len(v):
        return _Leaf(f'{sel} = "{v}"', score, wc)
    if exact_only:
        raise _Skip("value has characters a filter pattern cannot spell exactly")
    if i == 0:
        raise _Skip("value starts with a character a filter pattern cannot spell")
    return _Leaf(f'{sel} = "{v[:i]}*"', max(score - 3, 1), wc)


def _pat_eq_any(sel: str, v: str, score: int, wc: int) -> Any:
    """Equality on a node of unknown JSON type: also match its number/boolean spelling."""
    if v[:1] in ("{", "["):
        raise _Skip("value may be the JSON text of an object or array")
    leaf = _pat_eq_string(sel, v, score, wc)
    if v in ("true", "false"):
        return _or([leaf, _Leaf(f"{sel} IS {v.upper()}", score, wc)])
    if _JSON_NUMBER_RE.match(v):
        return _or([leaf, _Leaf(f"{sel} = {v}", score, wc)])
    if v == "null":  # the field library renders a JSON null as "null"
        return _or([leaf, _Leaf(f"{sel} IS NULL", score, wc)])
    return leaf


def _runs(v: str) -> list[str]:
    """Maximal runs of characters a pattern value can hold literally."""
    out, cur = [], []
    for c in v:
        if _expressible(c):
            cur.append(c)
        else:
            out.append("".join(cur))
            cur = []
    out.append("".join(cur))
    return out


def _segment(v: str, where: str) -> str:
    """Literal text usable in a wildcard value: the trailing run (endswith) or the longest (contains)."""
    if v == "":
        raise _Skip("empty value matches every present value")
    runs = _runs(v)
    seg = runs[-1] if where == "suffix" else max(runs, key=len)
    if not seg:
        raise _Skip("no literal text a filter pattern can spell")
    return seg


def _null_ok(op: str, v: str) -> bool:
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
        prefix, literal = _glob_prefix(v.lower() if op == "iglob" else v)
        return prefix == "null" if literal else "null".startswith(prefix)
    return True


def _pattern_check(check: BinaryCheckExpr, t: _Target) -> Any:
    op = _base_op(check)
    values = _values(check)
    if t.kind in ("strlist", "anylist"):
        if op not in ("in", "intersects"):
            raise _Skip(f"'{op}' on a list field")
        sel = _selector(t.path, star=True)
        if t.kind == "strlist":
            return _or([
                _or([_pat_eq_string(sel, v, t.score, 1), _Leaf(f"{sel} IS NULL", t.score, 1)])
                if v == "null" else _pat_eq_string(sel, v, t.score, 1)
                for v in values
            ])
        return _or([_pat_eq_any(sel, v, t.score, 1) for v in values])
    sel = _selector(t.path)
    if t.kind == "number":
        if op in ("=", "!=", "<", "<=", ">", ">="):
            parts = [_Leaf(f"{sel} {op} {_uint(v)}", t.score if op == "=" else 3) for v in values]
        elif op in ("in", "intersects"):
            parts = [_Leaf(f"{sel} = {_uint(v)}", t.score) for v in values]
        else:
            raise _Skip(f"'{op}' on the decimal text of a number")
        return _modifier_combine(check, parts)
    if t.kind == "any":
        if op in ("=", "in", "intersects"):
            return _modifier_combine(check, [_pat_eq_any(sel, v, t.score, 0) for v in values])
        raise _Skip(f"'{op}' needs the JSON type of {'.'.join(t.path)}, which is not known")
    # schema-known string node
    if op in ("=", "in", "intersects"):
        parts = [_pat_eq_string(sel, v, t.score, 0) for v in values]
    elif op == "!=":
        parts = [_pat_eq_string(sel, v, 1, 0, exact_only=True) for v in values]
        parts = [_Leaf(p.text.replace(" = ", " != ", 1), 1) for p in parts]
    elif op == "startswith":
        parts = [_pat_prefix(sel, v, t.score) for v in values]
    elif op == "endswith":
        parts = [_Leaf(f'{sel} = "*{_segment(v, "suffix")}"', max(t.score - 4, 1)) for v in values]
    elif op == "contains":
        parts = [_Leaf(f'{sel} = "*{_segment(v, "infix")}*"', max(t.score - 5, 1)) for v in values]
    elif op == "glob":
        parts = [_pat_glob(sel, v, t.score) for v in values]
    elif op in ("icontains", "iglob"):
        raise _Skip("filter patterns are case-sensitive")
    elif op in ("regex", "pmatch", "bcontains", "bstartswith"):
        raise _Skip(f"'{op}' is evaluated client-side")
    else:
        raise _Skip(f"'{op}' on strings compares bytes; evaluated client-side")
    # a JSON null renders as "null": keep such events when the check would accept that text
    parts = [_or([p, _Leaf(f"{sel} IS NULL", p.score)]) if _null_ok(op, v) else p
             for p, v in zip(parts, values, strict=True)]
    return _modifier_combine(check, parts)


def _pat_prefix(sel: str, v: str, score: int) -> Any:
    i = _first_bad(v)
    if i == 0:
        raise _Skip("no literal prefix a filter pattern can spell")
    return _Leaf(f'{sel} = "{v[:i]}*"', max(score - 2, 1))


def _glob_prefix(g: str) -> tuple[str, bool]:
    """The literal prefix of a glob and whether the glob is all literal."""
    m = re.search(r"[*?\[\\]", g)
    return (g, True) if m is None else (g[: m.start()], False)


def _pat_glob(sel: str, g: str, score: int) -> Any:
    prefix, literal = _glob_prefix(g)
    if literal:
        return _pat_eq_string(sel, g, score, 0)
    return _pat_prefix(sel, prefix, score)


def filter_pattern(expr: Expr, resolver: Any) -> Pushdown:
    """A CloudWatch JSON filter pattern that every event matching `expr` matches (or None, with why).

    `expr` must be macro-expanded. The caller still evaluates the full condition on each event.
    """
    tr = _Translator(resolver, _pattern_check)
    return _build(
        expr,
        tr,
        wrap=lambda s: "{ " + s + " }",
        and_op="&&",
        or_op="||",
        max_chars=MAX_PATTERN_CHARS,
        max_wildcards=MAX_PATTERN_WILDCARDS,
    )


# --------------------------------------------------------------------------------------------
# Logs Insights

_RE_META = re.compile(r"([\\.^$|?*+()\[\]{}/])")


def _re_escape(v: str) -> str:
    if any(not c.isprintable() for c in v):
        raise _Skip("value has control characters")
    return _RE_META.sub(r"\\\1", v)


def _ql_string(v: str) -> str:
    if any(not c.isprintable() for c in v):
        raise _Skip("value has control characters")
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ql_field(path: tuple[str, ...]) -> str:
    name = ".".join(path)
    if all(_KEY_RE.match(k) for k in path):
        return name
    if "`" in name:
        raise _Skip("field name contains a backtick")
    return f"`{name}`"


def _ql_plain_value(v: str) -> str:
    """String equality in Insights: values that Insights could read as a number/boolean stay client-side."""
    if v == "" or _JSON_NUMBER_RE.match(v) or v in ("true", "false", "null"):
        raise _Skip(f"value {v!r} may be typed differently by Insights")
    return _ql_string(v)


def _insights_check(check: BinaryCheckExpr, t: _Target) -> Any:
    op = _base_op(check)
    values = _values(check)
    f = _ql_field(t.path)
    if t.kind not in ("string", "number"):
        raise _Skip("list elements need unnest in Insights; evaluated client-side")
    if t.kind == "number":
        if op in ("=", "!=", "<", "<=", ">", ">="):
            parts = [_Leaf(f"{f} {op} {_uint(v)}", t.score if op == "=" else 3) for v in values]
        elif op in ("in", "intersects"):
            if check.modifier is None and len(values) > 1:
                return _Leaf(f"{f} in [{', '.join(str(_uint(v)) for v in values)}]", t.score)
            parts = [_Leaf(f"{f} = {_uint(v)}", t.score) for v in values]
        else:
            raise _Skip(f"'{op}' on the decimal text of a number")
        return _modifier_combine(check, parts)
    if any(_null_ok(op, v) for v in values):
        raise _Skip("the check also accepts a JSON null, which Insights may not show as \"null\"")
    if op in ("in", "intersects") and len(values) > 1:
        return _Leaf(f"{f} in [{', '.join(_ql_plain_value(v) for v in values)}]", t.score)
    if op in ("=", "in", "intersects"):
        parts = [_Leaf(f"{f} = {_ql_plain_value(v)}", t.score) for v in values]
    elif op == "!=":
        parts = [_Leaf(f"{f} != {_ql_plain_value(v)}", 1) for v in values]
    elif op in ("startswith", "endswith", "contains", "icontains"):
        parts = []
        for v in values:
            if v == "":
                raise _Skip("empty value matches every present value")
            e = _re_escape(v)
            rx = {"startswith": f"^{e}", "endswith": f"{e}$", "contains": e, "icontains": f"(?i){e}"}[op]
            parts.append(_Leaf(f"{f} like /{rx}/", max(t.score - 3, 1)))
    elif op in ("glob", "iglob"):
        parts = []
        for g in values:
            prefix, literal = _glob_prefix(g)
            if literal and op == "glob":
                parts.append(_Leaf(f"{f} = {_ql_plain_value(g)}", t.score))
                continue
            if not prefix:
                raise _Skip("glob has no literal prefix")
            flag = "(?i)" if op == "iglob" else ""
            end = "$" if literal else ""
            parts.append(_Leaf(f"{f} like /{flag}^{_re_escape(prefix)}{end}/", max(t.score - 2, 1)))
    elif op in ("regex", "pmatch", "bcontains", "bstartswith"):
        raise _Skip(f"'{op}' is evaluated client-side")
    else:
        raise _Skip(f"'{op}' on strings compares bytes; evaluated client-side")
    return _modifier_combine(check, parts)


def insights_filter(expr: Expr, resolver: Any, *, max_chars: int = 8000) -> Pushdown:
    """The Logs Insights `filter` expression (a superset of `expr`), or None with why."""
    tr = _Translator(resolver, _insights_check, roots=_INSIGHTS_ROOTS)
    return _build(expr, tr, wrap=lambda s: s, and_op="and", or_op="or", max_chars=max_chars, max_wildcards=None)


QUERY_FIELDS = "fields @timestamp, @message, @logStream, @ingestionTime, @ptr"


def insights_query(
    expr: Expr | None, resolver: Any, *, limit: int = 10_000, stream_prefix: str | None = None
) -> str:
    """A complete Logs Insights query: system fields, the pushed filter, time order, row limit."""
    parts = [QUERY_FIELDS]
    if stream_prefix:
        parts.append(f"filter @logStream like /^{_re_escape(stream_prefix)}/")
    if expr is not None:
        pd = insights_filter(expr, resolver, max_chars=MAX_QUERY_CHARS - 300 - len(stream_prefix or "") * 2)
        if pd.pattern is not None:
            parts.append(f"filter {pd.pattern}")
    parts.append("sort @timestamp asc")
    parts.append(f"limit {int(limit)}")
    return " | ".join(parts)
