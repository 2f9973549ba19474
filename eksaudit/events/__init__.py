"""Audit events and the readers that turn every supported input format into them."""

from .event import AuditEvent, CwMeta

__all__ = ["AuditEvent", "CwMeta"]
