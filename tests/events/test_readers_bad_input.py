"""read_events on bad input: reported with exact file:line, the rest still read; strict stops."""

from __future__ import annotations

import gzip
import io
import json

import orjson
import pytest

from eksaudit.errors import InputError
from eksaudit.events import BadLine, ReadStats, read_events, unparsable


def line(i: int) -> bytes:
    return orjson.dumps({"kind": "Event", "auditID": f"id-{i}", "verb": "get"})


def run(data: bytes, **kw):
    bad: list[BadLine] = []
    out = list(read_events(["-"], stdin=io.BytesIO(data), on_bad=bad.append, **kw))
    return [e.obj["auditID"] for e in out], [(b.line, b.reason) for b in bad]


def test_truncated_and_garbage_lines_reported_with_line_numbers():
    truncated = line(9)[:30] + b"[Truncated...]"
    data = line(1) + b"\n" + truncated + b"\n" + line(2) + b"\nhello world\n" + line(3) + b"\n"
    ids, bad = run(data)
    assert ids == ["id-1", "id-2", "id-3"]
    assert bad == [(2, "event truncated by CloudWatch ([Truncated...])"), (4, "not JSON: 'hello world'")]


def test_bad_line_str_and_stats_warning(tmp_path):
    p = tmp_path / "a.log"
    p.write_bytes(line(1) + b"\nxx\n" + line(2)[:20] + b"[Truncated...]\nyy\n")
    st = ReadStats()
    assert len(list(read_events([str(p)], on_bad=st.on_bad))) == 1
    assert st.bad == 3 and st.truncated == 1
    assert st.warning() == f"3 unreadable lines skipped, 1 truncated by CloudWatch (first: {p}:2: not JSON: 'xx')"
    assert ReadStats().warning() is None


def test_wrapper_item_with_truncated_or_non_json_message():
    recs = [
        {"timestamp": 1, "message": line(1).decode()},
        {"timestamp": 2, "message": line(2).decode()[:25] + "[Truncated...]"},
        {"timestamp": 3, "message": "plain text log"},
    ]
    page = {"events": recs}
    ids, bad = run(orjson.dumps(page) + b"\n")
    assert ids == ["id-1"]
    assert bad == [
        (1, "events[1]: message truncated by CloudWatch ([Truncated...])"),
        (1, "events[2]: message is not a JSON object: 'plain text log'"),
    ]


def test_truncated_record_line_as_fetch_prints_it():
    rec = {"logStreamName": "s", "timestamp": 1, "ingestionTime": 2, "eventId": "e",
           "message": line(1).decode()[:20] + "[Truncated...]"}
    ids, bad = run(line(0) + b"\n" + orjson.dumps(rec) + b"\n")
    assert ids == ["id-0"] and bad == [(2, "message truncated by CloudWatch ([Truncated...])")]


def test_pretty_document_items_report_their_own_line():
    page = {"events": [{"timestamp": 1, "message": line(1).decode()},
                       {"timestamp": 2, "message": "oops"}]}
    text = json.dumps(page, indent=2)
    ids, bad = run(text.encode())
    lines = text.splitlines()
    assert ids == ["id-1"]
    (ln, reason), = bad
    assert reason == "events[1]: message is not a JSON object: 'oops'"
    assert lines[ln - 1].strip() == "{"
    assert '"oops"' in "\n".join(lines[ln - 1 : ln + 3])


def test_stray_open_brace_loses_nothing_else():
    data = b"{\n" + line(1) + b"\n" + line(2) + b"\n"
    ids, bad = run(data)
    assert ids == ["id-1", "id-2"]
    assert bad == [(1, "unterminated JSON document (input ends inside it)")]


def test_unbalanced_document_that_closes_is_reported_and_lines_reread():
    data = b"{\n" + line(1) + b"\n}\n" + line(2) + b"\n"
    ids, bad = run(data)
    assert ids == ["id-1", "id-2"]
    assert bad[0][0] == 1 and bad[0][1].startswith("invalid JSON:")
    assert bad[1] == (3, "not JSON: '}'")


def test_document_size_limit_then_reread():
    data = b"[\n" + b"".join(line(i) + b"\n" for i in range(5))
    # a top-level array is streamed, so no size problem; an object that never closes is limited
    ids, bad = run(data)
    assert ids == [f"id-{i}" for i in range(5)] and bad == [(1, "unterminated JSON document (input ends inside it)")]
    data = b'{"a":\n' + b"".join(line(i) + b"\n" for i in range(50))
    ids, bad = run(data, max_document_bytes=500)
    assert ids == [f"id-{i}" for i in range(50)]
    assert bad == [(1, "JSON document not closed within 500 bytes")]


def test_invalid_json_inside_streamed_array_item():
    data = b"[\n" + line(1) + b",\n{\"kind\": \"Event\", \"auditID\": tru},\n" + line(3) + b"\n]\n"
    ids, bad = run(data)
    assert ids == ["id-1", "id-3"]
    assert bad[0][0] == 3 and bad[0][1].startswith("[1]: invalid JSON:")


def test_scalar_json_values_are_not_events():
    ids, bad = run(b'[1, "x"]\n"just a string"\n42\n')
    assert ids == []
    assert bad == [(1, "[0]: not an audit event (a JSON int)"), (1, "[1]: not an audit event (a JSON str)"),
                   (2, "not JSON: '\"just a string\"'"), (3, "not JSON: '42'")]


def test_malformed_event_line_passes_through_unparsed_and_can_be_reported():
    raw = b'{"kind":"Event","auditID": nope}'
    out = list(read_events(["-"], stdin=io.BytesIO(raw + b"\n")))
    assert out[0].raw == raw and out[0].obj is None
    assert unparsable(out[0]) == BadLine("<stdin>", 1, "not valid JSON")
    assert unparsable(next(read_events(["-"], stdin=io.BytesIO(line(1))))) is None


def test_strict_raises_at_first_bad_line(tmp_path):
    p = tmp_path / "s.log"
    p.write_bytes(line(1) + b"\n" + line(2) + b"\nbad\n" + line(3) + b"\n")
    seen = []
    with pytest.raises(InputError) as ei:
        for ev in read_events([str(p)], strict=True):
            seen.append(ev.obj["auditID"])
    assert seen == ["id-1", "id-2"]
    assert str(ei.value) == f"{p}:3: not JSON: 'bad'"
    assert (ei.value.source, ei.value.line) == (str(p), 3)


def test_missing_file_raises_or_is_reported_and_skipped(tmp_path):
    good = tmp_path / "good.log"
    good.write_bytes(line(1) + b"\n")
    missing = str(tmp_path / "nope.log")
    with pytest.raises(InputError) as ei:
        list(read_events([missing, str(good)]))
    assert str(ei.value) == f"{missing}: cannot open: No such file or directory"
    st = ReadStats()
    out = list(read_events([missing, str(good)], on_missing=st.on_missing))
    assert [e.obj["auditID"] for e in out] == ["id-1"]
    assert [str(e) for e in st.missing] == [f"{missing}: cannot open: No such file or directory"]
    with pytest.raises(InputError):
        list(read_events([missing, str(good)], strict=True, on_missing=st.on_missing))
    with pytest.raises(InputError, match="Is a directory"):
        list(read_events([str(tmp_path)]))


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    p = tmp_path / "cut.gz"
    blob = gzip.compress(b"".join(line(i) + b"\n" for i in range(2000)))
    p.write_bytes(blob[: len(blob) // 2])
    st = ReadStats()
    out = list(read_events([str(p)], on_bad=st.on_bad))
    assert 0 < len(out) < 2000
    assert [e.line for e in out] == list(range(1, len(out) + 1))
    assert st.bad == 1 and "cannot decompress" in st.first.reason
    assert st.first.line in (len(out) + 1, len(out) + 2)


def test_corrupt_gzip_header(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00garbage-not-deflate")
    st = ReadStats()
    assert list(read_events([str(p)], on_bad=st.on_bad)) == []
    assert st.bad == 1 and st.first.line == 1 and st.first.reason.startswith("cannot decompress")


def test_bad_export_line_message():
    ids, bad = run(b"2026-11-30T10:00:00.000Z not json\n2026-11-30T10:00:00.000Z {\"kind\":\"Event\"[Truncated...]\n")
    assert ids == []
    assert bad == [(1, "export line: message is not a JSON object: 'not json'"),
                   (2, "export line: message truncated by CloudWatch ([Truncated...])")]
