"""AKS diagnostic exports read as audit events: Event Hubs `{"records": [...]}` envelopes and the
storage account's `PT1H.json` (one record per line), `properties.log` as a string or an object, .gz."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from eksaudit.events import ReadStats, read_events
from eksaudit.events.kinds import NotAuditTally
from eksaudit.fields import default_registry

DATA = Path(__file__).resolve().parent.parent / "data"
FIELDS = ("ka.auditid", "ka.verb", "ka.user.name", "ka.target.resource", "ka.target.namespace", "ka.response.code")


def audit_lines() -> list[str]:
    return [ln for ln in (DATA / "small-audit.jsonl").read_text().splitlines() if ln]


def record(i: int, log_line: str, *, as_object: bool = False, category: str = "kube-audit") -> dict:
    """A diagnostic record as AKS writes it: the API server's line (with its newline) in properties.log."""
    return {
        "time": f"2026-11-30T10:00:{i:02d}.0000000Z",
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS1",
        "category": category,
        "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "properties": {
            "log": json.loads(log_line) if as_object else log_line + "\n",
            "stream": "stdout",
            "pod": "kube-apiserver-6d7c9f8b5-abcde",
        },
    }


def records(mixed: bool = True) -> list[dict]:
    return [record(i, ln, as_object=mixed and i % 2 == 1) for i, ln in enumerate(audit_lines())]


def fields_of(events) -> list[tuple]:
    reg = default_registry()
    bound = [reg.resolve_ref(f) for f in FIELDS]
    return [tuple(b.extract(ev) for b in bound) for ev in events]


def expected() -> list[tuple]:
    return fields_of(read_events([str(DATA / "small-audit.jsonl")]))


def read(data: bytes, **kw):
    st, tally = ReadStats(), NotAuditTally()
    out = list(read_events(["-"], stdin=io.BytesIO(data), on_bad=st.on_bad, on_not_audit=tally.add, **kw))
    return out, st, tally


def event_hubs(recs: list[dict], indent: int | None = None) -> bytes:
    return json.dumps({"records": recs}, indent=indent).encode()


def storage_lines(recs: list[dict]) -> bytes:
    # Azure writes `{ "time": ..., ... }` objects, one per line, with spaces after `:` and `,`
    return b"".join(json.dumps(r).encode() + b"\r\n" for r in recs)


@pytest.mark.parametrize(
    "shape",
    ["event-hubs-compact", "event-hubs-pretty", "storage-jsonl", "storage-jsonl-gz", "event-hubs-gz", "two-envelopes"],
)
def test_aks_exports_read_as_events_with_their_ka_fields(shape):
    recs = records()
    data = {
        "event-hubs-compact": lambda: event_hubs(recs),
        "event-hubs-pretty": lambda: event_hubs(recs, indent=2),
        "storage-jsonl": lambda: storage_lines(recs),
        "storage-jsonl-gz": lambda: gzip.compress(storage_lines(recs)),
        "event-hubs-gz": lambda: gzip.compress(event_hubs(recs, indent=1)),
        "two-envelopes": lambda: event_hubs(recs[:3]) + b"\n" + event_hubs(recs[3:], indent=2) + b"\n",
    }[shape]()
    out, st, tally = read(data)
    assert st.bad == 0, st.warning()
    assert tally.count == 0, tally.warnings()
    assert fields_of(out) == expected()
    assert all(ev.obj["kind"] == "Event" for ev in out)


def test_string_logs_are_the_api_servers_bytes_and_object_logs_their_value():
    lines = audit_lines()
    out, _, _ = read(storage_lines(records(mixed=True)))
    for i, ev in enumerate(out):
        if i % 2 == 0:
            assert ev.raw == lines[i].encode()  # byte-exact, without the newline AKS keeps
        else:
            assert ev.obj == json.loads(lines[i])


def test_line_numbers_of_storage_records():
    out, _, _ = read(storage_lines(records()))
    assert [ev.line for ev in out] == list(range(1, len(audit_lines()) + 1))


def test_kube_audit_admin_records_are_read_too():
    recs = [record(i, ln, category="kube-audit-admin") for i, ln in enumerate(audit_lines())]
    out, st, tally = read(storage_lines(recs))
    assert fields_of(out) == expected() and st.bad == 0 and tally.count == 0


def test_records_of_other_categories_are_named_not_dropped_silently():
    recs = records()[:2]
    other = record(9, "I1130 10:00:09.000000 1 controller.go:42] started", category="kube-apiserver")
    out, st, tally = read(event_hubs([recs[0], other, recs[1]], indent=2))
    assert len(out) == 3  # the kube-apiserver record is still an event for jevt.* fields
    assert [ev.obj.get("auditID") is not None for ev in out] == [True, False, True]
    (w,) = tally.warnings()
    assert "1 JSON object is not an audit event" in w
    assert "(records[1]) looks like an AKS diagnostic record of category kube-apiserver" in w


def test_a_kube_audit_record_whose_log_is_not_json_is_a_bad_line():
    rec = record(0, audit_lines()[0])
    rec["properties"]["log"] = "not json at all"
    out, st, tally = read(storage_lines([rec, record(1, audit_lines()[1])]))
    assert len(out) == 1 and st.bad == 1
    assert st.first.line == 1 and "properties.log" in st.first.reason


def test_strict_makes_other_categories_fatal():
    from eksaudit.errors import InputError

    other = record(0, "plain text", category="guard")
    with pytest.raises(InputError, match=r"<stdin>:1: not an audit event: it looks like an AKS diagnostic record"):
        read(storage_lines([other]), strict=True)
