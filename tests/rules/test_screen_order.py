"""The screen's field order (rules/screen.py) depends on the events alone, never on timing.

An event that the screen rules out before any field reads its JSON is never parsed, so whether a
line that is not JSON gets reported depends on the order. When the order was learned from measured
extraction times, the same command could report such a line in one run and not in the next.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.jobs import run_jobs

from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import load_rules
from eksaudit.rules import screen as _screen

_RULES = "\n".join(
    f"- rule: r{i}\n  desc: d\n  condition: {c}\n  output: o %ka.verb\n  priority: WARNING\n  source: k8s_audit\n"
    for i, c in enumerate([
        "cw.ingestion_time exists and ka.verb = get", "cw.event_id contains x and ka.target.resource = pods",
        "cw.ingestion_time exists and jevt.rawtime exists", "ka.verb = delete and cw.event_id exists",
    ])
)


def _lines() -> bytes:
    out = []
    for i in range(300):
        verb = ["get", "delete", "list"][i % 3]
        out.append(b'{"kind":"Event","auditID":"a%d","verb":"%s","objectRef":{"resource":"pods"},'
                   b'"stageTimestamp":"2026-01-01T10:00:00.000000Z"}' % (i, verb.encode()))
        if i % 50 == 7:
            out.append(b'{"kind":"Event","auditID":"b%d","verb":"get",oops}' % i)
    return b"\n".join(out) + b"\n"


def test_the_order_is_learned_from_the_events_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(_RULES)
    events = [AuditEvent(line) for line in _lines().splitlines()]
    orders = set()
    clock = iter(range(10**6))
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock) ** 2 % 97)  # a clock that lies
    for _ in range(5):
        rs = load_rules([str(rules)], default_registry())
        for ev in events[: _screen.LEARN + 5]:
            rs.match(AuditEvent(ev.raw))
        orders.add(tuple(f.label for f in rs.screen.fields))
    assert len(orders) == 1


def test_lines_that_are_not_json_are_reported_alike_every_run(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(_RULES)
    path = tmp_path / "audit.jsonl"
    path.write_bytes(_lines())
    runs = {run_jobs(["filter", "-r", str(rules), str(path)], jobs=1, chunk=1 << 30) for _ in range(4)}
    assert len(runs) == 1
