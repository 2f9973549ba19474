"""read_events: every input shape is recognised without flags, events keep raw bytes and CwMeta."""

from __future__ import annotations

import base64
import gzip
import io
import json

import orjson
import pytest

from eksaudit.events import AuditEvent, CwMeta, ReadStats, read_events


def ev(i: int, **extra) -> dict:
    d = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": f"id-{i}",
         "stage": "ResponseComplete", "verb": "get", "user": {"username": f"u{i}"},
         "stageTimestamp": "2026-11-30T10:00:00.000000Z"}
    d.update(extra)
    return d


def line(i: int, **extra) -> bytes:
    return json.dumps(ev(i, **extra), separators=(",", ":")).encode()


def read_bytes(data: bytes, **kw) -> tuple[list[AuditEvent], ReadStats]:
    st = ReadStats()
    out = list(read_events(["-"], stdin=io.BytesIO(data), on_bad=st.on_bad, **kw))
    return out, st


def ids(events) -> list[str]:
    return [e.obj["auditID"] for e in events]


def test_event_lines_are_passed_on_unparsed_and_byte_exact():
    raw = [line(1), b'{"kind":"Event","auditID":"x",  "verb" : "list"}', line(3)]
    out, st = read_bytes(b"\n".join(raw) + b"\n")
    assert [e.raw for e in out] == raw
    assert [e.line for e in out] == [1, 2, 3]
    assert all(e.source == "<stdin>" for e in out)
    assert st.bad == 0


def test_fast_path_does_not_parse():
    out, _ = read_bytes(line(1) + b"\n")
    from eksaudit.events.event import _UNPARSED

    assert out[0]._obj is _UNPARSED


def test_sorted_key_events_and_other_first_keys_are_events():
    obj = dict(sorted(ev(7).items()))
    raw = orjson.dumps(obj)
    out, st = read_bytes(raw + b"\n")
    assert [e.raw for e in out] == [raw] and st.bad == 0


def test_bom_and_crlf():
    out, st = read_bytes(b"\xef\xbb\xbf" + line(1) + b"\r\n" + line(2) + b"\r\n\r\n")
    assert ids(out) == ["id-1", "id-2"]
    assert out[0].raw == line(1)
    assert st.bad == 0


def test_last_line_without_newline_and_blank_lines():
    out, _ = read_bytes(b"\n\n  \n" + line(1) + b"\n\n" + line(2))
    assert ids(out) == ["id-1", "id-2"]
    assert [e.line for e in out] == [4, 6]


def test_eventlist_single_line_and_kubectl_order():
    lst = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [ev(1), ev(2)]}
    kubectl = {"apiVersion": "audit.k8s.io/v1", "items": [ev(3)], "kind": "EventList", "metadata": {}}
    out, st = read_bytes(orjson.dumps(lst) + b"\n" + orjson.dumps(kubectl) + b"\n")
    assert ids(out) == ["id-1", "id-2", "id-3"]
    assert [e.line for e in out] == [1, 1, 2]
    assert out[0].raw == orjson.dumps(ev(1))
    assert st.bad == 0


def test_json_array_of_events_one_line_and_pretty():
    arr = [ev(1), ev(2)]
    out, _ = read_bytes(orjson.dumps(arr) + b"\n" + json.dumps([ev(3)], indent=2).encode() + b"\n" + line(4) + b"\n")
    assert ids(out) == ["id-1", "id-2", "id-3", "id-4"]
    assert out[3].line == 2 + len(json.dumps([ev(3)], indent=2).splitlines())


def cw_record(i: int, **kw) -> dict:
    rec = {"logStreamName": "kube-apiserver-audit-abc", "timestamp": 1700000000000 + i,
           "ingestionTime": 1700000000500 + i, "eventId": f"e{i}", "message": line(i).decode()}
    rec.update(kw)
    return rec


def test_cloudwatch_records_as_fetch_prints_them():
    data = b"\n".join(orjson.dumps(cw_record(i)) for i in range(3)) + b"\n"
    out, st = read_bytes(data)
    assert [e.raw for e in out] == [line(i) for i in range(3)]
    assert out[1].cw == CwMeta(log_stream="kube-apiserver-audit-abc", timestamp=1700000000001,
                               ingestion_time=1700000000501, event_id="e1")
    assert st.bad == 0


def test_record_message_bytes_exact_including_unicode_and_spacing():
    msg = '{"kind":"Event", "auditID":"ü-1",  "verb":"get"}'
    out, _ = read_bytes(orjson.dumps({"timestamp": 1, "message": msg}) + b"\n")
    assert out[0].raw == msg.encode()
    assert out[0].cw.timestamp == 1


def test_filter_log_events_output_pretty_and_several_pages():
    page1 = {"events": [cw_record(1), cw_record(2)], "searchedLogStreams": [], "nextToken": "t"}
    page2 = {"events": [cw_record(3)], "searchedLogStreams": []}
    text = json.dumps(page1, indent=4) + "\n" + json.dumps(page2, indent=4) + "\n"
    out, st = read_bytes(text.encode())
    assert ids(out) == ["id-1", "id-2", "id-3"]
    assert out[2].cw.event_id == "e3"
    # each item carries the line where it starts
    lines = text.splitlines()
    assert lines[out[0].line - 1].strip() == "{"
    assert st.bad == 0


def test_filter_log_events_compact_page():
    page = {"events": [cw_record(1), cw_record(2)], "searchedLogStreams": []}
    out, _ = read_bytes(orjson.dumps(page))
    assert ids(out) == ["id-1", "id-2"] and out[0].line == 1


def test_array_of_records_from_aws_query():
    out, _ = read_bytes(json.dumps([cw_record(1), cw_record(2)], indent=2).encode())
    assert ids(out) == ["id-1", "id-2"]
    assert out[0].cw.log_stream == "kube-apiserver-audit-abc"


def test_s3_export_lines():
    data = b"2026-11-30T10:00:00.000Z " + line(1) + b"\n2026-11-30T10:00:01.5Z " + line(2) + b"\n"
    out, st = read_bytes(data)
    assert [e.raw for e in out] == [line(1), line(2)]
    assert out[0].cw.timestamp == 1796032800000
    assert out[1].cw.timestamp == 1796032801500
    assert st.bad == 0


def envelope(i: int, n: int = 2, **kw) -> dict:
    env = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/eks/c/cluster",
           "logStream": "kube-apiserver-audit-x", "subscriptionFilters": ["f"],
           "logEvents": [{"id": f"{i}-{k}", "timestamp": 1000 + k, "message": line(i * 10 + k).decode()}
                         for k in range(n)]}
    env.update(kw)
    return env


def test_subscription_envelopes_one_per_line_and_concatenated():
    one = orjson.dumps(envelope(1))
    glued = orjson.dumps(envelope(2)) + orjson.dumps(envelope(3)) + b"  " + orjson.dumps(envelope(4))
    out, st = read_bytes(one + b"\n" + glued + b"\n")
    assert ids(out) == ["id-10", "id-11", "id-20", "id-21", "id-30", "id-31", "id-40", "id-41"]
    assert out[0].cw == CwMeta(log_stream="kube-apiserver-audit-x", timestamp=1000, event_id="1-0",
                               log_group="/aws/eks/c/cluster")
    assert [e.line for e in out] == [1, 1, 2, 2, 2, 2, 2, 2]
    assert st.bad == 0


def test_envelopes_without_separators_gzip_firehose_file(tmp_path):
    p = tmp_path / "firehose-object"  # no .gz extension: detected by magic bytes
    control = {"messageType": "CONTROL_MESSAGE", "logGroup": "", "logStream": "",
               "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health"}]}
    p.write_bytes(gzip.compress(orjson.dumps(control) + orjson.dumps(envelope(1)) + orjson.dumps(envelope(2))))
    st = ReadStats()
    out = list(read_events([str(p)], on_bad=st.on_bad))
    assert ids(out) == ["id-10", "id-11", "id-20", "id-21"]
    assert out[0].source == str(p)
    assert st.bad == 0


def test_lambda_subscription_event_and_firehose_records():
    data = base64.b64encode(gzip.compress(orjson.dumps(envelope(5)))).decode()
    lam = {"awslogs": {"data": data}}
    fh = {"invocationId": "x", "records": [{"recordId": "r", "data": data}]}
    out, st = read_bytes(orjson.dumps(lam) + b"\n" + orjson.dumps(fh) + b"\n")
    assert ids(out) == ["id-50", "id-51", "id-50", "id-51"]
    assert out[0].cw.log_group == "/aws/eks/c/cluster"
    assert st.bad == 0


def test_gzip_file_with_mixed_formats(tmp_path):
    p = tmp_path / "audit.log.gz"
    content = line(1) + b"\n" + orjson.dumps(cw_record(2)) + b"\n" + json.dumps(ev(3), indent=2).encode() + b"\n"
    p.write_bytes(gzip.compress(b"\xef\xbb\xbf" + content))
    out = list(read_events([str(p)]))
    assert ids(out) == ["id-1", "id-2", "id-3"]
    assert out[2].line == 3


def test_multi_member_and_nested_gzip(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(gzip.compress(line(1) + b"\n") + gzip.compress(line(2) + b"\n")))
    assert ids(read_events([str(p)])) == ["id-1", "id-2"]


def test_pretty_printed_single_event_keeps_parse_and_compact_raw():
    text = json.dumps(ev(1, sourceIPs=["1.2.3.4"], items_note={"items": [1]}), indent=2)
    out, st = read_bytes(text.encode() + b"\n" + line(2) + b"\n")
    assert ids(out) == ["id-1", "id-2"]
    assert out[0].raw == orjson.dumps(orjson.loads(text))
    assert out[0].line == 1 and st.bad == 0


def test_pretty_eventlist_from_kubectl_streams_items():
    text = json.dumps({"apiVersion": "audit.k8s.io/v1", "items": [ev(i) for i in range(5)], "kind": "EventList"},
                      indent=4)
    out, _ = read_bytes(text.encode())
    assert ids(out) == [f"id-{i}" for i in range(5)]


def test_huge_event_over_one_megabyte():
    big = line(1, requestObject={"data": "x" * 3_000_000})
    out, st = read_bytes(big + b"\n" + line(2) + b"\n")
    assert out[0].raw == big and ids(out) == ["id-1", "id-2"]
    rec = orjson.dumps(cw_record(3, message=big.decode()))
    out, _ = read_bytes(rec + b"\n")
    assert out[0].raw == big


def test_strings_with_braces_and_escapes_in_pretty_documents():
    tricky = ev(1, requestURI='/x?q={"a":[1,2]}\\"}', note="\\\\")
    text = json.dumps({"events": [cw_record(0, message=orjson.dumps(tricky).decode())]}, indent=2)
    # split the document at every position inside a string across lines is not possible, but
    # break the buffer feeding by making each structural line separate
    out, st = read_bytes(text.encode())
    assert out[0].obj["requestURI"] == tricky["requestURI"] and st.bad == 0


def test_stdin_is_the_default_and_dash(monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO(line(1) + b"\n")

    monkeypatch.setattr("sys.stdin", FakeStdin)
    assert ids(read_events([])) == ["id-1"]


def test_several_files_in_order_with_sources(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(line(1) + b"\n")
    b.write_bytes(line(2) + b"\n" + line(3) + b"\n")
    out = list(read_events([str(a), "-", str(b)], stdin=io.BytesIO(line(9) + b"\n")))
    assert [(e.source, e.line) for e in out] == [(str(a), 1), ("<stdin>", 1), (str(b), 1), (str(b), 2)]


def test_conformance_datasets_read_cleanly(conformance):
    for rel in ("datasets/immudb-log-audit-k8s/k8s.log", "eks-samples/panther-analysis_eks_audit_normalized.jsonl"):
        st = ReadStats()
        out = list(read_events([str(conformance / rel)], on_bad=st.on_bad))
        assert out and st.bad == 0
        assert all(isinstance(e.obj, dict) for e in out)


@pytest.mark.parametrize("chunk", [1, 2, 7, 64])
def test_scanner_state_survives_any_chunking(chunk):
    """The document scanner keeps depth / in-string / pending-escape state between feeds."""
    from eksaudit.events.jsonscan import Accumulator

    tricky = ev(1, requestURI='/x?q={"a":[1,2]}\\"}]', note="\\\\", u="\\u005d")
    docs = [{"events": [cw_record(0, message=orjson.dumps(tricky).decode()), cw_record(2)]}, [ev(3)], ev(4)]
    data = b" ".join(orjson.dumps(d) for d in docs)
    acc = Accumulator()
    actions = []
    for k in range(0, len(data), chunk):
        acc.add(1, data[k : k + chunk])
        actions += [(kind, bytes(acc.buf[a:b])) for kind, a, b, _ in acc.scan()]
    elems = [orjson.loads(x) for kind, x in actions if kind == "elem"]
    whole = [orjson.loads(x) for kind, x in actions if kind == "doc"]
    assert elems == docs[0]["events"] + docs[1]
    assert whole == docs
    assert not acc.open


def test_large_pretty_page_is_streamed_with_exact_item_lines():
    """Past 64 KiB the gathered text is compacted: items keep the line where each one starts."""
    from eksaudit.events import jsonscan

    page = {"events": [cw_record(i) for i in range(1500)], "searchedLogStreams": []}
    text = json.dumps(page, indent=2)
    held: list[int] = []
    orig = jsonscan.Accumulator.compact

    def spy(self):
        orig(self)
        held.append(len(self.buf))

    jsonscan.Accumulator.compact = spy
    try:
        out, st = read_bytes(text.encode())
    finally:
        jsonscan.Accumulator.compact = orig
    assert ids(out) == [f"id-{i}" for i in range(1500)] and st.bad == 0
    lines = text.splitlines()
    for e in out[::250]:
        assert lines[e.line - 1].strip() == "{" and f'"eventId": "e{e.obj["auditID"][3:]}"' in "".join(
            lines[e.line - 1 : e.line + 6])
    assert max(held) < len(text) // 4  # not held whole
