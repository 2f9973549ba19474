"""The built-in `eks` ruleset: each rule fires on the events it is about, and not on look-alikes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import Priority, load_rules

IAM_USER = {
    "username": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
    "uid": "aws-iam-authenticator:111122223333:AROAEXAMPLE",
    "groups": ["system:authenticated"],
    "extra": {
        "arn": ["arn:aws:sts::111122223333:assumed-role/Admin/alice"],
        "canonicalArn": ["arn:aws:iam::111122223333:role/Admin"],
        "sessionName": ["alice"],
        "principalId": ["AROAEXAMPLE"],
        "accessKeyId": ["ASIAEXAMPLE"],
    },
}
ARN = "arn:aws:sts::111122223333:assumed-role/Admin/alice"


def event(
    verb: str,
    resource: str,
    *,
    namespace: str | None = "default",
    name: str | None = None,
    subresource: str | None = None,
    stage: str = "ResponseComplete",
    code: int = 200,
    user: dict[str, Any] | None = None,
    uri: str | None = None,
    request: dict[str, Any] | None = None,
) -> AuditEvent:
    ref: dict[str, Any] = {"resource": resource, "apiVersion": "v1"}
    if namespace is not None:
        ref["namespace"] = namespace
    if name is not None:
        ref["name"] = name
    if subresource is not None:
        ref["subresource"] = subresource
    obj: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse",
        "auditID": "0b1c2d3e-0000-4000-8000-000000000001",
        "stage": stage,
        "requestURI": uri or f"/api/v1/namespaces/{namespace}/{resource}",
        "verb": verb,
        "user": copy.deepcopy(user if user is not None else IAM_USER),
        "sourceIPs": ["203.0.113.7"],
        "userAgent": "kubectl/v1.30.0",
        "objectRef": ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": "2026-03-01T10:00:00.123456Z",
        "stageTimestamp": "2026-03-01T10:00:00.223456Z",
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""},
    }
    if request is not None:
        obj["requestObject"] = request
    return AuditEvent.from_obj(obj)


def pod(containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"}, "spec": {"containers": containers, **spec}}


NGINX = {"name": "web", "image": "nginx:1.27"}


@pytest.fixture(scope="module")
def ruleset():
    return load_rules(["eks"], default_registry(), rule_matching="all")


def fired(rs, ev: AuditEvent) -> list[str]:
    return [a.rule for a in rs.match(ev)]


def test_loads_cleanly_with_documented_rules(ruleset) -> None:
    assert not [w for w in ruleset.warnings if w.code not in ("unused-list", "unused-macro")]
    assert ruleset.enabled_count == len(ruleset.rules) == 12
    for r in ruleset.rules:
        assert r.source == "k8s_audit" and r.desc and r.tags and "eks" in r.tags


def test_aws_auth_changes(ruleset) -> None:
    ev = event("patch", "configmaps", namespace="kube-system", name="aws-auth")
    assert fired(ruleset, ev) == ["EKS aws-auth ConfigMap Modified"]
    alert = ruleset.match(ev)[0]
    assert alert.priority is Priority.WARNING
    assert alert.output_fields["eks.user.arn"] == ARN
    assert f"arn={ARN}" in alert.output
    # a failed attempt is also reported
    assert fired(ruleset, event("update", "configmaps", namespace="kube-system", name="aws-auth", code=403))
    # reading it, or changing another configmap, is not
    assert fired(ruleset, event("get", "configmaps", namespace="kube-system", name="aws-auth")) == []
    assert fired(ruleset, event("patch", "configmaps", namespace="kube-system", name="coredns")) == []
    assert fired(ruleset, event("patch", "configmaps", namespace="default", name="aws-auth")) == []


ANON = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}


def test_anonymous_allowed(ruleset) -> None:
    ev = event("list", "pods", user=ANON, uri="/api/v1/namespaces/default/pods")
    assert fired(ruleset, ev) == ["EKS Anonymous Request Allowed"]
    assert ruleset.match(ev)[0].priority is Priority.ERROR
    # denied anonymous requests and public endpoints are fine
    assert fired(ruleset, event("list", "pods", user=ANON, code=403)) == []
    assert fired(ruleset, event("get", "version", user=ANON, uri="/version", namespace=None)) == []
    assert fired(ruleset, event("get", "x", user=ANON, uri="/.well-known/openid-configuration", namespace=None)) == []
    # an authenticated user doing the same is not anonymous
    assert fired(ruleset, event("list", "pods")) == []


def test_exec_and_attach_as_eks_logs_them(ruleset) -> None:
    uri = "/api/v1/namespaces/default/pods/web/exec?command=sh&container=web&stdin=true&tty=true"
    ev = event("get", "pods", name="web", subresource="exec", stage="ResponseStarted", code=101, uri=uri)
    assert fired(ruleset, ev) == ["EKS Exec or Attach into Pod"]
    assert "command=sh" in ruleset.match(ev)[0].output
    att = event("get", "pods", name="web", subresource="attach", stage="ResponseStarted", code=101)
    assert fired(ruleset, att) == ["EKS Exec or Attach into Pod"]
    # a refused exec (ResponseComplete, 403) is reported; the ResponseComplete of a finished session is not
    assert fired(ruleset, event("get", "pods", name="web", subresource="exec", code=403))
    assert fired(ruleset, event("get", "pods", name="web", subresource="exec", code=101)) == []
    assert fired(ruleset, event("get", "pods", name="web", subresource="log", stage="ResponseStarted")) == []


def test_secrets_listed_cluster_wide(ruleset) -> None:
    ev = event("list", "secrets", namespace=None, uri="/api/v1/secrets")
    assert fired(ruleset, ev) == ["EKS Secrets Listed Cluster-Wide"]
    watch = event("watch", "secrets", namespace=None, stage="ResponseStarted", uri="/api/v1/secrets?watch=true")
    assert fired(ruleset, watch) == ["EKS Secrets Listed Cluster-Wide"]
    # a namespaced list, a control-plane reader, a forbidden attempt: no alert
    assert fired(ruleset, event("list", "secrets", namespace="default")) == []
    cm = {"username": "system:kube-controller-manager", "groups": ["system:authenticated"]}
    assert fired(ruleset, event("list", "secrets", namespace=None, user=cm)) == []
    assert fired(ruleset, event("list", "secrets", namespace=None, code=403)) == []
    ksm = {"username": "system:serviceaccount:monitoring:kube-state-metrics"}
    assert fired(ruleset, event("watch", "secrets", namespace=None, stage="ResponseStarted", user=ksm)) == []
    fake = {"username": "kube-state-metrics"}  # not a service account: still reported
    assert fired(ruleset, event("list", "secrets", namespace=None, user=fake))


def crb(role: str) -> dict[str, Any]:
    return {
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "x"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "User", "name": "mallory"}],
    }


def test_cluster_admin_binding(ruleset) -> None:
    ev = event("create", "clusterrolebindings", namespace=None, name="x", code=201, request=crb("cluster-admin"))
    # first match wins in Falco; with rule_matching=all the IAM RBAC rule fires too
    assert fired(ruleset, ev) == ["EKS ClusterRoleBinding to cluster-admin", "EKS RBAC Changed by IAM Identity"]
    view = event("create", "clusterrolebindings", namespace=None, name="x", code=201, request=crb("view"))
    assert fired(ruleset, view) == ["EKS RBAC Changed by IAM Identity"]


def test_rbac_change_needs_an_iam_identity(ruleset) -> None:
    ev = event("patch", "roles", name="r")
    assert fired(ruleset, ev) == ["EKS RBAC Changed by IAM Identity"]
    assert ruleset.match(ev)[0].output_fields["eks.user.session"] == "alice"
    controller = {"username": "system:serviceaccount:kube-system:clusterrole-aggregation-controller"}
    assert fired(ruleset, event("patch", "clusterroles", namespace=None, name="admin", user=controller)) == []
    assert fired(ruleset, event("get", "roles", name="r")) == []


def test_privileged_and_host_pods(ruleset) -> None:
    priv = pod([NGINX, {"name": "x", "image": "busybox", "securityContext": {"privileged": True}}])
    assert fired(ruleset, event("create", "pods", name="p", code=201, request=priv)) == ["EKS Privileged Pod Created"]
    init_priv = pod([NGINX], initContainers=[{"name": "i", "image": "busybox", "securityContext": {"privileged": True}}])
    assert fired(ruleset, event("create", "pods", name="p", code=201, request=init_priv)) == ["EKS Privileged Pod Created"]

    root = pod([NGINX], volumes=[{"name": "r", "hostPath": {"path": "/"}}])
    assert fired(ruleset, event("create", "pods", name="p", code=201, request=root)) == [
        "EKS Pod With Sensitive HostPath Mount Created",
        "EKS Pod With HostPath Volume Created",
    ]
    logs = pod([NGINX], volumes=[{"name": "l", "hostPath": {"path": "/var/log/app"}}])
    assert fired(ruleset, event("create", "pods", name="p", code=201, request=logs)) == ["EKS Pod With HostPath Volume Created"]

    for key in ("hostNetwork", "hostPID", "hostIPC"):
        shared = pod([NGINX], **{key: True})
        assert fired(ruleset, event("create", "pods", name="p", code=201, request=shared)) == [
            "EKS Pod Sharing Host Namespaces Created"
        ], key

    plain = pod([NGINX], hostNetwork=False, volumes=[{"name": "e", "emptyDir": {}}])
    assert fired(ruleset, event("create", "pods", name="p", code=201, request=plain)) == []
    # EKS-managed DaemonSets (aws-node, kube-proxy) in kube-system are expected to be privileged
    ds = {"username": "system:serviceaccount:kube-system:daemon-set-controller"}
    assert fired(ruleset, event("create", "pods", namespace="kube-system", name="aws-node-x", code=201, user=ds, request=priv)) == []
    # a rejected creation is not an alert; neither is a status update
    assert fired(ruleset, event("create", "pods", name="p", code=403, request=priv)) == []
    assert fired(ruleset, event("patch", "pods", name="p", subresource="status", request=priv)) == []


def test_service_account_token_requests(ruleset) -> None:
    ev = event("create", "serviceaccounts", namespace="kube-system", name="default", subresource="token", code=201)
    assert fired(ruleset, ev) == ["EKS ServiceAccount Token Requested"]
    node = {"username": "system:node:ip-10-0-1-23.ec2.internal", "groups": ["system:nodes"]}
    assert fired(ruleset, event("create", "serviceaccounts", name="app", subresource="token", code=201, user=node)) == []
    assert fired(ruleset, event("create", "serviceaccounts", name="app", code=201)) == []


def test_irsa_annotation(ruleset) -> None:
    sa = {
        "kind": "ServiceAccount",
        "metadata": {"name": "app", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/S3"}},
    }
    ev = event("create", "serviceaccounts", name="app", code=201, request=sa)
    assert fired(ruleset, ev) == ["EKS IRSA Role Annotation Set on ServiceAccount"]
    assert "role=arn:aws:iam::111122223333:role/S3" in ruleset.match(ev)[0].output
    plain = {"kind": "ServiceAccount", "metadata": {"name": "app"}}
    assert fired(ruleset, event("create", "serviceaccounts", name="app", code=201, request=plain)) == []


def test_first_match_is_the_default(ruleset) -> None:
    rs = load_rules(["eks"], default_registry())
    ev = event("create", "clusterrolebindings", namespace=None, name="x", code=201, request=crb("cluster-admin"))
    assert [a.rule for a in rs.match(ev)] == ["EKS ClusterRoleBinding to cluster-admin"]


def test_user_overrides_silence_known_activity(tmp_path) -> None:
    extra = tmp_path / "local.yaml"
    extra.write_text(
        "- macro: eks_user_known_aws_auth_editors\n"
        "  condition: (eks.user.arn = \"" + ARN + "\")\n"
        "  override: {condition: replace}\n"
        "- list: eks_cluster_wide_secret_readers\n"
        "  items: [\"" + IAM_USER["username"] + "\"]\n"
        "  override: {items: append}\n"
    )
    rs = load_rules(["eks", str(extra)], default_registry())
    assert rs.match(event("patch", "configmaps", namespace="kube-system", name="aws-auth")) == []
    assert rs.match(event("list", "secrets", namespace=None)) == []


def test_demo_attack_is_found_without_noise() -> None:
    """The demo cluster's normal traffic raises nothing; each attack step raises its rule."""
    from eksaudit.demo.scenario import build_scenario

    scenario = build_scenario(now_ms=1_772_359_200_000, total=6000)
    rs = load_rules(["eks"], default_registry())
    by_step: dict[str | None, set[str]] = {}
    for e in scenario.events:
        if e.message.startswith("{"):
            for a in rs.match(AuditEvent(e.message.encode())):
                by_step.setdefault(e.step, set()).add(a.rule)
    assert None not in by_step, by_step.get(None)
    assert by_step == {
        "anonymous-probing": {"EKS Anonymous Request Allowed"},
        "secrets-dump": {"EKS Secrets Listed Cluster-Wide"},
        "exec": {"EKS Exec or Attach into Pod"},
        "persistence-rbac": {"EKS ClusterRoleBinding to cluster-admin", "EKS ServiceAccount Token Requested"},
        "privileged-pod": {"EKS Privileged Pod Created"},
        "aws-auth-backdoor": {"EKS aws-auth ConfigMap Modified"},
    }
