"""Realistic Amazon EKS audit events, deterministic from a seed, fast enough to feed benchmarks.

Why synthetic: real EKS audit logs hold secrets, account ids and IPs, so no public corpus of them
exists at benchmark scale. These events follow what EKS actually writes: `audit.k8s.io/v1` Events
at the level EKS's fixed audit policy gives each request
(`Metadata` for secrets, configmaps, leases, CRDs and non-resource URLs; `Request` for reads of the
known API groups, status patches and `serviceaccounts/token`; `RequestResponse` for writes on the
known groups, with request and response bodies), stages `ResponseComplete` and `ResponseStarted`
(watches), the identities EKS produces (nodes and people through aws-iam-authenticator with
`user.extra` arn / canonicalArn / sessionName / principalId / accessKeyId, `eks:*` system users,
service accounts with pod-bound token extras, control-plane components), kubectl/kubelet/client-go
user agents, query strings, 403/404/409 failures, RBAC reasons and pod-security annotations.

The traffic mix is dominated by lease updates, watches, gets and lists, like a real cluster; about
2% of events are pod creations from a ReplicaSet with the full pod in both bodies (3-5 KB), and the
average event is about 1 KB. Nothing here is an attack: no anonymous requests, no exec, no
privileged or hostPath pods, no RBAC writes, no cluster-wide secret lists, so the attack in
`scenario.py` stands out exactly as documented there.

Speed: events are assembled from templates precomputed per cluster; nested values are shared
between events inside the builder, which is why the public iterators hand out JSON text
(`generate_lines`) or freshly parsed dicts (`generate_events`), never shared objects.

    python -m eksaudit.demo.generator 500000 --seed 1 > events.jsonl
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

ACCOUNT = "111122223333"
REGION = "us-east-1"
DEFAULT_START_MS = 1_767_261_600_000  # 2026-01-01T10:00:00Z: fixed, so the output depends on the seed only
DEFAULT_SPAN_MS = 3_600_000

KUBE_VERSION = "v1.29.8"
KUBE_COMMIT = "a737599"
KUBELET_UA = f"kubelet/{KUBE_VERSION}-eks-{KUBE_COMMIT} (linux/amd64) kubernetes/{KUBE_COMMIT}"
KCM_UA = f"kube-controller-manager/{KUBE_VERSION}-eks-{KUBE_COMMIT} (linux/amd64) kubernetes/{KUBE_COMMIT}"
SCHED_UA = f"kube-scheduler/{KUBE_VERSION}-eks-{KUBE_COMMIT} (linux/amd64) kubernetes/{KUBE_COMMIT}"
KUBECTL_MAC_UA = "kubectl/v1.29.6 (darwin/arm64) kubernetes/062798d"
KUBECTL_LINUX_UA = "kubectl/v1.29.6 (linux/amd64) kubernetes/062798d"

# API groups EKS's audit policy names explicitly (reads logged at Request, writes at RequestResponse).
KNOWN_GROUPS = frozenset(
    {
        "", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
        "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
        "extensions", "metrics.k8s.io", "networking.k8s.io", "node.k8s.io", "policy",
        "rbac.authorization.k8s.io", "scheduling.k8s.io", "settings.k8s.io", "storage.k8s.io",
    }
)
_METADATA_CORE = frozenset({"secrets", "configmaps"})

_ALNUM = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated name suffixes
_HEX = "0123456789abcdef"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def audit_level(group: str, resource: str, verb: str, subresource: str = "") -> str:
    """The level EKS's fixed audit policy gives a resource request (None-level traffic is never generated)."""
    if group == "" and subresource == "token" and resource == "serviceaccounts":
        return "Request"
    if group == "" and subresource == "status" and resource in ("pods", "nodes") and verb in ("update", "patch"):
        return "Request"
    if group == "" and resource in _METADATA_CORE:
        return "Metadata"
    if group == "authentication.k8s.io" and resource == "tokenreviews":
        return "Metadata"
    if group in KNOWN_GROUPS:
        return "Request" if verb in ("get", "list", "watch") else "RequestResponse"
    return "Metadata"


# --- small deterministic helpers -------------------------------------------------------------------

def rand_suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(n))


def rand_hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def rand_uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def rand_aws_id(rng: random.Random, prefix: str, n: int = 16) -> str:
    return prefix + "".join(rng.choice(_UPPER) for _ in range(n))


class Timestamps:
    """RFC 3339 with microseconds (`2026-01-01T10:00:00.123456Z`), formatting each second once."""

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def __call__(self, us: int) -> str:
        sec, frac = divmod(us, 1_000_000)
        prefix = self._cache.get(sec)
        if prefix is None:
            if len(self._cache) > 100_000:
                self._cache.clear()
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec))
            self._cache[sec] = prefix
        return f"{prefix}{frac:06d}Z"

    def seconds(self, us: int) -> str:
        """Kubernetes object timestamps have second precision."""
        return self(us)[:19] + "Z"


# --- the cluster catalogue --------------------------------------------------------------------------

class Actor:
    """Who makes a request: the `user` object, source IPs, user agent and the RBAC reason EKS logs."""

    __slots__ = ("user", "ips", "agent", "annotations", "name")

    def __init__(self, user: dict[str, Any], ip: str, agent: str, reason: str = "") -> None:
        self.user = user
        self.name: str = user["username"]
        self.ips = [ip]
        self.agent = agent
        self.annotations = {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": reason}


def iam_user(
    rng: random.Random, username: str, role_arn: str, session: str, groups: list[str], *, uid_principal: str | None = None
) -> dict[str, Any]:
    """A principal authenticated by aws-iam-authenticator: `user.extra` values are arrays, as EKS writes them."""
    principal = uid_principal or rand_aws_id(rng, "AROA", 17)
    role_name = role_arn.rsplit("/", 1)[1]
    return {
        "username": username,
        "uid": f"aws-iam-authenticator:{ACCOUNT}:{principal}",
        "groups": groups,
        "extra": {
            "accessKeyId": [rand_aws_id(rng, "ASIA", 16)],
            "arn": [f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{session}"],
            "canonicalArn": [role_arn],
            "principalId": [f"{principal}:{session}"],
            "sessionName": [session],
        },
    }


def sa_groups(ns: str) -> list[str]:
    return ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]


class Pod:
    __slots__ = ("ns", "name", "uid", "node", "deploy", "rs", "hash", "sa", "ip", "container", "image")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


# namespace, deployment, replicas, service account, image, container port
DEPLOYMENTS: tuple[tuple[str, str, int, str, str, int], ...] = (
    ("shop", "checkout", 3, "checkout", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/checkout:1.14.2", 8080),
    ("shop", "cart", 2, "cart", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/cart:2.3.0", 8080),
    ("shop", "catalog", 3, "catalog", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/catalog:0.9.7", 8080),
    ("shop", "frontend", 3, "frontend", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/shop/frontend:3.1.4", 3000),
    ("payments", "payments-api", 2, "payments-api", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/payments/api:5.2.1", 8443),
    ("payments", "ledger", 2, "ledger", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/payments/ledger:1.0.12", 8080),
    ("monitoring", "prometheus-server", 1, "prometheus-server", "quay.io/prometheus/prometheus:v2.53.1", 9090),
    ("monitoring", "grafana", 1, "grafana", "docker.io/grafana/grafana:11.1.3", 3000),
    ("monitoring", "kube-state-metrics", 1, "kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0", 8080),
    ("ingress-nginx", "ingress-nginx-controller", 2, "ingress-nginx", "registry.k8s.io/ingress-nginx/controller:v1.11.2", 80),
    ("cert-manager", "cert-manager", 1, "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.15.3", 9402),
    ("kube-system", "coredns", 2, "coredns", f"602401143452.dkr.ecr.{REGION}.amazonaws.com/eks/coredns:v1.11.1-eksbuild.9", 53),
    ("kube-system", "aws-load-balancer-controller", 2, "aws-load-balancer-controller",
     "public.ecr.aws/eks/aws-load-balancer-controller:v2.8.2", 9443),
    ("kube-system", "ebs-csi-controller", 2, "ebs-csi-controller-sa",
     "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.33.0", 9808),
    ("kube-system", "metrics-server", 1, "metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.1", 10250),
    ("karpenter", "karpenter", 2, "karpenter", "public.ecr.aws/karpenter/controller:0.37.0", 8000),
)
APP_NAMESPACES = ("shop", "payments")
NODE_NAMES = (
    "ip-10-0-1-23.ec2.internal", "ip-10-0-1-87.ec2.internal", "ip-10-0-2-41.ec2.internal",
    "ip-10-0-2-150.ec2.internal", "ip-10-0-3-12.ec2.internal", "ip-10-0-3-201.ec2.internal",
)


class Catalogue:
    """The demo cluster's objects and identities; depends on the cluster name only (stable facts)."""

    def __init__(self, cluster: str = "demo") -> None:
        rng = random.Random(f"eksaudit-catalogue:{cluster}")
        self.cluster = cluster
        self.node_role = f"arn:aws:iam::{ACCOUNT}:role/eksctl-{cluster}-nodegroup-ng-1-NodeInstanceRole-{rand_aws_id(rng, '', 12)}"
        self.nodes: list[str] = list(NODE_NAMES)
        self.node_uids = {n: rand_uuid(rng) for n in self.nodes}
        self.node_actors: dict[str, Actor] = {}
        for n in self.nodes:
            ip = n[3:].split(".")[0].replace("-", ".")
            iid = "i-0" + rand_hex(rng, 16)
            user = iam_user(rng, f"system:node:{n}", self.node_role, iid,
                            ["system:bootstrappers", "system:nodes", "system:authenticated"])
            self.node_actors[n] = Actor(user, ip, KUBELET_UA)
        self.pods: list[Pod] = []
        self.deploy_rs: dict[tuple[str, str], tuple[str, str]] = {}
        self.pod_actor: dict[tuple[str, str], Actor] = {}
        self.sa_uids: dict[tuple[str, str], str] = {}
        for ns, dep, replicas, sa, image, _port in DEPLOYMENTS:
            h = rand_suffix(rng, 9 if rng.random() < 0.5 else 10)
            self.deploy_rs[(ns, dep)] = (f"{dep}-{h}", rand_uuid(rng))
            self.sa_uids[(ns, sa)] = rand_uuid(rng)
            for _ in range(replicas):
                node = rng.choice(self.nodes)
                pod = Pod(ns=ns, name=f"{dep}-{h}-{rand_suffix(rng, 5)}", uid=rand_uuid(rng), node=node, deploy=dep,
                          rs=f"{dep}-{h}", hash=h, sa=sa, ip=f"10.0.{node.split('-')[3]}.{rng.randint(30, 250)}",
                          container=dep.replace("-controller", "") if ns != "ingress-nginx" else "controller",
                          image=image)
                self.pods.append(pod)
        self.ds_pods: list[Pod] = []
        for ds, sa, image in (
            ("aws-node", "aws-node", f"602401143452.dkr.ecr.{REGION}.amazonaws.com/amazon-k8s-cni:v1.18.3-eksbuild.2"),
            ("kube-proxy", "kube-proxy", f"602401143452.dkr.ecr.{REGION}.amazonaws.com/eks/kube-proxy:v1.29.7-minimal-eksbuild.2"),
            ("ebs-csi-node", "ebs-csi-node-sa", "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.33.0"),
        ):
            self.sa_uids[("kube-system", sa)] = rand_uuid(rng)
            for node in self.nodes:
                self.ds_pods.append(Pod(ns="kube-system", name=f"{ds}-{rand_suffix(rng, 5)}", uid=rand_uuid(rng), node=node,
                                        deploy=ds, rs="", hash="", sa=sa, ip=node[3:].split(".")[0].replace("-", "."),
                                        container=ds, image=image))
        for p in self.pods + self.ds_pods:
            user = {
                "username": f"system:serviceaccount:{p.ns}:{p.sa}",
                "uid": self.sa_uids[(p.ns, p.sa)],
                "groups": sa_groups(p.ns),
                # Kubernetes 1.29: bound tokens carry the pod (1.30+ adds credential-id and node-name/uid)
                "extra": {
                    "authentication.kubernetes.io/pod-name": [p.name],
                    "authentication.kubernetes.io/pod-uid": [p.uid],
                },
            }
            self.pod_actor[(p.ns, p.name)] = Actor(user, p.ip, self._agent_for(p.deploy), self._sa_reason(p.ns, p.sa))
        self.by_deploy: dict[str, list[Pod]] = {}
        for p in self.pods + self.ds_pods:
            self.by_deploy.setdefault(p.deploy, []).append(p)

        # control plane: client certificates (no uid / extra), EKS system users, controller service accounts
        cp_ips = ["172.16.52.111", "172.16.81.14"]
        self.kcm = Actor({"username": "system:kube-controller-manager", "groups": ["system:authenticated"]}, cp_ips[0], KCM_UA,
                         'RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of ClusterRole '
                         '"system:kube-controller-manager" to User "system:kube-controller-manager"')
        self.scheduler = Actor({"username": "system:kube-scheduler", "groups": ["system:authenticated"]}, cp_ips[1], SCHED_UA,
                               'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole '
                               '"system:kube-scheduler" to User "system:kube-scheduler"')
        self.controllers: dict[str, Actor] = {}
        for c in ("replicaset-controller", "deployment-controller", "endpointslice-controller", "endpoint-controller",
                  "generic-garbage-collector", "daemon-set-controller", "job-controller", "node-controller",
                  "resourcequota-controller", "horizontal-pod-autoscaler"):
            user = {"username": f"system:serviceaccount:kube-system:{c}", "uid": rand_uuid(rng), "groups": sa_groups("kube-system")}
            self.controllers[c] = Actor(user, cp_ips[0], f"{KCM_UA}/system:serviceaccount:kube-system:{c}",
                                        f'RBAC: allowed by ClusterRoleBinding "system:controller:{c}" of ClusterRole '
                                        f'"system:controller:{c}" to ServiceAccount "{c}/kube-system"')
        self.eks: dict[str, Actor] = {}
        for name, agent in (
            ("eks:certificate-controller", "eks-certificate-controller/v0.0.0 (linux/amd64) kubernetes/$Format"),
            ("eks:node-manager", "eks-node-manager/v0.0.0 (linux/amd64) kubernetes/$Format"),
            ("eks:cloud-controller-manager", f"aws-cloud-controller-manager/{KUBE_VERSION} (linux/amd64) kubernetes/{KUBE_COMMIT}/leader-election"),
            ("eks:k8s-metrics", "eks-k8s-metrics/v0.0.0 (linux/amd64) kubernetes/$Format"),
            ("eks:cluster-event-watcher", "eks-cluster-event-watcher/v0.0.0 (linux/amd64) kubernetes/$Format"),
            ("eks:pod-identity-mutating-webhook", "amazon-eks-pod-identity-webhook/v0.0.0 (linux/amd64) kubernetes/$Format"),
            ("eks:authenticator", "aws-iam-authenticator/v0.6.22 (linux/amd64) kubernetes/$Format"),
        ):
            self.eks[name] = Actor({"username": name, "groups": ["system:authenticated"]}, rng.choice(cp_ips), agent,
                                   f'RBAC: allowed by ClusterRoleBinding "{name}" of ClusterRole "{name}" to User "{name}"')
        addon_role = f"arn:aws:iam::{ACCOUNT}:role/AWSWesleyClusterManagerLambda-Add-AddonManagerRole-{rand_aws_id(rng, '', 12)}"
        self.eks["eks:addon-manager"] = Actor(
            iam_user(rng, "eks:addon-manager", addon_role, str(1_767_000_000_000_000_000 + rng.getrandbits(40)),
                     ["system:authenticated"]),
            "44.211.79.130", "Go-http-client/1.1",
            'RBAC: allowed by RoleBinding "eks:addon-manager/kube-system" of Role "eks:addon-manager" to User "eks:addon-manager"')

        # people and pipelines, through IAM roles (aws-auth mapping and access entries)
        admin_role = f"arn:aws:iam::{ACCOUNT}:role/eks-admin"
        self.admin = Actor(iam_user(rng, "kubernetes-admin", admin_role, "alice", ["system:masters", "system:authenticated"]),
                           "198.51.100.10", KUBECTL_MAC_UA, "")
        sso_role = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PowerUserAccess_5f1e2d3c4b5a6978"
        sso_sts = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_PowerUserAccess_5f1e2d3c4b5a6978/bob@example.com"
        sso_user = iam_user(rng, sso_sts, sso_role, "bob@example.com", ["system:authenticated"])
        self.sso = Actor(sso_user, "198.51.100.10", "k9s/v0.32.5 (darwin/arm64) kubernetes/$Format",
                         f'EKS Access Policy: allowed by ClusterRoleBinding "{sso_role}+arn:aws:eks::aws:cluster-access-policy/'
                         f'AmazonEKSViewPolicy" of ClusterRole "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy" '
                         f'to User "{sso_sts}"')
        self.ci_role = f"arn:aws:iam::{ACCOUNT}:role/ci-deployer"
        self.ci_principal = rand_aws_id(rng, "AROA", 17)
        self.ci_policy_reason = (
            f'EKS Access Policy: allowed by ClusterRoleBinding "{self.ci_role}+arn:aws:eks::aws:cluster-access-policy/'
            'AmazonEKSClusterAdminPolicy" of ClusterRole "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" '
            'to User "{username}"'
        )
        self.ci_sessions = [self.ci_actor(rng, f"gitlab-ci-{rng.randint(4_100_000, 4_199_999)}",
                                          f"10.0.64.{rng.randint(10, 99)}", KUBECTL_LINUX_UA) for _ in range(4)]

    def ci_actor(self, rng: random.Random, session: str, ip: str, agent: str) -> Actor:
        """A session of the `ci-deployer` role (an access entry: the username is the STS ARN)."""
        username = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deployer/{session}"
        user = iam_user(rng, username, self.ci_role, session, ["system:authenticated"], uid_principal=self.ci_principal)
        return Actor(user, ip, agent, self.ci_policy_reason.format(username=username))

    @staticmethod
    def _agent_for(deploy: str) -> str:
        agents = {
            "coredns": "coredns/v1.11.1 (linux/amd64) kubernetes/$Format",
            "karpenter": "karpenter/0.37.0",
            "aws-load-balancer-controller": "aws-load-balancer-controller/v2.8.2 (linux/amd64) kubernetes/$Format",
            "ebs-csi-controller": "csi-attacher/v4.6.1 (linux/amd64) kubernetes/$Format",
            "kube-state-metrics": "kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/$Format",
            "prometheus-server": "Prometheus/2.53.1",
            "ingress-nginx-controller": "nginx-ingress-controller/v1.11.2 (linux/amd64) ingress-nginx/46e76e5916813cfca2a9b0bfdc34b69a0000f6b9",
            "cert-manager": "cert-manager-controller/v1.15.3 (linux/amd64) cert-manager/ba2fb9ea5d70d2be4bb33b54a1d3f7fa92a98cdb",
            "metrics-server": "metrics-server/v0.7.1 (linux/amd64) kubernetes/$Format",
            "aws-node": "aws-node/v1.18.3 (linux/amd64) kubernetes/$Format",
            "kube-proxy": "kube-proxy/v1.29.7 (linux/amd64) kubernetes/$Format",
        }
        return agents.get(deploy, "Go-http-client/2.0")

    @staticmethod
    def _sa_reason(ns: str, sa: str) -> str:
        return f'RBAC: allowed by ClusterRoleBinding "{sa}" of ClusterRole "{sa}" to ServiceAccount "{sa}/{ns}"'


# --- bodies -----------------------------------------------------------------------------------------

def pod_spec(p: Pod, port: int, *, admitted: bool) -> dict[str, Any]:
    """An application pod's spec as a ReplicaSet sends it (admitted=False) or as stored (True)."""
    container: dict[str, Any] = {
        "name": p.container,
        "image": p.image,
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.monitoring:4317"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
        ],
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "timeoutSeconds": 1,
                          "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"capabilities": {"drop": ["ALL"]}, "runAsUser": 10001, "runAsNonRoot": True,
                            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
    }
    spec: dict[str, Any] = {
        "containers": [container],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": p.sa,
        "serviceAccount": p.sa,
        "securityContext": {"fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "schedulerName": "default-scheduler",
    }
    if admitted:
        vol = "kube-api-access-" + p.name[-5:]
        spec["volumes"] = [{"name": vol, "projected": {"sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ], "defaultMode": 420}}]
        container = dict(container, volumeMounts=[{"name": vol, "readOnly": True,
                                                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}])
        spec["containers"] = [container]
        spec["tolerations"] = [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        ]
        spec["priority"] = 0
        spec["enableServiceLinks"] = True
        spec["preemptionPolicy"] = "PreemptLowerPriority"
    return spec


_POD_FIELDS_V1 = {
    "f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
                   "f:ownerReferences": {".": {}, "k:{\"uid\":\"RSUID\"}": {}}},
    "f:spec": {"f:containers": {"k:{\"name\":\"C\"}": {".": {}, "f:env": {}, "f:image": {}, "f:imagePullPolicy": {},
                                                          "f:livenessProbe": {}, "f:name": {}, "f:ports": {},
                                                          "f:resources": {}, "f:securityContext": {},
                                                          "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
               "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {},
               "f:securityContext": {}, "f:serviceAccount": {}, "f:serviceAccountName": {},
               "f:terminationGracePeriodSeconds": {}},
}


# --- the event factory ------------------------------------------------------------------------------

class EventFactory:
    """Builds audit events for one cluster. `scenario.py` uses it for the attack's hand-written events."""

    def __init__(self, cluster: str = "demo", seed: int = 0) -> None:
        self.cat = Catalogue(cluster)
        self.rng = random.Random(seed)
        self.ts = Timestamps()
        self._rv = 48_000_000 + self.rng.randint(0, 999_999)
        self._ports = {(ns, dep): port for ns, dep, _r, _sa, _img, port in DEPLOYMENTS}
        self._build_kinds()

    # -- primitives --
    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def rv(self) -> str:
        self._rv += 1 + (self.rng.getrandbits(6))
        return str(self._rv)

    def event(
        self,
        *,
        t_us: int,
        latency_us: int,
        actor: Actor,
        verb: str,
        uri: str,
        objref: dict[str, Any] | None,
        level: str,
        code: int = 200,
        stage: str = "ResponseComplete",
        request: Any = None,
        response: Any = None,
        failure: tuple[str, str, dict[str, Any] | None] | None = None,
        annotations: dict[str, str] | None = None,
        impersonated: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One audit event; `t_us` is the stage time (what CloudWatch orders by), received = t - latency."""
        ev: dict[str, Any] = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": level,
            "auditID": self.uuid(),
            "stage": stage,
            "requestURI": uri,
            "verb": verb,
            "user": actor.user,
        }
        if impersonated is not None:
            ev["impersonatedUser"] = impersonated
        ev["sourceIPs"] = actor.ips
        ev["userAgent"] = actor.agent
        if objref is not None:
            ev["objectRef"] = objref
        if failure is None:
            ev["responseStatus"] = {"metadata": {}, "code": code}
        else:
            reason, message, details = failure
            status: dict[str, Any] = {"metadata": {}, "status": "Failure", "message": message, "reason": reason}
            if details is not None:
                status["details"] = details
            status["code"] = code
            ev["responseStatus"] = status
        if request is not None and level != "Metadata":
            ev["requestObject"] = request
        if response is not None and level == "RequestResponse":
            ev["responseObject"] = response
        ev["requestReceivedTimestamp"] = self.ts(t_us - latency_us)
        ev["stageTimestamp"] = self.ts(t_us)
        ev["annotations"] = annotations if annotations is not None else actor.annotations
        return ev

    def pod_objects(self, p: Pod, t_us: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request and response bodies of a ReplicaSet creating pod `p`."""
        rs_name, rs_uid = self.cat.deploy_rs.get((p.ns, p.deploy), (p.rs, ""))
        port = self._ports.get((p.ns, p.deploy), 8080)
        owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "uid": rs_uid,
                  "controller": True, "blockOwnerDeletion": True}]
        labels = {"app": p.deploy, "pod-template-hash": p.hash}
        req = {"kind": "Pod", "apiVersion": "v1",
               "metadata": {"generateName": f"{rs_name}-", "namespace": p.ns, "creationTimestamp": None,
                            "labels": labels, "ownerReferences": owner},
               "spec": pod_spec(p, port, admitted=False), "status": {}}
        created = self.ts.seconds(t_us)
        fields = orjson.loads(orjson.dumps(_POD_FIELDS_V1).replace(b"RSUID", rs_uid.encode()).replace(
            b'\\"C\\"', f'\\"{p.container}\\"'.encode()))
        resp = {"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": p.name, "generateName": f"{rs_name}-", "namespace": p.ns, "uid": p.uid,
                             "resourceVersion": self.rv(), "creationTimestamp": created, "labels": labels,
                             "ownerReferences": owner,
                             "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                                                "apiVersion": "v1", "time": created, "fieldsType": "FieldsV1",
                                                "fieldsV1": fields}]},
                "spec": pod_spec(p, port, admitted=True),
                "status": {"phase": "Pending", "qosClass": "Burstable"}}
        return req, resp

    # -- the traffic kinds: (weight, builder) --
    def _build_kinds(self) -> None:
        kinds: list[tuple[int, Callable[[int], dict[str, Any]]]] = [
            (90, self._k_node_lease),
            (150, self._k_leader_lease),
            (165, self._k_watch),
            (60, self._k_kubelet_reads),
            (75, self._k_list),
            (120, self._k_get),
            (50, self._k_pod_status),
            (14, self._k_node_status),
            (30, self._k_sa_token),
            (25, self._k_access_review),
            (40, self._k_human),
            (10, self._k_ci_deploy),
            (30, self._k_endpointslice),
            (8, self._k_rs_status),
            (19, self._k_pod_create),
            (19, self._k_pod_binding),
            (6, self._k_pod_delete),
            (1, self._k_secret_delete),
            (14, self._k_not_found),
            (8, self._k_conflict),
            (6, self._k_forbidden),
        ]
        table: list[Callable[[int], dict[str, Any]]] = []
        total = sum(w for w, _ in kinds)
        for w, fn in kinds:
            table.extend([fn] * round(w * 4096 / total))
        self._table = table
        c = self.cat
        self._app_pods = [p for p in c.pods if p.ns in APP_NAMESPACES]
        self._all_pods = c.pods + c.ds_pods
        self._leaders: list[tuple[Actor, str, str]] = [
            (c.kcm, "kube-system", "kube-controller-manager"),
            (c.scheduler, "kube-system", "kube-scheduler"),
            (c.eks["eks:cloud-controller-manager"], "kube-system", "cloud-controller-manager"),
            (c.pod_actor[("kube-system", c.by_deploy["aws-load-balancer-controller"][0].name)], "kube-system",
             "aws-load-balancer-controller-leader"),
            (c.pod_actor[("kube-system", c.by_deploy["ebs-csi-controller"][0].name)], "kube-system",
             "external-attacher-leader-ebs-csi-aws-com"),
            (c.pod_actor[("kube-system", c.by_deploy["ebs-csi-controller"][1].name)], "kube-system", "ebs-csi-aws-com"),
            (c.pod_actor[("karpenter", c.by_deploy["karpenter"][0].name)], "karpenter", "karpenter-leader-election"),
            (c.pod_actor[("cert-manager", c.by_deploy["cert-manager"][0].name)], "kube-system", "cert-manager-controller"),
            (c.pod_actor[("ingress-nginx", c.by_deploy["ingress-nginx-controller"][0].name)], "ingress-nginx",
             "ingress-nginx-leader"),
        ]

    def pick(self, t_us: int) -> dict[str, Any]:
        return self._table[self.rng.getrandbits(20) % len(self._table)](t_us)

    def _pa(self, deploy: str) -> Actor:
        p = self.rng.choice(self.cat.by_deploy[deploy])
        return self.cat.pod_actor[(p.ns, p.name)]

    @staticmethod
    def objref(resource: str, ns: str | None = None, name: str | None = None, group: str = "", version: str = "v1",
               sub: str | None = None) -> dict[str, Any]:
        o: dict[str, Any] = {"resource": resource}
        if ns:
            o["namespace"] = ns
        if name:
            o["name"] = name
        if group:
            o["apiGroup"] = group
        o["apiVersion"] = version
        if sub:
            o["subresource"] = sub
        return o

    @staticmethod
    def path(resource: str, ns: str | None = None, name: str | None = None, group: str = "", version: str = "v1",
             sub: str | None = None) -> str:
        base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
        if ns:
            base += f"/namespaces/{ns}"
        base += f"/{resource}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base

    def _k_node_lease(self, t: int) -> dict[str, Any]:
        node = self.rng.choice(self.cat.nodes)
        g = "coordination.k8s.io"
        return self.event(t_us=t, latency_us=1500 + self.rng.getrandbits(13), actor=self.cat.node_actors[node], verb="update",
                          uri=self.path("leases", "kube-node-lease", node, g) + "?timeout=10s",
                          objref=self.objref("leases", "kube-node-lease", node, g), level="Metadata")

    def _k_leader_lease(self, t: int) -> dict[str, Any]:
        actor, ns, name = self.rng.choice(self._leaders)
        verb = "update" if self.rng.random() < 0.5 else "get"
        g = "coordination.k8s.io"
        return self.event(t_us=t, latency_us=1200 + self.rng.getrandbits(12), actor=actor, verb=verb,
                          uri=self.path("leases", ns, name, g) + "?timeout=5s",
                          objref=self.objref("leases", ns, name, g), level="Metadata")

    _WATCHES: tuple[tuple[str, str, str, str | None], ...] = (
        # watcher (deploy name, "node" or a control-plane actor key), resource, group, namespace
        ("node", "pods", "", None),
        ("node", "nodes", "", None),
        ("node", "services", "", None),
        ("node", "runtimeclasses", "node.k8s.io", None),
        ("coredns", "endpointslices", "discovery.k8s.io", None),
        ("coredns", "services", "", None),
        ("coredns", "namespaces", "", None),
        ("kube-proxy", "endpointslices", "discovery.k8s.io", None),
        ("kube-proxy", "nodes", "", None),
        ("aws-node", "pods", "", None),
        ("aws-node", "eniconfigs", "crd.k8s.amazonaws.com", None),
        ("kube-state-metrics", "pods", "", None),
        ("kube-state-metrics", "deployments", "apps", None),
        ("kube-state-metrics", "secrets", "", None),
        ("kube-state-metrics", "nodes", "", None),
        ("prometheus-server", "endpoints", "", None),
        ("prometheus-server", "pods", "", None),
        ("ingress-nginx-controller", "ingresses", "networking.k8s.io", None),
        ("ingress-nginx-controller", "endpointslices", "discovery.k8s.io", None),
        ("ingress-nginx-controller", "secrets", "", "shop"),
        ("cert-manager", "certificates", "cert-manager.io", None),
        ("cert-manager", "secrets", "", None),
        ("karpenter", "nodeclaims", "karpenter.sh", None),
        ("karpenter", "nodepools", "karpenter.sh", None),
        ("karpenter", "pods", "", None),
        ("aws-load-balancer-controller", "targetgroupbindings", "elbv2.k8s.aws", None),
        ("aws-load-balancer-controller", "services", "", None),
        ("kcm", "replicasets", "apps", None),
        ("kcm", "pods", "", None),
        ("kcm", "deployments", "apps", None),
        ("kcm", "persistentvolumeclaims", "", None),
        ("scheduler", "pods", "", None),
        ("scheduler", "poddisruptionbudgets", "policy", None),
        ("eks:cluster-event-watcher", "nodes", "", None),
        ("eks:pod-identity-mutating-webhook", "serviceaccounts", "", None),
        ("eks:authenticator", "configmaps", "", "kube-system"),
    )
    _CRD_VERSIONS = {"crd.k8s.amazonaws.com": "v1alpha1", "cert-manager.io": "v1", "karpenter.sh": "v1beta1",
                     "elbv2.k8s.aws": "v1beta1"}

    def _watch_actor(self, who: str) -> tuple[Actor, str | None]:
        if who == "node":
            node = self.rng.choice(self.cat.nodes)
            return self.cat.node_actors[node], node
        if who == "kcm":
            return self.cat.kcm, None
        if who == "scheduler":
            return self.cat.scheduler, None
        if who.startswith("eks:"):
            return self.cat.eks[who], None
        return self._pa(who), None

    def _k_watch(self, t: int) -> dict[str, Any]:
        rng = self.rng
        who, res, g, ns = rng.choice(self._WATCHES)
        actor, node = self._watch_actor(who)
        ver = self._CRD_VERSIONS.get(g, "v1")
        timeout = rng.randint(300, 599)
        q = "allowWatchBookmarks=true"
        if node is not None and res == "pods":
            q += "&fieldSelector=spec.nodeName%3D" + node
        elif node is not None and res == "nodes":
            q += "&fieldSelector=metadata.name%3D" + node
        elif res == "configmaps" and ns == "kube-system":
            q += "&fieldSelector=metadata.name%3Daws-auth"
        q += f"&resourceVersion={self.rv()}&timeout={timeout // 60}m{timeout % 60}s&timeoutSeconds={timeout}&watch=true"
        started = rng.random() < 0.15
        return self.event(t_us=t, latency_us=(2000 + rng.getrandbits(12)) if started else timeout * 1_000_000 + rng.getrandbits(14),
                          actor=actor, verb="watch", uri=f"{self.path(res, ns, None, g, ver)}?{q}",
                          objref=self.objref(res, ns, None, g, ver), level=audit_level(g, res, "watch"),
                          stage="ResponseStarted" if started else "ResponseComplete")

    def _k_kubelet_reads(self, t: int) -> dict[str, Any]:
        rng = self.rng
        p = rng.choice(self._all_pods)
        actor = self.cat.node_actors[p.node]
        r = rng.random()
        if r < 0.45:
            timeout = rng.randint(300, 599)
            name = "kube-root-ca.crt" if rng.random() < 0.6 else f"{p.deploy}-config"
            uri = (f"/api/v1/namespaces/{p.ns}/configmaps?allowWatchBookmarks=true&fieldSelector=metadata.name%3D{name}"
                   f"&resourceVersion={self.rv()}&timeout={timeout // 60}m{timeout % 60}s&timeoutSeconds={timeout}&watch=true")
            return self.event(t_us=t, latency_us=timeout * 1_000_000 + rng.getrandbits(14), actor=actor, verb="watch", uri=uri,
                              objref=self.objref("configmaps", p.ns), level="Metadata")
        if r < 0.7:
            return self.event(t_us=t, latency_us=1500 + rng.getrandbits(12), actor=actor, verb="get",
                              uri=self.path("pods", p.ns, p.name), objref=self.objref("pods", p.ns, p.name), level="Request")
        name = f"{p.deploy}-tls" if rng.random() < 0.5 else f"{p.deploy}-credentials"
        return self.event(t_us=t, latency_us=1500 + rng.getrandbits(12), actor=actor, verb="get",
                          uri=self.path("secrets", p.ns, name), objref=self.objref("secrets", p.ns, name), level="Metadata")

    def _k_list(self, t: int) -> dict[str, Any]:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            actor = self._pa("metrics-server") if rng.random() < 0.5 else self._pa("karpenter")
            return self.event(t_us=t, latency_us=8000 + rng.getrandbits(15), actor=actor, verb="list",
                              uri="/api/v1/nodes?limit=500&resourceVersion=0", objref=self.objref("nodes"), level="Request")
        if r < 0.55:
            ns = rng.choice(APP_NAMESPACES + ("kube-system", "monitoring"))
            return self.event(t_us=t, latency_us=5000 + rng.getrandbits(14), actor=self._pa("coredns"), verb="list",
                              uri=f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices?limit=500&resourceVersion=0",
                              objref=self.objref("endpointslices", ns, None, "discovery.k8s.io"), level="Metadata")
        if r < 0.8:
            p = rng.choice(self._app_pods)
            actor = self._pa("karpenter") if rng.random() < 0.5 else self.cat.kcm
            return self.event(t_us=t, latency_us=4000 + rng.getrandbits(14), actor=actor, verb="list",
                              uri=f"/api/v1/namespaces/{p.ns}/pods?labelSelector=app%3D{p.deploy}&limit=500",
                              objref=self.objref("pods", p.ns), level="Request")
        ns = rng.choice(APP_NAMESPACES)
        return self.event(t_us=t, latency_us=3000 + rng.getrandbits(14), actor=self.cat.controllers["resourcequota-controller"],
                          verb="list", uri=f"/api/v1/namespaces/{ns}/persistentvolumeclaims?limit=500&resourceVersion=0",
                          objref=self.objref("persistentvolumeclaims", ns), level="Request")

    def _k_get(self, t: int) -> dict[str, Any]:
        rng = self.rng
        c = self.cat
        r = rng.random()
        lat = 1200 + rng.getrandbits(13)
        if r < 0.2:
            name = rng.choice(("coredns", "aws-node", "kube-proxy", "ebs-csi-controller"))
            res = "deployments" if name in ("coredns", "ebs-csi-controller") else "daemonsets"
            return self.event(t_us=t, latency_us=lat, actor=c.eks["eks:addon-manager"], verb="get",
                              uri=self.path(res, "kube-system", name, "apps") + "?timeout=10s",
                              objref=self.objref(res, "kube-system", name, "apps"), level="Request")
        if r < 0.35:
            node = rng.choice(c.nodes)
            actor = c.eks["eks:node-manager"] if rng.random() < 0.5 else c.eks["eks:cloud-controller-manager"]
            return self.event(t_us=t, latency_us=lat, actor=actor, verb="get", uri=self.path("nodes", None, node),
                              objref=self.objref("nodes", None, node), level="Request")
        if r < 0.5:
            name = rng.choice(("extension-apiserver-authentication", "kube-apiserver-legacy-service-account-token-tracking",
                               "kube-root-ca.crt"))
            actor = c.eks["eks:certificate-controller"] if rng.random() < 0.6 else self._pa("metrics-server")
            return self.event(t_us=t, latency_us=lat, actor=actor, verb="get",
                              uri=self.path("configmaps", "kube-system", name),
                              objref=self.objref("configmaps", "kube-system", name), level="Metadata")
        if r < 0.62:
            actor = c.eks["eks:k8s-metrics"] if rng.random() < 0.5 else self._pa("prometheus-server")
            uri = "/metrics" if rng.random() < 0.7 else "/readyz?verbose"
            return self.event(t_us=t, latency_us=lat * 4, actor=actor, verb="get", uri=uri, objref=None, level="Metadata")
        if r < 0.75:
            p = rng.choice(self._app_pods)
            actor = self._pa("aws-load-balancer-controller")
            svc = p.deploy
            return self.event(t_us=t, latency_us=lat, actor=actor, verb="get", uri=self.path("services", p.ns, svc),
                              objref=self.objref("services", p.ns, svc), level="Request")
        if r < 0.87:
            ns = rng.choice(APP_NAMESPACES)
            name = rng.choice(("shop-tls", "payments-tls", "wildcard-example-com"))
            return self.event(t_us=t, latency_us=lat, actor=self._pa("cert-manager"), verb="get",
                              uri=self.path("secrets", ns, name), objref=self.objref("secrets", ns, name), level="Metadata")
        sa = rng.choice(("checkout", "cart", "payments-api", "ledger"))
        ns = "payments" if sa in ("payments-api", "ledger") else "shop"
        return self.event(t_us=t, latency_us=lat, actor=c.eks["eks:pod-identity-mutating-webhook"], verb="get",
                          uri=self.path("serviceaccounts", ns, sa), objref=self.objref("serviceaccounts", ns, sa), level="Request")

    def _k_pod_status(self, t: int) -> dict[str, Any]:
        p = self.rng.choice(self._all_pods)
        ts = self.ts.seconds(t)
        req = {"metadata": {"uid": p.uid},
               "status": {"$setElementOrder/conditions": [{"type": "PodReadyToStartContainers"}, {"type": "Initialized"},
                                                          {"type": "Ready"}, {"type": "ContainersReady"},
                                                          {"type": "PodScheduled"}],
                          "conditions": [{"lastTransitionTime": ts, "status": "True", "type": "Ready"},
                                         {"lastTransitionTime": ts, "status": "True", "type": "ContainersReady"}]}}
        return self.event(t_us=t, latency_us=3000 + self.rng.getrandbits(13), actor=self.cat.node_actors[p.node], verb="patch",
                          uri=self.path("pods", p.ns, p.name, sub="status"),
                          objref=self.objref("pods", p.ns, p.name, sub="status"), level="Request", request=req)

    def _k_node_status(self, t: int) -> dict[str, Any]:
        node = self.rng.choice(self.cat.nodes)
        ts = self.ts.seconds(t)
        conds = [{"lastHeartbeatTime": ts, "type": ty} for ty in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
        req = {"status": {"$setElementOrder/conditions": [{"type": c["type"]} for c in conds], "conditions": conds}}
        return self.event(t_us=t, latency_us=4000 + self.rng.getrandbits(13), actor=self.cat.node_actors[node], verb="patch",
                          uri=self.path("nodes", None, node, sub="status") + "?timeout=10s",
                          objref=self.objref("nodes", None, node, sub="status"), level="Request", request=req)

    def _k_sa_token(self, t: int) -> dict[str, Any]:
        p = self.rng.choice(self._all_pods)
        req = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": None},
               "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3607,
                        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": p.name, "uid": p.uid}},
               "status": {"token": "", "expirationTimestamp": None}}
        return self.event(t_us=t, latency_us=2500 + self.rng.getrandbits(12), actor=self.cat.node_actors[p.node], verb="create",
                          uri=self.path("serviceaccounts", p.ns, p.sa, sub="token"),
                          objref=self.objref("serviceaccounts", p.ns, p.sa, sub="token"), level="Request", code=201,
                          request=req)

    def _k_access_review(self, t: int) -> dict[str, Any]:
        rng = self.rng
        actor = self._pa(rng.choice(("metrics-server", "kube-state-metrics", "aws-load-balancer-controller")))
        if rng.random() < 0.4:
            return self.event(t_us=t, latency_us=1500 + rng.getrandbits(12), actor=actor, verb="create",
                              uri="/apis/authentication.k8s.io/v1/tokenreviews",
                              objref=self.objref("tokenreviews", None, None, "authentication.k8s.io"), level="Metadata", code=201)
        spec = {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}, "user": "system:serviceaccount:monitoring:prometheus-server",
                "groups": sa_groups("monitoring"), "uid": self.cat.sa_uids[("monitoring", "prometheus-server")]}
        req = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": None},
               "spec": spec, "status": {"allowed": False}}
        resp = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": None},
                "spec": spec, "status": {"allowed": True, "reason": 'RBAC: allowed by ClusterRoleBinding "prometheus-server" of '
                                         'ClusterRole "prometheus-server" to ServiceAccount "prometheus-server/monitoring"'}}
        return self.event(t_us=t, latency_us=1500 + rng.getrandbits(12), actor=actor, verb="create",
                          uri="/apis/authorization.k8s.io/v1/subjectaccessreviews?timeout=10s",
                          objref=self.objref("subjectaccessreviews", None, None, "authorization.k8s.io"),
                          level="RequestResponse", code=201, request=req, response=resp)

    def _k_human(self, t: int) -> dict[str, Any]:
        rng = self.rng
        actor = self.cat.admin if rng.random() < 0.5 else self.cat.sso
        r = rng.random()
        lat = 3000 + rng.getrandbits(15)
        if r < 0.2:
            uri = rng.choice(("/api?timeout=32s", "/apis?timeout=32s", "/api/v1?timeout=32s", "/openapi/v2?timeout=32s"))
            return self.event(t_us=t, latency_us=lat, actor=actor, verb="get", uri=uri, objref=None, level="Metadata")
        p = rng.choice(self._app_pods)
        if r < 0.5:
            imp = None
            if actor is self.cat.admin and rng.random() < 0.04:
                imp = {"username": f"system:serviceaccount:{p.ns}:{p.sa}", "groups": sa_groups(p.ns)}
            return self.event(t_us=t, latency_us=lat, actor=actor, verb="list", uri=f"/api/v1/namespaces/{p.ns}/pods?limit=500",
                              objref=self.objref("pods", p.ns), level="Request", impersonated=imp)
        if r < 0.7:
            return self.event(t_us=t, latency_us=lat, actor=actor, verb="get",
                              uri=self.path("deployments", p.ns, p.deploy, "apps"),
                              objref=self.objref("deployments", p.ns, p.deploy, "apps"), level="Request")
        if r < 0.85:
            return self.event(t_us=t, latency_us=lat * 3, actor=actor, verb="get",
                              uri=f"{self.path('pods', p.ns, p.name, sub='log')}?container={p.container}&tailLines=200",
                              objref=self.objref("pods", p.ns, p.name, sub="log"), level="Request")
        return self.event(t_us=t, latency_us=lat, actor=actor, verb="list",
                          uri=f"/apis/apps/v1/namespaces/{p.ns}/deployments?limit=500",
                          objref=self.objref("deployments", p.ns, None, "apps"), level="Request")

    def _deployment(self, ns: str, dep: str, image: str, t_us: int) -> dict[str, Any]:
        replicas = next(r for n, d, r, *_ in DEPLOYMENTS if n == ns and d == dep)
        return {"kind": "Deployment", "apiVersion": "apps/v1",
                "metadata": {"name": dep, "namespace": ns, "uid": self.cat.deploy_rs[(ns, dep)][1][::-1],
                             "resourceVersion": self.rv(), "generation": 40 + self.rng.getrandbits(5),
                             "creationTimestamp": "2025-09-02T08:14:55Z", "labels": {"app": dep},
                             "annotations": {"deployment.kubernetes.io/revision": str(30 + self.rng.getrandbits(4))}},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": dep}},
                         "template": {"metadata": {"creationTimestamp": None, "labels": {"app": dep}},
                                      "spec": {"containers": [{"name": dep, "image": image,
                                                               "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}}]}},
                         "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                         "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
                "status": {"observedGeneration": 40, "replicas": replicas, "updatedReplicas": replicas,
                           "readyReplicas": replicas, "availableReplicas": replicas}}

    def _k_ci_deploy(self, t: int) -> dict[str, Any]:
        rng = self.rng
        actor = rng.choice(self.cat.ci_sessions)
        ns, dep, _r, _sa, image, _port = rng.choice([d for d in DEPLOYMENTS if d[0] in APP_NAMESPACES])
        if rng.random() < 0.5:
            return self.event(t_us=t, latency_us=2000 + rng.getrandbits(13), actor=actor, verb="get",
                              uri=self.path("deployments", ns, dep, "apps"),
                              objref=self.objref("deployments", ns, dep, "apps"), level="Request")
        new_image = image.rsplit(":", 1)[0] + f":{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        req = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": dep}],
                                              "containers": [{"image": new_image, "name": dep}]}}}}
        return self.event(t_us=t, latency_us=9000 + rng.getrandbits(14), actor=actor, verb="patch",
                          uri=self.path("deployments", ns, dep, "apps") + "?fieldManager=kubectl-set",
                          objref=self.objref("deployments", ns, dep, "apps"), level="RequestResponse",
                          request=req, response=self._deployment(ns, dep, new_image, t))

    def _k_endpointslice(self, t: int) -> dict[str, Any]:
        p = self.rng.choice(self._app_pods)
        name = f"{p.deploy}-{p.hash[:5]}"
        g = "discovery.k8s.io"
        return self.event(t_us=t, latency_us=2500 + self.rng.getrandbits(12),
                          actor=self.cat.controllers["endpointslice-controller"], verb="update",
                          uri=self.path("endpointslices", p.ns, name, g), objref=self.objref("endpointslices", p.ns, name, g),
                          level="Metadata")

    def _k_rs_status(self, t: int) -> dict[str, Any]:
        p = self.rng.choice(self._app_pods)
        rs, rs_uid = self.cat.deploy_rs[(p.ns, p.deploy)]
        n = len(self.cat.by_deploy[p.deploy])
        body = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
                "metadata": {"name": rs, "namespace": p.ns, "uid": rs_uid, "resourceVersion": self.rv(),
                             "labels": {"app": p.deploy, "pod-template-hash": p.hash}},
                "spec": {"replicas": n, "selector": {"matchLabels": {"app": p.deploy, "pod-template-hash": p.hash}}},
                "status": {"replicas": n, "fullyLabeledReplicas": n, "readyReplicas": n - 1, "availableReplicas": n - 1,
                           "observedGeneration": 1}}
        return self.event(t_us=t, latency_us=3000 + self.rng.getrandbits(12), actor=self.cat.controllers["replicaset-controller"],
                          verb="update", uri=self.path("replicasets", p.ns, rs, "apps", sub="status"),
                          objref=self.objref("replicasets", p.ns, rs, "apps", sub="status"), level="RequestResponse",
                          request=body, response=body)

    def _k_pod_create(self, t: int) -> dict[str, Any]:
        p = self.rng.choice(self._app_pods)
        req, resp = self.pod_objects(p, t)
        ann = dict(self.cat.controllers["replicaset-controller"].annotations)
        ann["pod-security.kubernetes.io/enforce-policy"] = "privileged:latest"
        return self.event(t_us=t, latency_us=6000 + self.rng.getrandbits(14), actor=self.cat.controllers["replicaset-controller"],
                          verb="create", uri=f"/api/v1/namespaces/{p.ns}/pods", objref=self.objref("pods", p.ns),
                          level="RequestResponse", code=201, request=req, response=resp, annotations=ann)

    def _k_pod_binding(self, t: int) -> dict[str, Any]:
        p = self.rng.choice(self._app_pods)
        req = {"kind": "Binding", "apiVersion": "v1",
               "metadata": {"name": p.name, "namespace": p.ns, "uid": p.uid, "creationTimestamp": None},
               "target": {"kind": "Node", "name": p.node}}
        resp = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
        return self.event(t_us=t, latency_us=3000 + self.rng.getrandbits(12), actor=self.cat.scheduler, verb="create",
                          uri=self.path("pods", p.ns, p.name, sub="binding"), objref=self.objref("pods", p.ns, p.name, sub="binding"),
                          level="RequestResponse", code=201, request=req, response=resp)

    def _k_pod_delete(self, t: int) -> dict[str, Any]:
        p = self.rng.choice(self._app_pods)
        _req, resp = self.pod_objects(p, t - 3_600_000_000)
        resp["metadata"]["deletionTimestamp"] = self.ts.seconds(t + 30_000_000)
        resp["metadata"]["deletionGracePeriodSeconds"] = 30
        req = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        return self.event(t_us=t, latency_us=5000 + self.rng.getrandbits(13), actor=self.cat.controllers["replicaset-controller"],
                          verb="delete", uri=self.path("pods", p.ns, p.name), objref=self.objref("pods", p.ns, p.name),
                          level="RequestResponse", request=req, response=resp)

    def _k_secret_delete(self, t: int) -> dict[str, Any]:
        """cert-manager removing a temporary private key secret after issuing a certificate (rare)."""
        p = self.rng.choice(self._app_pods)
        name = f"{p.deploy}-tls-{self.rng.getrandbits(20):05x}"
        return self.event(t_us=t, latency_us=3000 + self.rng.getrandbits(12), actor=self._pa("cert-manager"), verb="delete",
                          uri=self.path("secrets", p.ns, name), objref=self.objref("secrets", p.ns, name), level="Metadata")

    def _k_not_found(self, t: int) -> dict[str, Any]:
        rng = self.rng
        p = rng.choice(self._app_pods)
        if rng.random() < 0.5:
            name = f"{p.deploy}-canary-tls"
            actor, res, g, kind = self._pa("cert-manager"), "secrets", "", "secrets"
        else:
            name = f"{p.deploy}-hpa"
            actor, res, g, kind = self.cat.controllers["horizontal-pod-autoscaler"], "horizontalpodautoscalers", "autoscaling", \
                "horizontalpodautoscalers.autoscaling"
        ver = "v2" if g == "autoscaling" else "v1"
        return self.event(t_us=t, latency_us=1200 + rng.getrandbits(11), actor=actor, verb="get",
                          uri=self.path(res, p.ns, name, g, ver), objref=self.objref(res, p.ns, name, g, ver),
                          level=audit_level(g, res, "get"), code=404,
                          failure=("NotFound", f'{kind} "{name}" not found', {"name": name, "group": g, "kind": res} if g
                                   else {"name": name, "kind": res}))

    def _k_conflict(self, t: int) -> dict[str, Any]:
        actor, ns, name = self.rng.choice(self._leaders)
        g = "coordination.k8s.io"
        msg = (f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": the object has been modified; '
               "please apply your changes to the latest version and try again")
        return self.event(t_us=t, latency_us=1500 + self.rng.getrandbits(11), actor=actor, verb="update",
                          uri=self.path("leases", ns, name, g) + "?timeout=5s", objref=self.objref("leases", ns, name, g),
                          level="Metadata", code=409,
                          failure=("Conflict", msg, {"name": name, "group": g, "kind": "leases"}))

    def _k_forbidden(self, t: int) -> dict[str, Any]:
        actor = self._pa("grafana")
        res, g = self.rng.choice((("configmaps", ""), ("nodes", ""), ("ingresses", "networking.k8s.io")))
        msg = (f'{res}{"." + g if g else ""} is forbidden: User "{actor.name}" cannot list resource "{res}" in API group '
               f'"{g}" at the cluster scope')
        return self.event(t_us=t, latency_us=900 + self.rng.getrandbits(10), actor=actor, verb="list",
                          uri=self.path(res, None, None, g) + "?limit=500&resourceVersion=0", objref=self.objref(res, None, None, g),
                          level=audit_level(g, res, "list"), code=403, failure=("Forbidden", msg, {"kind": res}),
                          annotations={"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": ""})


# --- public API -------------------------------------------------------------------------------------

def generate_lines(
    n: int,
    *,
    seed: int = 0,
    start_ms: int = DEFAULT_START_MS,
    span_ms: int = DEFAULT_SPAN_MS,
    cluster: str = "demo",
    with_time: bool = False,
) -> Iterator[bytes]:
    """`n` events as compact JSON (no newline), in stage-time order over `[start_ms, start_ms + span_ms)`.

    With `with_time`, yields `(stage time in ms, json)` pairs instead (what CloudWatch needs).
    """
    if n <= 0:
        return
    factory = EventFactory(cluster, seed)
    rng = factory.rng
    dumps = orjson.dumps
    pick = factory.pick
    start_us = start_ms * 1000
    step = span_ms * 1000 / n
    for i in range(n):
        t_us = start_us + int((i + rng.random()) * step)
        line = dumps(pick(t_us))
        yield (t_us // 1000, line) if with_time else line  # type: ignore[misc]


def generate_events(
    n: int,
    *,
    seed: int = 0,
    start_ms: int = DEFAULT_START_MS,
    span_ms: int = DEFAULT_SPAN_MS,
    cluster: str = "demo",
) -> Iterator[dict[str, Any]]:
    """`n` realistic EKS audit events (independent dicts), deterministic for a given seed, in time order."""
    loads = orjson.loads
    for line in generate_lines(n, seed=seed, start_ms=start_ms, span_ms=span_ms, cluster=cluster):
        yield loads(line)


def write_jsonl(
    path: str | Path,
    n: int,
    *,
    seed: int = 0,
    start_ms: int = DEFAULT_START_MS,
    span_ms: int = DEFAULT_SPAN_MS,
    cluster: str = "demo",
) -> int:
    """Write `n` events as JSON lines to `path` ("-" = stdout); returns the bytes written."""
    total = 0
    out = sys.stdout.buffer if str(path) == "-" else open(path, "wb")  # noqa: SIM115 - closed below
    try:
        buf: list[bytes] = []
        for line in generate_lines(n, seed=seed, start_ms=start_ms, span_ms=span_ms, cluster=cluster):
            buf.append(line)
            if len(buf) >= 2048:
                chunk = b"\n".join(buf) + b"\n"
                out.write(chunk)
                total += len(chunk)
                buf.clear()
        if buf:
            chunk = b"\n".join(buf) + b"\n"
            out.write(chunk)
            total += len(chunk)
    finally:
        if out is not sys.stdout.buffer:
            out.close()
        else:
            out.flush()
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eksaudit.demo.generator",
                                     description="Write N realistic EKS audit events as JSON lines.")
    parser.add_argument("n", type=int, help="number of events")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-ms", type=int, default=DEFAULT_START_MS, help="first event time, epoch ms")
    parser.add_argument("--span-ms", type=int, default=DEFAULT_SPAN_MS, help="time covered, ms")
    parser.add_argument("--cluster", default="demo")
    parser.add_argument("-o", "--output", default="-", help="file to write (default stdout)")
    args = parser.parse_args(argv)
    try:
        write_jsonl(args.output, args.n, seed=args.seed, start_ms=args.start_ms, span_ms=args.span_ms, cluster=args.cluster)
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
