"""The demo cluster's attack story: every documented fact holds in the built events."""

from __future__ import annotations

import collections

import orjson
import pytest

from eksaudit.demo.scenario import (
    ATTACKER_IP,
    ATTACKER_SESSION,
    ATTACKER_USERNAME,
    BACKDOOR_ROLE_ARN,
    SCENARIO,
    build_scenario,
)

NOW = 1_800_000_000_000


@pytest.fixture(scope="module")
def scenario():
    return build_scenario(now_ms=NOW)


@pytest.fixture(scope="module")
def audit(scenario) -> list[dict]:
    return [orjson.loads(e.message) for e in scenario.audit_events()]


def test_shape_window_and_streams(scenario, audit):
    assert len(audit) == 20_000
    times = [e.timestamp for e in scenario.events]
    assert times == sorted(times)
    assert all(NOW - 115 * 60_000 <= e.timestamp <= NOW - 60_000 for e in scenario.audit_events())
    streams = collections.Counter(e.stream for e in scenario.events)
    audit_streams = [s for s in streams if s.startswith("kube-apiserver-audit-")]
    assert len(audit_streams) == 3
    assert all(len(s) == len("kube-apiserver-audit-") + 32 for s in audit_streams)
    assert {s.split("-")[0] for s in streams} == {"kube", "authenticator"}  # noise streams outside the prefix
    assert scenario.log_group == SCENARIO["log_group"] == "/aws/eks/demo/cluster"
    assert sum(len(v) for v in scenario.by_stream().values()) == len(scenario.events)


def test_deterministic_and_relative_to_now():
    a = build_scenario(now_ms=NOW, seed=4, total=2000)
    b = build_scenario(now_ms=NOW, seed=4, total=2000)
    assert [e.message for e in a.events] == [e.message for e in b.events]
    c = build_scenario(now_ms=NOW + 3_600_000, seed=4, total=2000)
    assert c.step_times["exec"] - a.step_times["exec"] == 3_600_000


def test_step_times_match_the_docs(scenario):
    for step in SCENARIO["steps"]:
        if step.id in scenario.step_times:
            at = scenario.step_times[step.id]
            assert NOW - step.minutes_before_now * 60_000 <= at < NOW - (step.minutes_before_now - 5) * 60_000


def test_anonymous_probing(audit):
    anon = [e for e in audit if e["user"]["username"] == "system:anonymous"]
    assert len(anon) == 14
    assert all(e["sourceIPs"] == [ATTACKER_IP] for e in anon)
    codes = collections.Counter(e["responseStatus"]["code"] for e in anon)
    assert codes == {403: 13, 200: 1}
    allowed = [e for e in anon if e["annotations"]["authorization.k8s.io/decision"] == "allow"]
    assert len(allowed) == 1 and SCENARIO["targets"]["anonymous_binding"] in allowed[0]["annotations"]["authorization.k8s.io/reason"]


def test_stolen_role_identity(audit):
    mine = [e for e in audit if e["user"]["username"] == ATTACKER_USERNAME]
    assert len(mine) == 15
    for e in mine:
        extra = e["user"]["extra"]
        assert extra["sessionName"] == [ATTACKER_SESSION]
        assert extra["arn"] == [ATTACKER_USERNAME]
        assert extra["canonicalArn"] == [SCENARIO["attacker"]["canonical_arn"]]
        assert e["sourceIPs"] == [ATTACKER_IP]
    # the same role is used legitimately by CI sessions, from inside the VPC
    ci = [e for e in audit if e["user"].get("extra", {}).get("canonicalArn") == [SCENARIO["attacker"]["canonical_arn"]]
          and e["user"]["username"] != ATTACKER_USERNAME]
    assert ci and all(e["user"]["extra"]["sessionName"][0].startswith("gitlab-ci-") for e in ci)
    assert all(e["sourceIPs"][0].startswith("10.0.64.") for e in ci)


def test_each_documented_step(audit):
    secrets = [e for e in audit if e["verb"] == "list" and e.get("objectRef", {}).get("resource") == "secrets"
               and "namespace" not in e["objectRef"]]
    assert len(secrets) == 2 and {e["responseStatus"]["code"] for e in secrets} == {200, 403}

    execs = [e for e in audit if e.get("objectRef", {}).get("subresource") == "exec"]
    assert [e["stage"] for e in execs] == ["ResponseStarted", "ResponseComplete"]
    ns, pod = SCENARIO["targets"]["exec_pod"].split("/")
    assert execs[0]["objectRef"]["name"] == pod and execs[0]["objectRef"]["namespace"] == ns
    assert "command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken" in execs[0]["requestURI"]
    assert execs[0]["responseStatus"]["code"] == 101

    crbs = [e for e in audit if e.get("objectRef", {}).get("resource") == "clusterrolebindings" and e["verb"] == "create"]
    assert len(crbs) == 1
    assert crbs[0]["requestObject"]["roleRef"]["name"] == "cluster-admin"
    assert crbs[0]["requestObject"]["subjects"][0]["name"] == ATTACKER_SESSION

    pods = [e for e in audit if e["verb"] == "create" and e.get("requestObject", {}).get("spec", {}).get("hostPID")]
    assert len(pods) == 1
    spec = pods[0]["requestObject"]["spec"]
    assert spec["hostNetwork"] and spec["containers"][0]["securityContext"]["privileged"] is True
    assert spec["volumes"][0]["hostPath"]["path"] == "/"
    assert f'{pods[0]["objectRef"]["namespace"]}/{pods[0]["requestObject"]["metadata"]["name"]}' == \
        SCENARIO["targets"]["privileged_pod"]

    aws_auth = [e for e in audit if e.get("objectRef", {}).get("name") == "aws-auth" and e["verb"] in ("update", "patch")]
    assert len(aws_auth) == 1
    assert aws_auth[0]["level"] == "RequestResponse"
    assert BACKDOOR_ROLE_ARN in aws_auth[0]["requestObject"]["data"]["mapRoles"]
    assert aws_auth[0]["objectRef"]["namespace"] == "kube-system"


def test_step_counts_are_consistent(audit):
    counts = {s.id: s.count for s in SCENARIO["steps"]}
    assert counts["anonymous-probing"] == 14 and counts["recon"] == 15
    assert counts["exec"] == 2 and counts["secrets-dump"] == 2


def test_step_conditions_with_the_condition_engine(audit):
    """Each step's documented `find` condition matches exactly `count` events (when the engine is there)."""
    condition = pytest.importorskip("eksaudit.condition")
    fields = pytest.importorskip("eksaudit.fields")
    if not hasattr(condition, "compile_condition"):
        pytest.skip("condition engine not available")
    from eksaudit.events.event import AuditEvent

    registry = fields.default_registry()
    evs = [AuditEvent.from_obj(e) for e in audit]
    for step in SCENARIO["steps"]:
        cond = condition.compile_condition(step.find, registry)
        assert sum(1 for e in evs if cond.matches(e)) == step.count, step.id
