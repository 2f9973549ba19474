"""A second benchmark data set, shaped unlike the demo generator's, so no speed-up fits one shape only.

The demo generator (eksaudit/demo/generator.py) models one small cluster: few identities, large
`user.extra` blocks, ~1.4 KB events, pod bodies, and JSON written by orjson (`&` as is). This one
models a busier multi-tenant cluster and writes JSON the way the API server does (key order of
the Go struct, compact, Go's escapes):

- smaller events: median ~930 B, 10% under 800 B (the demo's: 1,270 B and 960 B): nodes with
  client certificates, most people mapped without `user.extra`, Node-authorizer empty reasons;
- 40% list/watch, 21% get, the rest writes, lease renewals, status patches, reviews and deletes
  (about 0.4% are deletes of secrets, so the selective benchmark query has answers, among many
  gets/lists/watches of secrets and deletes of other resources that must not match);
- Go's encoding/json spelling: `&`, `<`, `>` written as `\\u0026`, `\\u003c`, `\\u003e` (query
  strings, shell redirections in container commands, kubectl's last-applied annotation, which
  is JSON inside a JSON string); a little non-ASCII text written as UTF-8;
- 5% large events (3-10 KB): writes of Deployments, StatefulSets, DaemonSets, CronJobs and
  Ingresses by people, CI, Argo CD and Flux, at RequestResponse level with both bodies. (EKS's audit
  policy logs ConfigMaps and Secrets at Metadata level, so their writes carry no body here either.)
- many identities: ~60 nodes, ~40 namespaces with their service accounts, ~40 people and
  pipelines through IAM, a dozen user agents of kubectl, helm, terraform, k9s, Lens, client-go.

Deterministic for a seed; events are built as dicts, serialized by orjson in blocks of 4096 and
re-spelled in bulk (`&`, `<`, `>` only ever occur inside JSON strings, so replacing them in the
block is exact).

    python benchmarks/shapes.py 500000 --seed 1 -o shapes.jsonl
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from eksaudit.demo.generator import EventFactory

ACCOUNT = "444455556666"
REGION = "us-east-1"
START_US = 1_769_940_000_000_000  # 2026-02-01T10:00:00Z
SPAN_US = 6 * 3_600_000_000
KV = "v1.30.4"

_ALNUM = "bcdfghjklmnpqrstvwxz2456789"

GO_ESCAPES = ((b"&", b"\\u0026"), (b"<", b"\\u003c"), (b">", b"\\u003e"))


def go_spelling(block: bytes) -> bytes:
    """orjson's output re-spelled as Go's encoding/json writes it (HTML-safe escapes)."""
    for raw, esc in GO_ESCAPES:
        block = block.replace(raw, esc)
    return block


TEAM_NAMESPACES = (
    "payments", "checkout", "search", "catalog", "orders", "identity", "notifications", "ml-training",
    "ml-serving", "data-ingest", "analytics", "reporting", "web", "mobile-api", "partner-api", "billing",
    "fraud", "inventory", "shipping", "recommendations",
)
PLATFORM_NAMESPACES = (
    "kube-system", "argocd", "flux-system", "monitoring", "logging", "istio-system", "cert-manager",
    "external-secrets", "vault", "karpenter", "ingress-nginx", "keda", "velero", "gatekeeper-system",
    "external-dns", "kyverno", "tigera-operator", "amazon-cloudwatch", "aws-observability", "default",
)
APP_NAMES = ("api", "worker", "web", "consumer", "scheduler", "gateway", "cache", "indexer", "sync", "exporter")
PEOPLE = (
    "alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
    "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yuki", "zoé", "amara", "björn",
    "chen.wei", "diego", "eun-ji", "farah", "gunnar", "hana", "ines",
)
KUBECTL_UAS = (
    "kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350", "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625",
    "kubectl/v1.31.0 (darwin/arm64) kubernetes/9edcffc", "kubectl/v1.28.9 (windows/amd64) kubernetes/587f5fe",
    "kubectl1.30.2/v1.30.2 (linux/amd64) kubernetes/3968350",
)
HUMAN_UAS = KUBECTL_UAS + (
    "k9s/v0.32.5 (darwin/arm64) kubernetes/$Format", "Lens/6.5.2 (darwin/arm64)",
    "Helm/3.15.2", "HashiCorp/1.0 Terraform/1.9.5", "OpenAPI-Generator/30.1.0/python",
)


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _aws_id(rng: random.Random, prefix: str, n: int) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))


class Who:
    """An identity: the `user` object, its source IP, user agent and the authorization annotations."""

    __slots__ = ("user", "ips", "agent", "ann")

    def __init__(self, user: dict[str, Any], ip: str, agent: str, reason: str) -> None:
        self.user, self.ips, self.agent = user, [ip], agent
        self.ann = {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": reason}


class Shapes:
    """The cluster's identities and workloads (from the seed), and one builder per traffic kind."""

    def __init__(self, seed: int) -> None:
        rng = self.rng = random.Random(seed)
        self._ts: dict[int, str] = {}
        self._rv = 210_000_000 + rng.randint(0, 9_999_999)
        self.nodes = [f"ip-10-{rng.randint(20, 23)}-{rng.randint(0, 255)}-{rng.randint(1, 254)}.ec2.internal"
                      for _ in range(60)]
        # nodes authenticate with client certificates here (self-managed node groups): no uid, no extra
        self.node_who = [Who({"username": f"system:node:{n}", "groups": ["system:nodes", "system:authenticated"]},
                             n[3:].split(".")[0].replace("-", "."), f"kubelet/{KV}-eks-a3b1d2c (linux/arm64) kubernetes/a3b1d2c", "")
                         for n in self.nodes]
        self.namespaces = TEAM_NAMESPACES + PLATFORM_NAMESPACES
        self.workloads: list[tuple[str, str]] = []  # (namespace, app)
        self.sa_who: dict[tuple[str, str], Who] = {}
        for ns in self.namespaces:
            for app in rng.sample(APP_NAMES, rng.randint(2, 6)):
                name = app
                self.workloads.append((ns, name))
                ip = f"10.{rng.randint(20, 23)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                ua = rng.choice((f"{name}/v0.0.0 (linux/amd64) kubernetes/$Format", "Go-http-client/2.0",
                                 f"client-go/{KV} (linux/arm64) kubernetes/1a2b3c4", "python-requests/2.32.3"))
                self.sa_who[(ns, name)] = Who(
                    {"username": f"system:serviceaccount:{ns}:{name}", "uid": _uuid(rng),
                     "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]},
                    ip, ua, f'RBAC: allowed by RoleBinding "{name}/{ns}" of Role "{name}" to ServiceAccount "{name}/{ns}"')
        self.sa_list = list(self.sa_who.values())
        self.people: list[Who] = []
        for person in PEOPLE:
            role = rng.choice(("AdministratorAccess", "PowerUserAccess", "ReadOnly", "DeveloperAccess"))
            sts = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_{role}_{rng.getrandbits(64):016x}/{person}@example.com"
            user: dict[str, Any] = {"username": sts if rng.random() < 0.6 else person,
                                    "uid": f"aws-iam-authenticator:{ACCOUNT}:{_aws_id(rng, 'AROA', 17)}",
                                    "groups": ["system:authenticated"] + (["cluster-admins"] if role == "AdministratorAccess" else [])}
            if rng.random() < 0.3:  # some identities keep the authenticator's extras, most are mapped without
                user["extra"] = {"sessionName": [f"{person}@example.com"], "accessKeyId": [_aws_id(rng, "ASIA", 16)]}
            self.people.append(Who(user, f"203.0.113.{rng.randint(1, 254)}", rng.choice(HUMAN_UAS),
                                   f'EKS Access Policy: allowed by ClusterRoleBinding "{role}" to User "{person}"'))
        self.ci = [Who({"username": f"arn:aws:sts::{ACCOUNT}:assumed-role/github-actions-deployer/GitHubActions-{rng.getrandbits(40)}",
                        "uid": f"aws-iam-authenticator:{ACCOUNT}:{_aws_id(rng, 'AROA', 17)}", "groups": ["system:authenticated", "deployers"]},
                       f"52.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                       rng.choice(("Helm/3.15.2", "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350")),
                       'RBAC: allowed by ClusterRoleBinding "deployers" of ClusterRole "cluster-admin" to Group "deployers"')
                   for _ in range(10)]
        self.gitops = [self.sa_who[("argocd", n)] for (ns, n) in self.workloads if ns == "argocd"] + \
                      [self.sa_who[("flux-system", n)] for (ns, n) in self.workloads if ns == "flux-system"]
        cp = ("10.20.0.17", "10.21.0.44")
        self.system = [Who({"username": u, "groups": ["system:authenticated"]}, rng.choice(cp),
                           f"{a}/{KV}-eks-a3b1d2c (linux/amd64) kubernetes/a3b1d2c/leader-election",
                           f'RBAC: allowed by ClusterRoleBinding "{u}" of ClusterRole "{u}" to User "{u}"')
                       for u, a in (("system:kube-controller-manager", "kube-controller-manager"),
                                    ("system:kube-scheduler", "kube-scheduler"),
                                    ("eks:cloud-controller-manager", "aws-cloud-controller-manager"),
                                    ("eks:node-manager", "eks-node-manager"), ("eks:k8s-metrics", "eks-k8s-metrics"))]
        kinds: list[tuple[int, Callable[[int], dict[str, Any]]]] = [
            (2700, self.watch), (1300, self.list), (2100, self.get), (1400, self.lease), (500, self.status_patch),
            (640, self.review), (40, self.secret_delete), (160, self.other_delete), (500, self.big_write),
            (660, self.small_write),
        ]
        self.table: list[Callable[[int], dict[str, Any]]] = []
        for w, fn in kinds:
            self.table.extend([fn] * w)

    # -- pieces --
    def ts(self, us: int) -> str:
        sec, frac = divmod(us, 1_000_000)
        prefix = self._ts.get(sec)
        if prefix is None:
            prefix = self._ts[sec] = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec))
        return f"{prefix}{frac:06d}Z"

    def rv(self) -> str:
        self._rv += 1 + self.rng.getrandbits(5)
        return str(self._rv)

    def event(self, t: int, lat: int, who: Who, verb: str, uri: str, objref: dict[str, Any] | None, level: str,
              code: int = 200, stage: str = "ResponseComplete", req: Any = None, resp: Any = None,
              status: dict[str, Any] | None = None) -> dict[str, Any]:
        h = f"{self.rng.getrandbits(128):032x}"
        ev: dict[str, Any] = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
                              "auditID": f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}", "stage": stage,
                              "requestURI": uri, "verb": verb, "user": who.user, "sourceIPs": who.ips,
                              "userAgent": who.agent}
        if objref is not None:
            ev["objectRef"] = objref
        ev["responseStatus"] = status if status is not None else {"metadata": {}, "code": code}
        if req is not None:
            ev["requestObject"] = req
        if resp is not None:
            ev["responseObject"] = resp
        ev["requestReceivedTimestamp"] = self.ts(t - lat)
        ev["stageTimestamp"] = self.ts(t)
        ev["annotations"] = who.ann if code < 400 else {"authorization.k8s.io/decision": "forbid",
                                                        "authorization.k8s.io/reason": ""}
        return ev

    # objectRef and request URI built as the demo generator builds them (one definition of each)
    ref = staticmethod(EventFactory.objref)
    path = staticmethod(EventFactory.path)

    # -- traffic kinds --
    _WATCHED = (("pods", ""), ("configmaps", ""), ("secrets", ""), ("services", ""), ("endpointslices", "discovery.k8s.io"),
                ("deployments", "apps"), ("leases", "coordination.k8s.io"), ("ingresses", "networking.k8s.io"),
                ("jobs", "batch"), ("events", "events.k8s.io"), ("externalsecrets", "external-secrets.io"))

    def _read_target(self) -> tuple[str, str, str | None]:
        rng = self.rng
        res, g = rng.choice(self._WATCHED)
        ns = None if rng.random() < 0.2 else rng.choice(self.namespaces)
        return res, g, ns

    def _reader(self) -> Who:
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice(self.sa_list)
        if r < 0.8:  # kubelets watch and get what their pods mount
            return self.rng.choice(self.node_who)
        if r < 0.92:
            return self.rng.choice(self.system)
        return self.rng.choice(self.people)

    def watch(self, t: int) -> dict[str, Any]:
        rng = self.rng
        res, g, ns = self._read_target()
        timeout = rng.randint(300, 599)
        q = "allowWatchBookmarks=true"
        if rng.random() < 0.3:
            q += f"&labelSelector=app.kubernetes.io%2Fname%3D{rng.choice(APP_NAMES)}"
        q += f"&resourceVersion={self.rv()}&timeout={timeout // 60}m{timeout % 60}s&timeoutSeconds={timeout}&watch=true"
        started = rng.random() < 0.2
        lat = 3000 + rng.getrandbits(12) if started else timeout * 1_000_000 + rng.getrandbits(16)
        return self.event(t, lat, self._reader(), "watch", f"{self.path(res, ns, None, g)}?{q}", self.ref(res, ns, None, g),
                          "Metadata" if res in ("secrets", "configmaps") or g.endswith(".io") and "k8s" not in g else "Request",
                          stage="ResponseStarted" if started else "ResponseComplete")

    def list(self, t: int) -> dict[str, Any]:
        rng = self.rng
        res, g, ns = self._read_target()
        who = self._reader()
        q = f"limit={rng.choice((500, 250, 100))}&resourceVersion=0" if rng.random() < 0.7 else \
            f"fieldSelector=spec.nodeName%3D{rng.choice(self.nodes)}&limit=500"
        level = "Metadata" if res in ("secrets", "configmaps") else "Request"
        if rng.random() < 0.05:  # forbidden
            msg = (f'{res} is forbidden: User "{who.user["username"]}" cannot list resource "{res}" in API group "{g}" '
                   + (f'in the namespace "{ns}"' if ns else "at the cluster scope"))
            return self.event(t, 800 + rng.getrandbits(10), who, "list", f"{self.path(res, ns, None, g)}?{q}",
                              self.ref(res, ns, None, g), level, code=403,
                              status={"metadata": {}, "status": "Failure", "message": msg, "reason": "Forbidden",
                                      "details": {"kind": res}, "code": 403})
        return self.event(t, 4000 + rng.getrandbits(15), who, "list", f"{self.path(res, ns, None, g)}?{q}",
                          self.ref(res, ns, None, g), level)

    def get(self, t: int) -> dict[str, Any]:
        rng = self.rng
        r = rng.random()
        if r < 0.15:  # non-resource URLs: health checks, discovery
            uri = rng.choice(("/readyz", "/livez", "/version", "/api", "/apis", "/openapi/v2?timeout=32s",
                              "/apis/metrics.k8s.io/v1beta1?timeout=32s", "/healthz?verbose=true&exclude=etcd"))
            ev = self.event(t, 300 + rng.getrandbits(9), rng.choice(self.system + self.people), "get", uri, None, "Metadata")
            return ev
        ns, app = rng.choice(self.workloads)
        res, g, name = rng.choice((("secrets", "", f"{app}-tls"), ("secrets", "", f"{app}-db-credentials"),
                                   ("configmaps", "", f"{app}-config"), ("pods", "", f"{app}-{_suffix(rng, 10)}-{_suffix(rng, 5)}"),
                                   ("deployments", "apps", app), ("serviceaccounts", "", app),
                                   ("leases", "coordination.k8s.io", f"{app}-leader")))
        who = self.sa_who[(ns, app)] if rng.random() < 0.3 else self._reader()
        level = "Metadata" if res in ("secrets", "configmaps") or g.startswith("coord") else "Request"
        if rng.random() < 0.08:
            msg = f'{res}{"." + g if g else ""} "{name}" not found'
            return self.event(t, 900 + rng.getrandbits(10), who, "get", self.path(res, ns, name, g), self.ref(res, ns, name, g),
                              level, code=404, status={"metadata": {}, "status": "Failure", "message": msg,
                                                       "reason": "NotFound", "details": {"name": name, "kind": res}, "code": 404})
        return self.event(t, 1200 + rng.getrandbits(12), who, "get", self.path(res, ns, name, g), self.ref(res, ns, name, g), level)

    def lease(self, t: int) -> dict[str, Any]:
        rng = self.rng
        g = "coordination.k8s.io"
        if rng.random() < 0.6:
            i = rng.randrange(len(self.nodes))
            who, ns, name = self.node_who[i], "kube-node-lease", self.nodes[i]
        else:
            ns, name = rng.choice(self.workloads)
            who, name = self.sa_who[(ns, name)], f"{name}-leader"
        if rng.random() < 0.03:
            msg = (f'Operation cannot be fulfilled on leases.{g} "{name}": the object has been modified; '
                   "please apply your changes to the latest version and try again")
            return self.event(t, 2000 + rng.getrandbits(12), who, "update", self.path("leases", ns, name, g) + "?timeout=10s",
                              self.ref("leases", ns, name, g), "Metadata", code=409,
                              status={"metadata": {}, "status": "Failure", "message": msg, "reason": "Conflict",
                                      "details": {"name": name, "group": g, "kind": "leases"}, "code": 409})
        return self.event(t, 1500 + rng.getrandbits(12), who, "update", self.path("leases", ns, name, g) + "?timeout=10s",
                          self.ref("leases", ns, name, g), "Metadata")

    def status_patch(self, t: int) -> dict[str, Any]:
        rng = self.rng
        i = rng.randrange(len(self.nodes))
        if rng.random() < 0.5:
            return self.event(t, 2500 + rng.getrandbits(12), self.node_who[i], "patch",
                              self.path("nodes", None, self.nodes[i], sub="status") + "?timeout=10s",
                              self.ref("nodes", None, self.nodes[i], sub="status"), "Request")
        ns, app = rng.choice(self.workloads)
        pod = f"{app}-{_suffix(rng, 10)}-{_suffix(rng, 5)}"
        return self.event(t, 2500 + rng.getrandbits(12), self.node_who[i], "patch", self.path("pods", ns, pod, sub="status"),
                          self.ref("pods", ns, pod, sub="status"), "Request")

    def review(self, t: int) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.5:
            ns, app = rng.choice(self.workloads)
            return self.event(t, 1500 + rng.getrandbits(11), rng.choice(self.node_who), "create",
                              self.path("serviceaccounts", ns, app, sub="token"), self.ref("serviceaccounts", ns, app, sub="token"),
                              "Request", code=201)
        res, g = rng.choice((("tokenreviews", "authentication.k8s.io"), ("subjectaccessreviews", "authorization.k8s.io")))
        return self.event(t, 900 + rng.getrandbits(10), rng.choice(self.sa_list), "create", self.path(res, None, None, g),
                          self.ref(res, None, None, g), "Metadata", code=201)

    def secret_delete(self, t: int) -> dict[str, Any]:
        """Deletes of secrets: rotation jobs, cert-manager, helm releases, now and then a person."""
        rng = self.rng
        ns, app = rng.choice(self.workloads)
        r = rng.random()
        if r < 0.4:
            who, name = self.sa_who[rng.choice([w for w in self.workloads if w[0] == "external-secrets"])], f"{app}-db-credentials"
        elif r < 0.7:
            who, name = self.sa_who[rng.choice([w for w in self.workloads if w[0] == "cert-manager"])], f"{app}-tls-{_suffix(rng, 5)}"
        elif r < 0.9:
            who, name = rng.choice(self.ci), f"sh.helm.release.v1.{app}.v{rng.randint(2, 180)}"
        else:
            who, name = rng.choice(self.people), f"{app}-{rng.choice(('api-key', 'token', 'old'))}"
        return self.event(t, 3000 + rng.getrandbits(12), who, "delete", self.path("secrets", ns, name),
                          self.ref("secrets", ns, name), "Metadata")

    def other_delete(self, t: int) -> dict[str, Any]:
        """Deletes of everything but secrets (pods, jobs, configmaps, events), some named after secrets."""
        rng = self.rng
        ns, app = rng.choice(self.workloads)
        res, g, name = rng.choice((("pods", "", f"{app}-{_suffix(rng, 10)}-{_suffix(rng, 5)}"), ("jobs", "batch", f"{app}-migrate"),
                                   ("configmaps", "", f"{app}-secrets-sync"), ("events", "", f"{app}.{rng.getrandbits(60):x}"),
                                   ("externalsecrets", "external-secrets.io", f"{app}-secrets")))
        who = rng.choice(self.system + self.gitops + self.people[:5])
        return self.event(t, 4000 + rng.getrandbits(13), who, "delete", self.path(res, ns, name, g), self.ref(res, ns, name, g),
                          "Metadata" if res in ("configmaps", "events") else "RequestResponse")

    def small_write(self, t: int) -> dict[str, Any]:
        rng = self.rng
        ns, app = rng.choice(self.workloads)
        r = rng.random()
        if r < 0.4:
            name = f"{app}.{rng.getrandbits(60):x}"
            return self.event(t, 2000 + rng.getrandbits(12), rng.choice(self.node_who + self.system), "create",
                              self.path("events", ns), self.ref("events", ns, name), "Metadata", code=201)
        if r < 0.7:
            name = f"{app}-{_suffix(rng, 5)}"
            return self.event(t, 2500 + rng.getrandbits(12), self.sa_who[rng.choice(self.workloads)], "update",
                              self.path("endpointslices", ns, name, "discovery.k8s.io"),
                              self.ref("endpointslices", ns, name, "discovery.k8s.io"), "Metadata")
        name = f"{app}-config"
        return self.event(t, 3000 + rng.getrandbits(12), rng.choice(self.gitops + self.ci), rng.choice(("update", "patch")),
                          self.path("configmaps", ns, name) + "?fieldManager=argocd-controller&fieldValidation=Strict",
                          self.ref("configmaps", ns, name), "Metadata")

    def _workload(self, kind: str, ns: str, app: str) -> dict[str, Any]:
        """A workload object of 1.2-4.5 KB: containers with env, probes, a shell command with redirections."""
        rng = self.rng
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns, "team": ns.split("-")[0]}
        containers = []
        for c in range(1 if rng.random() < 0.7 else 2):
            cname = app if c == 0 else rng.choice(("istio-proxy", "log-shipper", "cloudsql-proxy"))
            env = [{"name": f"{cname.upper().replace('-', '_')}_{k}", "value": v}
                   for k, v in rng.sample(_ENV, rng.randint(2, 9))]
            containers.append({
                "name": cname, "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{ns}/{cname}:{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}",
                "command": ["/bin/sh", "-c", rng.choice(_COMMANDS).format(app=cname)],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": env,
                "resources": {"limits": {"memory": f"{rng.choice((256, 512, 1024))}Mi"},
                              "requests": {"cpu": f"{rng.choice((50, 100, 250))}m", "memory": "128Mi"}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10},
                "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
            })
        pod = {"metadata": {"labels": labels, "annotations": {"description": rng.choice(_DESCRIPTIONS)}},
               "spec": {"serviceAccountName": app, "containers": containers,
                        "nodeSelector": {"karpenter.sh/capacity-type": rng.choice(("spot", "on-demand"))}}}
        if kind == "CronJob":
            spec: dict[str, Any] = {"schedule": f"{rng.randint(0, 59)} */{rng.randint(1, 6)} * * *", "concurrencyPolicy": "Forbid",
                                    "jobTemplate": {"spec": {"backoffLimit": 2, "template": pod}}}
        elif kind == "Ingress":
            spec = {"ingressClassName": "nginx", "tls": [{"hosts": [f"{app}.{ns}.example.com"], "secretName": f"{app}-tls"}],
                    "rules": [{"host": f"{app}.{ns}.example.com", "http": {"paths": [
                        {"path": f"/{p}", "pathType": "Prefix", "backend": {"service": {"name": app, "port": {"name": "http"}}}}
                        for p in rng.sample(("v1", "v2", "api", "graphql", "static", "healthz", "admin", "webhooks"), rng.randint(2, 8))]}}]}
        else:
            spec = {"replicas": rng.randint(1, 12), "selector": {"matchLabels": {"app.kubernetes.io/name": app}}, "template": pod}
        return {"apiVersion": _API[kind], "kind": kind,
                "metadata": {"name": app, "namespace": ns, "labels": labels}, "spec": spec}

    def big_write(self, t: int) -> dict[str, Any]:
        """A write of a workload by a person, CI, Argo CD or Flux, with both bodies, of 3-10 KB in all.

        Drawn again (from the same random stream, so still deterministic) until its size is in range.
        """
        while True:
            ev = self._big_write(t)
            if 3000 <= len(orjson.dumps(ev)) <= 9600:  # Go's escapes add a little
                return ev

    def _big_write(self, t: int) -> dict[str, Any]:
        rng = self.rng
        ns, app = rng.choice(self.workloads)
        kind = rng.choice(("Deployment", "Deployment", "Deployment", "StatefulSet", "DaemonSet", "CronJob", "Ingress"))
        res, g = _RES[kind]
        obj = self._workload(kind, ns, app)
        verb = rng.choice(("update", "patch", "create", "patch"))
        r = rng.random()
        who = rng.choice(self.people) if r < 0.25 else rng.choice(self.ci) if r < 0.5 else rng.choice(self.gitops)
        if who.agent.startswith("kubectl") or rng.random() < 0.3:
            # kubectl apply: the object again, as JSON text inside a string (escaped quotes, \u003e ...)
            obj["metadata"]["annotations"] = {
                "kubectl.kubernetes.io/last-applied-configuration": orjson.dumps(obj).decode() + "\n"}
        stored = dict(obj, metadata=dict(obj["metadata"], uid=_uuid(rng), resourceVersion=self.rv(),
                                         generation=rng.randint(1, 400), creationTimestamp=self.ts(t - 86_400_000_000)[:19] + "Z"))
        code = 201 if verb == "create" else 200
        uri = self.path(res, ns, None if verb == "create" else app, g)
        uri += "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict" if verb != "update" else ""
        req = obj
        if verb == "patch" and rng.random() < 0.3:  # kubectl rollout restart
            req = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": self.ts(t)[:19] + "Z"}}}}}
        return self.event(t, 8000 + rng.getrandbits(15), who, verb, uri, self.ref(res, ns, app, g), "RequestResponse",
                          code=code, req=req, resp=stored)


_API = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "CronJob": "batch/v1",
        "Ingress": "networking.k8s.io/v1"}
_RES = {"Deployment": ("deployments", "apps"), "StatefulSet": ("statefulsets", "apps"), "DaemonSet": ("daemonsets", "apps"),
        "CronJob": ("cronjobs", "batch"), "Ingress": ("ingresses", "networking.k8s.io")}
_ENV = (("LOG_LEVEL", "info"), ("PORT", "8080"), ("DB_HOST", "orders-db.cluster-c9akciq32.eu-west-1.rds.amazonaws.com"),
        ("DB_POOL", "20"), ("REDIS_URL", "redis://cache.internal:6379/0?protocol=3&timeout=2s"),
        ("FEATURE_FLAGS", "new-checkout&fast-search&!legacy-cart"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector.monitoring:4317"),
        ("JAVA_OPTS", "-Xms512m -Xmx1g -XX:+UseG1GC"), ("TZ", "Europe/Paris"), ("GREETING", "Grüße aus Zürich"),
        ("KAFKA_BROKERS", "b-1.kafka.internal:9092,b-2.kafka.internal:9092,b-3.kafka.internal:9092"),
        ("S3_BUCKET", "acme-prod-artifacts"), ("MAX_BODY", "<10MB"), ("RETRY_POLICY", "attempts>3 => backoff"))
_COMMANDS = (
    "exec /app/{app} --config /etc/{app}/config.yaml > /proc/1/fd/1 2>&1",
    "until nc -z db 5432; do sleep 1; done && exec /app/{app}",
    "exec /app/{app} serve --port=8080",
    "test -f /data/ready && exec /app/{app} || (echo 'not ready' >&2; exit 1)",
)
_DESCRIPTIONS = ("Service de paiement — équipe Zahlungen", "order pipeline <prod>", "handles checkout & cart", "sync worker",
                 "検索インデクサー", "")


def generate_blocks(n: int, *, seed: int = 1, block: int = 4096) -> Iterator[bytes]:
    """`n` events as Go-spelled JSON lines, in blocks of up to `block` lines (each block ends with a newline)."""
    shapes = Shapes(seed)
    rng, table, dumps = shapes.rng, shapes.table, orjson.dumps
    step = SPAN_US / max(n, 1)
    done = 0
    while done < n:
        m = min(block, n - done)
        lines = [dumps(table[rng.getrandbits(20) % len(table)](START_US + int((done + i + rng.random()) * step)))
                 for i in range(m)]
        done += m
        yield go_spelling(b"\n".join(lines) + b"\n")


def write_jsonl(path: str | Path, n: int, *, seed: int = 1) -> int:
    """Write `n` events to `path` ("-" = stdout); returns the bytes written."""
    total = 0
    out = sys.stdout.buffer if str(path) == "-" else open(path, "wb")  # noqa: SIM115 - closed below
    try:
        for chunk in generate_blocks(n, seed=seed):
            out.write(chunk)
            total += len(chunk)
    finally:
        if out is sys.stdout.buffer:
            out.flush()
        else:
            out.close()
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write N EKS audit events shaped unlike the demo generator's.")
    parser.add_argument("n", type=int, nargs="?", default=500_000, help="number of events (default 500000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", default="-", help="file to write (default stdout)")
    args = parser.parse_args(argv)
    try:
        write_jsonl(args.output, args.n, seed=args.seed)
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
