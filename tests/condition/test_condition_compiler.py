"""Compiler semantics on ka.*-like toy fields: missing values, lists, numeric text, operators, macros."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from condition_toy import ToyResolver  # tests/condition is on sys.path (no __init__.py)
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.condition import ConditionError, as_string, compile_condition, parse

EVENT: dict[str, Any] = {
    "verb": "delete",
    "requestURI": "/api/v1/namespaces/prod/secrets/db",
    "user": {"username": "system:serviceaccount:kube-system:deployer", "groups": ["system:authenticated", "devs"]},
    "objectRef": {"resource": "secrets", "namespace": "prod"},
    "responseStatus": {"code": 403},
    "req": {"pod": {"containers": {"image": ["nginx:1.25", "busybox"]}, "host_network": True}},
    "useragent": "kubectl/v1.29.0 (linux/amd64)",
}


@pytest.fixture(scope="module")
def toy() -> ToyResolver:
    return ToyResolver()


def m(cond: str, toy: Any, event: Any = None, **kw: Any) -> bool:
    return compile_condition(cond, toy, **kw).matches(EVENT if event is None else event)


def err(cond: str, toy: Any, **kw: Any) -> ConditionError:
    with pytest.raises(ConditionError) as info:
        compile_condition(cond, toy, **kw)
    return info.value


def test_present_values(toy: Any) -> None:
    assert m("ka.useragent != foo", toy)
    assert m("ka.useragent exists", toy)
    assert m("ka.useragent exists", toy, {"useragent": ""})  # an empty string is a value


@pytest.mark.parametrize("cond", [
    "ka.target.namespace = x", "ka.target.namespace != x", "ka.target.namespace exists",
    "ka.target.namespace in (a, b)", "ka.target.namespace contains ''", "ka.target.namespace glob *",
    "ka.response.code != 1", "ka.response.code >= 0", "ka.user.groups intersects (devs)",
])
def test_missing_value_makes_every_check_false_and_not_flips(cond: str, toy: Any) -> None:
    assert m(cond, toy, {}) is False
    assert m(f"not {cond}", toy, {}) is True


def test_list_fields_in_is_subset_intersects_is_any(toy: Any) -> None:
    assert m("ka.user.groups in (system:authenticated, devs, ops)", toy)
    assert not m("ka.user.groups in (devs, ops)", toy)
    assert m("ka.user.groups intersects (devs, ops)", toy)
    assert not m("ka.user.groups intersects (ops)", toy)
    assert not m("ka.user.groups exists", toy, {"user": {"groups": []}})  # empty list = missing


def test_list_fields_reject_other_operators(toy: Any) -> None:
    e = err("ka.user.groups = devs", toy)
    assert e.message.startswith("'=' operator not supported for list fields")
    assert e.pos.col == 1
    assert err("ka.user.groups contains dev", toy)
    assert err("ka.user.groups = anyof (devs)", toy)


def test_response_code_string_and_numeric_operators(toy: Any) -> None:
    assert m("ka.response.code startswith 4", toy)
    assert not m("ka.response.code startswith 2", toy)
    assert m("ka.response.code in (401, 403)", toy)
    assert m("ka.response.code >= 400 and ka.response.code < 500", toy)
    assert m("ka.response.code = 0403", toy)  # numeric: decimal literal
    assert m("ka.response.code contains 03", toy)
    assert m("ka.response.code glob 4*", toy)
    assert m("ka.response.code regex '4[0-9]{2}'", toy)
    assert m("ka.response.code != abc", toy)  # text comparison for a non-number
    assert m("ka.response.code = anyof (200, 403)", toy)
    assert err("ka.response.code > 1.5", toy).message == "1.5 is not a valid number"


def test_string_operators(toy: Any) -> None:
    assert m("ka.verb icontains ELE", toy)
    assert m("ka.uri startswith /api/ and ka.uri endswith /db", toy)
    assert m("ka.user.name < 9", toy, {"user": {"username": "10"}})  # strcmp: "10" < "9"
    assert m("ka.uri glob /api/*", toy)  # * crosses /
    assert m("ka.uri glob '/api/v[0-9]/*/s?crets/d[!x]'", toy)
    assert m("ka.uri glob '/api/v[[:digit:]]/*'", toy)
    assert not m("ka.uri glob '/API/*'", toy)
    assert m("ka.uri iglob '/API/*'", toy)
    assert m("ka.uri glob '[abc'", toy, {"requestURI": "[abc"})  # unterminated [ is literal
    assert m("ka.uri glob a\\*b", toy, {"requestURI": "a*b"})  # \ escapes in the glob itself
    assert not m("ka.uri glob a\\*b", toy, {"requestURI": "axb"})
    assert m("ka.uri pmatch (/api/v1, /tmp)", toy)
    assert not m("ka.uri pmatch (/api/v2)", toy)
    assert m("ka.uri pmatch (/api/*/namespaces)", toy)
    assert not m("ka.uri pmatch (/api/v1/namespaces/pro)", toy)


def test_icontains_folds_ascii_only(toy: Any) -> None:
    assert m("ka.verb icontains É", toy, {"verb": "É"})
    assert not m("ka.verb icontains é", toy, {"verb": "É"})


def test_regex_is_full_match_re2_posix(toy: Any) -> None:
    assert m("ka.verb regex 'del.*'", toy)
    assert not m("ka.verb regex 'elet'", toy)
    assert m("ka.verb regex '[[:alpha:]]+'", toy)
    e = err("ka.verb regex \\d+", toy)  # bare strings keep backslashes
    assert e.message.startswith("invalid regex pattern:")
    assert e.pos.col == 15
    assert err("ka.verb regex '(?i)x'", toy).message.startswith("invalid regex pattern:")
    assert compile_condition("ka.verb regex '^delete$'", toy).warnings


def test_modifiers(toy: Any) -> None:
    assert m("ka.verb = oneof (delete, get)", toy)
    assert not m("ka.verb = oneof (delete, delete)", toy)
    assert m("ka.verb != allof (get, list)", toy)
    assert m("ka.uri contains allof (secrets, prod)", toy)
    assert not m("ka.uri startswith anyof ()", toy)


def test_transformers(toy: Any) -> None:
    assert m("toupper(ka.verb) = DELETE", toy)
    assert m("tolower(ka.verb) = delete and len(ka.verb) = 6", toy)
    assert m("basename(ka.uri) = db", toy)
    assert m("b64(ka.verb) = hello", toy, {"verb": "aGVsbG8"})  # padding optional
    assert not m("b64(ka.verb) exists", toy, {"verb": "not base64!"})  # invalid -> missing
    assert m("len(ka.user.groups) = 2", toy)
    assert m("join(',', ka.user.groups) = 'system:authenticated,devs'", toy)
    assert m("concat(ka.verb, '-', ka.target.resource) = delete-secrets", toy)
    assert m("ka.target.namespace = val(ka.target.namespace)", toy)
    assert not m("ka.target.resource = val(ka.target.namespace)", toy)
    assert m("tolower(ka.user.groups) intersects (devs)", toy)


def test_transformer_type_errors(toy: Any) -> None:
    assert "does not support fields of type uint64" in err("toupper(ka.response.code) = 1", toy).message
    assert err("toupper(ka.verb)[x] = a", toy).message == "transformer 'toupper' does not support field arguments"
    e = err("ka.verb = val(ka.response.code)", toy)
    assert "incompatible type" in e.message
    assert "doesn't support right-hand side fields" in err("ka.verb regex val(ka.uri)", toy).message


def test_type_checks(toy: Any) -> None:
    assert err("ka.req.pod.host_network contains x", toy).message.startswith("'contains' operator not supported")
    assert err("ka.req.pod.host_network = yes", toy).message == "unrecognized boolean value yes"
    assert m("ka.req.pod.host_network = true", toy)
    assert err("ka.verb = '\\x00'", toy).message == "a string value cannot contain a NUL byte"


def test_unknown_field_keeps_did_you_mean_and_position(toy: Any) -> None:
    e = err("ka.verb = get and ka.usr.name = x", toy)
    assert e.message.startswith("unknown field 'ka.usr.name'; did you mean ka.user.name")
    assert e.suggestions[0] == "ka.user.name"
    assert (e.pos.line, e.pos.col) == (1, 19)
    assert e.render().splitlines()[2] == " " * 18 + "^"


def test_macros_are_expanded_and_checked(toy: Any) -> None:
    macros = {"is_delete": parse("ka.verb = delete"), "sensitive": parse("is_delete and ka.target.resource = secrets")}
    c = compile_condition("sensitive and not ka.user.name startswith admin", toy, macros=macros)
    assert c.matches(EVENT)
    assert as_string(c.ast) == "((ka.verb = delete and ka.target.resource = secrets) and not ka.user.name startswith admin)"
    assert err("nope and ka.verb = x", toy).message == "Undefined macro 'nope' used in filter."
    loop = {"a": parse("b"), "b": parse("a")}
    assert err("a", toy, macros=loop).message.startswith("reference loop in macro")
    e = err("ka.verb exists and bad", toy, macros={"bad": parse("ka.nothere = 1")})
    assert "(in macro 'bad')" in e.message and e.pos.col == 20


def test_compiles_from_an_ast_too(toy: Any) -> None:
    c = compile_condition(parse("ka.verb = delete"), toy)
    assert c.matches(EVENT) and c.source == "ka.verb = delete"


def test_bad_source_type(toy: Any) -> None:
    with pytest.raises(ConditionError):
        compile_condition(42, toy)  # type: ignore[arg-type]


_CONDITIONS = [
    "ka.verb = get", "ka.verb != get", "ka.verb contains e", "ka.verb icontains E", "ka.verb startswith d",
    "ka.verb glob 'd*'", "ka.verb iglob 'D*'", "ka.verb regex 'd.*'", "ka.verb pmatch (/a)", "ka.verb < 5",
    "ka.verb in (a, delete)", "ka.response.code >= 400", "ka.response.code startswith 4",
    "ka.response.code in (401, abc)", "ka.user.groups in (a, b)", "ka.user.groups intersects (a)",
    "len(ka.user.groups) > 1", "toupper(ka.verb) = X", "b64(ka.verb) exists", "basename(ka.uri) = x",
    "join(',', ka.user.groups) = a", "ka.req.pod.host_network = true", "ka.verb = val(ka.uri)",
    "ka.user.groups in val(ka.user.groups)", "ka.verb = anyof (a, b)", "ka.verb contains oneof (a, e)",
    "not ka.useragent exists", "tolower(ka.user.groups) intersects (devs)",
]
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=8) | st.sampled_from(["delete", "/a/b", "aGVsbG8", "\ud800x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["verb", "user", "groups", "username", "responseStatus", "code", "requestURI", "req", "pod",
         "host_network", "useragent"]), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_CONDITIONS), _json)
def test_odd_event_data_never_raises(toy: Any, cond: str, event: Any) -> None:
    result = compile_condition(cond, toy).matches(event)
    assert result is True or result is False


def test_import_stays_light() -> None:
    code = ("import sys, eksaudit.condition; "
            "bad = [m for m in ('typer', 'boto3', 'eksaudit.fields') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


_PIECES = st.sampled_from([
    "ka.verb", "ka.response.code", "ka.user.groups", "ka.req.pod.host_network", "ka.nope", " = ", " != ", " in ",
    " intersects ", " contains ", " startswith ", " glob ", " regex ", " pmatch ", " exists", " >= ", " and ",
    " or ", "not ", "(", ")", ", ", "anyof ", "'x'", "4", "-1", "0x10", "1.5", "true", "\\d", "[", "val(", "len(",
    "b64(", "tolower(", "join(',', ", "macro1", "'\\x00'", "'(?i)a'", "[0]",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=12).map("".join), _json)
def test_fuzzed_conditions_compile_or_fail_cleanly(toy: Any, cond: str, event: Any) -> None:
    try:
        c = compile_condition(cond, toy, macros={"macro1": parse("ka.verb exists")})
    except ConditionError as e:
        assert e.render()
        return
    assert c.matches(event) in (True, False)
    if c.prefilter is not None:
        assert c.prefilter(b"{}") in (True, False)
