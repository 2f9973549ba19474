"""Events an attacker shapes (deep or odd JSON inside an object they create), for the data probes."""

from __future__ import annotations

import json

DEPTH = 5000  # well beyond orjson's 1,024 levels

_BINDING = {
    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
    "auditID": "AUDIT", "stage": "ResponseComplete",
    "requestURI": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "verb": "create",
    "user": {"username": "mallory", "groups": ["system:authenticated"]},
    "sourceIPs": ["10.0.0.9"], "userAgent": "kubectl/v1.31.0",
    "objectRef": {"resource": "clusterrolebindings", "apiGroup": "rbac.authorization.k8s.io",
                  "apiVersion": "v1", "name": "evil"},
    "responseStatus": {"metadata": {}, "code": 201},
    "requestObject": {
        "kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {"name": "evil", "annotations": {"note": "PAYLOAD"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "User", "name": "mallory", "extra": "PAYLOAD"}],
    },
    "requestReceivedTimestamp": "2026-11-30T10:00:01.000000Z",
    "stageTimestamp": "2026-11-30T10:00:01.004000Z",
    "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""},
}

PAYLOADS = {
    "benign": '"ok"',
    "deep-array": "[" * DEPTH + "]" * DEPTH,
    "deep-object": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "huge-number": "1e999",
    "huge-negative": "-1E400",
    "lone-surrogate": '"\\ud800x"',
}


def binding_line(payload: str, audit_id: str = "a-1") -> bytes:
    """A ClusterRoleBinding-to-cluster-admin create whose object carries `payload` (JSON text) twice."""
    text = json.dumps(_BINDING, separators=(",", ":")).replace('"PAYLOAD"', payload)
    return text.replace('"AUDIT"', json.dumps(audit_id)).encode()
