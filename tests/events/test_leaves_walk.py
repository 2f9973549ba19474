"""`Leaves.walk`: the code that reads a leaf out of a block's Struct keeps apart every way a path
can end (events/leaves.py): a `null` or a missing object at each depth, a missing or `null` leaf,
and a value; inner objects read once are shared by the leaves under them."""

from __future__ import annotations

from typing import Any

import orjson

from eksaudit.events.leaves import CUT, UNSET, Leaves

PATHS = [("objectRef", "resource"), ("objectRef", "name"), ("a", "b", "c"), ("verb",)]


def _reader() -> tuple[Leaves, Any]:
    tree = Leaves(PATHS)
    env: dict[str, Any] = {}
    code = ["def read(s):"]
    memo: dict[tuple[str, ...], tuple[str, str]] = {}
    names = [tree.walk(p, f"v{i}", code, env, memo) for i, p in enumerate(PATHS)]
    code.append("    return (" + ", ".join(names) + ",)")
    exec(compile("\n".join(code), "<test>", "exec"), env)  # noqa: S102 (the test's own code)
    return tree, env["read"]


def _read(obj: Any) -> tuple[Any, ...]:
    tree, read = _reader()
    (s,) = tree.lines(orjson.dumps(obj) + b"\n")
    return read(s)


def test_every_way_a_path_ends_reads_apart() -> None:
    resource = [_read(o)[0] for o in (
        {"objectRef": None}, {}, {"objectRef": {}}, {"objectRef": {"resource": None}},
        {"objectRef": {"resource": "pods"}}, {"objectRef": {"resource": 7}},
    )]
    assert resource[:2] == [CUT[0][0], CUT[0][1]]  # null at depth 0, missing at depth 0
    assert resource[2] is UNSET and resource[3] is None and resource[4:] == ["pods", 7]
    deep = [_read(o)[2] for o in ({"a": None}, {}, {"a": {"b": None}}, {"a": {}}, {"a": {"b": {"c": "x"}}})]
    assert deep == [CUT[0][0], CUT[0][1], CUT[1][0], CUT[1][1], "x"]
    assert len({id(v) for v in deep[:4]}) == 4


def test_an_inner_object_is_read_once_for_the_leaves_under_it() -> None:
    tree = Leaves(PATHS)
    code: list[str] = []
    memo: dict[tuple[str, ...], tuple[str, str]] = {}
    for i, p in enumerate(PATHS):
        tree.walk(p, f"v{i}", code, {}, memo)
    assert sum(line.strip().startswith("P0 = s.") for line in code) == 1
    assert _read({"objectRef": {"resource": "pods", "name": "p1"}, "verb": "get"})[:2] == ("pods", "p1")
