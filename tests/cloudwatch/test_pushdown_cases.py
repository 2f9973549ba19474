"""What pushes to a filter pattern / Insights filter, what stays client-side, and the limits."""

from __future__ import annotations

import pytest
from support.filterpattern import parse_pattern

from eksaudit.cloudwatch.pushdown.insights import insights_filter, insights_query
from eksaudit.cloudwatch.pushdown.pattern import filter_pattern
from eksaudit.condition.ast import (
    NO_POS,
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    FieldTransformerExpr,
    ListExpr,
    NotExpr,
    OrExpr,
    UnaryCheckExpr,
    ValueExpr,
)
from eksaudit.fields import default_registry

REG = default_registry()
P = NO_POS


def chk(field: str, op: str, *vals: str, modifier: str | None = None, arg: str | None = None) -> Expr:
    f = FieldExpr(P, field, arg)
    if op == "exists":
        return UnaryCheckExpr(P, f, "exists")
    if op in ("in", "intersects") or modifier or len(vals) != 1:
        return BinaryCheckExpr(P, f, op, ListExpr(P, tuple(ValueExpr(P, v) for v in vals)), modifier)
    return BinaryCheckExpr(P, f, op, ValueExpr(P, vals[0]))


def AND(*c: Expr) -> Expr:  # noqa: N802
    return AndExpr(P, c)


def OR(*c: Expr) -> Expr:  # noqa: N802
    return OrExpr(P, c)


@pytest.mark.parametrize(
    ("expr", "pattern"),
    [
        (chk("ka.verb", "=", "delete"), '{ $.verb = "delete" }'),
        (chk("ka.verb", "in", "delete", "deletecollection"), '{ $.verb = "delete" || $.verb = "deletecollection" }'),
        (AND(chk("ka.target.resource", "=", "secrets"), chk("ka.target.namespace", "=", "kube-system")),
         '{ $.objectRef.resource = "secrets" && $.objectRef.namespace = "kube-system" }'),
        (chk("ka.target.namespace", "startswith", "kube-"), '{ $.objectRef.namespace = "kube-*" }'),
        (chk("ka.user.name", "endswith", ":admin"), '{ $.user.username = "*:admin" }'),
        (chk("ka.useragent", "contains", "kubectl"), '{ $.userAgent = "*kubectl*" }'),
        (chk("ka.user.groups", "intersects", "system:masters"), '{ $.user.groups[*] = "system:masters" }'),
        (chk("ka.response.code", ">=", "400"), "{ $.responseStatus.code >= 400 }"),
        (chk("ka.response.code", "in", "401", "403"),
         "{ $.responseStatus.code = 401 || $.responseStatus.code = 403 }"),
        (chk("ka.stage", "=", "ResponseComplete"), '{ $.stage = "ResponseComplete" }'),
        (chk("ka.uri", "glob", "/api/v1/namespaces/*/secrets*"), '{ $.requestURI = "/api/v1/namespaces/*" }'),
        # value the pattern cannot spell: weakened to its literal prefix
        (chk("ka.target.name", "=", 'my"name'), '{ $.objectRef.name = "my*" }'),
        # unknown JSON type (requestObject): boolean spelling too
        (chk("ka.req.pod.host_network", "=", "true"),
         '{ $.requestObject.spec.hostNetwork = "true" || $.requestObject.spec.hostNetwork IS TRUE }'),
        # a literal != is pushed (plus IS NULL: a JSON null renders as "null" and is != "get")
        (chk("ka.verb", "!=", "get"), '{ $.verb != "get" || $.verb IS NULL }'),
        # under and, unpushable conjuncts are dropped; the rest still pushes
        (AND(chk("ka.verb", "=", "create"), NotExpr(P, chk("ka.user.name", "=", "admin")),
             chk("ka.user.name", "icontains", "ADMIN")), '{ $.verb = "create" }'),
        (AND(chk("ka.verb", "=", "get"), OR(chk("ka.target.resource", "=", "secrets"),
                                            chk("ka.target.resource", "=", "configmaps"))),
         '{ $.verb = "get" && ($.objectRef.resource = "secrets" || $.objectRef.resource = "configmaps") }'),
        (chk("ka.verb", "=", "get", "list", modifier="anyof"), '{ $.verb = "get" || $.verb = "list" }'),
        (chk("ka.useragent", "contains", "kube", "ctl", modifier="allof"),
         '{ $.userAgent = "*kube*" && $.userAgent = "*ctl*" }'),
    ],
)
def test_pushdown_pattern_cases(expr: Expr, pattern: str) -> None:
    pd = filter_pattern(expr, REG)
    assert pd.pattern == pattern
    parse_pattern(pd.pattern)  # our own evaluator accepts what we emit


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        (NotExpr(P, chk("ka.verb", "=", "get")), "'not' is true on missing values"),
        (chk("ka.auth.decision", "=", "allow"), "cannot be written in a filter-pattern selector"),
        (chk("ka.verb", "icontains", "DEL"), "case-sensitive"),
        (chk("ka.verb", "regex", "del.*"), "'regex' is evaluated client-side"),
        (chk("ka.verb", "exists"), "'exists' has no exact server-side form"),
        (chk("ka.response.code", "startswith", "4"), "decimal text of a number"),
        (chk("ka.sourceips", "intersects", "10.0.0.1", arg="0"), "field arguments"),
        (chk("ka.latency", ">", "100"), "not a plain JSON path"),
        (BinaryCheckExpr(P, FieldTransformerExpr(P, "tolower", (FieldExpr(P, "ka.verb"),)), "=",
                         ValueExpr(P, "get")), "transformer tolower()"),
        (OR(chk("ka.verb", "=", "get"), chk("ka.user.name", "icontains", "x")), "case-sensitive"),
        (chk("ka.target.name", "!=", "a*b"), "cannot spell exactly"),
    ],
)
def test_pushdown_unpushable(expr: Expr, why: str) -> None:
    pd = filter_pattern(expr, REG)
    assert pd.pattern is None
    assert why in pd.reason
    assert pd.dropped and why in pd.dropped[0]


def test_pushdown_empty_in_list_is_never_true() -> None:
    pd = filter_pattern(AND(chk("ka.verb", "in"), chk("ka.verb", "=", "get")), REG)
    assert pd.pattern is None and "can never be true" in pd.reason
    # inside an or, an always-false branch simply disappears
    pd = filter_pattern(OR(chk("ka.verb", "in"), chk("ka.verb", "=", "get")), REG)
    assert pd.pattern == '{ $.verb = "get" }'


def test_pushdown_explain_fields() -> None:
    expr = AND(chk("ka.verb", "=", "delete"), chk("ka.auth.decision", "=", "allow"))
    pd = filter_pattern(expr, REG)
    assert pd.pattern == '{ $.verb = "delete" }'
    assert pd.pushed == ["ka.verb = delete"]
    assert pd.reason == "pushed 1 of 2 clauses; 1 check kept client-side"
    assert pd.dropped[0].startswith("ka.auth.decision = allow: key 'authorization.k8s.io/decision'")


def test_pushdown_length_limit_drops_least_selective_clauses() -> None:
    long_names = [f"name-{i:04d}-" + "x" * 40 for i in range(30)]
    expr = AND(chk("ka.stage", "=", "ResponseComplete"), chk("ka.target.name", "in", *long_names),
               chk("ka.verb", "=", "delete"))
    pd = filter_pattern(expr, REG)
    assert pd.pattern is not None and len(pd.pattern) <= 1024
    assert '$.verb = "delete"' in pd.pattern and '$.stage = "ResponseComplete"' in pd.pattern
    assert "objectRef.name" not in pd.pattern
    assert any("1024-character limit" in d for d in pd.dropped)


def test_pushdown_wildcard_limit() -> None:
    expr = AND(chk("ka.user.groups", "intersects", "a", "b"), chk("ka.user.groups", "intersects", "c", "d"),
               chk("ka.verb", "=", "get"))
    pd = filter_pattern(expr, REG)
    assert pd.pattern is not None
    assert parse_pattern(pd.pattern).selector_wildcards <= 3
    assert any("3-wildcard limit" in d for d in pd.dropped)


def test_insights_filter_translation() -> None:
    expr = AND(
        chk("ka.verb", "in", "delete", "deletecollection"),
        chk("ka.target.resource", "startswith", "secret"),
        chk("ka.user.name", "icontains", "Admin"),
        chk("ka.response.code", ">=", "400"),
        chk("ka.auth.decision", "=", "allow"),  # annotations come last: not discovered reliably
        NotExpr(P, chk("ka.target.namespace", "=", "kube-system")),
        chk("ka.user.groups", "intersects", "system:masters"),
    )
    pd = insights_filter(expr, REG)
    assert pd.pattern == (
        'verb in ["delete", "deletecollection"] and objectRef.resource like /^secret/ '
        "and user.username like /(?i)Admin/ and responseStatus.code >= 400"
    )
    assert len(pd.dropped) == 3


def test_insights_query_shapes() -> None:
    q = insights_query(chk("ka.uri", "contains", "/api/v1/secrets?x=1"), REG, limit=500,
                       stream_prefix="kube-apiserver-audit")
    assert q == (
        "fields @timestamp, @message, @logStream, @ingestionTime, @ptr"
        " | filter @logStream like /^kube-apiserver-audit/"
        r" | filter requestURI like /\/api\/v1\/secrets\?x=1/"
        " | sort @timestamp asc | limit 500"
    )
    assert insights_query(None, REG) == (
        "fields @timestamp, @message, @logStream, @ingestionTime, @ptr | sort @timestamp asc | limit 10000"
    )
    q = insights_query(chk("ka.verb", "=", 'a"b\\c'), REG)
    assert 'filter verb = "a\\"b\\\\c"' in q
    # numeric-looking strings may be typed as numbers by Insights: client-side only
    assert "filter" not in insights_query(chk("ka.target.name", "=", "123"), REG)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("ka.verb==get and ka.response.code>=400", '{ $.verb = "get" && $.responseStatus.code >= 400 }'),
        ('ka.target.namespace startswith kube- and not ka.user.name startswith "system:"',
         '{ $.objectRef.namespace = "kube-*" }'),
        ("ka.user.groups intersects (system:masters) or ka.impuser.name exists", None),
        ("ka.verb = anyof (get, list)", '{ $.verb = "get" || $.verb = "list" }'),
    ],
)
def test_pushdown_from_parsed_conditions(text: str, pattern: str | None) -> None:
    from eksaudit.condition import parse

    assert filter_pattern(parse(text), REG).pattern == pattern
