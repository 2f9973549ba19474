"""The synthetic EKS audit log: deterministic, valid, shaped like EKS's fixed audit policy."""

from __future__ import annotations

import collections
import re
import uuid
from datetime import datetime, timezone

import orjson
import pytest

from eksaudit.demo.generator import (
    DEFAULT_START_MS,
    audit_level,
    generate_events,
    generate_lines,
    main,
    write_jsonl,
)

RFC3339_US = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
N = 5000


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return list(generate_events(N, seed=3))


def _ts_us(text: str) -> int:
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(dt.replace(tzinfo=timezone.utc).timestamp() * 1_000_000)


def test_same_seed_same_events_other_seed_differs():
    a = list(generate_lines(300, seed=7))
    assert a == list(generate_lines(300, seed=7))
    assert a != list(generate_lines(300, seed=8))


def test_events_are_independent_objects():
    first, second = list(generate_events(2, seed=1))
    first["user"]["username"] = "changed"
    assert second["user"]["username"] != "changed"


def test_every_event_has_the_audit_envelope(events):
    ids = set()
    for ev in events:
        assert ev["kind"] == "Event" and ev["apiVersion"] == "audit.k8s.io/v1"
        assert ev["level"] in ("Metadata", "Request", "RequestResponse")
        assert ev["stage"] in ("ResponseComplete", "ResponseStarted")
        assert uuid.UUID(ev["auditID"]).version == 4
        ids.add(ev["auditID"])
        for key in ("requestURI", "verb", "user", "sourceIPs", "userAgent", "responseStatus", "annotations"):
            assert key in ev, key
        assert ev["user"]["username"]
        assert isinstance(ev["sourceIPs"], list) and ev["sourceIPs"]
        assert RFC3339_US.match(ev["requestReceivedTimestamp"]) and RFC3339_US.match(ev["stageTimestamp"])
        assert _ts_us(ev["requestReceivedTimestamp"]) <= _ts_us(ev["stageTimestamp"])
        assert ev["annotations"]["authorization.k8s.io/decision"] in ("allow", "forbid")
        extra = ev["user"].get("extra", {})
        assert all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in extra.values())
    assert len(ids) == len(events)


def test_time_order_and_window(events):
    stage = [_ts_us(ev["stageTimestamp"]) for ev in events]
    assert stage == sorted(stage)
    assert stage[0] >= DEFAULT_START_MS * 1000 and stage[-1] < (DEFAULT_START_MS + 3_600_000) * 1000
    custom = list(generate_events(50, start_ms=1_800_000_000_000, span_ms=60_000))
    assert all(1_800_000_000_000_000 <= _ts_us(e["stageTimestamp"]) < 1_800_000_060_000_000 for e in custom)


def test_levels_follow_the_eks_policy(events):
    for ev in events:
        ref = ev.get("objectRef")
        if ref is None:
            assert ev["level"] == "Metadata"  # non-resource URLs
            continue
        group = ref.get("apiGroup", "")
        assert ev["level"] == audit_level(group, ref["resource"], ev["verb"], ref.get("subresource", "")), ev["requestURI"]
        if ev["level"] == "Metadata":
            assert "requestObject" not in ev and "responseObject" not in ev
        if ev["level"] == "Request":
            assert "responseObject" not in ev
    assert audit_level("", "secrets", "get") == "Metadata"
    assert audit_level("", "pods", "create") == "RequestResponse"
    assert audit_level("", "serviceaccounts", "create", "token") == "Request"
    assert audit_level("coordination.k8s.io", "leases", "update") == "Metadata"


def test_traffic_mix_looks_like_a_cluster(events):
    verbs = collections.Counter(ev["verb"] for ev in events)
    reads = verbs["get"] + verbs["list"] + verbs["watch"]
    assert reads > len(events) / 2
    assert verbs["get"] > verbs["create"] and verbs["watch"] > verbs["delete"]
    codes = collections.Counter(ev["responseStatus"]["code"] for ev in events)
    assert {200, 201, 403, 404, 409} <= set(codes)
    for ev in events:
        status = ev["responseStatus"]
        if status["code"] >= 400:
            assert status["status"] == "Failure" and status["reason"] in ("Forbidden", "NotFound", "Conflict")
        if status["code"] == 403:
            assert ev["annotations"]["authorization.k8s.io/decision"] == "forbid"
    users = {ev["user"]["username"] for ev in events}
    assert {"eks:certificate-controller", "eks:node-manager", "eks:addon-manager", "kubernetes-admin"} <= users
    assert any(u.startswith("system:node:ip-10-0-") for u in users)
    assert any(u.startswith("system:serviceaccount:kube-system:") for u in users)
    assert any(ev["stage"] == "ResponseStarted" and ev["verb"] == "watch" for ev in events)
    assert any("?" in ev["requestURI"] for ev in events)
    assert any("impersonatedUser" in ev for ev in generate_events(20000, seed=3))  # rare, but there


def test_iam_identities_carry_eks_extras(events):
    iam = [ev for ev in events if ev["user"].get("uid", "").startswith("aws-iam-authenticator:")]
    assert iam
    for ev in iam:
        extra = ev["user"]["extra"]
        assert set(extra) == {"accessKeyId", "arn", "canonicalArn", "principalId", "sessionName"}
        assert extra["arn"][0].startswith("arn:aws:sts::") and ":assumed-role/" in extra["arn"][0]
        assert extra["canonicalArn"][0].startswith("arn:aws:iam::")
        assert extra["accessKeyId"][0].startswith("ASIA")


def test_pod_creates_carry_full_pods_and_nothing_is_an_attack(events):
    creates = [ev for ev in events if ev["verb"] == "create" and ev.get("objectRef", {}).get("resource") == "pods"
               and "subresource" not in ev["objectRef"]]
    writes = [ev for ev in events if ev["verb"] in ("create", "update", "patch", "delete")]
    assert 0.02 < len(creates) / len(writes) < 0.1
    for ev in creates:
        assert ev["requestObject"]["kind"] == "Pod" and ev["responseObject"]["kind"] == "Pod"
        assert ev["responseObject"]["spec"]["containers"][0]["image"]
        assert ev["responseObject"]["metadata"]["managedFields"]
        assert ev["annotations"]["pod-security.kubernetes.io/enforce-policy"] == "privileged:latest"
        spec = ev["requestObject"]["spec"]
        assert not spec.get("hostNetwork") and not spec.get("hostPID")
        assert not any(c.get("securityContext", {}).get("privileged") for c in spec["containers"])
    for ev in events:
        ref = ev.get("objectRef", {})
        assert ev["user"]["username"] != "system:anonymous"
        assert ref.get("subresource") not in ("exec", "attach", "portforward")
        assert ref.get("resource") not in ("clusterrolebindings", "rolebindings", "clusterroles", "roles") or \
            ev["verb"] in ("get", "list", "watch")
        assert not (ref.get("name") == "aws-auth" and ev["verb"] in ("update", "patch", "delete"))
        assert not (ev["verb"] == "list" and ref.get("resource") == "secrets" and "namespace" not in ref)


def test_average_size_is_about_a_kilobyte():
    sizes = [len(line) for line in generate_lines(N, seed=5)]
    avg = sum(sizes) / len(sizes)
    assert 800 < avg < 1600
    assert max(sizes) > 3000  # pods in RequestResponse events


def test_write_jsonl_and_module_entry_point(tmp_path, capsysbinary):
    path = tmp_path / "events.jsonl"
    written = write_jsonl(path, 200, seed=2)
    data = path.read_bytes()
    assert written == len(data)
    lines = data.splitlines()
    assert len(lines) == 200 and all(orjson.loads(line)["kind"] == "Event" for line in lines)
    assert main(["200", "--seed", "2"]) == 0
    assert capsysbinary.readouterr().out == data


def test_zero_events():
    assert list(generate_events(0)) == []
