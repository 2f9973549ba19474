"""Property: a pushed filter pattern is a sound superset of its condition.

Random conditions over the real ka.* fields that have plain JSON paths, random events (typed as the
audit schema says for known paths, any JSON type elsewhere, keys often missing or null): whenever
the condition accepts an event, the pattern (when there is one) must match it under the local
filter-pattern evaluator, which takes the narrowest reading of undocumented CloudWatch behaviour.

The condition is evaluated by the condition engine's `compile_condition` when it is available, and
always by a small reference evaluator of Falco semantics (§2 of condition-language.md) written here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.filterpattern import parse_pattern
from support.objects import parent_at

from eksaudit.cloudwatch.pushdown.pattern import MAX_PATTERN_CHARS, filter_pattern
from eksaudit.condition.ast import (
    NO_POS,
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    ListExpr,
    NotExpr,
    OrExpr,
    UnaryCheckExpr,
    ValueExpr,
)
from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry

REG = default_registry()
P = NO_POS

STRING_FIELDS = ["ka.verb", "ka.target.resource", "ka.target.namespace", "ka.user.name", "ka.stage",
                 "ka.uri", "ka.auth.decision", "ka.req.pod.host_network", "ka.req.pod.run_as_user",
                 "ka.resp.name"]
LIST_FIELDS = ["ka.user.groups", "ka.sourceips", "ka.req.pod.supplemental_groups"]
NUM_FIELDS = ["ka.response.code"]

WORDS = ["delete", "get", "secrets", "sec", "ets", "kube-system", "kube-", "system:masters", "a*b",
         'q"x', "back\\s", "", "true", "false", "1000", "100", "403", "4", "é", "sp ace", "{}", "null",
         "x\ty", "DELETE", "crets"]
CORE = ["delete", "secrets", "kube-system", "null", "1000", 'q"x']
WORD = st.one_of(st.sampled_from(CORE), st.sampled_from(WORDS))  # biased so checks often hold
GLOBS = ["kube-*", "sec*", "*ets", "s?crets", "[ab]*", "secrets", "*", "a\\*b", "de*te"]
NUMS = ["0", "200", "403", "404", "500", "-1", "18446744073709551615"]


def _path(name: str) -> tuple[str, ...]:
    p = REG.resolve(name, None).path
    assert p is not None
    return tuple(p)


def _json_any() -> st.SearchStrategy[Any]:
    return st.one_of(
        WORD, st.integers(-5, 2000), st.sampled_from([1000.0, 1.5, 100.0]),
        st.booleans(), st.none(), st.just({"k": "v"}), st.just([1, "a"]),
    )


def _typed(path: tuple[str, ...]) -> st.SearchStrategy[Any]:
    if path == ("responseStatus", "code"):
        return st.one_of(st.sampled_from([0, 200, 403, 404, 500, 4, 40]), st.none())
    if path in (("user", "groups"), ("sourceIPs",)):
        return st.one_of(st.lists(WORD, max_size=3), st.none())
    if path[0] in ("requestObject", "responseObject"):
        return st.one_of(_json_any(), st.lists(_json_any(), max_size=3))
    return st.one_of(WORD, st.none())


ALL_PATHS = sorted({_path(n) for n in STRING_FIELDS + LIST_FIELDS + NUM_FIELDS})


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    ev: dict[str, Any] = {"auditID": "a-1", "kind": "Event"}
    for path in ALL_PATHS:
        if not draw(st.booleans()):
            continue
        parent_at(ev, path)[path[-1]] = draw(_typed(path))
    return ev


def _val(v: str) -> ValueExpr:
    return ValueExpr(P, v)


def _list(vals: list[str]) -> ListExpr:
    return ListExpr(P, tuple(_val(v) for v in vals))


@st.composite
def checks(draw: st.DrawFn) -> Expr:
    kind = draw(st.sampled_from(["s", "s", "s", "l", "n"]))
    if kind == "s":
        f = FieldExpr(P, draw(st.sampled_from(STRING_FIELDS)))
        op = draw(st.sampled_from(["=", "!=", "in", "intersects", "startswith", "endswith", "contains",
                                   "icontains", "glob", "exists", "mod"]))
        if op == "exists":
            return UnaryCheckExpr(P, f, "exists")
        if op in ("in", "intersects"):
            return BinaryCheckExpr(P, f, op, _list(draw(st.lists(WORD, max_size=3))))
        if op == "mod":
            base = draw(st.sampled_from(["=", "!=", "startswith", "contains", "endswith"]))
            mod = draw(st.sampled_from(["anyof", "allof", "oneof"]))
            vals = draw(st.lists(WORD, max_size=3))
            return BinaryCheckExpr(P, f, base, _list(vals), mod)
        value = draw(st.sampled_from(GLOBS if op == "glob" else WORDS))
        return BinaryCheckExpr(P, f, op, _val(value))
    if kind == "l":
        f = FieldExpr(P, draw(st.sampled_from(LIST_FIELDS)))
        op = draw(st.sampled_from(["in", "intersects", "exists"]))
        if op == "exists":
            return UnaryCheckExpr(P, f, "exists")
        return BinaryCheckExpr(P, f, op, _list(draw(st.lists(WORD, max_size=4))))
    f = FieldExpr(P, "ka.response.code")
    op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "in", "startswith"]))
    if op == "in":
        return BinaryCheckExpr(P, f, op, _list(draw(st.lists(st.sampled_from(NUMS[:6]), max_size=3))))
    return BinaryCheckExpr(P, f, op, _val(draw(st.sampled_from(NUMS if op != "startswith" else ["4", "20"]))))


conditions = st.recursive(
    checks(),
    lambda kids: st.one_of(
        st.builds(lambda c: AndExpr(P, tuple(c)), st.lists(kids, min_size=2, max_size=4)),
        st.builds(lambda c: OrExpr(P, tuple(c)), st.lists(kids, min_size=2, max_size=3)),
        st.builds(lambda c: NotExpr(P, c), kids),
    ),
    max_leaves=8,
)


# ------------------------------------------------------------------ reference Falco semantics


def _glob_re(g: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(g):
        c = g[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i + 1 < len(g):
            i += 1
            out.append(re.escape(g[i]))
        elif c == "[" and g.find("]", i + 2) > 0:
            j = g.find("]", i + 2 + (g[i + 1:i + 2] in ("!", "^")))
            body = g[i + 1:j]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def _uint(v: str) -> int | None:
    m = re.fullmatch(r"\s*([+-]?)([0-9]+)", v)
    if not m:
        return None
    n = int(m.group(2))
    return (2**64 - n if m.group(1) == "-" and n else n) if n < 2**64 else None


def _cmp1(op: str, v: Any, r: str, numeric: bool) -> bool:
    if numeric and op in ("=", "!=", "<", "<=", ">", ">="):
        n = _uint(r)
        assert n is not None
        return {"=": v == n, "!=": v != n, "<": v < n, "<=": v <= n, ">": v > n, ">=": v >= n}[op]
    s = str(v)
    return {
        "=": lambda: s == r, "!=": lambda: s != r, "startswith": lambda: s.startswith(r),
        "endswith": lambda: s.endswith(r), "contains": lambda: r in s,
        "icontains": lambda: r.lower() in s.lower(), "glob": lambda: _glob_re(r).fullmatch(s) is not None,
    }[op]()


def ref_eval(e: Expr, ev: AuditEvent) -> bool:
    if isinstance(e, AndExpr):
        return all(ref_eval(c, ev) for c in e.children)
    if isinstance(e, OrExpr):
        return any(ref_eval(c, ev) for c in e.children)
    if isinstance(e, NotExpr):
        return not ref_eval(e.child, ev)
    assert isinstance(e, (UnaryCheckExpr, BinaryCheckExpr)) and isinstance(e.left, FieldExpr)
    bound = REG.resolve(e.left.field, e.left.arg)
    v = bound.extract(ev)
    if v is None or v == []:
        return False
    if isinstance(e, UnaryCheckExpr):
        return True
    numeric = bound.type == "uint64"
    r = e.right
    vals = [r.value] if isinstance(r, ValueExpr) else [x.value for x in r.values]  # type: ignore[union-attr]
    if numeric and e.op in ("in", "intersects"):
        nums = {_uint(x) for x in vals}
        return v in nums
    if e.op in ("in", "intersects"):
        vs = v if isinstance(v, list) else [v]
        if e.op == "in":
            return all(x in vals for x in vs)
        return any(x in vals for x in vs)
    if e.modifier:
        hits = sum(_cmp1(e.op, v, x, numeric) for x in vals)
        if not vals:
            return False
        return {"anyof": hits >= 1, "allof": hits == len(vals), "oneof": hits == 1}[e.modifier]
    return _cmp1(e.op, v, vals[0], numeric)


def _engine_matches() -> Any:
    try:
        from eksaudit.condition import compile_condition  # type: ignore[attr-defined]
    except ImportError:
        return None

    def run(expr: Expr, ev: AuditEvent) -> bool | None:
        try:
            return bool(compile_condition(expr, REG).matches(ev))
        except Exception:  # noqa: BLE001 - a condition the engine rejects at compile time
            return None

    return run


ENGINE = _engine_matches()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, st.lists(events(), min_size=1, max_size=6))
def test_pushdown_pattern_is_a_sound_superset(expr: Expr, evs: list[dict[str, Any]]) -> None:
    pd = filter_pattern(expr, REG)
    if pd.pattern is None:
        assert pd.reason
        return
    assert len(pd.pattern) <= MAX_PATTERN_CHARS
    pat = parse_pattern(pd.pattern)
    assert pat.selector_wildcards <= 3 and pat.regexes == 0
    for obj in evs:
        raw = json.dumps(obj, ensure_ascii=False)
        ev = AuditEvent(raw.encode("utf-8"))
        accepted = ref_eval(expr, ev)
        if ENGINE is not None:
            got = ENGINE(expr, ev)
            if got is not None:
                accepted = accepted or got
        if accepted:
            assert pat.matches(raw), f"pattern {pd.pattern} rejects an accepted event {raw}"
