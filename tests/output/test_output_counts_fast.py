"""The one-column `--count-by` counter and the direct sink path count exactly like the general ones."""

from __future__ import annotations

import io

from eksaudit.events import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.output import Console, OutputOptions, open_sink
from eksaudit.output.counts import Counter

REG = default_registry()
VALUES = ["a", None, ["x", "y"], 3, {"k": [1, 2]}, "a", ["x", "y"], None, {"k": [1, 2]}, "b", 3, "a"]


def _events():
    return [AuditEvent(b"{}", obj={"v": v}) for v in VALUES]


def test_one_column_counter_equals_the_general_add():
    cols = [("v", lambda ev: ev.obj["v"])]
    fast, general = Counter(cols), Counter(cols)
    for ev in _events():
        fast.add(ev)
        Counter.add(general, ev)  # the general method, not the one-column closure
    assert not hasattr(fast.add, "__self__")  # the one-column closure is in use
    assert list(fast.counts.items()) == list(general.counts.items())
    assert fast.ranked() == general.ranked()


def test_count_by_through_the_sink():
    out = io.BytesIO()
    sink = open_sink(OutputOptions(count_by=["ka.verb"]), Console(out, io.StringIO(), False, False), REG)
    for verb in ["get", "list", "get", None, "get"]:
        obj = {"kind": "Event", "auditID": "x"} | ({"verb": verb} if verb else {})
        sink.event(AuditEvent(b"{}", obj=obj))
    sink.close()
    assert sink.count == 5
    assert out.getvalue() == (b'{"ka.verb":"get","count":3}\n{"ka.verb":"list","count":1}\n'
                              b'{"ka.verb":null,"count":1}\n')
