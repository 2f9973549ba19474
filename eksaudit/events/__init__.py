"""Audit events and the readers that turn every supported input format into them."""

from .event import AuditEvent, CwMeta
from .readers import BadLine, ReadStats, iter_source, read_events, unparsable

__all__ = ["AuditEvent", "BadLine", "CwMeta", "ReadStats", "iter_source", "read_events", "unparsable"]
