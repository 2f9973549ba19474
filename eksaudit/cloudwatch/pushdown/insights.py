"""The Logs Insights dialect: a QL `filter` expression and the complete query around it.

The query engine that runs it is `eksaudit.cloudwatch.insights`. A query is at most 10,000
characters (a CloudWatch quota). Insights discovers a bounded number of fields per JSON event, in
document order, so only keys that come before requestObject/responseObject in an audit event are
used; values Insights could read as a number or boolean are compared client-side only.
"""

from __future__ import annotations

import re
from typing import Any

from ...condition.ast import BinaryCheckExpr, Expr
from .. import pushdown as core  # the shared core (this package's __init__): walk, limits, values
from . import Leaf, Skip, Target

MAX_QUERY_CHARS = 10_000
QUERY_FIELDS = "fields @timestamp, @message, @logStream, @ingestionTime, @ptr"

_INSIGHTS_ROOTS = frozenset(
    {"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "impersonatedUser",
     "sourceIPs", "userAgent", "objectRef", "responseStatus"}
)
_RE_META = re.compile(r"([\\.^$|?*+()\[\]{}/])")


def insights_filter(expr: Expr, resolver: Any, *, max_chars: int = 8000) -> core.Pushdown:
    """The Logs Insights `filter` expression (a superset of `expr`), or None with why."""
    tr = core.Translator(resolver, _insights_check, roots=_INSIGHTS_ROOTS)
    return core.build(expr, tr, core.Syntax(lambda s: s, "and", "or", max_chars))


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


def _re_escape(v: str) -> str:
    if any(not c.isprintable() for c in v):
        raise Skip("value has control characters")
    return _RE_META.sub(r"\\\1", v)


def _ql_string(v: str) -> str:
    if any(not c.isprintable() for c in v):
        raise Skip("value has control characters")
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ql_field(path: tuple[str, ...]) -> str:
    name = ".".join(path)
    if all(core.KEY_RE.match(k) for k in path):
        return name
    if "`" in name:
        raise Skip("field name contains a backtick")
    return f"`{name}`"


def _ql_plain_value(v: str) -> str:
    """String equality in Insights: values that Insights could read as a number/boolean stay client-side."""
    if v == "" or core.JSON_NUMBER_RE.match(v) or v in ("true", "false", "null"):
        raise Skip(f"value {v!r} may be typed differently by Insights")
    return _ql_string(v)


def _insights_check(check: BinaryCheckExpr, t: Target) -> Any:
    op = core.base_op(check)
    values = core.check_values(check)
    f = _ql_field(t.path)
    if t.kind not in ("string", "number"):
        raise Skip("list elements need unnest in Insights; evaluated client-side")
    if t.kind == "number":
        return _number_check(check, op, f, values, t.score)
    if any(core.null_ok(op, v) for v in values):
        raise Skip("the check also accepts a JSON null, which Insights may not show as \"null\"")
    if op in ("in", "intersects") and len(values) > 1:
        return Leaf(f"{f} in [{', '.join(_ql_plain_value(v) for v in values)}]", t.score)
    if op in ("=", "in", "intersects"):
        parts = [Leaf(f"{f} = {_ql_plain_value(v)}", t.score) for v in values]
    elif op == "!=":
        parts = [Leaf(f"{f} != {_ql_plain_value(v)}", 1) for v in values]
    elif op in ("startswith", "endswith", "contains", "icontains"):
        parts = [_like(op, f, v, t.score) for v in values]
    elif op in ("glob", "iglob"):
        parts = [_glob(op, f, g, t.score) for g in values]
    elif op in ("regex", "pmatch", "bcontains", "bstartswith"):
        raise Skip(f"'{op}' is evaluated client-side")
    else:
        raise Skip(f"'{op}' on strings compares bytes; evaluated client-side")
    return core.combine_values(check, parts)


def _number_check(check: BinaryCheckExpr, op: str, f: str, values: list[str], score: int) -> Any:
    if op in ("=", "!=", "<", "<=", ">", ">="):
        parts = [Leaf(f"{f} {op} {core.uint_literal(v)}", score if op == "=" else 3) for v in values]
    elif op in ("in", "intersects"):
        if check.modifier is None and len(values) > 1:
            return Leaf(f"{f} in [{', '.join(str(core.uint_literal(v)) for v in values)}]", score)
        parts = [Leaf(f"{f} = {core.uint_literal(v)}", score) for v in values]
    else:
        raise Skip(f"'{op}' on the decimal text of a number")
    return core.combine_values(check, parts)


def _like(op: str, f: str, v: str, score: int) -> Leaf:
    """startswith/endswith/contains/icontains as an anchored or case-folded regex."""
    if v == "":
        raise Skip("empty value matches every present value")
    e = _re_escape(v)
    rx = {"startswith": f"^{e}", "endswith": f"{e}$", "contains": e, "icontains": f"(?i){e}"}[op]
    return Leaf(f"{f} like /{rx}/", max(score - 3, 1))


def _glob(op: str, f: str, g: str, score: int) -> Leaf:
    """A literal glob as equality, otherwise its literal prefix as an anchored regex."""
    prefix, literal = core.glob_prefix(g)
    if literal and op == "glob":
        return Leaf(f"{f} = {_ql_plain_value(g)}", score)
    if not prefix:
        raise Skip("glob has no literal prefix")
    flag = "(?i)" if op == "iglob" else ""
    end = "$" if literal else ""
    return Leaf(f"{f} like /{flag}^{_re_escape(prefix)}{end}/", max(score - 2, 1))
