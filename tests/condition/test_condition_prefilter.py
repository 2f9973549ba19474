"""The literal prefilter: what it requires, and that it never rejects an event that matches."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from condition_toy import ToyResolver  # tests/condition is on sys.path (no __init__.py)
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from eksaudit.condition import ConditionError, compile_condition
from eksaudit.condition.prefilter import prefilter_any


@pytest.fixture(scope="module")
def toy() -> ToyResolver:
    return ToyResolver()


def req(cond: str, toy: Any) -> set[frozenset[bytes]]:
    return set(compile_condition(cond, toy).required)


def test_required_literals(toy: Any) -> None:
    assert req("ka.verb = delete", toy) == {frozenset({b'"delete"'})}
    assert req("ka.verb in (get, list)", toy) == {frozenset({b'"get"', b'"list"'})}
    assert req("ka.uri startswith /api/", toy) == {frozenset({b'"/api/'})}
    assert req("ka.uri endswith /db", toy) == {frozenset({b'/db"'})}
    assert req("ka.uri contains secrets", toy) == {frozenset({b"secrets"})}
    assert req("ka.verb = delete and ka.target.resource = secrets", toy) == {
        frozenset({b'"delete"'}), frozenset({b'"secrets"'})}
    assert req("ka.verb = delete or ka.verb = patch", toy) == {frozenset({b'"delete"', b'"patch"'})}
    assert req("ka.response.code in (401, 403)", toy) == {frozenset({b"401", b"403"})}
    assert req("ka.response.code startswith 4", toy) == {frozenset({b"4"})}
    assert req("ka.verb = true", toy) == {frozenset({b"true"})}  # could be a bare JSON true
    assert req("ka.uri contains allof (a1, b2)", toy) == {frozenset({b"a1"}), frozenset({b"b2"})}


def test_nothing_required_when_it_would_be_unsound(toy: Any) -> None:
    for cond in ("not ka.verb = delete", "ka.verb != delete", "ka.verb icontains DEL", "ka.verb glob 'de*'",
                 "ka.verb = 'a\"b'", "ka.verb = 'é'", "ka.useragent = kubectl", "toupper(ka.verb) = X",
                 "ka.verb = delete or ka.useragent exists", "ka.verb contains ''", "ka.verb = '200'",
                 "ka.verb contains 1.5", "ka.verb contains :1"):
        c = compile_condition(cond, toy)
        assert c.prefilter is None and c.required == (), cond


def test_prefilter_predicate(toy: Any) -> None:
    c = compile_condition("ka.verb = delete and (ka.target.resource = secrets or ka.target.resource = pods)", toy)
    assert c.prefilter is not None
    assert c.prefilter(b'{"verb":"delete","objectRef":{"resource":"pods"}}')
    assert not c.prefilter(b'{"verb":"deletecollection","objectRef":{"resource":"pods"}}')
    assert not c.prefilter(b'{"verb":"delete","objectRef":{"resource":"nodes"}}')


def test_prefilter_any_combines_rules(toy: Any) -> None:
    a = compile_condition("ka.verb = delete", toy)
    b = compile_condition("ka.verb = patch", toy)
    both = prefilter_any([a.required, b.required])
    assert both is not None and both(b'"patch"') and not both(b'"get"')
    assert prefilter_any([a.required, ()]) is None


# A small alphabet, so generated events often match generated conditions; it holds the awkward
# cases: JSON-escaped characters, numbers-as-strings, non-ASCII, empty strings.
_VALUES = ["get", "delete", "a b", "x/y", "200", "", "Ä", 'q"t', "true", "4", "a\\b"]
_JSON_VALUES = st.sampled_from(_VALUES) | st.sampled_from([403, 200, True, None, 4.5]) | \
    st.lists(st.sampled_from(_VALUES), max_size=3)
_STRING_FIELDS = ["ka.verb", "ka.user.name", "ka.uri", "ka.target.resource", "ka.target.namespace"]
_PATHS = {"ka.verb": ("verb",), "ka.user.name": ("user", "username"), "ka.uri": ("requestURI",),
          "ka.target.resource": ("objectRef", "resource"), "ka.target.namespace": ("objectRef", "namespace"),
          "ka.response.code": ("responseStatus", "code"), "ka.user.groups": ("user", "groups")}


def _q(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'


_ALL_OPS = ["=", "!=", "startswith", "endswith", "contains", "icontains", "in", "intersects", "glob"]
_POSITIVE_OPS = ["=", "startswith", "endswith", "contains", "in", "intersects"]


@st.composite
def _check(draw: Any, ops: list[str] = _ALL_OPS) -> str:
    kind = draw(st.sampled_from(["str", "str", "num", "list"]))
    lits = draw(st.lists(st.sampled_from(_VALUES), min_size=1, max_size=3))
    if kind == "str":
        field = draw(st.sampled_from(_STRING_FIELDS))
        op = draw(st.sampled_from(ops))
        if op in ("in", "intersects"):
            return f"{field} {op} ({', '.join(_q(v) for v in lits)})"
        mod = draw(st.sampled_from([None, None, "anyof", "allof", "oneof"]))
        if mod:
            return f"{field} {op} {mod} ({', '.join(_q(v) for v in lits)})"
        return f"{field} {op} {_q(lits[0])}"
    if kind == "num":
        op = draw(st.sampled_from(["=", "in", "startswith", "contains"] + ([">=", "!="] if ops is _ALL_OPS else [])))
        n = draw(st.sampled_from(["403", "200", "4", "0", "40", "0403"]))
        return f"ka.response.code in ({n}, 200)" if op == "in" else f"ka.response.code {op} {n}"
    op = draw(st.sampled_from(["in", "intersects"]))
    return f"ka.user.groups {op} ({', '.join(_q(v) for v in lits)})"


_conditions = st.recursive(
    _check(),
    lambda inner: st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    | inner.map(lambda c: f"not ({c})"),
    max_leaves=5,
)
# Only operators the prefilter derives literals from, so most examples do carry a prefilter.
_positive_conditions = st.recursive(
    _check(_POSITIVE_OPS),
    lambda inner: st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    max_leaves=4,
)


@st.composite
def _events(draw: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {}
    for path in _PATHS.values():
        if draw(st.integers(0, 4)):
            cur = ev
            for k in path[:-1]:
                cur = cur.setdefault(k, {})
            cur[path[-1]] = draw(_JSON_VALUES)
    return ev


@settings(max_examples=500, deadline=None)
@given(_conditions | _positive_conditions, _events())
def test_prefilter_never_rejects_a_match(toy: Any, cond: str, event: dict[str, Any]) -> None:
    try:
        c = compile_condition(cond, toy)
    except ConditionError:
        assume(False)
        return
    if c.matches(event) and c.prefilter is not None:
        for raw in (orjson.dumps(event), orjson.dumps(event, option=orjson.OPT_INDENT_2)):
            assert c.prefilter(raw), (cond, raw)


def _lookup(ev: dict[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = ev
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


@st.composite
def _matching_case(draw: Any) -> tuple[str, dict[str, Any]]:
    """An event, then checks whose literals are cut from its own values: most of these match."""
    ev = draw(_events())
    checks = []
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from([*_STRING_FIELDS, "ka.response.code", "ka.user.groups"]))
        v = _lookup(ev, _PATHS[field])
        if field == "ka.user.groups":
            items = v if isinstance(v, list) and v else ["get"]
            checks.append(f"{field} intersects ({_q(str(draw(st.sampled_from(items))))}, other)")
            continue
        text = str(v) if isinstance(v, (str, int)) and not isinstance(v, bool) else "get"
        if field == "ka.response.code":
            checks.append(f"{field} startswith {text[:1] or 0}" if text.isdigit() else f"{field} exists")
            continue
        i = draw(st.integers(0, len(text)))
        op, lit = draw(st.sampled_from([("=", text), ("startswith", text[:i]), ("endswith", text[i:]),
                                        ("contains", text[i // 2 : i]), ("in", text)]))
        checks.append(f"{field} in ({_q(lit)}, zz)" if op == "in" else f"{field} {op} {_q(lit)}")
    joiner = draw(st.sampled_from([" and ", " or "]))
    return joiner.join(checks), ev


@settings(max_examples=400, deadline=None)
@given(_matching_case())
def test_prefilter_keeps_events_built_to_match(toy: Any, case: tuple[str, dict[str, Any]]) -> None:
    cond, event = case
    try:
        c = compile_condition(cond, toy)
    except ConditionError:  # a literal ending in a backslash cannot be quoted in Falco's grammar
        assume(False)
        return
    if c.matches(event) and c.prefilter is not None:
        assert c.prefilter(orjson.dumps(event)), cond
