"""The demo cluster: two hours of a realistic EKS audit log with an attack inside, and its facts.

`build_scenario()` returns about 20,000 audit events spread over three `kube-apiserver-audit-<hex>`
streams (one per API server instance, as EKS writes them), plus a little non-audit noise in the
same log group (`authenticator-<hex>`, `kube-apiserver-<hex>` text lines) that `--cluster`'s stream
prefix must leave out. Every time is relative to "now": audit events lie in [now-115m, now-1m], so
`--since 2h` covers them all even a while after loading.

The attack (`SCENARIO`, facts the demo, the docs and the tests rely on; minutes before now):

    -58m  anonymous-probing   system:anonymous from 203.0.113.66: 13 requests forbidden (403), and
                              one allowed (list namespaces, through a forgotten ClusterRoleBinding
                              `legacy-dashboard-anonymous` to ClusterRole view)
    -50m  recon               the stolen IAM role: ci-deployer (a CI pipeline's role, used normally
                              by `gitlab-ci-*` sessions from 10.0.64.x) assumed with session name
                              `eks-maintenance` from 203.0.113.66: can-i --list, list namespaces, pods
    -47m  secrets-dump        list secrets across all namespaces (`/api/v1/secrets`, no namespace)
    -44m  exec                exec into shop/checkout reading the pod's service account token
                              (pods/exec, command in the query string; ResponseStarted + ResponseComplete)
    -40m  persistence-rbac    create ServiceAccount kube-system/eks-maintenance, ClusterRoleBinding
                              `eks-maintenance-admin` to cluster-admin, and a 24 h token for it
    -36m  privileged-pod      create pod kube-system/node-debugger: privileged, hostPID, hostNetwork,
                              hostIPC, hostPath `/` mounted at /host, pinned to a node
    -31m  aws-auth-backdoor   patch ConfigMap kube-system/aws-auth: maps role eks-maintenance-backdoor
                              to system:masters

Normal traffic never contains anonymous requests, exec, RBAC writes, privileged or hostPath pods,
aws-auth writes or cluster-wide secret lists, so each `find` condition below matches exactly
`count` events.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from .generator import ACCOUNT, REGION, Actor, Catalogue, EventFactory, audit_level, generate_lines

CLUSTER = "demo"
TOTAL_EVENTS = 20_000
START_BEFORE_NOW_MS = 115 * 60_000
END_BEFORE_NOW_MS = 60_000

ATTACKER_IP = "203.0.113.66"
ATTACKER_SESSION = "eks-maintenance"
ATTACKER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ci-deployer"
ATTACKER_USERNAME = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deployer/{ATTACKER_SESSION}"
ATTACKER_UA = "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"
BACKDOOR_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/eks-maintenance-backdoor"
ANON_BINDING = "legacy-dashboard-anonymous"
EXEC_COMMAND = ("cat", "/var/run/secrets/kubernetes.io/serviceaccount/token")


@dataclass(frozen=True)
class Step:
    """One step of the attack: when (minutes before now), what, and a condition that finds it."""

    id: str
    minutes_before_now: int
    what: str
    find: str  # a Falco condition over ka.* fields
    count: int  # events it matches in the whole scenario


@dataclass(frozen=True)
class ScenarioEvent:
    stream: str
    timestamp: int  # ms since the epoch (the event's stageTimestamp)
    message: str  # the CloudWatch message: one audit event as compact JSON (or a text line in noise streams)
    step: str | None = None  # the attack step it belongs to


SCENARIO: dict[str, Any] = {
    "cluster": CLUSTER,
    "log_group": f"/aws/eks/{CLUSTER}/cluster",
    "stream_prefix": "kube-apiserver-audit",
    "region": REGION,
    "account": ACCOUNT,
    "window": "audit events lie in [now-115m, now-1m]",
    "attacker": {
        "source_ip": ATTACKER_IP,
        "username": ATTACKER_USERNAME,
        "arn": ATTACKER_USERNAME,
        "canonical_arn": ATTACKER_ROLE_ARN,
        "session_name": ATTACKER_SESSION,
        "user_agent": ATTACKER_UA,
        "backdoor_role_arn": BACKDOOR_ROLE_ARN,
    },
    "targets": {
        "exec_pod": "shop/" + Catalogue(CLUSTER).by_deploy["checkout"][0].name,
        "exec_command": " ".join(EXEC_COMMAND),
        "service_account": f"kube-system/{ATTACKER_SESSION}",
        "clusterrolebinding": f"{ATTACKER_SESSION}-admin",
        "privileged_pod": "kube-system/node-debugger",
        "anonymous_binding": ANON_BINDING,
    },
    "steps": (
        Step("anonymous-probing", 58, "system:anonymous probes the API from the attacker's IP: 13 forbidden, 1 allowed "
             f"(list namespaces via ClusterRoleBinding {ANON_BINDING})", "ka.user.name=system:anonymous", 14),
        Step("anonymous-allowed", 58, "the one anonymous request that succeeded",
             "ka.user.name=system:anonymous and ka.auth.decision=allow", 1),
        Step("recon", 50, "the stolen ci-deployer role (session eks-maintenance) looks around: can-i --list, namespaces, pods "
             "(the condition finds all 15 of its requests)",
             f'ka.user.name="{ATTACKER_USERNAME}"', 15),
        Step("secrets-dump", 47, "secrets listed across all namespaces (allowed for the attacker, forbidden for anonymous)",
             "ka.verb=list and ka.target.resource=secrets and not ka.target.namespace exists", 2),
        Step("exec", 44, "exec into a shop/checkout pod to read its service account token",
             "ka.target.subresource=exec", 2),
        Step("persistence-rbac", 40, "ClusterRoleBinding eks-maintenance-admin to cluster-admin for a new kube-system SA",
             "ka.target.resource=clusterrolebindings and ka.verb=create and ka.req.binding.role=cluster-admin", 1),
        Step("privileged-pod", 36, "privileged pod with hostPID, hostNetwork and hostPath / in kube-system",
             "ka.req.pod.containers.privileged intersects (true) and ka.req.pod.volumes.hostpath intersects (/)", 1),
        Step("aws-auth-backdoor", 31, "aws-auth ConfigMap patched to map a backdoor role to system:masters",
             "ka.target.name=aws-auth and ka.verb in (update,patch)", 1),
    ),
}


@dataclass
class Scenario:
    """Built events (sorted by time) and the absolute times of the window and the attack."""

    cluster: str
    log_group: str
    now_ms: int
    start_ms: int
    end_ms: int
    events: list[ScenarioEvent] = field(default_factory=list)
    step_times: dict[str, int] = field(default_factory=dict)  # step id -> its first event (ms)

    def audit_events(self) -> Iterator[ScenarioEvent]:
        return (e for e in self.events if e.stream.startswith("kube-apiserver-audit"))

    def by_stream(self) -> dict[str, list[tuple[int, str]]]:
        """`{stream: [(timestamp_ms, message), ...]}` in time order, what `load_to_cloudwatch` takes."""
        out: dict[str, list[tuple[int, str]]] = {}
        for e in self.events:
            out.setdefault(e.stream, []).append((e.timestamp, e.message))
        return out


class _Attack:
    """Builds the attack's events with the generator's factory, so they look like the rest."""

    def __init__(self, factory: EventFactory, rng: random.Random) -> None:
        self.f = factory
        self.rng = rng
        cat = factory.cat
        self.attacker: Actor = cat.ci_actor(rng, ATTACKER_SESSION, ATTACKER_IP, ATTACKER_UA)
        self.out: list[tuple[int, dict[str, Any], str]] = []  # (t_us, event, step)

    def add(self, step: str, t_us: int, ev: dict[str, Any]) -> None:
        self.out.append((t_us, ev, step))

    def anonymous(self, t0: int) -> None:
        f = self.f
        agents = ("python-requests/2.31.0", "Mozilla/5.0 zgrab/0.x", "curl/8.5.0", "Go-http-client/1.1")
        probes: list[tuple[str, str, str | None, str, str]] = [
            # uri, verb, resource, group, namespace
            ("/", "get", None, "", ""),
            ("/.env", "get", None, "", ""),
            ("/api", "get", None, "", ""),
            ("/openapi/v2", "get", None, "", ""),
            ("/metrics", "get", None, "", ""),
            ("/debug/pprof/", "get", None, "", ""),
            ("/logs", "get", None, "", ""),
            ("/api/v1/pods", "list", "pods", "", ""),
            ("/api/v1/secrets", "list", "secrets", "", ""),
            ("/api/v1/nodes", "list", "nodes", "", ""),
            ("/apis/apps/v1/deployments", "list", "deployments", "apps", ""),
            ("/api/v1/namespaces/kube-system/configmaps", "list", "configmaps", "", "kube-system"),
            ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "list", "clusterrolebindings",
             "rbac.authorization.k8s.io", ""),
        ]
        user = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
        forbid = {"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": ""}
        t = t0
        for i, (uri, verb, res, g, ns) in enumerate(probes):
            actor = Actor(user, ATTACKER_IP, agents[i % len(agents)])
            if res is None:
                msg = f'forbidden: User "system:anonymous" cannot get path "{uri}"'
                objref, level = None, "Metadata"
            else:
                scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
                msg = (f'{res}{"." + g if g else ""} is forbidden: User "system:anonymous" cannot {verb} resource "{res}" '
                       f'in API group "{g}" {scope}')
                objref = f.objref(res, ns or None, None, g)
                level = audit_level(g, res, verb)
            ev = f.event(t_us=t, latency_us=400 + self.rng.getrandbits(9), actor=actor, verb=verb, uri=uri, objref=objref,
                         level=level, code=403, annotations=forbid,
                         failure=("Forbidden", msg, {"kind": res} if res else {}))
            self.add("anonymous-probing", t, ev)
            t += 3_000_000 + self.rng.getrandbits(22)
        ok = Actor(user, ATTACKER_IP, "python-requests/2.31.0",
                   f'RBAC: allowed by ClusterRoleBinding "{ANON_BINDING}" of ClusterRole "view" to User "system:anonymous"')
        self.add("anonymous-probing", t, f.event(t_us=t, latency_us=3100, actor=ok, verb="list", uri="/api/v1/namespaces",
                                                  objref=f.objref("namespaces"), level="Request"))

    def recon(self, t0: int) -> None:
        f, a = self.f, self.attacker
        t = t0
        spec = {"namespace": "default"}
        rules = {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                 "metadata": {"creationTimestamp": None}, "spec": spec}
        resp = dict(rules, status={"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                                   "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False})
        for uri, verb, objref, level, code, req, rsp in (
            ("/api?timeout=32s", "get", None, "Metadata", 200, None, None),
            ("/apis?timeout=32s", "get", None, "Metadata", 200, None, None),
            ("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", "create",
             f.objref("selfsubjectrulesreviews", None, None, "authorization.k8s.io"), "RequestResponse", 201, rules, resp),
            ("/api/v1/namespaces?limit=500", "list", f.objref("namespaces"), "Request", 200, None, None),
            ("/api/v1/pods?limit=500", "list", f.objref("pods"), "Request", 200, None, None),
            ("/apis/apps/v1/deployments?limit=500", "list", f.objref("deployments", None, None, "apps"), "Request", 200,
             None, None),
        ):
            self.add("recon", t, f.event(t_us=t, latency_us=4000 + self.rng.getrandbits(15), actor=a, verb=verb, uri=uri,
                                         objref=objref, level=level, code=code, request=req, response=rsp))
            t += 20_000_000 + self.rng.getrandbits(24)

    def secrets(self, t: int) -> None:
        f = self.f
        self.add("secrets-dump", t, f.event(t_us=t, latency_us=61_000, actor=self.attacker, verb="list",
                                            uri="/api/v1/secrets?limit=500", objref=f.objref("secrets"), level="Metadata"))

    def exec(self, t: int) -> str:
        f = self.f
        pod = f.cat.by_deploy["checkout"][0]
        query = "&".join(f"command={c.replace('/', '%2F')}" for c in EXEC_COMMAND)
        uri = f"/api/v1/namespaces/{pod.ns}/pods/{pod.name}/exec?{query}&container={pod.container}&stderr=true&stdout=true"
        objref = f.objref("pods", pod.ns, pod.name, sub="exec")
        self.add("exec", t, f.event(t_us=t, latency_us=38_000, actor=self.attacker, verb="create", uri=uri, objref=objref,
                                    level="RequestResponse", code=101, stage="ResponseStarted"))
        t2 = t + 1_850_000
        self.add("exec", t2, f.event(t_us=t2, latency_us=1_888_000, actor=self.attacker, verb="create", uri=uri, objref=objref,
                                     level="RequestResponse", code=101))
        return f"{pod.ns}/{pod.name}"

    def rbac(self, t0: int) -> None:
        f, a = self.f, self.attacker
        ns, sa = "kube-system", ATTACKER_SESSION
        sa_uid = "5b1c9e0e-7a1f-4d7e-9c4b-2f6a0e8d3c11"
        created = f.ts.seconds(t0)
        sa_req = {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": sa, "namespace": ns, "creationTimestamp": None}}
        sa_resp = {"kind": "ServiceAccount", "apiVersion": "v1",
                   "metadata": {"name": sa, "namespace": ns, "uid": sa_uid, "resourceVersion": f.rv(), "creationTimestamp": created}}
        self.add("persistence-rbac", t0, f.event(
            t_us=t0, latency_us=7000, actor=a, verb="create",
            uri=f"/api/v1/namespaces/{ns}/serviceaccounts?fieldManager=kubectl-create&fieldValidation=Strict",
            objref=f.objref("serviceaccounts", ns, sa), level="RequestResponse", code=201, request=sa_req, response=sa_resp))
        t1 = t0 + 41_000_000
        name = f"{sa}-admin"
        crb = {"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
               "metadata": {"name": name, "creationTimestamp": None},
               "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}}
        crb_resp = dict(crb, metadata={"name": name, "uid": "9d3f27a4-1c55-4b8e-a0d2-6e4f8b7c5a90", "resourceVersion": f.rv(),
                                       "creationTimestamp": f.ts.seconds(t1)})
        g = "rbac.authorization.k8s.io"
        self.add("persistence-rbac", t1, f.event(
            t_us=t1, latency_us=9000, actor=a, verb="create",
            uri=f"/apis/{g}/v1/clusterrolebindings?fieldManager=kubectl-create&fieldValidation=Strict",
            objref=f.objref("clusterrolebindings", None, name, g), level="RequestResponse", code=201, request=crb, response=crb_resp))
        t2 = t1 + 35_000_000
        token_req = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
                     "spec": {"audiences": None, "expirationSeconds": 86400, "boundObjectRef": None},
                     "status": {"token": "", "expirationTimestamp": None}}
        self.add("persistence-rbac", t2, f.event(
            t_us=t2, latency_us=5000, actor=a, verb="create", uri=f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token",
            objref=f.objref("serviceaccounts", ns, sa, sub="token"), level="Request", code=201, request=token_req))

    def privileged_pod(self, t: int) -> str:
        f = self.f
        ns, name = "kube-system", "node-debugger"
        node = f.cat.nodes[0]
        container = {"name": "debugger", "image": "docker.io/library/alpine:3.20",
                     "command": ["nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "sh"],
                     "stdin": True, "tty": True, "resources": {},
                     "volumeMounts": [{"name": "host-root", "mountPath": "/host"}],
                     "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                     "imagePullPolicy": "IfNotPresent", "securityContext": {"privileged": True}}
        spec = {"volumes": [{"name": "host-root", "hostPath": {"path": "/", "type": ""}}],
                "containers": [container], "restartPolicy": "Never", "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst", "serviceAccountName": ATTACKER_SESSION, "serviceAccount": ATTACKER_SESSION,
                "nodeName": node, "hostNetwork": True, "hostPID": True, "hostIPC": True, "securityContext": {},
                "schedulerName": "default-scheduler", "tolerations": [{"operator": "Exists"}]}
        meta = {"name": name, "namespace": ns, "creationTimestamp": None, "labels": {"run": name}}
        req = {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": {}}
        resp = {"kind": "Pod", "apiVersion": "v1",
                "metadata": dict(meta, uid="e3a1b6f2-0c4d-4f1a-8b7e-5d2c9a6f1e07", resourceVersion=f.rv(),
                                 creationTimestamp=f.ts.seconds(t)),
                "spec": dict(spec, priority=0, enableServiceLinks=True, preemptionPolicy="PreemptLowerPriority"),
                "status": {"phase": "Pending", "qosClass": "BestEffort"}}
        ann = dict(self.attacker.annotations)
        ann["pod-security.kubernetes.io/enforce-policy"] = "privileged:latest"
        self.add("privileged-pod", t, f.event(
            t_us=t, latency_us=11_000, actor=self.attacker, verb="create",
            uri=f"/api/v1/namespaces/{ns}/pods?fieldManager=kubectl-create&fieldValidation=Strict",
            objref=f.objref("pods", ns, name), level="RequestResponse", code=201, request=req, response=resp, annotations=ann))
        return f"{ns}/{name}"

    def aws_auth(self, t: int) -> None:
        f = self.f
        cat = f.cat
        ns, name = "kube-system", "aws-auth"
        objref = f.objref("configmaps", ns, name)
        self.add("aws-auth-backdoor", t, f.event(t_us=t, latency_us=2500, actor=self.attacker, verb="get",
                                                 uri=f"/api/v1/namespaces/{ns}/configmaps/{name}", objref=objref,
                                                 level="Metadata"))
        node_role = cat.node_role
        old = (f"- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {node_role}\n"
               "  username: system:node:{{EC2PrivateDNSName}}\n"
               f"- groups:\n  - system:masters\n  rolearn: arn:aws:iam::{ACCOUNT}:role/eks-admin\n  username: kubernetes-admin\n")
        new = old + f"- groups:\n  - system:masters\n  rolearn: {BACKDOOR_ROLE_ARN}\n  username: {ATTACKER_SESSION}\n"
        req = {"data": {"mapRoles": new}}
        resp = {"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": name, "namespace": ns, "uid": "0f6a8d2e-3b9c-4e71-a5d4-c82e1f7b9a36",
                             "resourceVersion": f.rv(), "creationTimestamp": "2025-09-02T08:09:41Z",
                             "managedFields": [{"manager": "kubectl-patch", "operation": "Update", "apiVersion": "v1",
                                                "time": f.ts.seconds(t), "fieldsType": "FieldsV1",
                                                "fieldsV1": {"f:data": {"f:mapRoles": {}}}}]},
                "data": {"mapRoles": new, "mapUsers": "[]\n"}}
        t2 = t + 26_000_000
        self.add("aws-auth-backdoor", t2, f.event(
            t_us=t2, latency_us=8000, actor=self.attacker, verb="patch",
            uri=f"/api/v1/namespaces/{ns}/configmaps/{name}?fieldManager=kubectl-patch", objref=objref,
            level="RequestResponse", request=req, response=resp))


def _stream_names(rng: random.Random, prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{rng.getrandbits(128):032x}" for _ in range(n)]


def build_scenario(
    *, now_ms: int | None = None, seed: int = 0, total: int = TOTAL_EVENTS, cluster: str = CLUSTER
) -> Scenario:
    """Normal traffic from the generator plus the attack, as CloudWatch events sorted by time."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    start, end = now - START_BEFORE_NOW_MS, now - END_BEFORE_NOW_MS
    names_rng = random.Random(f"eksaudit-streams:{cluster}")
    audit_streams = _stream_names(names_rng, "kube-apiserver-audit", 3)
    api_stream = _stream_names(names_rng, "kube-apiserver", 1)[0]
    auth_stream = _stream_names(names_rng, "authenticator", 1)[0]

    factory = EventFactory(cluster, seed + 7_919)
    rng = random.Random(seed * 31 + 17)
    attack = _Attack(factory, rng)
    minute = 60_000_000
    now_us = now * 1000
    times = {s.id: now_us - s.minutes_before_now * minute for s in SCENARIO["steps"]}
    attack.anonymous(times["anonymous-probing"])
    attack.recon(times["recon"])
    attack.secrets(times["secrets-dump"])
    attack.exec(times["exec"])
    attack.rbac(times["persistence-rbac"])
    attack.privileged_pod(times["privileged-pod"])
    attack.aws_auth(times["aws-auth-backdoor"])

    events: list[ScenarioEvent] = []
    attacker_stream = audit_streams[1]
    for t_us, ev, step in attack.out:
        stream = attacker_stream if ev["user"]["username"] != "system:anonymous" else rng.choice(audit_streams)
        events.append(ScenarioEvent(stream, t_us // 1000, orjson.dumps(ev).decode(), step))
    n_normal = max(0, total - len(events))
    for ts, line in generate_lines(n_normal, seed=seed, start_ms=start, span_ms=end - start, cluster=cluster, with_time=True):
        r = rng.random()
        stream = audit_streams[0] if r < 0.45 else audit_streams[1] if r < 0.8 else audit_streams[2]
        events.append(ScenarioEvent(stream, ts, line.decode()))  # type: ignore[union-attr]
    events.extend(_noise(rng, factory, start, end, api_stream, auth_stream, attack))
    events.sort(key=lambda e: e.timestamp)
    step_times: dict[str, int] = {}
    for e in events:
        if e.step is not None and e.step not in step_times:
            step_times[e.step] = e.timestamp
    return Scenario(cluster=cluster, log_group=f"/aws/eks/{cluster}/cluster", now_ms=now, start_ms=start, end_ms=end,
                    events=events, step_times=step_times)


def _noise(
    rng: random.Random, factory: EventFactory, start: int, end: int, api_stream: str, auth_stream: str, attack: _Attack
) -> list[ScenarioEvent]:
    """Non-audit lines of the same log group: authenticator decisions and API server klog lines."""
    out: list[ScenarioEvent] = []
    cat = factory.cat
    people = [cat.admin, cat.sso, *cat.ci_sessions, cat.node_actors[cat.nodes[0]]]
    t = start
    while t < end:
        a = rng.choice(people)
        out.append(ScenarioEvent(auth_stream, t, _auth_line(t, a)))
        t += 90_000 + rng.randint(0, 60_000)
    for t_us, ev, _step in attack.out:
        if ev["verb"] == "get" and ev["requestURI"].startswith("/api?"):
            out.append(ScenarioEvent(auth_stream, t_us // 1000 - 150, _auth_line(t_us // 1000 - 150, attack.attacker)))
    t = start + 30_000
    while t < end:
        sec = time.gmtime(t // 1000)
        out.append(ScenarioEvent(api_stream, t, (
            f"I{time.strftime('%m%d %H:%M:%S', sec)}.{(t % 1000) * 1000:06d}      11 trace.go:236] "
            f'Trace[{rng.randint(100_000_000, 999_999_999)}]: "List" accept:application/json, */*,audit-id:{factory.uuid()},'
            f"client:10.0.2.41,api-group:,api-version:v1,name:,subresource:,namespace:shop,protocol:HTTP/2.0,"
            f"resource:pods,scope:namespace,url:/api/v1/namespaces/shop/pods,user-agent:kube-state-metrics/v2.13.0,"
            f"verb:LIST ({time.strftime('%d-%b-%Y %H:%M:%S', sec)}) (total time: {rng.randint(500, 900)}ms)")))
        t += 240_000 + rng.randint(0, 120_000)
    return out


def _auth_line(t_ms: int, a: Actor) -> str:
    extra = a.user.get("extra", {})
    sec = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_ms // 1000))
    return (f'time="{sec}" level=info msg="access granted" arn="{extra.get("canonicalArn", [""])[0]}" '
            f'client="127.0.0.1:{40000 + t_ms % 20000}" groups="{a.user["groups"]}" method=POST path=/authenticate '
            f'sts=sts.{REGION}.amazonaws.com uid="{a.user.get("uid", "")}" username="{a.name}"')
