"""The filter-pattern dialect: a CloudWatch JSON filter pattern for FilterLogEvents.

Only quoted string values, unquoted numbers, `IS NULL`/`IS TRUE`/`IS FALSE` and selectors such
as `$.objectRef.resource` or `$.sourceIPs[*]` are written. CloudWatch's quotas: a pattern is at
most 1,024 characters and three selector wildcards (`[*]`); when over, whole top-level clauses
are dropped, least selective first.
"""

from __future__ import annotations

from typing import Any

from ...condition.ast import BinaryCheckExpr, Expr
from .. import pushdown as core  # the shared core (this package's __init__): walk, limits, values
from . import Leaf, Skip, Target

MAX_PATTERN_CHARS = 1024
MAX_PATTERN_WILDCARDS = 3  # selector wildcards (`[*]`) per compound pattern

_SYNTAX = core.Syntax(lambda s: "{ " + s + " }", "&&", "||", MAX_PATTERN_CHARS, MAX_PATTERN_WILDCARDS)


def filter_pattern(expr: Expr, resolver: Any) -> core.Pushdown:
    """A CloudWatch JSON filter pattern that every event matching `expr` matches (or None, with why).

    `expr` must be macro-expanded. The caller still evaluates the full condition on each event.
    """
    return core.build(expr, core.Translator(resolver, _pattern_check), _SYNTAX)


def _selector(path: tuple[str, ...], star: bool = False) -> str:
    for k in path:
        if not core.KEY_RE.match(k):
            raise Skip(f"key {k!r} cannot be written in a filter-pattern selector")
    return "$." + ".".join(path) + ("[*]" if star else "")


def _expressible(ch: str) -> bool:
    """Characters a quoted pattern value can hold literally (`*` is always a wildcard)."""
    return ch not in '"\\*' and ch.isprintable()


def _first_bad(v: str) -> int:
    """Index of the first character a quoted pattern value cannot hold literally (len(v) if none)."""
    return next((i for i, c in enumerate(v) if not _expressible(c)), len(v))


def _eq_string(sel: str, v: str, score: int, wc: int, *, exact_only: bool = False) -> Any:
    """`sel = "v"`, or a prefix superset `"pre*"` when v holds characters a pattern cannot spell."""
    if v == "":
        raise Skip("empty value: a filter pattern cannot match only empty strings")
    i = _first_bad(v)
    if i == len(v):
        return Leaf(f'{sel} = "{v}"', score, wc)
    if exact_only:
        raise Skip("value has characters a filter pattern cannot spell exactly")
    if i == 0:
        raise Skip("value starts with a character a filter pattern cannot spell")
    return Leaf(f'{sel} = "{v[:i]}*"', max(score - 3, 1), wc)


def _eq_any(sel: str, v: str, score: int, wc: int) -> Any:
    """Equality on a node of unknown JSON type: also match its number/boolean spelling."""
    if v[:1] in ("{", "["):
        raise Skip("value may be the JSON text of an object or array")
    leaf = _eq_string(sel, v, score, wc)
    if v in ("true", "false"):
        return core.or_of([leaf, Leaf(f"{sel} IS {v.upper()}", score, wc)])
    if core.JSON_NUMBER_RE.match(v):
        return core.or_of([leaf, Leaf(f"{sel} = {v}", score, wc)])
    if v == "null":  # the field library renders a JSON null as "null"
        return core.or_of([leaf, Leaf(f"{sel} IS NULL", score, wc)])
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
        raise Skip("empty value matches every present value")
    runs = _runs(v)
    seg = runs[-1] if where == "suffix" else max(runs, key=len)
    if not seg:
        raise Skip("no literal text a filter pattern can spell")
    return seg


def _prefix(sel: str, v: str, score: int) -> Any:
    i = _first_bad(v)
    if i == 0:
        raise Skip("no literal prefix a filter pattern can spell")
    return Leaf(f'{sel} = "{v[:i]}*"', max(score - 2, 1))


def _glob(sel: str, g: str, score: int) -> Any:
    prefix, literal = core.glob_prefix(g)
    if literal:
        return _eq_string(sel, g, score, 0)
    return _prefix(sel, prefix, score)


def _pattern_check(check: BinaryCheckExpr, t: Target) -> Any:
    op = core.base_op(check)
    values = core.check_values(check)
    if t.kind in ("strlist", "anylist"):
        return _list_check(op, values, t)
    sel = _selector(t.path)
    if t.kind == "number":
        if op in ("=", "!=", "<", "<=", ">", ">="):
            parts = [Leaf(f"{sel} {op} {core.uint_literal(v)}", t.score if op == "=" else 3) for v in values]
        elif op in ("in", "intersects"):
            parts = [Leaf(f"{sel} = {core.uint_literal(v)}", t.score) for v in values]
        else:
            raise Skip(f"'{op}' on the decimal text of a number")
        return core.combine_values(check, parts)
    if t.kind == "any":
        if op in ("=", "in", "intersects"):
            return core.combine_values(check, [_eq_any(sel, v, t.score, 0) for v in values])
        raise Skip(f"'{op}' needs the JSON type of {'.'.join(t.path)}, which is not known")
    parts = _string_parts(op, sel, values, t.score)
    # a JSON null renders as "null": keep such events when the check would accept that text
    parts = [core.or_of([p, Leaf(f"{sel} IS NULL", p.score)]) if core.null_ok(op, v) else p
             for p, v in zip(parts, values, strict=True)]
    return core.combine_values(check, parts)


def _list_check(op: str, values: list[str], t: Target) -> Any:
    """`in`/`intersects` on a list field: any element (`[*]`) equal to any value."""
    if op not in ("in", "intersects"):
        raise Skip(f"'{op}' on a list field")
    sel = _selector(t.path, star=True)
    if t.kind == "strlist":
        return core.or_of([
            core.or_of([_eq_string(sel, v, t.score, 1), Leaf(f"{sel} IS NULL", t.score, 1)])
            if v == "null" else _eq_string(sel, v, t.score, 1)
            for v in values
        ])
    return core.or_of([_eq_any(sel, v, t.score, 1) for v in values])


def _string_parts(op: str, sel: str, values: list[str], score: int) -> list[Leaf]:
    """One leaf per value for a check on a schema-known string node."""
    if op in ("=", "in", "intersects"):
        return [_eq_string(sel, v, score, 0) for v in values]
    if op == "!=":
        parts = [_eq_string(sel, v, 1, 0, exact_only=True) for v in values]
        return [Leaf(p.text.replace(" = ", " != ", 1), 1) for p in parts]
    if op == "startswith":
        return [_prefix(sel, v, score) for v in values]
    if op == "endswith":
        return [Leaf(f'{sel} = "*{_segment(v, "suffix")}"', max(score - 4, 1)) for v in values]
    if op == "contains":
        return [Leaf(f'{sel} = "*{_segment(v, "infix")}*"', max(score - 5, 1)) for v in values]
    if op == "glob":
        return [_glob(sel, v, score) for v in values]
    if op in ("icontains", "iglob"):
        raise Skip("filter patterns are case-sensitive")
    if op in ("regex", "pmatch", "bcontains", "bstartswith"):
        raise Skip(f"'{op}' is evaluated client-side")
    raise Skip(f"'{op}' on strings compares bytes; evaluated client-side")
