"""Sigma semantics, case by case: each expected verdict is written from the Sigma specification
(v2.1: sigma-rules-specification.md, sigma-appendix-modifiers.md), not from eksaudit's output."""

from __future__ import annotations

import textwrap
from typing import Any

import orjson
import pytest

from eksaudit.errors import RulesError
from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import Priority, RulesLoader
from eksaudit.sigma import read_sigma_text
from eksaudit.sigma.translate import QMARK, STAR, parse_sigma_string

BASE: dict[str, Any] = {
    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "a-1",
    "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/shop/pods/web-1/exec?command=sh",
    "verb": "create", "user": {"username": "Alice@Example.com", "groups": ["devs", "system:authenticated"]},
    "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.30.2 (linux/amd64)",
    "objectRef": {"resource": "pods", "namespace": "shop", "name": "web-1", "subresource": "exec"},
    "responseStatus": {"code": 101}, "stageTimestamp": "2026-03-01T10:00:00.2Z",
    "annotations": {"authorization.k8s.io/decision": "allow"},
    "requestObject": {"spec": {"replicas": 3, "paused": False, "note": None, "empty": ""}},
}


def loader() -> RulesLoader:
    reg = default_registry()
    return RulesLoader({"k8s_audit": reg, "k8s_audit_eks": reg})


def rule_text(detection: str, *, extra: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(detection).strip(), "    ")
    return f"title: T\nlogsource:\n    product: kubernetes\n    service: audit\ndetection:\n{body}\n{extra}"


def matches(detection: str, event: dict[str, Any] | None = None) -> bool:
    """The verdict of a one-rule Sigma file on an event; checks too that the raw-bytes prefilter
    and the literal hints of the ruleset (used by readers and CloudWatch pushdown) never drop it."""
    ld = loader()
    ld.add_text(rule_text(detection), "t.yml")
    rs = ld.finish(hostname="h")
    ev = event if event is not None else BASE
    matched = bool(rs.match(AuditEvent.from_obj(ev)))
    if matched:
        raw = orjson.dumps(ev)
        if rs.prefilter is not None:
            assert rs.prefilter(raw), "prefilter dropped a matching event"
        for group in rs.required or ():
            assert any(lit in raw for lit in group), f"required literals {group} not in a matching event"
    return matched


def with_(**changes: Any) -> dict[str, Any]:
    ev = dict(BASE)
    ev.update(changes)
    return ev


# ------------------------------------------------------------------------- strings and wildcards

@pytest.mark.parametrize(("detection", "expected"), [
    # plain values are case-insensitive (General: "All values are treated as case-insensitive strings")
    ("sel: {verb: CREATE}\ncondition: sel", True),
    ("sel: {verb: creat}\ncondition: sel", False),  # a plain value matches the whole value
    ("sel: {user.username: alice@example.COM}\ncondition: sel", True),
    # wildcards: * any run, ? exactly one character
    ("sel: {verb: 'cr*'}\ncondition: sel", True),
    ("sel: {verb: 'cr?ate'}\ncondition: sel", True),
    ("sel: {verb: 'cr?te'}\ncondition: sel", False),
    ("sel: {objectRef.name: 'WEB-?'}\ncondition: sel", True),
    # escapes: \* is a plain star (the value has none), \\ before text is one backslash
    ("sel: {verb: 'cre\\*'}\ncondition: sel", False),
    ("sel: {verb: '\\*'}\ncondition: sel", False),  # a lone escaped star is the text "*", not "anything"
    # a field that is absent never matches, not even '*'
    ("sel: {objectRef.apiGroup: '*'}\ncondition: sel", False),
    ("sel: {nosuch.field: create}\ncondition: sel", False),
    # dotted paths walk objects; annotation keys keep their dots
    ("sel: {annotations.authorization.k8s.io/decision: ALLOW}\ncondition: sel", True),
    # value lists are OR
    ("sel: {verb: [delete, create]}\ncondition: sel", True),
    ("sel: {verb: [delete, patch]}\ncondition: sel", False),
    # maps are AND
    ("sel: {verb: create, objectRef.resource: secrets}\ncondition: sel", False),
    # lists of maps are OR
    ("sel:\n  - {verb: delete}\n  - {objectRef.resource: pods}\ncondition: sel", True),
    ("sel:\n  - {verb: delete}\n  - {objectRef.resource: secrets}\ncondition: sel", False),
])
def test_strings_wildcards_lists_maps(detection, expected):
    assert matches(detection) is expected


def test_escapes_follow_the_specification():
    assert parse_sigma_string(r"a\*b") == ("a*b",)
    assert parse_sigma_string(r"a\?") == ("a?",)
    assert parse_sigma_string(r"C:\Windows\x") == (r"C:\Windows\x",)  # plain backslash kept
    assert parse_sigma_string(r"a\\*") == ("a\\", STAR)  # escaped backslash, then a wildcard
    assert parse_sigma_string(r"a\\\*") == ("a\\*",)  # backslash and star, both plain
    assert parse_sigma_string(r"a\\\\b") == ("a\\\\b",)  # four backslashes are two
    assert parse_sigma_string("x?y*") == ("x", QMARK, "y", STAR)
    star = with_(objectRef={"resource": "pods", "name": "we*b"})
    assert matches(r"sel: {objectRef.name: 'we\*b'}" + "\ncondition: sel", star)
    assert not matches(r"sel: {objectRef.name: 'we\*b'}" + "\ncondition: sel", with_(objectRef={"name": "weXb"}))
    bs = with_(objectRef={"name": "a\\b"})
    assert matches(r"sel: {objectRef.name: 'a\b'}" + "\ncondition: sel", bs)
    assert matches(r"sel: {objectRef.name: 'a\\b'}" + "\ncondition: sel", bs)


# ------------------------------------------------------------------------------- modifiers

@pytest.mark.parametrize(("detection", "expected"), [
    ("sel: {requestURI|contains: /EXEC?}\ncondition: sel", True),  # ? is any one character (here '?')
    ("sel: {requestURI|endswith: 'sh?'}\ncondition: sel", False),  # ? needs a character after 'sh'
    ("sel: {requestURI|contains: '/EXEC\\?'}\ncondition: sel", True),
    ("sel: {requestURI|contains: 'command=SH'}\ncondition: sel", True),
    ("sel: {requestURI|contains: zsh}\ncondition: sel", False),
    ("sel: {userAgent|startswith: KUBECTL/}\ncondition: sel", True),
    ("sel: {userAgent|startswith: linux}\ncondition: sel", False),
    ("sel: {userAgent|endswith: (LINUX/AMD64)}\ncondition: sel", True),
    ("sel: {userAgent|endswith: kubectl}\ncondition: sel", False),
    # all: the values are ANDed
    ("sel: {requestURI|contains|all: [exec, command=sh]}\ncondition: sel", True),
    ("sel: {requestURI|contains|all: [exec, attach]}\ncondition: sel", False),
    ("sel: {requestURI|contains: [exec, attach]}\ncondition: sel", True),
    # cased: case-sensitive
    ("sel: {user.username|cased: alice@example.com}\ncondition: sel", False),
    ("sel: {user.username|cased: Alice@Example.com}\ncondition: sel", True),
    ("sel: {userAgent|contains|cased: KUBECTL}\ncondition: sel", False),
    ("sel: {userAgent|startswith|cased: kubectl}\ncondition: sel", True),
    # re: a search, case-sensitive by default, RE2
    ("sel: {userAgent|re: 'v1\\.3[0-9]'}\ncondition: sel", True),
    ("sel: {userAgent|re: '^kubectl/'}\ncondition: sel", True),
    ("sel: {userAgent|re: '^linux'}\ncondition: sel", False),
    ("sel: {userAgent|re: 'KUBECTL'}\ncondition: sel", False),
    ("sel: {user.username|re: '^[a-z]+@'}\ncondition: sel", False),
    ("sel: {user.username|re: '^[A-Za-z]+@'}\ncondition: sel", True),
    # exists: presence only (a JSON null or empty string is present)
    ("sel: {objectRef.subresource|exists: true}\ncondition: sel", True),
    ("sel: {objectRef.apiGroup|exists: true}\ncondition: sel", False),
    ("sel: {objectRef.apiGroup|exists: false}\ncondition: sel", True),
    ("sel: {requestObject.spec.note|exists: true}\ncondition: sel", True),
    ("sel: {requestObject.spec.empty|exists: true}\ncondition: sel", True),
])
def test_modifiers(detection, expected):
    assert matches(detection) is expected


@pytest.mark.parametrize(("detection", "expected"), [
    # null: absent, JSON null or empty
    ("sel: {objectRef.apiGroup: null}\ncondition: sel", True),
    ("sel: {requestObject.spec.note: null}\ncondition: sel", True),
    ("sel: {requestObject.spec.empty: null}\ncondition: sel", True),
    ("sel: {objectRef.resource: null}\ncondition: sel", False),
    ("sel: {objectRef.resource: null}\ncondition: not sel", True),
    # '' is the empty value only
    ("sel: {requestObject.spec.empty: ''}\ncondition: sel", True),
    ("sel: {objectRef.apiGroup: ''}\ncondition: sel", False),
    # numbers match numbers and their text; quoted numbers are strings, also matching the number
    ("sel: {responseStatus.code: 101}\ncondition: sel", True),
    ("sel: {responseStatus.code: '101'}\ncondition: sel", True),
    ("sel: {responseStatus.code: [401, 403]}\ncondition: sel", False),
    ("sel: {responseStatus.code: '1*'}\ncondition: sel", True),
    ("sel: {requestObject.spec.replicas: 3}\ncondition: sel", True),
    ("sel: {requestObject.spec.paused: false}\ncondition: sel", True),
    ("sel: {requestObject.spec.paused: true}\ncondition: sel", False),
])
def test_null_and_numbers(detection, expected):
    assert matches(detection) is expected


def test_escaped_star_alone_matches_only_a_star():
    assert matches("sel: {verb: '\\*'}\ncondition: sel", with_(verb="*"))
    assert not matches("sel: {verb: '\\*'}\ncondition: sel", with_(verb="x"))


def test_null_does_not_tell_the_string_null_from_json_null():
    """Documented limit (docs/sigma.md): jevt.value renders JSON null as the text null."""
    assert matches("sel: {verb: null}\ncondition: sel", with_(verb="null"))


def test_number_matches_a_string_holding_it():
    ev = with_(responseStatus={"code": "403"})
    assert matches("sel: {responseStatus.code: 403}\ncondition: sel", ev)
    assert not matches("sel: {responseStatus.code: 40}\ncondition: sel", ev)


@pytest.mark.parametrize(("detection", "expected"), [
    # keywords: searched in the whole event, case-insensitively
    ("kw: [COMMAND=sh]\ncondition: kw", True),
    ("kw: [nothing-like-this, web-1]\ncondition: kw", True),
    ("kw: [nothing-like-this]\ncondition: kw", False),
    ("kw: {'|all': [web-1, shop]}\ncondition: kw", True),
    ("kw: {'|all': [web-1, payments]}\ncondition: kw", False),
    ("kw: 'kubectl/v1.30.*linux'\ncondition: kw", True),
])
def test_keywords(detection, expected):
    assert matches(detection) is expected


# ------------------------------------------------------------------------------ conditions

YES = "yes1: {verb: create}\nyes2: {objectRef.resource: pods}\nno1: {verb: delete}\nno2: {objectRef.resource: secrets}\n"
UNDER_NO = "_no: {verb: delete}\n"


@pytest.mark.parametrize(("condition", "expected"), [
    ("yes1 and yes2", True),
    ("yes1 and no1", False),
    ("no1 or yes2", True),
    ("no1 or no2", False),
    ("not no1", True),
    ("not yes1", False),
    ("no1 and no2 or yes1", True),  # and binds tighter than or
    ("no1 and (no2 or yes1)", False),
    ("not yes1 and no1", False),  # not binds tighter than and
    ("not (yes1 and no1)", True),
    ("not not yes1", True),
    ("1 of yes*", True),
    ("all of yes*", True),
    ("1 of no*", False),
    ("all of no*", False),
    ("any of no*", False),
    ("1 of them", True),
    ("all of them", False),
    ("yes1 and not 1 of no*", True),
    ("1 of yes1", True),
    ("(yes1)", True),
])
def test_conditions(condition, expected):
    assert matches(YES + f"condition: {condition}") is expected


def test_them_skips_underscore_identifiers():
    assert matches("a: {verb: create}\n_b: {verb: delete}\ncondition: all of them")
    assert not matches("a: {verb: create}\n_b: {verb: delete}\ncondition: all of *")


def test_condition_list_is_or():
    assert matches(YES + "condition:\n  - no1\n  - yes1")
    assert not matches(YES + "condition:\n  - no1\n  - no2")


# ---------------------------------------------------------------------------- rule metadata

def test_level_tags_title_and_output():
    text = rule_text("sel: {verb: create}\ncondition: sel", extra="level: critical\ntags: [attack.t1609, attack.execution]\n")
    ld = loader()
    ld.add_text(text.replace("title: T", "title: 100% exec"), "r.yml")
    rs = ld.finish(hostname="h")
    (alert,) = rs.match(AuditEvent.from_obj(BASE))
    assert alert.rule == "100% exec"
    assert alert.priority is Priority.CRITICAL
    assert alert.tags == ("attack.execution", "attack.t1609")
    assert alert.source == "k8s_audit"
    for part in ("user=Alice@Example.com", "verb=create", "resource=pods", "ns=shop", "name=web-1",
                 "sourceips=(203.0.113.7)", "useragent=kubectl/v1.30.2 (linux/amd64)", "uri=/api/v1/"):
        assert part in alert.output


@pytest.mark.parametrize(("level", "priority"), [
    ("informational", Priority.INFORMATIONAL), ("low", Priority.NOTICE), ("medium", Priority.WARNING),
    ("high", Priority.ERROR), ("critical", Priority.CRITICAL),
])
def test_level_to_priority(level, priority):
    (r,) = read_sigma_text(rule_text("s: {verb: x}\ncondition: s", extra=f"level: {level}\n"), "r.yml")
    assert r.priority is priority


def test_other_logsources_are_skipped_with_a_warning():
    ld = loader()
    ld.add_text("title: W\nlogsource: {product: windows}\ndetection: {s: {EventID: 1}, condition: s}\n", "w.yml")
    rs = ld.finish(hostname="h")
    assert rs.enabled_count == 0
    assert any("w.yml:1" in w and "skipped" in w and "product: windows" in w for w in rs.warnings)


def test_field_not_in_audit_events_is_warned():
    ld = loader()
    ld.add_text(rule_text("s: {hostPath: '*'}\ncondition: s"), "h.yml")
    rs = ld.finish(hostname="h")
    assert any("h.yml:6" in w and "'hostPath'" in w for w in rs.warnings)


# ----------------------------------------------------------------------------------- errors

@pytest.mark.parametrize(("detection", "where", "message"), [
    ("s: {verb: x}\ncondition: s | count() by user.username > 5", 7, "aggregations"),
    ("s: {verb|base64: x}\ncondition: s", 6, "modifier 'base64' is not supported"),
    ("s: {verb|cidr: 10.0.0.0/8}\ncondition: s", 6, "modifier 'cidr' is not supported"),
    ("s: {verb|frobnicate: x}\ncondition: s", 6, "unknown modifier 'frobnicate'"),
    ("s: {verb: x}\ncondition: s and t", 7, "unknown search identifier 't'"),
    ("s: {verb: x}\ncondition: 1 of t*", 7, "names no search identifier"),
    ("s: {verb: x}\ncondition: 2 of s*", 7, "'2 of' is not supported"),
    ("s: {verb: x}\ncondition: (s", 7, "expected ')'"),
    ("s: {verb: x}\ncondition: s s", 7, "unexpected 's'"),
    ("s: {verb: x}\ncondition: s = 1", 7, "unexpected '='"),
    ("s: {verb|all: x}\ncondition: s", 6, "'all' needs a list"),
    ("s: {verb: [x, null]}\ncondition: s", 6, "null cannot be part of a value list"),
    ("s: {verb|re: '(x'}\ncondition: s", 6, "regular expression"),
    ("s: {verb|re: '\\d+'}\ncondition: s", 6, "regular expression"),
    ("s: {verb|exists: yes please}\ncondition: s", 6, "'exists' takes one boolean"),
    ("s: {verb|contains|startswith: x}\ncondition: s", 6, "cannot be combined"),
    ("s: {verb: []}\ncondition: s", 6, "empty value list"),
    ("s: {verb: x}", 5, "no condition"),
    ("s: {verb: {a: b}}\ncondition: s", 6, "not a map"),
    ("s: {verb: x}\ntimeframe: 5m\ncondition: s", 7, "timeframe"),
])
def test_unsupported_is_an_error_at_file_line(detection, where, message):
    ld = loader()
    with pytest.raises(RulesError) as e:
        ld.add_text(rule_text(detection), "bad.yml")
    assert str(e.value).startswith(f"bad.yml:{where}: ")
    assert message in str(e.value)


def test_correlation_and_collections_are_errors():
    with pytest.raises(RulesError, match=r"c.yml:1: Sigma correlation rules are not supported"):
        read_sigma_text("title: C\ncorrelation: {type: event_count, rules: [x]}\nlogsource: {}\ndetection: {}\n", "c.yml")
    with pytest.raises(RulesError, match=r"g.yml:1: .*collections"):
        read_sigma_text("action: global\ntitle: G\nlogsource: {product: kubernetes}\ndetection: {}\n", "g.yml")


def test_unknown_level_is_an_error():
    with pytest.raises(RulesError, match=r"l.yml:8: .*unknown level 'severe'"):
        read_sigma_text(rule_text("s: {verb: x}\ncondition: s", extra="level: severe\n"), "l.yml")


def test_duplicate_titles_are_an_error():
    ld = loader()
    ld.add_text(rule_text("s: {verb: x}\ncondition: s"), "a.yml")
    with pytest.raises(RulesError, match=r"b.yml:1: Sigma rule 'T': a rule of that name is already loaded \(a.yml:1\)"):
        ld.add_text(rule_text("s: {verb: y}\ncondition: s"), "b.yml")
