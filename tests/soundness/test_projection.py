"""Projection decoding (events/projection.py) gives the fields the values a full parse gives.

Each assumption the module docstring names is tried here on inputs built to break it; the
hypothesis test compares every projectable field on random objects (any JSON type where a path
goes on, duplicate keys, big integers, escapes). The scan-level comparison with the slow twin
(`PROJECTING = False`) is in test_soundness_property.py (every field, every operator, respelled
inputs, rules and their outputs).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.events import projection as projection_module
from eksaudit.events.event import AuditEvent
from eksaudit.events.projection import Projection, projection_for
from eksaudit.fields import default_registry

REG = default_registry()
# every field that says what it reads, with an argument where it needs one
REFS = [
    d.name if d.arg.value != "key" else f"{d.name}[{'arn' if 'extra' in d.name else 'a/b'}]"
    for d in REG
    if (d.reads is not None or getattr(d.extract, "reads", None) is not None)
]


def _values(raw: bytes, refs: list[str]) -> tuple[list[Any], list[Any] | None]:
    """(values on the full parse, values on the projection or None when it declines)."""
    bounds = [REG.resolve_ref(r) for r in refs]
    paths: set[tuple[str, ...]] = set()
    for b in bounds:
        assert b.reads is not None, b.ref
        paths.update(b.reads)
    full = AuditEvent(raw)
    want = [b.extract(full) for b in bounds]
    part = Projection(paths)(raw)
    if part is None:
        return want, None
    ev = AuditEvent(raw, obj=part)
    return want, [b.extract(ev) for b in bounds]


def same(raw: bytes, refs: list[str] | None = None) -> bool:
    """True when the projection serves `raw`; asserts it gives the full parse's values."""
    want, got = _values(raw, refs or REFS)
    if got is not None:
        assert got == want, raw
    return got is not None


def test_every_field_that_declares_its_reads_is_covered() -> None:
    assert len(REFS) > 80
    assert {"ka.verb", "ka.user.name", "ka.req.pod.containers.image", "ka.latency", "cw.stream"} <= set(REFS)


def test_a_plain_event() -> None:
    raw = (b'{"kind":"Event","auditID":"a","verb":"delete","user":{"username":"bob","extra":{"arn":["x"]}},'
           b'"objectRef":{"resource":"secrets","name":"s","namespace":"n"},"responseStatus":{"code":200},'
           b'"requestReceivedTimestamp":"2026-01-01T00:00:00.000000Z","stageTimestamp":"2026-01-01T00:00:00.5Z",'
           b'"annotations":{"a/b":"c"},"requestURI":"/api/v1/x?a%2Fb=1&a/b=2","sourceIPs":["10.0.0.1"]}')
    assert same(raw)


def test_only_the_paths_read_are_decoded() -> None:
    p = Projection([("verb",), ("objectRef", "resource"), ("auditID",)])
    part = p(b'{"auditID":"a","verb":"get","user":{"username":"u"},"objectRef":{"resource":"pods","name":"x"}}')
    assert part == {"auditID": "a", "verb": "get", "objectRef": {"resource": "pods"}}


def test_duplicate_keys_last_wins_and_a_repeated_object_replaces_the_first_whole() -> None:
    raw = b'{"auditID":"a","verb":"get","verb":"delete","objectRef":{"resource":"secrets"},"objectRef":{"name":"x"}}'
    assert same(raw)
    ev = AuditEvent(raw, obj=projection_for([("objectRef", "resource"), ("verb",), ("auditID",)])(raw))
    assert REG.resolve("ka.target.resource").extract(ev) is None
    assert REG.resolve("ka.verb").extract(ev) == "delete"
    assert same(b'{"auditID":"a","user":{"extra":{"z":1,"y":2,"z":3}},"user":{"extra":{"arn":["q"],"arn":["r"]}}}')


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "-123456789012345678901234567890",
                                    "18446744073709551615", "18446744073709551616", "-9223372036854775808",
                                    "-9223372036854775809", "1e2", "1.50", "-0", "0.1e-5"])
def test_numbers_read_as_the_full_parse_reads_them(number: str) -> None:
    for template in ('{"auditID":"a","verb":%s}', '{"auditID":"a","responseStatus":{"code":%s}}',
                     '{"auditID":"a","requestObject":{"spec":{"hostPID":%s,"x":[[%s]]}}}',
                     '{"auditID":"a","user":{"extra":{"arn":[%s,{"k":%s}]}}}'):
        raw = (template.replace("%s", number)).encode()
        assert same(raw), raw


def test_null_where_a_path_goes_on_is_a_value() -> None:
    assert same(b'{"auditID":"a","objectRef":null,"user":null,"verb":null}')


@pytest.mark.parametrize("raw", [
    b'{"auditID":"a","objectRef":"pods"}',                # a string where the path goes on
    b'{"auditID":"a","user":["u"]}',                      # an array where the path goes on
    b'{"auditID":"a","verb":"\\ud800"}',                   # a lone surrogate, wanted
    b'{"auditID":"a","verb":"get","x":"\\udc00"}',         # and skipped
    b'{"auditID":"a","verb":1e999}',                      # beyond the double range, wanted
    b'{"auditID":"a","verb":"g\xffet"}',                  # invalid UTF-8, wanted
    b'[{"auditID":"a","verb":"get"}]',                    # not an object
    b'{"auditID":"a","verb":"get"',                       # not JSON
    b'{"auditID":"a","verb":"get"} {}',                   # trailing data
    b'{"auditID":"a","verb":"get","x":' + b"[" * 5000 + b"]" * 5000 + b"}",  # deeper than msgspec goes
])
def test_what_the_projection_cannot_serve_is_parsed_whole(raw: bytes) -> None:
    assert not same(raw, ["ka.verb", "ka.target.resource", "ka.user.name"])


@pytest.mark.parametrize("raw", [
    b'{"auditID":"a","verb":"get","x":"\xff\xfe"}',       # invalid UTF-8 where nothing is read
    b'{"auditID":"a","verb":"get","x":1e999}',            # a number orjson rejects, skipped
])
def test_what_only_the_fallback_parser_reads_is_skipped_alike(raw: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    assert same(raw, ["ka.verb", "ka.target.resource", "ka.user.name"])


@pytest.mark.parametrize("depth", [900, 1100, 3000])
def test_deep_nesting_either_way_gives_the_full_parse_values(depth: int) -> None:
    same(b'{"auditID":"a","verb":"get","x":' + b"[" * depth + b"]" * depth + b"}")
    same(b'{"auditID":"a","verb":' + b"[" * depth + b"]" * depth + b"}")


def test_invalid_json_that_is_skipped_still_makes_the_event_unparsable() -> None:
    for raw in (b'{"auditID":"a","verb":"get","x":[1,}', b'{"auditID":"a","verb":"get","x":tru}',
                b'{"auditID":"a","verb":"get","x":"a\x01b"}', b'{"auditID":"a","verb":"get","x":01}'):
        assert Projection([("verb",), ("auditID",)])(raw) is None
        assert AuditEvent(raw).obj is None


def test_the_switch_turns_projection_off() -> None:
    assert projection_for([("verb",)]) is not None
    assert projection_for(None) is None
    assert projection_for([("verb",), ()]) is None  # an empty path is the whole object
    saved = projection_module.PROJECTING
    projection_module.PROJECTING = False
    try:
        assert projection_for([("verb",)]) is None
    finally:
        projection_module.PROJECTING = saved


def test_keys_are_data_not_code() -> None:
    """Keys reach the generated converter as constants: quotes, newlines and code stay keys."""
    keys = ["__import__('os')", "f0", "K0", "out", "", "é", "a b", "{", "'"]
    p = Projection([(k,) for k in keys] + [("x", k) for k in keys])
    obj = {k: i for i, k in enumerate(keys)} | {"x": {k: [k] for k in keys} | {"y": 1}, "other": 1}
    assert p(json.dumps(obj).encode()) == {k: obj[k] for k in keys} | {"x": {k: [k] for k in keys}}


def test_keys_msgspec_cannot_name_make_their_parent_wanted_whole() -> None:
    """A key with a quote, a backslash or a control character cannot name a Struct field."""
    odd = ['a"b', "c\\d", "e\nf"]
    p = projection_for([("annotations", k) for k in odd] + [("verb",)])
    assert p is not None
    obj = {"verb": "get", "annotations": {k: "v" for k in odd} | {"other": "w"}, "user": {}}
    assert p(json.dumps(obj).encode()) == {"verb": "get", "annotations": obj["annotations"]}
    assert projection_for([('a"b',), ("verb",)]) is None  # a top-level key: the whole object
    for k in odd:
        assert same(json.dumps({"auditID": "a", "annotations": {k: "v"}}).encode(), [f"ka.annotation[{k}]"])


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a/b", "arn", "name", "x"]), inner,
                                                               max_size=3),
    max_leaves=8,
)
_KEYS = ["auditID", "verb", "user", "objectRef", "responseStatus", "requestObject", "annotations", "sourceIPs",
         "requestURI", "stageTimestamp", "requestReceivedTimestamp", "responseObject", "impersonatedUser", "x"]
_SUB = {"user": ["username", "uid", "groups", "extra"], "objectRef": ["resource", "name", "namespace", "subresource"],
        "responseStatus": ["code", "reason"], "requestObject": ["spec", "rules", "subjects", "roleRef", "data"],
        "responseObject": ["metadata"], "impersonatedUser": ["username"]}


@st.composite
def _event_text(draw: Any) -> bytes:
    """An object with audit keys (repeated sometimes), each holding any JSON value or an object of its keys."""
    parts = []
    for _ in range(draw(st.integers(1, 12))):
        key = draw(st.sampled_from(_KEYS))
        if key in _SUB and draw(st.booleans()):
            inner = [f"{json.dumps(k)}:{json.dumps(draw(_json))}"
                     for k in draw(st.lists(st.sampled_from(_SUB[key] + ["extra", "arn"]), max_size=4))]
            value = "{" + ",".join(inner) + "}"
        else:
            value = json.dumps(draw(_json), ensure_ascii=draw(st.booleans()))
        parts.append(f"{json.dumps(key)}:{value}")
    return ("{" + ",".join(parts) + "}").encode()


@settings(max_examples=400, deadline=None)
@given(raw=_event_text())
def test_random_objects_give_the_full_parse_values(raw: bytes) -> None:
    same(raw)


def test_many_values_are_parsed_whole() -> None:
    few = [("verb",), ("auditID",), ("user", "username"), ("objectRef", "resource")]
    assert projection_for(few) is not None
    many = few + [("x", str(i)) for i in range(projection_module.MAX_VALUES)]
    assert projection_for(many) is None
    assert projection_for([("user",), *(("user", str(i)) for i in range(20))]) is not None  # one subtree


_RULES = """
- macro: writes
  condition: ka.verb in (create, update, patch, delete)
- rule: Pod or account written
  desc: a write to a pod or a service account
  condition: writes and ka.target.resource in (pods, serviceaccounts)
  output: secret %ka.target.namespace/%ka.target.name by %ka.user.name (%ka.useragent, %jevt.value[/requestURI])
  priority: WARNING
  source: k8s_audit
- rule: Forbidden request
  desc: a request the API server forbade
  condition: ka.response.code in (403, 404) or ka.auth.decision=forbid
  output: forbidden %ka.verb %ka.uri by %ka.user.name groups=%ka.user.groups
  priority: NOTICE
  source: k8s_audit
"""


def test_rules_match_on_the_projection_and_print_from_the_whole_event(tmp_path: Any) -> None:
    """A small rules file is projected (few values); its outputs read fields outside the projection."""
    import random

    from soundness_kit import both, demo_events, write
    from support.respell import respell_file

    from eksaudit.rules import load_rules

    rules = tmp_path / "rules.yaml"
    rules.write_text(_RULES)
    rs = load_rules([str(rules)], REG)
    assert rs.reads is not None and projection_for(rs.reads) is not None
    rng = random.Random(4)
    pool = demo_events()
    # plain lines (read unparsed, so projected) and re-spelled ones (parsed by the reader)
    data = b"".join(orjson.dumps(e) + b"\n" if i % 2 else respell_file([e], rng, bom=False)
                    for i, e in enumerate(pool))
    path = write(tmp_path, "in.jsonl", data)
    fast, slow = both(path, rules=[str(rules)])
    assert len(slow.alerts) > 50 and len({r for r, _, _ in slow.alerts}) == 2
    assert fast.alerts == slow.alerts and fast.outputs == slow.outputs
    fast, slow = both(path, rules=[str(rules)], columns=["ka.verb", "ka.target.name"])
    assert fast.events == slow.events and fast.outputs == slow.outputs


def test_a_sink_that_does_not_say_what_it_reads_gets_whole_events(tmp_path: Any) -> None:
    """Like `-o table`: printing reads fields the condition did not, from the whole event."""
    from soundness_kit import both, demo_events, write

    path = write(tmp_path, "in.jsonl", b"".join(orjson.dumps(e) + b"\n" for e in demo_events()))
    cols = ["ka.useragent", "ka.user.name", "ka.req.pod.containers.image", "jevt.obj"]
    fast, slow = both(path, "ka.verb in (create, patch)", columns=cols, declare=False)
    assert len(slow.events) > 30
    assert fast.events == slow.events
