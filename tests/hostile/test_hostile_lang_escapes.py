"""Issue 14, finding 2: event text cannot forge alert lines or drive the terminal through text outputs.

An attacker controls the User-Agent (and URIs, object bodies). Printed raw, `\\r\\n` followed by a
timestamp makes a second line that reads as another alert, and ESC/OSC/CSI/BEL sequences retitle
the window or clear the screen. Text outputs (falco, table, csv on a terminal, counts, the summary)
show every control character as a visible escape; JSON outputs keep the value exact.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import orjson
import pytest
from support.cli import run_eksaudit

from eksaudit.events import AuditEvent
from eksaudit.output import Console
from eksaudit.output.columns import DEFAULT_COLUMNS
from eksaudit.output.counts import CountsWriter
from eksaudit.output.csv import CsvWriter
from eksaudit.output.falco import FalcoTextWriter
from eksaudit.output.options import OutputFormat
from eksaudit.output.table import TableWriter
from eksaudit.rules import Summary
from eksaudit.rules.model import Alert, Priority
from eksaudit.safetext import escape_controls

FORGED = "\r\n00:00:00.000000000: Notice Routine health check (user=system:admin)"
TERMINAL = "\x1b]0;owned\x07\x1b[2J\x1b[H\u009b31m\x7f\x00\x08 end"
RULES = """\
- rule: Odd client
  desc: any request
  condition: ka.verb = get
  output: Request by client (useragent=%ka.useragent uri=%ka.uri)
  priority: WARNING
  source: k8s_audit
"""

# what must never reach a terminal: C0 controls except the line's own newline, DEL, C1 (UTF-8)
_UNSAFE = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def _event(user_agent: str, uri: str = "/api/v1/namespaces/default/pods") -> dict:
    return {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "a-1",
        "stage": "ResponseComplete", "requestURI": uri, "verb": "get",
        "user": {"username": "alice", "groups": ["system:authenticated"]}, "sourceIPs": ["10.0.0.1"],
        "userAgent": user_agent, "objectRef": {"resource": "pods", "namespace": "default", "name": "p"},
        "responseStatus": {"code": 200}, "requestReceivedTimestamp": "2026-11-30T10:00:01.000000Z",
        "stageTimestamp": "2026-11-30T10:00:01.004000Z",
    }


@pytest.fixture
def files(tmp_path: Path):
    def make(user_agent: str) -> tuple[Path, Path]:
        log = tmp_path / "audit.jsonl"
        log.write_text(json.dumps(_event(user_agent)) + "\n")
        rules = tmp_path / "rules.yaml"
        rules.write_text(RULES)
        return rules, log

    return make


def test_a_forged_alert_in_the_user_agent_stays_on_the_alert_line(files):
    rules, log = files(FORGED)
    res = run_eksaudit("filter", "-r", str(rules), str(log), "-o", "falco")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split(b"\n")
    assert len(lines) == 2 and lines[1] == b"", res.stdout  # exactly one alert line
    assert b"\r" not in res.stdout
    assert b"useragent=\\r\\n00:00:00.000000000: Notice Routine health check" in lines[0]
    assert re.match(rb"\d\d:\d\d:\d\d\.004000000: Warning Request by client \(useragent=\\r\\n00:00", lines[0])


@pytest.mark.parametrize("fmt", ["falco", "table", "csv"])
def test_terminal_sequences_never_reach_the_terminal(files, fmt):
    rules, log = files(TERMINAL)
    args = ["filter", "-r", str(rules), str(log), "-o", fmt]
    if fmt != "falco":
        args += ["--fields", "ka.useragent,ka.verb"]
    res = run_eksaudit(*args)
    assert res.returncode == 0, res.stderr
    if fmt == "csv":
        # piped, CSV is data: the value is exact (quoted); on a terminal it is escaped (below)
        assert b"\x1b]0;owned\x07" in res.stdout
        return
    assert not _UNSAFE.search(res.stdout), res.stdout
    assert b"\\x1b]0;owned\\x07\\x1b[2J\\x1b[H\\x9b31m\\x7f\\x00\\x08 end" in res.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "falco-json", "cw"])
def test_json_outputs_keep_the_value_exact(files, fmt):
    rules, log = files(FORGED + TERMINAL)
    res = run_eksaudit("filter", "-r", str(rules), str(log), "-o", fmt)
    assert res.returncode == 0, res.stderr
    (line,) = res.stdout.splitlines()
    obj = orjson.loads(line)
    if fmt == "cw":
        obj = orjson.loads(obj["message"])
    if fmt == "falco-json":
        assert obj["output_fields"]["ka.useragent"] == FORGED + TERMINAL
        assert FORGED + TERMINAL in obj["output"]
    else:
        assert obj["userAgent"] == FORGED + TERMINAL


def _console(isatty: bool = False) -> tuple[Console, io.BytesIO]:
    out = io.BytesIO()
    return Console(out, io.StringIO(), isatty, False), out


def _ev(user_agent: str) -> AuditEvent:
    return AuditEvent(orjson.dumps(_event(user_agent)), source="t", line=1)


def test_falco_text_writer_escapes_before_colouring():
    out = io.BytesIO()
    c = Console(out, io.StringIO(), True, True)
    a = Alert("r", Priority.WARNING, "k8s_audit", output="ua=" + FORGED + TERMINAL, time_ns=0)
    FalcoTextWriter(c).alert(a)
    text = out.getvalue()
    assert text.count(b"\n") == 1 and text.endswith(b"\n")
    # the only escape sequences left are the writer's own colour around the priority
    assert re.sub(rb"\x1b\[(?:33|0)m", b"", text) == escape_controls(a.format_text()).encode() + b"\n"
    assert not _UNSAFE.search(re.sub(rb"\x1b\[(?:33|0)m", b"", text))


def test_lone_surrogates_print_as_escapes_instead_of_failing():
    c, out = _console()
    FalcoTextWriter(c).alert(Alert("r", Priority.NOTICE, "k8s_audit", output="x\ud800y", time_ns=0))
    assert out.getvalue().endswith(b"Notice x\\ud800y\n")
    c, out = _console()
    t = TableWriter(c, [("ua", lambda e: "x\udcffy")])
    t.event(_ev("x"))
    t.close()
    assert b"x\\udcffy" in out.getvalue()


def test_table_cells_headers_and_counts_are_escaped():
    c, out = _console()
    t = TableWriter(c, [("ua\x1b", lambda e: e.obj["userAgent"])], batch=1)
    t.event(_ev(TERMINAL))
    t.event(_ev(FORGED))  # after the first batch: the fixed-width path
    t.close()
    lines = out.getvalue().split(b"\n")
    assert len(lines) == 5 and lines[-1] == b""
    assert not _UNSAFE.search(out.getvalue())
    assert lines[0].startswith(b"ua\\x1b")
    c, out = _console()
    w = CountsWriter(c, [("ua", lambda e: e.obj["userAgent"])], OutputFormat.TABLE)
    w.event(_ev(FORGED))
    w.close()
    assert not _UNSAFE.search(out.getvalue())
    assert out.getvalue().count(b"\n") == 3


def test_csv_is_exact_in_a_pipe_and_escaped_on_a_terminal():
    cols = [("ua", lambda e: e.obj["userAgent"])]
    c, out = _console(isatty=False)
    w = CsvWriter(c, cols)
    w.event(_ev(FORGED))
    w.close()
    assert out.getvalue().decode() == 'ua\n"' + FORGED + '"\n'  # RFC 4180 keeps the newline in quotes
    c, out = _console(isatty=True)
    w = CsvWriter(c, cols)
    w.event(_ev(FORGED + TERMINAL))
    w.close()
    assert out.getvalue().count(b"\n") == 2 and not _UNSAFE.search(out.getvalue())
    c, out = _console(isatty=True)
    counts = CountsWriter(c, cols, OutputFormat.CSV)
    counts.event(_ev(FORGED))
    counts.close()
    assert out.getvalue() == b"ua,count\n\\r\\n00:00:00.000000000: Notice Routine health check (user=system:admin),1\n"
    assert DEFAULT_COLUMNS  # the default columns go through the same writers


def test_summary_keeps_one_line_per_rule():
    s = Summary()
    s.add(Alert("evil\r\nEvents detected: 0\x1b[2J", Priority.WARNING, "k8s_audit", output="", time_ns=0))
    text = s.render()
    assert "\x1b" not in text and "\r" not in text
    assert "   evil\\r\\nEvents detected: 0\\x1b[2J: 1" in text.splitlines()


def test_escape_controls_table():
    assert escape_controls("plain text, ünïcödé \\ and 日本") == "plain text, ünïcödé \\ and 日本"
    assert escape_controls("a\tb\nc\rd") == "a\\tb\\nc\\rd"
    assert escape_controls("\x00\x1b\x7f\x80\x9b\x9f\xa0") == "\\x00\\x1b\\x7f\\x80\\x9b\\x9f\xa0"


def test_messages_about_a_hostile_rules_file_are_escaped(tmp_path: Path):
    rules = tmp_path / "evil.yaml"
    rules.write_text('- rule: "evil\\x1b[2J name"\n  desc: d\n  condition: ka.verb = get\n  output: o\n'
                     "  priority: INFO\n  source: k8s_audit\n  bogus_key: 1\n"
                     '- rule: "evil\\x1b]0;t\\x07\\r"\n  desc: d\n  condition: ka.verb = nope and\n  output: o\n'
                     "  priority: INFO\n  source: k8s_audit\n")
    res = run_eksaudit("filter", "-r", str(rules), "/dev/null")
    assert res.returncode == 2
    assert not _UNSAFE.search(res.stderr), res.stderr
    assert b"rule 'evil\\x1b[2J name': Unknown key 'bogus_key'" in res.stderr
    assert b"rule 'evil\\x1b]0;t\\x07\\r': condition: expected blank or '(' after 'and'" in res.stderr
    assert res.stderr.count(b"\n") == 4  # the warning, the error, the condition line and its caret
