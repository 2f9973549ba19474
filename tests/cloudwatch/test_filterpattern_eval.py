"""The local filter-pattern evaluator: documented syntax, and the narrow reading of undocumented cases."""

from __future__ import annotations

import json

import pytest
from support.filterpattern import FilterPatternError, matches, parse_pattern

EV = json.dumps({
    "verb": "delete",
    "objectRef": {"resource": "secrets", "namespace": "kube-system"},
    "responseStatus": {"code": 403},
    "user": {"username": "alice", "groups": ["dev", "system:masters"]},
    "sourceIPs": ["10.0.0.1", "192.168.1.2"],
    "impersonatedUser": None,
    "requestObject": {"spec": {"hostNetwork": True, "hostPID": False, "n": "403"}},
    "cluster.name": "prod",
    "annotations": {"authorization.k8s.io/decision": "allow"},
})


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.verb = "delete" }', True),
        ('{ $.verb = "DELETE" }', False),  # case-sensitive
        ("{ $.verb = delete }", True),  # bare alphanumeric value
        ('{ $.verb != "get" }', True),
        ('{ $.verb != "delete" }', False),
        ('{ $.objectRef.namespace = "kube-*" }', True),
        ('{ $.objectRef.namespace = "*system" }', True),
        ('{ $.objectRef.namespace = "*be-sys*" }', True),
        ('{ $.objectRef.namespace = "kube-" }', False),
        ("{ $.responseStatus.code >= 400 }", True),
        ("{ $.responseStatus.code < 400 }", False),
        ("{ $.responseStatus.code = 4.03e+2 }", True),
        ('{ $.responseStatus.code = "403" }', False),  # a quoted string never matches a number
        ("{ $.requestObject.spec.n = 403 }", False),  # a number never matches a string
        ('{ $.user.groups[*] = "system:masters" }', True),
        ('{ $.user.groups[0] = "system:masters" }', False),
        ('{ $.user.groups[1] = "system:masters" }', True),
        ('{ $.user.groups = "dev" }', False),  # an array needs an index or [*]
        ('{ $.sourceIPs[0] != "127.0.0.1" }', True),
        ("{ $.sourceIPs[0] != 127.0.0.* }", True),
        ("{ $.impersonatedUser IS NULL }", True),
        ("{ $.verb IS NULL }", False),
        ("{ $.missing NOT EXISTS }", True),
        ("{ $.objectRef.missing NOT EXISTS }", True),
        ("{ $.impersonatedUser NOT EXISTS }", False),
        ('{ $.missing != "x" }', False),  # != needs the field
        ("{ $.requestObject.spec.hostNetwork IS TRUE }", True),
        ("{ $.requestObject.spec.hostPID IS FALSE }", True),
        ("{ $.requestObject.spec.hostPID IS TRUE }", False),
        ("{ $.['cluster.name'] = prod }", True),
        ('{ $.annotations["authorization.k8s.io/decision"] = "allow" }', True),
        ('{ $.verb = "get" || $.verb = "delete" }', True),
        ('{ $.verb = "get" || $.verb = "list" && $.verb = "delete" }', False),  # && binds tighter
        ('{ ($.verb = "get" || $.verb = "delete") && $.objectRef.resource = "secrets" }', True),
        ('{ $.verb = %del.te% }', True),
        ('{ $.verb = %^get$% }', False),
        ('{ $.verb != %^get$% }', True),
        ('{ $.* = "delete" }', True),
    ],
)
def test_filterpattern_json(pattern: str, expected: bool) -> None:
    assert matches(pattern, EV) is expected


def test_filterpattern_counts_wildcards_and_regexes() -> None:
    p = parse_pattern('{ $.a[*] = "x" && $.b[*].c = %y% && $.* = 1 }')
    assert p.selector_wildcards == 3 and p.regexes == 1


def test_filterpattern_non_json_messages() -> None:
    truncated = '{"kind":"Event","verb":"delete" [Truncated...]'
    assert not matches('{ $.verb = "delete" }', truncated)
    assert not matches('{ $.verb = "delete" }', '["delete"]')  # not an object
    assert matches("", truncated) and matches("   ", "anything")


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("ERROR", "an ERROR here", True),
        ("ERROR", "an error here", False),
        ("ERROR Main", "ERROR in Main", True),
        ("ERROR Main", "ERROR in main", False),
        ('"[Truncated...]"', '{"a": 1} [Truncated...]', True),
        ("ERROR -DEBUG", "ERROR DEBUG", False),
        ("?ERROR ?WARN", "a WARN", True),
        ("?ERROR ?WARN", "INFO", False),
        ('" "', "x", True),
    ],
)
def test_filterpattern_terms(pattern: str, message: str, expected: bool) -> None:
    assert matches(pattern, message) is expected


@pytest.mark.parametrize(
    "bad",
    ["{ $.verb = ", "{ verb = 1 }", "{ $.a = 1", "{ $.a IS MAYBE }", "{ $.a NOT THERE }",
     '{ $.a > "x" }', "{ $.a = 1 } extra", "[a, b]", "{ $.a = %(% }"],
)
def test_filterpattern_errors(bad: str) -> None:
    with pytest.raises(FilterPatternError):
        parse_pattern(bad)


def test_filterpattern_bytes_message() -> None:
    assert parse_pattern('{ $.verb = "delete" }').matches(EV.encode())
