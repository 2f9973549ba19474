"""The ruleset's per-event field memo (rules/memo.py) against its slow twin, `memo.MEMO = False`."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest
from soundness_kit import demo_events, rules_named, run, sample, trace_events, write
from support.conformance import conformance_dir

from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import memo


def _both(path: Path, rules: list[str]) -> tuple[object, object]:
    fast = run(path, rules=rules)
    memo.MEMO = False
    try:
        slow = run(path, rules=rules)
    finally:
        memo.MEMO = True
    return fast, slow


@pytest.mark.parametrize("rules_name", ["eks", "upstream"])
def test_alerts_and_outputs_are_the_same_with_and_without_the_memo(tmp_path: Path, rules_name: str) -> None:
    root = conformance_dir()
    rules = rules_named(rules_name, root)
    pool = demo_events() + trace_events(root)
    pool += sample(random.Random(2), pool, 200)  # the same event twice in a row, now and then
    path = write(tmp_path, "in.jsonl", b"".join(orjson.dumps(e) + b"\n" for e in pool))
    fast, slow = _both(path, rules)
    assert len(slow.alerts) > 10  # type: ignore[attr-defined]
    assert fast.alerts == slow.alerts  # type: ignore[attr-defined]
    assert fast.outputs == slow.outputs  # type: ignore[attr-defined]


def test_the_memo_answers_for_the_same_event_only() -> None:
    calls: list[object] = []

    def extract(ev: object) -> object:
        calls.append(ev)
        return getattr(ev, "raw", None)

    remembered = memo.remember_last(extract)
    a, b = AuditEvent(b'{"a":1}'), AuditEvent(b'{"a":1}')  # equal text, different events
    assert remembered(a) == remembered(a) == b'{"a":1}'
    assert remembered(b) == b'{"a":1}' and remembered(a) == b'{"a":1}'
    assert calls == [a, b, a]


def test_one_bound_field_per_reference_across_the_ruleset() -> None:
    r = memo.MemoResolver(default_registry())
    assert r.resolve("ka.user.name", None) is r.resolve("ka.user.name", None)
    assert r.resolve("ka.user.extra", "arn") is not r.resolve("ka.user.extra", "sessionName")
    assert "ka.verb" in set(r.names())
