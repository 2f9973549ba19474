"""ka.* event-metadata fields: plain paths, the Gate, uri params, response code, additions."""

from __future__ import annotations

import pytest
from fields_testkit import audit, make_event

from eksaudit.events.event import AuditEvent

EKS_EXEC = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "Request",
    "auditID": "5f2e-11",
    "stage": "ResponseStarted",
    "requestURI": "/api/v1/namespaces/shop/pods/web-0/exec?command=sh&command=-c"
    "&command=command+-v+bash&container=cncf&stdin=true&tty=true",
    "verb": "get",
    "user": {
        "username": "arn:aws:sts::111122223333:assumed-role/Dev/alice",
        "uid": "aws-iam-authenticator:111122223333:AROAEXAMPLE",
        "groups": ["system:authenticated"],
        "extra": {
            "accessKeyId": ["ASIAEXAMPLE"],
            "arn": ["arn:aws:sts::111122223333:assumed-role/Dev/alice"],
            "canonicalArn": ["arn:aws:iam::111122223333:role/Dev"],
            "principalId": ["AROAEXAMPLE"],
            "sessionName": ["alice"],
        },
    },
    "impersonatedUser": {"username": "bob"},
    "sourceIPs": ["10.0.0.7", "192.0.2.1"],
    "userAgent": "kubectl/v1.29.0",
    "objectRef": {"resource": "pods", "namespace": "shop", "name": "web-0", "apiVersion": "v1",
                  "subresource": "exec"},
    "responseStatus": {"metadata": {}, "code": 101},
    "requestReceivedTimestamp": "2024-05-01T10:00:00.100000Z",
    "stageTimestamp": "2024-05-01T10:00:01.350999Z",
    "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "",
                    "pod-security.kubernetes.io/audit-violations": "would violate",
                    "authentication.openshift.io/decision": "allow",
                    "authentication.openshift.io/username": "oc-user",
                    "validation.policy.admission.k8s.io/validation_failure": "[]",
                    "cluster_name": "prod"},
}

PLAIN = {
    "ka.auditid": "5f2e-11",
    "ka.stage": "ResponseStarted",
    "ka.level": "Request",
    "ka.auth.decision": "allow",
    "ka.auth.reason": "",
    "ka.auth.openshift.decision": "allow",
    "ka.auth.openshift.username": "oc-user",
    "ka.validations.admission.policy.failure": "[]",
    "ka.security.pod.violations": "would violate",
    "ka.cluster.name": "prod",
    "ka.user.name": "arn:aws:sts::111122223333:assumed-role/Dev/alice",
    "ka.user.uid": "aws-iam-authenticator:111122223333:AROAEXAMPLE",
    "ka.user.groups": ["system:authenticated"],
    "ka.impuser.name": "bob",
    "ka.verb": "get",
    "ka.useragent": "kubectl/v1.29.0",
    "ka.target.name": "web-0",
    "ka.target.namespace": "shop",
    "ka.target.resource": "pods",
    "ka.target.subresource": "exec",
    "ka.req.configmap.name": "web-0",
    "ka.response.code": 101,
    "ka.latency": 1250,
    "ka.sourceips": ["10.0.0.7", "192.0.2.1"],
}


@pytest.mark.parametrize(("ref", "want"), sorted(PLAIN.items()))
def test_present_values(x, ref, want):
    assert x(ref, EKS_EXEC) == want


@pytest.mark.parametrize("ref", sorted(set(PLAIN) - {"ka.auditid"}))
def test_missing_data_is_no_value(x, ref):
    assert x(ref, {"auditID": "x"}) is None


@pytest.mark.parametrize("ref", sorted(PLAIN))
def test_the_gate_without_audit_id_nothing_has_a_value(x, ref):
    obj = {k: v for k, v in EKS_EXEC.items() if k != "auditID"}
    assert x(ref, obj) is None


def test_gate_on_non_object_and_unparseable_events(registry):
    for ev in (AuditEvent(b"[1,2]"), AuditEvent(b"not json"), AuditEvent(b'"str"')):
        for ref in ("ka.verb", "ka.user.groups", "ka.response.code", "ka.uri.param[a]", "eks.user.arn"):
            assert registry.resolve_ref(ref).extract(ev) is None


def test_events_parsed_from_raw_bytes(x):
    ev = AuditEvent(b'{"auditID":"1","verb":"list","responseStatus":{"code":200}}')
    assert x("ka.verb", ev) == "list"
    assert x("ka.response.code", ev) == 200


def test_non_string_values_are_rendered_as_json_text(x):
    ev = audit(verb=7, user={"username": {"a": [1, True]}}, stage=None, requestURI=False)
    assert x("ka.verb", ev) == "7"
    assert x("ka.user.name", ev) == '{"a":[1,true]}'
    assert x("ka.stage", ev) == "null"
    assert x("ka.uri", ev) == "false"


def test_wrong_container_types_give_no_value(x):
    ev = audit(user="alice", objectRef=["pods"], annotations="x", responseStatus=[200])
    for ref in ("ka.user.name", "ka.user.groups", "ka.target.resource", "ka.auth.decision",
                "ka.response.code", "ka.annotation[a]", "ka.user.extra[arn]"):
        assert x(ref, ev) is None, ref


def test_empty_string_is_a_value(x):
    assert x("ka.auth.reason", audit(annotations={"authorization.k8s.io/reason": ""})) == ""


def test_list_fields_empty_or_wrong_type_are_no_value(x):
    assert x("ka.user.groups", audit(user={"groups": []})) is None
    assert x("ka.user.groups", audit(user={"groups": "system:masters"})) is None
    assert x("ka.user.groups", audit(user={"groups": ["a", 1, None]})) == ["a", "1", "null"]


def test_uri_decoded(x):
    assert x("ka.uri", audit(requestURI="/api?a=1&b=2")) == "/api?a=1&b=2"


@pytest.mark.parametrize(
    ("key", "want"),
    [("command", "sh"), ("container", "cncf"), ("stdin", "true"), ("missing", None)],
)
def test_uri_param(x, key, want):
    assert x(f"ka.uri.param[{key}]", EKS_EXEC) == want


def test_uri_param_decoding_and_edge_cases(x):
    uri = "/x?cmd=ls+-l%2Fetc&empty=&bare&k%20y=v&dup=1&dup=2#frag=no"
    ev = audit(requestURI=uri)
    assert x("ka.uri.param[cmd]", ev) == "ls -l/etc"
    assert x("ka.uri.param[empty]", ev) == ""
    assert x("ka.uri.param[bare]", ev) == ""
    assert x("ka.uri.param[k y]", ev) == "v"
    assert x("ka.uri.param[dup]", ev) == "1"
    assert x("ka.uri.param[frag]", ev) is None
    assert x("ka.uri.param[a]", audit(requestURI="/healthz")) is None


def test_uri_param_malformed_query_gives_no_value_for_every_key(x):
    for uri in ("/x?a=1;b=2", "/x?a=1&b=%zz", "/x%g?a=1", "/x?a=1\n"):
        assert x("ka.uri.param[a]", audit(requestURI=uri)) is None, uri


def test_uri_param_non_string_uri(x):
    assert x("ka.uri.param[a]", audit(requestURI=5)) is None


def test_response_code_is_uint64(x, registry):
    b = registry.resolve("ka.response.code")
    assert b.type == "uint64" and b.string_ops and b.path == ("responseStatus", "code")
    assert x("ka.response.code", audit(responseStatus={"code": 403})) == 403
    assert x("ka.response.code", audit(responseStatus={"code": 200.0})) == 200
    for bad in ("200", -1, 2.5, True, None, [200], 1 << 64):
        assert x("ka.response.code", audit(responseStatus={"code": bad})) is None, bad


def test_sourceips_reads_top_level_and_index_selects(x):
    # deliberate difference: Falco reads requestObject.rules[*].sourceIPs and is always empty
    assert x("ka.sourceips[1]", EKS_EXEC) == ["192.0.2.1"]
    assert x("ka.sourceips[2]", EKS_EXEC) is None
    assert x("ka.sourceips", audit(requestObject={"rules": [{"sourceIPs": ["1.1.1.1"]}]})) is None
    assert x("ka.sourceips", audit(sourceIPs=[])) is None
    assert x("ka.sourceips", audit(sourceIPs="10.0.0.1")) is None


def test_target_pod_name_only_for_pods_without_subresource(x):
    resp = {"metadata": {"name": "web-abc12"}}
    assert x("ka.target.pod.name", audit(objectRef={"resource": "pods"}, responseObject=resp)) == "web-abc12"
    assert x("ka.target.pod.name",
             audit(objectRef={"resource": "pods", "subresource": ""}, responseObject=resp)) == "web-abc12"
    assert x("ka.target.pod.name",
             audit(objectRef={"resource": "pods", "subresource": 3}, responseObject=resp)) == "web-abc12"
    assert x("ka.target.pod.name",
             audit(objectRef={"resource": "pods", "subresource": "exec"}, responseObject=resp)) is None
    assert x("ka.target.pod.name", audit(objectRef={"resource": "secrets"}, responseObject=resp)) is None
    assert x("ka.target.pod.name", audit(objectRef={"resource": "pods"})) is None
    assert x("ka.target.pod.name", audit(responseObject=resp)) is None


def test_resp_name(x):
    assert x("ka.resp.name", audit(responseObject={"metadata": {"name": "n"}})) == "n"
    assert x("ka.resp.name", audit(responseObject={"metadata": []})) is None


def test_target_apigroup(x):
    assert x("ka.target.apigroup", audit(objectRef={"apiGroup": "rbac.authorization.k8s.io"})) == (
        "rbac.authorization.k8s.io"
    )


def test_user_extra(x, registry):
    assert x("ka.user.extra[canonicalArn]", EKS_EXEC) == ["arn:aws:iam::111122223333:role/Dev"]
    assert x("ka.user.extra[authentication.kubernetes.io/pod-name]",
             audit(user={"extra": {"authentication.kubernetes.io/pod-name": ["p-1"]}})) == ["p-1"]
    assert x("ka.user.extra[sessionName]", audit(user={"extra": {"sessionName": [""]}})) == [""]
    assert x("ka.user.extra[arn]", audit(user={"extra": {"arn": []}})) is None
    assert x("ka.user.extra[arn]", audit(user={"extra": {"arn": "x"}})) is None
    assert x("ka.user.extra[nope]", EKS_EXEC) is None
    b = registry.resolve("ka.user.extra", "arn")
    assert b.is_list and b.path == ("user", "extra", "arn")


def test_annotation(x, registry):
    assert x("ka.annotation[authorization.k8s.io/decision]", EKS_EXEC) == "allow"
    assert x("ka.annotation[authorization.k8s.io/reason]", EKS_EXEC) == ""
    assert x("ka.annotation[nope]", EKS_EXEC) is None
    assert x("ka.annotation[n]", audit(annotations={"n": 1})) == "1"
    assert registry.resolve("ka.annotation", "a/b").path == ("annotations", "a/b")


def test_latency(x):
    assert x("ka.latency", audit(requestReceivedTimestamp="2024-05-01T10:00:00Z",
                                 stageTimestamp="2024-05-01T10:00:00.000999Z")) == 0
    assert x("ka.latency", audit(requestReceivedTimestamp="2024-05-01T10:00:00Z",
                                 stageTimestamp="2024-05-01T10:01:00Z")) == 60_000
    assert x("ka.latency", audit(requestReceivedTimestamp="2024-05-01T10:00:01Z",
                                 stageTimestamp="2024-05-01T10:00:00Z")) is None
    assert x("ka.latency", audit(stageTimestamp="2024-05-01T10:00:00Z")) is None
    assert x("ka.latency", audit(requestReceivedTimestamp=1, stageTimestamp="2024-05-01T10:00:00Z")) is None
    assert x("ka.latency", audit(requestReceivedTimestamp="bad", stageTimestamp="2024-05-01T10:00:00Z")) is None


def test_plain_path_declarations(registry):
    assert registry.get("ka.verb").path == ("verb",)
    assert registry.get("ka.user.name").path == ("user", "username")
    assert registry.get("ka.target.resource").path == ("objectRef", "resource")
    assert registry.get("ka.auth.decision").path == ("annotations", "authorization.k8s.io/decision")
    assert registry.get("ka.uri.param").path is None
    assert registry.get("ka.target.pod.name").path is None
    assert registry.get("ka.latency").path is None


def test_extractors_see_the_event_once_per_call():
    calls = []

    class Counting(AuditEvent):
        __slots__ = ()

        @property
        def obj(self):
            calls.append(1)
            return super().obj

    from eksaudit.fields import default_registry

    reg = default_registry()
    ev = Counting(make_event(EKS_EXEC).raw)
    for ref in ("ka.verb", "ka.user.name", "ka.response.code", "ka.req.pod.containers.image",
                "ka.uri.param[command]", "ka.latency", "jevt.value[/verb]"):
        calls.clear()
        reg.resolve_ref(ref).extract(ev)
        assert len(calls) == 1, ref
