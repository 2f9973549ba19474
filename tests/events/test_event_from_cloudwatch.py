"""`AuditEvent.from_cloudwatch`: the one place a CloudWatch log event becomes an AuditEvent."""

from __future__ import annotations

from eksaudit.events.event import AuditEvent, CwMeta


def test_message_and_metadata_as_stored():
    rec = {
        "message": '{"kind":"Event","auditID":"a"}',
        "timestamp": 1700000000000,
        "ingestionTime": 1700000000500.0,
        "eventId": "123",
        "logStreamName": "kube-apiserver-audit-1",
    }
    ev = AuditEvent.from_cloudwatch(rec, log_group="/aws/eks/c/cluster", source="f", line=3)
    assert ev.raw == b'{"kind":"Event","auditID":"a"}'
    assert ev.cw == CwMeta(
        log_stream="kube-apiserver-audit-1", timestamp=1700000000000, ingestion_time=1700000000500,
        event_id="123", log_group="/aws/eks/c/cluster",
    )
    assert (ev.source, ev.line, ev.obj["auditID"]) == ("f", 3, "a")


def test_the_records_own_names_win_over_the_envelopes():
    rec = {"message": "{}", "logGroupName": "g-own", "logStreamName": "s-own", "id": "7"}
    ev = AuditEvent.from_cloudwatch(rec, log_group="g-env", log_stream="s-env")
    assert (ev.cw.log_group, ev.cw.log_stream, ev.cw.event_id) == ("g-own", "s-own", "7")
    ev = AuditEvent.from_cloudwatch({"message": "{}", "logStreamName": ""}, log_group="g", log_stream="s")
    assert (ev.cw.log_group, ev.cw.log_stream) == ("g", "s")


def test_wrong_types_are_left_out_and_line_ends_dropped():
    rec = {"message": '{"a":1}\r\n', "timestamp": True, "ingestionTime": "5", "eventId": 9, "logStreamName": 1}
    ev = AuditEvent.from_cloudwatch(rec)
    assert ev.raw == b'{"a":1}'
    assert ev.cw == CwMeta()


def test_a_lone_surrogate_is_kept_byte_for_byte():
    ev = AuditEvent.from_cloudwatch({"message": '{"a":"\udcff"}'})
    assert ev.raw == b'{"a":"\xff"}'
