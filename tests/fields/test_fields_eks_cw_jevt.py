"""eks.*, cw.* and jevt.*/json.* fields."""

from __future__ import annotations

import pytest
from fields_testkit import audit, make_event

from eksaudit.events.event import AuditEvent, CwMeta

EXTRA = {
    "accessKeyId": ["ASIAEXAMPLE"],
    "arn": ["arn:aws:sts::111122223333:assumed-role/Dev/alice", "second"],
    "canonicalArn": ["arn:aws:iam::111122223333:role/Dev"],
    "principalId": ["AROAEXAMPLE"],
    "sessionName": [""],
}

EKS = {
    "eks.user.arn": "arn:aws:sts::111122223333:assumed-role/Dev/alice",
    "eks.user.canonical_arn": "arn:aws:iam::111122223333:role/Dev",
    "eks.user.session": "",
    "eks.user.principal_id": "AROAEXAMPLE",
    "eks.user.access_key_id": "ASIAEXAMPLE",
}


@pytest.mark.parametrize(("ref", "want"), sorted(EKS.items()))
def test_eks_user_fields(x, ref, want):
    assert x(ref, audit(user={"username": "u", "extra": EXTRA})) == want


@pytest.mark.parametrize("ref", sorted(EKS))
def test_eks_user_fields_missing_or_wrong(x, ref):
    assert x(ref, audit(user={"username": "system:node:ip-10-0-0-1"})) is None
    assert x(ref, audit(user={"extra": {k: [] for k in EXTRA}})) is None
    assert x(ref, audit(user={"extra": {k: v[0] for k, v in EXTRA.items()}})) is None
    assert x(ref, audit(user={"extra": "x"})) is None
    assert x(ref, {"user": {"extra": EXTRA}}) is None  # the Gate applies to eks.* too


CW = CwMeta(log_stream="kube-apiserver-audit-0123abcd", timestamp=1_700_000_000_000,
            ingestion_time=1_700_000_002_500, event_id="3712", log_group="/aws/eks/prod/cluster")


def test_cw_fields(x):
    ev = make_event(audit(verb="get"), cw=CW)
    assert x("cw.stream", ev) == "kube-apiserver-audit-0123abcd"
    assert x("cw.event_id", ev) == "3712"
    assert x("cw.timestamp", ev) == 1_700_000_000_000
    assert x("cw.ingestion_time", ev) == 1_700_000_002_500
    assert x("cw.ingestion_lag", ev) == 2500


def test_cw_fields_without_metadata(x, registry):
    ev = make_event(audit(verb="get"))
    for d in registry:
        if d.namespace == "cw":
            assert x(d.name, ev) is None
    assert registry.get("cw.timestamp").type.value == "uint64"


def test_cw_fields_partial_metadata(x):
    ev = make_event({"verb": "get"}, cw=CwMeta(timestamp=10, ingestion_time=5))
    assert x("cw.timestamp", ev) == 10
    assert x("cw.ingestion_lag", ev) is None  # negative lag: no value
    assert x("cw.stream", ev) is None
    assert x("cw.ingestion_lag", make_event({}, cw=CwMeta(timestamp=10))) is None


DOC = {
    "stage": "ResponseComplete",
    "user": {"extra": {"arn": ["A"], "authentication.kubernetes.io/pod-name": ["p"]}},
    "a/b": 1,
    "m~n": {"": "empty-key"},
    "requestObject": {"spec": {"tls": [{"hosts": ["h"]}]}, "ephemeralContainers": [{"name": "dbg"}]},
    "n": None,
    "stageTimestamp": "2018-10-25T13:53:07.006845Z",
}


@pytest.mark.parametrize("ns", ["jevt", "json"])
@pytest.mark.parametrize(
    ("ptr", "want"),
    [
        ("/stage", "ResponseComplete"),
        ("/user/extra/arn/0", "A"),
        ("/user/extra/authentication.kubernetes.io~1pod-name/0", "p"),
        ("/a~1b", "1"),
        ("/m~0n/", "empty-key"),
        ("/requestObject/spec/tls", '[{"hosts":["h"]}]'),
        ("/requestObject/ephemeralContainers/0/name", "dbg"),
        ("/n", "null"),
        ("/requestObject/ephemeralContainers/1/name", None),
        ("/requestObject/ephemeralContainers/x", None),
        ("/requestObject/ephemeralContainers/-1", None),
        ("/stage/x", None),
        ("/nope", None),
    ],
)
def test_json_pointer(x, ns, ptr, want):
    assert x(f"{ns}.value[{ptr}]", DOC) == want


def test_json_pointer_whole_event_and_no_gate(x):
    ev = make_event({"b": 1, "a": [True]})
    assert x("jevt.value[]", ev) == '{"b":1,"a":[true]}'
    assert x("jevt.value[/b]", ev) == "1"  # no auditID needed
    assert x("jevt.value[/0]", make_event([{"k": "v"}])) == '{"k":"v"}'
    assert x("jevt.value[/a]", AuditEvent(b"not json")) is None


def test_json_pointer_paths(registry):
    assert registry.resolve("jevt.value", "/stage").path == ("stage",)
    assert registry.resolve("jevt.value", "/requestObject/spec/tls").path == ("requestObject", "spec", "tls")
    assert registry.resolve("jevt.value", "/a~1b").path == ("a/b",)
    assert registry.resolve("jevt.value", "/user/extra/arn/0").path is None
    assert registry.resolve("jevt.value", "").path is None


@pytest.mark.parametrize("ns", ["jevt", "json"])
def test_obj_and_rawtime(x, ns):
    ev = make_event({"b": 1, "a": {"c": []}, "stageTimestamp": "2018-10-25T13:53:07.006845Z"})
    assert x(f"{ns}.obj", ev) == (
        '{\n  "b": 1,\n  "a": {\n    "c": []\n  },\n  "stageTimestamp": "2018-10-25T13:53:07.006845Z"\n}'
    )
    assert x(f"{ns}.rawtime", ev) == "1540475587006845000"
    assert x(f"{ns}.rawtime", make_event({"stageTimestamp": 5})) is None
    assert x(f"{ns}.rawtime", make_event({})) is None
    assert x(f"{ns}.obj", AuditEvent(b"{bad")) is None
