"""The jsonl fast path batches raw lines: same bytes as line by line, nothing lost when a scan stops."""

from __future__ import annotations

import io

import orjson
import pytest

from eksaudit.events import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.output import Console, OutputOptions, open_sink
from eksaudit.output import sink as sink_mod
from eksaudit.pipeline import scan

REG = default_registry()


def _events(n: int) -> list[AuditEvent]:
    return [
        AuditEvent(orjson.dumps({"kind": "Event", "auditID": f"a{i}", "verb": "get", "pad": "x" * (i % 50)}), line=i)
        for i in range(n)
    ]


def _sink(line_buffered: bool = False):
    out = io.BytesIO()
    console = Console(out, io.StringIO(), False, False, line_buffered=line_buffered)
    return open_sink(OutputOptions(), console, REG), out


@pytest.mark.parametrize("batch", [1, 100, 1 << 18])
@pytest.mark.parametrize("line_buffered", [False, True])
def test_batched_output_is_the_raw_lines(monkeypatch, batch, line_buffered):
    monkeypatch.setattr(sink_mod, "_BATCH", batch)
    evs = _events(300)
    s, out = _sink(line_buffered)
    for ev in evs:
        s.event(ev)
    s.close()
    assert out.getvalue() == b"".join(ev.raw + b"\n" for ev in evs)
    assert s.count == 300


def test_line_buffered_output_is_written_at_once():
    s, out = _sink(line_buffered=True)
    ev = _events(1)[0]
    s.event(ev)
    assert out.getvalue() == ev.raw + b"\n"


def test_an_interrupted_scan_still_writes_what_matched():
    evs = _events(10)

    def source():
        yield from evs[:4]
        raise KeyboardInterrupt

    s, out = _sink()
    with pytest.raises(KeyboardInterrupt):
        scan(source(), s)
    assert out.getvalue() == b"".join(ev.raw + b"\n" for ev in evs[:4])


def test_alerts_after_batched_events_keep_their_order():
    from eksaudit.rules.model import Alert, Priority

    a, b = _events(2)
    s, out = _sink()
    s.event(a)
    s.alert(Alert(rule="r", priority=Priority.NOTICE, source="k8s_audit", output="o", output_fields={}, tags=(),
                  time_ns=0, hostname="h", event=b))
    s.close()
    assert out.getvalue() == a.raw + b"\n" + b.raw + b"\n"


class _CountingStream(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_flush_writes_the_batch_and_flushes_the_stream():
    # commands that checkpoint call sink.flush() before recording what was delivered
    out = _CountingStream()
    s = open_sink(OutputOptions(), Console(out, io.StringIO(), False, False), REG)
    ev = _events(1)[0]
    s.event(ev)
    assert out.getvalue() == b""  # held in the batch
    s.flush()
    assert out.getvalue() == ev.raw + b"\n"
    assert out.flushes == 1


def _alerts(n: int) -> list:
    from eksaudit.rules.model import Alert, Priority

    out = []
    for i, ev in enumerate(_events(n)):
        text = "user=\x1b[2Jmallory\r\nforged" if i % 7 == 3 else f"user=u{i} verb=get " + "x" * (i % 90)
        out.append(Alert(rule=f"r{i % 3}", priority=Priority(i % 8), source="k8s_audit", output=text,
                         output_fields={"ka.user.name": f"u{i}"}, tags=("t",), time_ns=1_700_000_000_000_000_000 + i,
                         hostname="h", event=ev))
    return out


@pytest.mark.parametrize("fmt", ["falco", "falco-json"])
@pytest.mark.parametrize("batch", [1, 100, 1 << 18])
@pytest.mark.parametrize("line_buffered", [False, True])
def test_batched_alerts_are_the_lines_the_writer_prints(monkeypatch, fmt, batch, line_buffered):
    """Alerts held and written in batches (`BATCH_ALERTS`) are byte for byte what `Sink.alert` and
    the writer print one by one (control characters escaped), the count the same, nothing left
    held after `close()`."""
    monkeypatch.setattr(sink_mod, "_BATCH", batch)
    printed = []
    for batched in (True, False):
        monkeypatch.setattr(sink_mod, "BATCH_ALERTS", batched)
        out = io.BytesIO()
        console = Console(out, io.StringIO(), False, False, line_buffered=line_buffered)
        s = open_sink(OutputOptions(format=fmt), console, REG, has_rules=True)
        for a in _alerts(120):
            s.alert(a)
        s.close()
        printed.append((out.getvalue(), s.count))
    assert printed[0] == printed[1]
    assert printed[0][1] == 120 and printed[0][0].count(b"\n") == 120
    assert b"\x1b" not in printed[0][0]


def test_batched_alerts_are_held_until_flushed():
    out = io.BytesIO()
    s = open_sink(OutputOptions(format="falco"), Console(out, io.StringIO(), False, False), REG, has_rules=True)
    s.alert(_alerts(1)[0])
    assert out.getvalue() == b""
    s.flush()
    assert out.getvalue().endswith(b"verb=get \n") and s.count == 1
