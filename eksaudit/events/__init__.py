"""Audit events and the readers that turn every supported input format into them."""

from .event import AuditEvent, CwMeta
from .kinds import NotAudit, NotAuditTally
from .readers import BadLine, ReadStats, iter_source, read_events, unparsable

__all__ = [
    "AuditEvent",
    "BadLine",
    "CwMeta",
    "NotAudit",
    "NotAuditTally",
    "ReadStats",
    "iter_source",
    "read_events",
    "unparsable",
]
