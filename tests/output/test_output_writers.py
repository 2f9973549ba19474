"""Each writer's exact output: jsonl, cw, table, csv, counts, falco, falco-json; colour decisions."""

from __future__ import annotations

import io

import orjson
import pytest

from eksaudit.events import AuditEvent, CwMeta
from eksaudit.output import ColorMode, Console, use_color
from eksaudit.output.columns import DEFAULT_COLUMNS, cell_text
from eksaudit.output.counts import CountsWriter
from eksaudit.output.csv import CsvWriter
from eksaudit.output.cw import CwWriter, cw_record, parse_ms
from eksaudit.output.falco import FalcoJsonWriter, FalcoTextWriter
from eksaudit.output.jsonl import JsonlWriter, event_lines
from eksaudit.output.options import OutputFormat
from eksaudit.output.query import Query
from eksaudit.output.table import TableWriter
from eksaudit.rules.model import Alert, Priority


def event(i: int = 1, *, raw: bytes | None = None, cw: CwMeta | None = None, **kw) -> AuditEvent:
    obj = {"kind": "Event", "auditID": f"a{i}", "verb": kw.pop("verb", "get"),
           "user": {"username": kw.pop("user", "alice")},
           "objectRef": kw.pop("ref", {"resource": "pods", "namespace": "default", "name": f"p{i}"}),
           "responseStatus": {"code": kw.pop("code", 200)},
           "stageTimestamp": f"2026-11-30T10:00:0{i % 10}.123456Z"}
    obj.update(kw)
    return AuditEvent(raw if raw is not None else orjson.dumps(obj), cw=cw, source="t", line=i)


def console(**kw) -> tuple[Console, io.BytesIO]:
    out = io.BytesIO()
    return Console(out, io.StringIO(), kw.pop("isatty", False), kw.pop("color", False), **kw), out


def test_jsonl_is_byte_exact():
    raw = b'{"kind":"Event",  "auditID":"x", "s":"\\u00fc"}'
    c, out = console()
    w = JsonlWriter(c)
    w.event(AuditEvent(raw))
    w.event(event(2))
    assert out.getvalue() == raw + b"\n" + event(2).raw + b"\n"
    assert list(event_lines([AuditEvent(raw)])) == [raw]


def test_jsonl_query():
    c, out = console()
    w = JsonlWriter(c, Query("{u: user.username, v: verb}"))
    w.event(event(1))
    w.event(AuditEvent(b"not json"))
    assert out.getvalue() == b'{"u":"alice","v":"get"}\nnull\n'


def test_line_buffered_flushes_each_line():
    class Counting(io.BytesIO):
        flushes = 0

        def flush(self):
            Counting.flushes += 1

    out = Counting()
    c = Console(out, io.StringIO(), stdout_isatty=False, color=False, line_buffered=True)
    JsonlWriter(c).event(event())
    assert Counting.flushes == 1
    c2 = Console(Counting(), io.StringIO(), False, False)
    JsonlWriter(c2).event(event())
    assert Counting.flushes == 1
    assert Console(io.BytesIO(), io.StringIO(), stdout_isatty=True).line_buffered


def test_cw_records_with_and_without_metadata():
    meta = CwMeta(log_stream="kube-apiserver-audit-1", timestamp=1700000000000, ingestion_time=1700000000400,
                  event_id="123")
    ev = event(1, cw=meta)
    c, out = console()
    w = CwWriter(c)
    w.event(ev)
    w.event(event(2))
    w.event(AuditEvent(b'{"no":"time"}'))
    lines = out.getvalue().splitlines()
    assert lines[0] == orjson.dumps({"logStreamName": "kube-apiserver-audit-1", "timestamp": 1700000000000,
                                     "ingestionTime": 1700000000400, "eventId": "123",
                                     "message": ev.raw.decode()})
    assert orjson.loads(lines[1]) == {"logStreamName": None, "timestamp": parse_ms("2026-11-30T10:00:02.123Z"),
                                      "ingestionTime": None, "eventId": None, "message": event(2).raw.decode()}
    assert orjson.loads(lines[2])["timestamp"] is None
    assert list(cw_record(ev)) == ["logStreamName", "timestamp", "ingestionTime", "eventId", "message"]


def test_cw_output_reads_back_identically():
    from eksaudit.events import read_events

    meta = CwMeta(log_stream="s", timestamp=5, ingestion_time=6, event_id="7")
    c, out = console()
    CwWriter(c).event(event(1, cw=meta))
    back = list(read_events(["-"], stdin=io.BytesIO(out.getvalue())))
    assert back[0].raw == event(1).raw and back[0].cw == meta


def test_parse_ms_forms():
    assert parse_ms("2026-11-30T10:00:00Z") == 1796032800000
    assert parse_ms("2026-11-30T10:00:00.5+01:00") == 1796032800000 - 3600_000 + 500
    assert parse_ms("2024-11-13 23:50:32.672347000") == 1731541832672
    assert parse_ms("yesterday") is None and parse_ms(None) is None


def test_table_default_columns_exact():
    c, out = console()
    w = TableWriter(c, DEFAULT_COLUMNS)
    w.event(event(1, code=403))
    w.event(event(2, verb="create", ref={"resource": "pods", "subresource": "exec", "namespace": "kube-system",
                                         "name": "x"}))
    w.event(event(3, ref={"resource": "nodes", "name": "ip-10-0-0-1"}, user="system:node:ip-10-0-0-1"))
    w.event(event(4, ref=None, requestURI="/healthz"))
    assert out.getvalue() == b""  # first batch held until full or closed
    w.close()
    assert out.getvalue().decode() == (
        "time                         user                     verb    resource    namespace/name    code\n"
        "---------------------------  -----------------------  ------  ----------  ----------------  ------\n"
        "2026-11-30T10:00:01.123456Z  alice                    get     pods        default/p1        403\n"
        "2026-11-30T10:00:02.123456Z  alice                    create  pods/exec   kube-system/x     200\n"
        "2026-11-30T10:00:03.123456Z  system:node:ip-10-0-0-1  get     nodes       ip-10-0-0-1       200\n"
        "2026-11-30T10:00:04.123456Z  alice                    get     /healthz                      200\n"
    )


def test_table_streams_after_first_batch_with_fixed_widths():
    c, out = console()
    w = TableWriter(c, [("verb", lambda e: e.obj["verb"]), ("n", lambda e: e.line)], batch=2)
    w.event(event(1))
    w.event(event(2))
    first = out.getvalue().decode()
    assert first == "verb    n\n------  ---\nget     1\nget     2\n"
    w.event(event(3, verb="deletecollection"))
    w.close()
    assert out.getvalue().decode()[len(first):] == "deletecollection  3\n"


def test_table_streaming_console_prints_each_row_and_colours_header():
    c, out = console(line_buffered=True, color=True)
    w = TableWriter(c, [("verb", lambda e: e.obj["verb"])])
    w.event(event(1))
    assert out.getvalue() == b"\x1b[1mverb\x1b[0m\n------\nget\n"
    w.close()
    c, out = console()
    TableWriter(c, DEFAULT_COLUMNS).close()
    assert out.getvalue() == b""


def test_table_keeps_cells_on_one_line():
    c, out = console()
    w = TableWriter(c, [("x", lambda e: "a\nb")])
    w.event(event())
    w.close()
    assert out.getvalue() == b"x\n----\na\\nb\n"


def test_csv_rows_lists_and_quoting():
    c, out = console()
    cols = [("ka.user.name", lambda e: e.obj["user"]["username"]), ("groups", lambda e: e.obj.get("groups")),
            ("code", lambda e: e.obj["responseStatus"]["code"])]
    w = CsvWriter(c, cols)
    w.event(event(1, groups=["system:masters", "x"]))
    w.event(event(2, user='say "hi"'))
    w.close()
    assert out.getvalue().decode() == (
        'ka.user.name,groups,code\nalice,"system:masters,x",200\n"say ""hi""",,200\n'
    )


def test_csv_header_even_without_rows():
    c, out = console()
    CsvWriter(c, DEFAULT_COLUMNS).close()
    assert out.getvalue() == b"time,user,verb,resource,namespace/name,code\n"


def test_cell_text():
    assert cell_text(None) == "" and cell_text(True) == "true" and cell_text([1, "a"]) == "1,a"


def _counts(fmt, evs, top=None, query=None):
    c, out = console()
    cols = [("verb", lambda e: e.obj["verb"]), ("groups", lambda e: e.obj.get("groups"))]
    w = CountsWriter(c, cols, fmt, top=top, query=query)
    for e in evs:
        w.event(e)
    w.close()
    return out.getvalue().decode()


EVS = [event(1, verb="list"), event(2, verb="get"), event(3, verb="get"), event(4, verb="watch", groups=["a", "b"]),
       event(5, verb="list"), event(6, verb="get"), event(7, verb="watch", groups=["a", "b"]),
       event(8, verb="create")]


def test_counts_jsonl_order_ties_by_first_appearance():
    assert _counts(OutputFormat.JSONL, EVS) == (
        '{"verb":"get","groups":null,"count":3}\n'
        '{"verb":"list","groups":null,"count":2}\n'
        '{"verb":"watch","groups":["a","b"],"count":2}\n'
        '{"verb":"create","groups":null,"count":1}\n'
    )


def test_counts_top_query_table_csv():
    assert _counts(OutputFormat.JSONL, EVS, top=2) == (
        '{"verb":"get","groups":null,"count":3}\n{"verb":"list","groups":null,"count":2}\n'
    )
    assert _counts(OutputFormat.JSONL, EVS, top=1, query=Query("[verb, count]")) == '["get",3]\n'
    assert _counts(OutputFormat.CSV, EVS, top=3) == 'verb,groups,count\nget,,3\nlist,,2\nwatch,"a,b",2\n'
    assert _counts(OutputFormat.TABLE, EVS, top=2) == (
        "verb    groups      count\n------  --------  -------\nget                     3\nlist                    2\n"
    )
    assert _counts(OutputFormat.TABLE, []) == ""
    assert _counts(OutputFormat.JSONL, []) == ""


def alert(priority=Priority.WARNING, ev=None) -> Alert:
    return Alert(rule="Exec into pod", priority=priority, source="k8s_audit", output="exec by alice",
                 output_fields={"ka.user.name": "alice"}, tags=("k8s", "mitre"), time_ns=1796032800123456789,
                 hostname="h", event=ev)


def test_falco_text_and_colour():
    c, out = console()
    w = FalcoTextWriter(c)
    a = alert()
    w.alert(a)
    assert out.getvalue() == a.format_text().encode() + b"\n"
    assert out.getvalue().decode().endswith(": Warning exec by alice\n")
    c, out = console(color=True)
    FalcoTextWriter(c).alert(alert(Priority.CRITICAL))
    assert b": \x1b[31mCritical\x1b[0m exec by alice\n" in out.getvalue()
    c, out = console(color=True)
    FalcoTextWriter(c).alert(alert(Priority.INFORMATIONAL))
    assert b"\x1b[" not in out.getvalue()


def test_falco_json_and_query():
    c, out = console()
    a = alert()
    FalcoJsonWriter(c).alert(a)
    assert out.getvalue() == a.to_json().encode() + b"\n"
    obj = orjson.loads(out.getvalue())
    assert obj["rule"] == "Exec into pod" and obj["priority"] == "Warning"
    c, out = console()
    FalcoJsonWriter(c, Query("{r: rule, u: output_fields.\"ka.user.name\"}")).alert(a)
    assert out.getvalue() == b'{"r":"Exec into pod","u":"alice"}\n'


@pytest.mark.parametrize(
    "mode,isatty,env,expected",
    [
        (ColorMode.AUTO, True, {}, True),
        (ColorMode.AUTO, False, {}, False),
        (ColorMode.AUTO, True, {"NO_COLOR": "1"}, False),
        (ColorMode.AUTO, True, {"NO_COLOR": ""}, True),
        (ColorMode.AUTO, True, {"TERM": "dumb"}, False),
        (ColorMode.ALWAYS, False, {"NO_COLOR": "1"}, True),
        (ColorMode.NEVER, True, {}, False),
        ("always", False, {}, True),
    ],
)
def test_colour_decisions(mode, isatty, env, expected):
    assert use_color(mode, isatty, env) is expected


def test_console_from_env_uses_given_streams():
    class Tty(io.BytesIO):
        def isatty(self):
            return True

    c = Console.from_env(ColorMode.AUTO, stdout=Tty(), stderr=io.StringIO(), environ={})
    assert c.stdout_isatty and c.color and c.line_buffered and not c.streaming
    c = Console.from_env("auto", stdout=io.BytesIO(), stderr=io.StringIO(), environ={}, line_buffered=True)
    assert not c.color and c.line_buffered and c.streaming
    c.message("hello")
    assert c.stderr.getvalue() == "hello\n"
