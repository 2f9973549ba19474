"""open_sink: format choice, option combinations, --fields, --limit, -q, --query errors, alerts."""

from __future__ import annotations

import io

import orjson
import pytest

from eksaudit.errors import FieldError, UsageError
from eksaudit.events import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.output import Console, OutputFormat, OutputOptions, open_sink
from eksaudit.rules.model import Alert, Priority

REG = default_registry()


def event(i: int, **kw) -> AuditEvent:
    obj = {"kind": "Event", "auditID": f"a{i}", "verb": kw.get("verb", "get"),
           "user": {"username": kw.get("user", "alice"), "groups": ["system:masters", "dev"]},
           "stage": "ResponseComplete", "stageTimestamp": "2026-11-30T10:00:00.000000Z"}
    return AuditEvent(orjson.dumps(obj), source="t", line=i)


def sink(opts: OutputOptions, **kw):
    out = io.BytesIO()
    c = Console(out, io.StringIO(), False, False)
    return open_sink(opts, c, REG, **kw), out


def alert(ev: AuditEvent, rule: str = "r1") -> Alert:
    return Alert(rule=rule, priority=Priority.NOTICE, source="k8s_audit", output=f"{rule} hit", output_fields={},
                 tags=(), time_ns=1_000_000_000, hostname="h", event=ev)


def test_default_jsonl_fast_path_and_count():
    s, out = sink(OutputOptions())
    for i in range(3):
        s.event(event(i))
    s.close()
    assert out.getvalue() == b"".join(event(i).raw + b"\n" for i in range(3))
    assert s.count == 3 and not s.done and s.format is OutputFormat.JSONL


def test_limit_sets_done_and_ignores_the_rest():
    s, out = sink(OutputOptions(limit=2))
    for i in range(5):
        s.event(event(i))
        if i == 1:
            assert s.done
    s.close()
    assert out.getvalue().count(b"\n") == 2 and s.count == 2


def test_quiet_prints_nothing_but_counts():
    s, out = sink(OutputOptions(quiet=True, format=OutputFormat.TABLE, limit=3))
    for i in range(4):
        s.event(event(i))
    s.close()
    assert out.getvalue() == b"" and s.count == 3 and s.done


def test_fields_jsonl_missing_null_lists_arrays():
    s, out = sink(OutputOptions(fields=["ka.user.name", "ka.user.groups", "ka.target.name"]))
    s.event(event(1))
    s.close()
    assert orjson.loads(out.getvalue()) == {"ka.user.name": "alice", "ka.user.groups": ["system:masters", "dev"],
                                            "ka.target.name": None}
    assert list(orjson.loads(out.getvalue())) == ["ka.user.name", "ka.user.groups", "ka.target.name"]


def test_fields_csv_and_table_use_field_columns():
    s, out = sink(OutputOptions(format=OutputFormat.CSV, fields=["ka.verb", "ka.user.groups"]))
    s.event(event(1))
    s.close()
    assert out.getvalue() == b'ka.verb,ka.user.groups\nget,"system:masters,dev"\n'
    s, out = sink(OutputOptions(format=OutputFormat.TABLE, fields=["ka.verb"]))
    s.event(event(1))
    s.close()
    assert out.getvalue() == b"ka.verb\n---------\nget\n"


def test_fields_query():
    s, out = sink(OutputOptions(fields=["ka.user.name"], query='"ka.user.name"'))
    s.event(event(1))
    s.close()
    assert out.getvalue() == b'"alice"\n'


def test_count_by_through_sink_with_limit():
    s, out = sink(OutputOptions(count_by=["ka.verb"], limit=3))
    for i, verb in enumerate(["get", "list", "list", "get", "get"]):
        s.event(event(i, verb=verb))
    s.close()
    assert out.getvalue() == b'{"ka.verb":"list","count":2}\n{"ka.verb":"get","count":1}\n'


def test_unknown_field_is_a_field_error_before_output():
    with pytest.raises(FieldError, match="ka.user.nam"):
        sink(OutputOptions(fields=["ka.user.nam"]))
    with pytest.raises(FieldError):
        sink(OutputOptions(count_by=["nope.x"]))


def test_bad_query_is_a_usage_error_with_the_message():
    with pytest.raises(UsageError) as ei:
        sink(OutputOptions(query="foo[?"))
    assert str(ei.value).startswith("invalid --query 'foo[?': ")


@pytest.mark.parametrize(
    "opts,rules,message",
    [
        (OutputOptions(format=OutputFormat.FALCO), False, "-o falco prints rule alerts: it needs rules (-r RULES)"),
        (OutputOptions(format=OutputFormat.FALCO_JSON), False,
         "-o falco-json prints rule alerts: it needs rules (-r RULES)"),
        (OutputOptions(top=3), False, "--top needs --count-by"),
        (OutputOptions(fields=["ka.verb"], format=OutputFormat.CW), False,
         "--fields prints field values: use it with -o jsonl, table or csv, not -o cw"),
        (OutputOptions(count_by=["ka.verb"], format=OutputFormat.FALCO), True,
         "--count-by prints field values: use it with -o jsonl, table or csv, not -o falco"),
        (OutputOptions(fields=["ka.verb"], count_by=["ka.verb"]), False,
         "--fields and --count-by cannot be used together (--count-by prints its fields)"),
        (OutputOptions(query="a", format=OutputFormat.TABLE), False,
         "--query reshapes JSON output: use it with -o jsonl, cw or falco-json, not -o table"),
        (OutputOptions(query="a"), True,
         "--query reshapes JSON output: use it with -o jsonl, cw or falco-json, not -o falco"),
        (OutputOptions(limit=0), False, "--limit must be at least 1"),
    ],
)
def test_invalid_combinations(opts, rules, message):
    with pytest.raises(UsageError) as ei:
        sink(opts, has_rules=rules)
    assert str(ei.value) == message


def test_rules_default_to_falco_text_and_count_alerts():
    s, out = sink(OutputOptions(), has_rules=True)
    assert s.format is OutputFormat.FALCO
    ev = event(1)
    a1, a2 = alert(ev, "r1"), alert(ev, "r2")
    s.alert(a1)
    s.alert(a2)
    s.close()
    assert out.getvalue().decode() == f"{a1.format_text()}\n{a2.format_text()}\n"
    assert s.count == 2


def test_rules_with_fields_default_to_jsonl_and_print_each_event_once():
    s, _ = sink(OutputOptions(count_by=["ka.verb"]), has_rules=True, default_format=OutputFormat.FALCO)
    assert s.format is OutputFormat.JSONL
    s, out = sink(OutputOptions(fields=["ka.verb"]), has_rules=True)
    assert s.format is OutputFormat.JSONL
    ev = event(1)
    s.alert(alert(ev, "r1"))
    s.alert(alert(ev, "r2"))
    s.alert(alert(event(2, verb="list")))
    s.close()
    assert out.getvalue() == b'{"ka.verb":"get"}\n{"ka.verb":"list"}\n'
    assert s.count == 3


def test_rules_with_jsonl_prints_events_and_limit_counts_alerts():
    s, out = sink(OutputOptions(format=OutputFormat.JSONL, limit=2), has_rules=True)
    ev = event(1)
    s.alert(alert(ev, "r1"))
    s.alert(alert(ev, "r2"))
    assert s.done
    s.alert(alert(event(2)))
    s.close()
    assert out.getvalue() == ev.raw + b"\n"


def test_falco_json_query_through_sink():
    s, out = sink(OutputOptions(format=OutputFormat.FALCO_JSON, query="rule"), has_rules=True)
    s.alert(alert(event(1), "my rule"))
    s.close()
    assert out.getvalue() == b'"my rule"\n'


def test_event_on_an_alert_format_is_refused():
    s, _ = sink(OutputOptions(), has_rules=True)
    with pytest.raises(UsageError):
        s.event(event(1))
