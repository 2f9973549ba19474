"""What a JSON object is when it is not plainly an audit event: an AKS record holding one, or what else.

The readers pass most audit events on unparsed. Lines that do not start like one (`{"kind":
"Event", ...`, any whitespace) are parsed once, and the parsed object is sorted here:

- an audit event (`auditID`, or `kind` "Event" but not a Kubernetes core Event) is an event;
- an Azure diagnostic record of category `kube-audit` / `kube-audit-admin` carries one in
  `properties.log` (a JSON string as AKS writes it, or an object); Event Hubs deliver such records
  in a `{"records": [...]}` envelope, diagnostic settings to a storage account write them one per
  line (`PT1H.json`, JSON lines);
- anything else is still passed on (`jevt.*` fields read any JSON), but named (`describe`) so the
  command can say once per input that it holds JSON objects that are not audit events: a user
  must be able to tell "no match" from "wrong input".

The cheap test `surely_event_text` looks only at the first members and is sound: it says yes only
for text that starts with `kind` "Event" and `apiVersion` "audit.k8s.io/..." (and names
`auditID`), the API server's own spelling and what the readers' fast path already trusts. Every other spelling is
parsed once (the parsed object is handed on with the event) and judged on its parsed value, so
neither the events read nor the warning depend on how the JSON is spelled; `shortcut = False`
switches the cheap test off (tests compare both).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: `{"kind":"Event","apiVersion":"audit.k8s.io/` with any JSON whitespace: the API server's first
#: two members (a Kubernetes core Event, `apiVersion` v1, is not an audit event)
_EVENT_FIRST_MEMBER = re.compile(
    rb'\{[ \t\r\n]*"kind"[ \t\r\n]*:[ \t\r\n]*"Event"[ \t\r\n]*,[ \t\r\n]*"apiVersion"[ \t\r\n]*:[ \t\r\n]*"audit\.k8s\.io/'
)
#: apiVersions of Kubernetes' own Event objects (`kubectl get events -o json`): not audit events
_CORE_EVENT_APIS = frozenset({"v1", "events.k8s.io/v1", "events.k8s.io/v1beta1"})

#: AKS diagnostic categories whose records hold Kubernetes audit events
AKS_AUDIT_CATEGORIES = frozenset({"kube-audit", "kube-audit-admin"})

#: categories of the Azure activity log (as exported by diagnostic settings)
_ACTIVITY_CATEGORIES = frozenset(
    {"Administrative", "Security", "ServiceHealth", "Alert", "Recommendation", "Policy", "Autoscale", "ResourceHealth"}
)


#: internal switch: False parses every object text that reaches the check (the slow twin the
#: property tests compare the shortcut with)
shortcut = True


def surely_event_text(s: bytes) -> bool:
    """True when the text starts `{"kind": "Event", "apiVersion": "audit.k8s.io/` and names `auditID`.

    False means "parse and look". The `auditID` test (a memchr-speed search) leaves to the parser
    the odd object whose first `kind` is overridden by a later duplicate key.
    """
    return shortcut and _EVENT_FIRST_MEMBER.match(s) is not None and b'"auditID"' in s


def is_audit_event(obj: Any) -> bool:
    """The readers' test on a parsed value: an object with `auditID`, or with `kind` "Event"
    (unless its `apiVersion` says it is a Kubernetes core Event, which has no audit fields)."""
    if not isinstance(obj, dict):
        return False
    return "auditID" in obj or (obj.get("kind") == "Event" and obj.get("apiVersion") not in _CORE_EVENT_APIS)


def _is_azure_record(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("category") or obj.get("operationName"), str)
        and any(k in obj for k in ("resourceId", "resourceID", "time"))
    )


def aks_audit_log(obj: Any) -> Any:
    """`properties.log` of an AKS `kube-audit`/`kube-audit-admin` record (a str or dict), else None."""
    if not isinstance(obj, dict) or obj.get("category") not in AKS_AUDIT_CATEGORIES:
        return None
    props = obj.get("properties")
    if not isinstance(props, dict):
        return None
    log = props.get("log")
    return log if isinstance(log, (str, dict)) else None


def azure_records(obj: Any) -> list[Any] | None:
    """The records of an Azure Event Hubs envelope (`{"records": [...]}` of diagnostic records), else None.

    Firehose transformation batches share the key; their records hold `data`, Azure's hold
    `category`/`properties` (the readers test for Firehose first).
    """
    if not isinstance(obj, dict):
        return None
    recs = obj.get("records")
    if isinstance(recs, list) and recs and any(_is_azure_record(r) for r in recs):
        return recs
    return None


def describe(obj: Any) -> tuple[str, str]:
    """(family, text) naming what a JSON value that is not an audit event looks like.

    `text` reads after "looks like", with the keys that gave it away: `a GKE Cloud Audit Log entry
    (protoPayload, logName)`. `family` groups objects of one kind for counting.
    """
    if not isinstance(obj, dict):
        return "non-object", f"a JSON {type(obj).__name__}, not an object"
    keys = obj.keys()
    proto = obj.get("protoPayload")
    log_name = obj.get("logName")
    if isinstance(proto, dict) or (isinstance(log_name, str) and "cloudaudit.googleapis.com" in log_name):
        ptype = proto.get("@type", "") if isinstance(proto, dict) else ""
        if "AuditLog" in str(ptype) or (isinstance(log_name, str) and "cloudaudit" in log_name):
            return "gke", "a GKE Cloud Audit Log entry (protoPayload, logName)"
        return "gcp", "a Google Cloud Logging entry (protoPayload)"
    if isinstance(log_name, str) and ("jsonPayload" in keys or "textPayload" in keys):
        payload = "jsonPayload" if "jsonPayload" in keys else "textPayload"
        return "gcp", f"a Google Cloud Logging entry (logName, {payload})"
    if "eventSource" in keys and "eventName" in keys:
        extra = ", awsRegion" if "awsRegion" in keys else ""
        return "cloudtrail", f"a CloudTrail record (eventSource, eventName{extra})"
    if isinstance(obj.get("Records"), list):
        return "cloudtrail-file", "a CloudTrail log file (Records)"
    if _is_azure_record(obj):
        category = obj.get("category")
        props = obj.get("properties")
        if isinstance(props, dict) and "log" in props and isinstance(category, str):
            return "azure", f"an AKS diagnostic record of category {category} (only kube-audit and kube-audit-admin hold audit events)"
        if category in _ACTIVITY_CATEGORIES or "caller" in keys or "callerIpAddress" in keys:
            return "azure", "an Azure activity log record (operationName, resourceId, category)"
        return "azure", "an Azure resource log record (operationName, resourceId, category)"
    kind, api = obj.get("kind"), obj.get("apiVersion")
    if isinstance(kind, str) and isinstance(api, str):
        return "kubernetes", f"a Kubernetes {kind} object (kind, apiVersion), not an audit Event"
    if "rule" in keys and "priority" in keys and "output" in keys:
        return "falco", "a Falco alert (rule, priority, output)"
    if not obj:
        return "generic", "an empty JSON object"
    names = sorted(keys)  # not in file order: the warning must not depend on how the JSON is spelled
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    return "generic", f"generic JSON (keys: {shown})"


@dataclass(frozen=True)
class NotAudit:
    """A JSON object read from `source` at `line` that is neither an audit event nor a known envelope."""

    source: str
    line: int | None
    family: str
    text: str  # what it looks like: "a CloudTrail record (eventSource, eventName, awsRegion)"
    where: str = ""  # inside an envelope: "records[2]"

    def __str__(self) -> str:
        at = f"{self.source}:{self.line}" if self.line is not None else self.source
        inner = f" ({self.where})" if self.where else ""
        return f"{at}{inner}: not an audit event: it looks like {self.text}"


@dataclass
class _Seen:
    count: int = 0
    first: dict[str, NotAudit] = field(default_factory=dict)  # family -> first object of it


class NotAuditTally:
    """Counts non-audit objects per input, for one warning per input at the end of a run.

    Pass `on_not_audit=tally.add` to `read_events()`, then print `tally.warnings()`.
    """

    def __init__(self) -> None:
        self.by_source: dict[str, _Seen] = {}

    def add(self, item: NotAudit) -> None:
        seen = self.by_source.setdefault(item.source, _Seen())
        seen.count += 1
        seen.first.setdefault(item.family, item)

    @property
    def count(self) -> int:
        return sum(s.count for s in self.by_source.values())

    def warnings(self) -> list[str]:
        """One line per input: `gke.json: 3 JSON objects are not audit events ...; line 1 looks like ...`."""
        out = []
        for source, seen in self.by_source.items():
            if seen.count == 1:
                noun = "JSON object is not an audit event (no ka.* field matches it)"
            else:
                noun = "JSON objects are not audit events (no ka.* field matches them)"
            firsts = sorted(seen.first.values(), key=lambda x: x.line or 0)
            parts = []
            for i, x in enumerate(firsts[:3]):
                at = f"line {x.line}" if x.line is not None else "the input"
                at += f" ({x.where})" if x.where else ""
                parts.append(f"{at} looks like {x.text}" if i == 0 else f"{at} like {x.text}")
            more = f"; and {len(firsts) - 3} other kinds" if len(firsts) > 3 else ""
            out.append(f"{source}: {seen.count} {noun}: {'; '.join(parts)}{more}")
        return out

    def report(self, write: Callable[[str], None]) -> None:
        for line in self.warnings():
            write(line)
