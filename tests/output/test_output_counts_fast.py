"""The one-column `--count-by` counter and the direct sink path count exactly like the general ones."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.events import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.output import Console, OutputOptions, open_sink
from eksaudit.output import counts as counts_module
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


_VALUE = st.one_of(st.sampled_from(["a", "b", "é", ""]), st.none(), st.integers(0, 2), st.booleans(),
                   st.lists(st.sampled_from(["x", "y"]), max_size=2), st.just({"k": [1]}), st.just('{"k":[1]}'))
_OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), _VALUE),
    st.tuples(st.just("merge"), st.lists(st.tuples(st.sampled_from(["a", "c", "é", None, ("x",)]), st.integers(1, 3)),
                                         max_size=3)),
    st.tuples(st.just("read"), st.none()),
    st.tuples(st.just("spill"), st.none()),
), max_size=40)


@settings(max_examples=300, deadline=None)
@given(ops=_OPS, budget=st.sampled_from([None, 600, 5000]))
def test_counting_by_value_equals_the_general_counter_whatever_comes_between(ops: list, budget: int | None) -> None:
    """Adds mixed with merges (--jobs), reads of `counts` and spills (--max-memory): the value-keyed
    one-column counter (`counts.ONE_COLUMN`) and the general one hold and rank the same counts."""
    cols = [("v", lambda ev: ev.obj["v"])]
    fast = Counter(cols, max_memory=budget)
    counts_module.ONE_COLUMN = False
    try:
        slow = Counter(cols, max_memory=budget)
    finally:
        counts_module.ONE_COLUMN = True
    assert hasattr(slow.add, "__self__") and not hasattr(fast.add, "__self__")
    for op, arg in ops:
        for c in (fast, slow):
            if op == "add":
                c.add(AuditEvent(b"{}", obj={"v": arg}))
            elif op == "merge":
                merged: dict = {}
                for k, n in arg:
                    merged[(k,)] = merged.get((k,), 0) + n
                c.merge(merged)
            elif op == "spill":
                c.spill()
        if op == "read":
            assert list(fast.counts.items()) == list(slow.counts.items())
        assert fast.used == slow.used and fast.spills == slow.spills
    assert fast.ranked() == slow.ranked()
