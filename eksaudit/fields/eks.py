"""The `eks.*` fields: the IAM identity EKS records in `user.extra`, as plain strings.

EKS stores each identity attribute as a one-element array (`"arn": ["arn:aws:sts::..."]`); these
fields give its first value so conditions read naturally (`eks.user.canonical_arn = ...`). Like
`ka.*` they need an audit event (`auditID`); `ka.user.extra[KEY]` gives every value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .jsonwalk import as_string, audit_dict
from .registry import FieldDef, FieldType


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
    """Every `eks.*` field definition (first value of a `user.extra` key)."""
    return [
        FieldDef(
            name=name,
            type=FieldType.STRING,
            description=f"{desc} First value of user.extra {key}.",
            extract=_first_extra(key),
        )
        for name, key, desc in _FIELDS
    ]
