"""The `eks.*` fields: the IAM identity EKS records in `user.extra`, as plain strings.

EKS stores each identity attribute as a one-element array (`"arn": ["arn:aws:sts::..."]`); these
fields give its first value so conditions read naturally (`eks.user.canonical_arn = ...`). Like
`ka.*` they need an audit event (`auditID`); `ka.user.extra[KEY]` gives every value.
`eks.cluster` is the exception: it comes from the CloudWatch log group the event was read from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .jsonwalk import as_string, audit_dict
from .registry import FieldDef, FieldType

_EKS_GROUP = re.compile(r"/aws/eks/([^/]+)/cluster")


def cluster_of_group(log_group: str | None) -> str | None:
    """`NAME` of an EKS control-plane log group `/aws/eks/NAME/cluster`; None for any other group."""
    if type(log_group) is not str:
        return None
    m = _EKS_GROUP.fullmatch(log_group)
    return m.group(1) if m else None


def _cluster(event: Any, arg: Any) -> str | None:
    m = getattr(event, "cw", None)
    return None if m is None else cluster_of_group(m.log_group)


def _first_extra(key: str) -> Callable[[Any, Any], str | None]:
    def ex(event: Any, arg: Any) -> str | None:
        user = audit_dict(event, "user")
        if user is None:
            return None
        extra = user.get("extra")
        if not isinstance(extra, dict):
            return None
        vals = extra.get(key)
        if type(vals) is not list or not vals:
            return None
        v = vals[0]
        return v if type(v) is str else as_string(v)

    return ex


_FIELDS = (
    ("eks.user.arn", "arn", "The caller's STS ARN (e.g. arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)."),
    ("eks.user.canonical_arn", "canonicalArn", "The caller's IAM role or user ARN (arn:aws:iam::ACCOUNT:role/ROLE)."),
    ("eks.user.session", "sessionName", "The caller's STS session name (may be empty)."),
    ("eks.user.principal_id", "principalId", "The caller's IAM principal id."),
    ("eks.user.access_key_id", "accessKeyId", "The access key id the caller signed the request with."),
)


def fields() -> list[FieldDef]:
    """Every `eks.*` field definition: the cluster, and the first value of a `user.extra` key."""
    cluster = FieldDef(
        name="eks.cluster",
        type=FieldType.STRING,
        description="The EKS cluster of the event's CloudWatch log group /aws/eks/NAME/cluster "
        "(no value for other groups, or for events not read from CloudWatch).",
        extract=_cluster,
        reads=(),  # CloudWatch metadata, nothing of the JSON
    )
    return [cluster] + [
        FieldDef(
            name=name,
            type=FieldType.STRING,
            description=f"{desc} First value of user.extra {key}.",
            extract=_first_extra(key),
            reads=(("user", "extra", key), ("auditID",)),
        )
        for name, key, desc in _FIELDS
    ]
