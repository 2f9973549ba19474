"""Output formats, alert lines (text and JSON), priorities and the end-of-run summary."""

from __future__ import annotations

import json
import time

import pytest

from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import Alert, Priority, Summary
from eksaudit.rules.formatting import FormatError, OutputFormatter
from eksaudit.rules.model import event_time_ns, parse_rfc3339_ns

REG = default_registry()
EVENT = AuditEvent.from_obj({
    "kind": "Event", "auditID": "a1", "stage": "ResponseComplete", "verb": "create",
    "requestURI": "/api/v1/namespaces/dev/pods/web/exec?command=id&command=-u",
    "user": {"username": "Alice", "groups": ["devs", "system:authenticated"]},
    "objectRef": {"resource": "pods", "namespace": "dev", "name": "web"},
    "responseStatus": {"code": 201},
    "stageTimestamp": "2026-03-01T10:00:00.123456Z",
    "requestObject": {"spec": {"containers": [{"image": "nginx"}, {"image": "busybox"}]}},
})


def render(fmt: str) -> tuple[str, dict]:
    return OutputFormatter(fmt, REG).render(EVENT)


def test_fields_lists_missing_and_arguments() -> None:
    text, fields = render("user=%ka.user.name groups=%ka.user.groups ns=%ka.target.namespace sub=%ka.target.subresource")
    assert text == "user=Alice groups=(devs,system:authenticated) ns=dev sub=<NA>"
    assert fields == {
        "ka.user.name": "Alice", "ka.user.groups": ["devs", "system:authenticated"],
        "ka.target.namespace": "dev", "ka.target.subresource": None,
    }
    text, fields = render("cmd=%ka.uri.param[command] img=%ka.req.pod.containers.image code=%ka.response.code")
    assert text == "cmd=id img=(nginx,busybox) code=201"
    assert fields["ka.uri.param[command]"] == "id" and fields["ka.response.code"] == 201


def test_tokens_end_where_the_field_name_ends() -> None:
    assert render("%ka.target.name/%ka.target.resource.")[0] == "web/pods."
    assert render("%ka.verbX")[0] == "createX"  # greedy, then the longest known field
    assert render("%ka.target.namespace")[0] == "dev"  # not ka.target.name + "space"


def test_width_and_transformers() -> None:
    assert render("[%10ka.verb]")[0] == "[create    ]"
    assert render("[%3ka.verb]")[0] == "[cre]"
    text, fields = render("%toupper(ka.user.name) %tolower(ka.user.name)")
    assert text == "ALICE alice"
    assert fields == {"ka.user.name": "Alice"}  # transformed tokens show their plain field


@pytest.mark.parametrize(("fmt", "message"), [
    ("ends with %", "formatting cannot end with a %"),
    ("%(ka.verb)", "unknown filter"),
    ("%ka.nosuch", "unknown filter"),
    ("% ka.verb", "unknown filter"),
    ("%ka.uri.param", "nonexistent field"),
    # transformers checked as in conditions: at load, not as a traceback at the first alert
    ("%len(ka.response.code)", "transformer 'len' does not support fields of type uint64"),
    ("%toupper(ka.response.code)", "transformer 'toupper' does not support fields of type uint64"),
    ("%tolower(len(ka.verb))", "transformer 'tolower' does not support fields of type uint64"),
])
def test_bad_formats(fmt: str, message: str) -> None:
    with pytest.raises(FormatError, match=message.replace("%", "%")):
        OutputFormatter(fmt, REG)


def test_transformers_of_the_types_they_take_load() -> None:
    for fmt in ("%len(ka.verb)", "%len(ka.req.pod.containers.image)", "%b64(ka.user.name)", "%len(toupper(ka.verb))",
                "%basename(ka.uri)"):
        OutputFormatter(fmt, REG)


def test_priority_parsing_and_names() -> None:
    assert Priority.parse("WARNING") is Priority.WARNING
    assert Priority.parse("info") is Priority.parse("Informational") is Priority.INFORMATIONAL
    assert Priority.parse("eMeRgEnCy") is Priority.EMERGENCY
    assert Priority.INFORMATIONAL.long_name == "Informational" and Priority.INFORMATIONAL.short_name == "INFO"
    assert Priority.CRITICAL < Priority.DEBUG  # more severe is smaller
    with pytest.raises(ValueError):
        Priority.parse("loud")


def test_event_time_is_stage_timestamp() -> None:
    assert parse_rfc3339_ns("2026-03-01T10:00:00.123456Z") == 1772359200_123456000
    assert parse_rfc3339_ns("2026-03-01T12:00:00.5+02:00") == 1772359200_500000000
    assert parse_rfc3339_ns("yesterday") is None
    assert event_time_ns(EVENT) == 1772359200_123456000
    bare = AuditEvent.from_obj({"requestReceivedTimestamp": "2026-03-01T10:00:01Z"})
    assert event_time_ns(bare) == 1772359201_000000000


def alert(**kw) -> Alert:
    base = dict(rule="R1", priority=Priority.WARNING, source="k8s_audit", output="héllo %",
                output_fields={"ka.verb": "create", "ka.user.groups": ["a"], "ka.target.name": None},
                tags=("b", "a"), time_ns=1772359200_123456789, hostname="box")
    base.update(kw)
    return Alert(**base)


def test_text_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert alert().format_text() == "10:00:00.123456789: Warning héllo %"
        assert alert().format_text(iso8601=True) == "2026-03-01T10:00:00.123456789+0000: Warning héllo %"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_json_alert_has_falcos_keys_sorted() -> None:
    line = alert().to_json()
    obj = json.loads(line)
    assert list(obj) == sorted(obj) == ["hostname", "output", "output_fields", "priority", "rule", "source", "tags", "time"]
    assert obj["time"] == "2026-03-01T10:00:00.123456789Z"
    assert obj["priority"] == "Warning" and obj["tags"] == ["a", "b"] and obj["hostname"] == "box"
    assert obj["output_fields"] == {
        "evt.time": 1772359200_123456789, "ka.target.name": None, "ka.user.groups": ["a"], "ka.verb": "create",
    }
    assert obj["output"].endswith(": Warning héllo %")
    assert line.startswith('{"hostname":"box","output":"') and "héllo" in line  # compact, non-ASCII kept


def test_alerts_render_lazily_from_the_event() -> None:
    fmt = OutputFormatter("%ka.user.name did %ka.verb", REG)
    calls = []

    def renderer(ev):
        calls.append(ev)
        return fmt.render(ev)

    a = Alert("R", Priority.NOTICE, "k8s_audit", tags=("t",), hostname="h", event=EVENT, renderer=renderer)
    assert calls == []
    assert a.output == "Alice did create" and a.output_fields == {"ka.user.name": "Alice", "ka.verb": "create"}
    assert len(calls) == 1 and a.time_ns == 1772359200_123456000


def test_summary_layout() -> None:
    s = Summary(["First", "Second", "Third"])
    assert s.render() == "Events detected: 0\nRule counts by severity:\nTriggered rules by rule name:\n"
    for rule, prio in (("Third", Priority.INFORMATIONAL), ("First", Priority.WARNING), ("Third", Priority.INFORMATIONAL)):
        s.add(alert(rule=rule, priority=prio))
    assert s.render() == (
        "Events detected: 3\n"
        "Rule counts by severity:\n"
        "   WARNING: 1\n"
        "   INFO: 2\n"
        "Triggered rules by rule name:\n"
        "   First: 1\n"
        "   Third: 2\n"
    )


def test_the_alert_hostname_is_the_machines_unless_falco_hostname_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """As Falco: `$FALCO_HOSTNAME`, else the host name (read from uname, as gethostname() does)."""
    import socket

    from eksaudit.rules.model import default_hostname

    monkeypatch.delenv("FALCO_HOSTNAME", raising=False)
    assert default_hostname() == socket.gethostname()
    monkeypatch.setenv("FALCO_HOSTNAME", "node-7")
    assert default_hostname() == "node-7"
    monkeypatch.setenv("FALCO_HOSTNAME", "")
    assert default_hostname() == socket.gethostname()


def test_the_rules_engines_alerts_are_those_of_the_constructor() -> None:
    """`Alert.lazy` (what `Ruleset` builds per alert) sets what `Alert(...)` with renderers sets."""
    ev = AuditEvent(b"{}", obj={"stageTimestamp": "2026-02-01T10:00:00.000001Z", "verb": "get"})

    def render(e):
        return ("o " + e.obj["verb"], {"ka.verb": e.obj["verb"]})

    def text(e):
        return "o " + e.obj["verb"]

    a = Alert("r", Priority.NOTICE, "k8s_audit", tags=("a", "b"), hostname="h", event=ev, renderer=render,
              text_renderer=text)
    b = Alert.lazy("r", Priority.NOTICE, "k8s_audit", ("a", "b"), "h", ev, render, text)
    assert [getattr(b, k) for k in Alert.__slots__] == [getattr(a, k) for k in Alert.__slots__]
    assert a == b and b.format_text() == a.format_text() and b.to_dict() == a.to_dict()
