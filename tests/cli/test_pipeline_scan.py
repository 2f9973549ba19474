"""scan(): the condition-only fast loop agrees with a plain evaluation, stats and --limit included."""

from __future__ import annotations

import io

import orjson
import pytest

from eksaudit.condition import compile_condition
from eksaudit.events import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.output import Console, OutputOptions, open_sink
from eksaudit.pipeline import ScanStats, scan

REG = default_registry()
VERBS = ["get", "list", "delete", "watch", "create"]


def _events() -> list[AuditEvent]:
    out = []
    for i in range(60):
        obj = {"kind": "Event", "auditID": f"a{i}", "verb": VERBS[i % 5],
               "objectRef": {"resource": "secrets" if i % 3 == 0 else "pods"}}
        out.append(AuditEvent(orjson.dumps(obj), line=i))
    out.append(AuditEvent(b'{"kind":"Event","auditID":"broken","verb":"delete","objectRef":{"resource":"secrets"}', line=99))  # not JSON
    return out


@pytest.mark.parametrize("expr", [
    "ka.verb=delete and ka.target.resource=secrets",  # with a prefilter
    "not ka.verb in (get, list, watch)",  # without one
    "ka.verb exists",
])
@pytest.mark.parametrize("limit", [None, 3])
def test_condition_scan_matches_plain_evaluation(expr, limit):
    cond = compile_condition(expr, REG)
    evs = _events()
    out = io.BytesIO()
    sink = open_sink(OutputOptions(limit=limit), Console(out, io.StringIO(), False, False), REG)
    bad: list[AuditEvent] = []
    st = scan(iter(evs), sink, condition=cond, on_unparsable=bad.append, stats=ScanStats(events=5))
    sink.close()
    want = [ev for ev in evs if cond.matches(ev)]
    if limit is not None:
        want = want[:limit]
        seen = evs.index(want[-1]) + 1
    else:
        seen = len(evs)
    assert out.getvalue() == b"".join(ev.raw + b"\n" for ev in want)
    assert (st.events, st.matched) == (5 + seen, len(want))
    # the broken line is reported when the scan reached it, parsed it (no prefilter rejected it) and it did
    # not match (`not ...` matches an event without values, as in Falco)
    broken = evs[-1]
    reported = seen == len(evs) and (cond.prefilter is None or cond.prefilter(broken.raw)) and broken not in want
    assert [ev.line for ev in bad] == ([99] if reported else [])
    if expr.startswith("ka.verb=delete") and limit is None:
        assert reported


def test_empty_input_keeps_the_counts():
    cond = compile_condition("ka.verb=get", REG)
    sink = open_sink(OutputOptions(quiet=True), Console(io.BytesIO(), io.StringIO(), False, False), REG)
    st = scan(iter(()), sink, condition=cond, stats=ScanStats(events=7, matched=2))
    assert (st.events, st.matched) == (7, 2)
