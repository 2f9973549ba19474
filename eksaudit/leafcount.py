"""`--count-by` of one column over whole blocks, decided once per distinct combination of leaves.

`eksaudit filter 'ka.verb exists' --count-by ka.user.name` asks the same question of 100,000
events that hold perhaps 300 distinct (verb, user) pairs. When everything the condition and the
column read are scalar leaves (events/leaves.py), a block of plain event lines is decoded into
Structs of those leaves only (msgspec, cheaper than the projection's dicts), and per event one
tuple of leaf values is looked up in a table: what to count (the column's value), or nothing (no
match). A combination not seen yet is decided by the condition and the column themselves, on the
partial object those leaves stand for.

Why that is the line by line answer (the slow twin is `MEMO = False`;
tests/soundness/test_leafcount_property.py compares it with the blocks' other path and with lines):
- the condition and the column read an event only at their `reads` paths (what projection decoding
  relies on), and a leaf tuple stands for exactly one partial object (leaves.py: typed leaves,
  markers for paths cut short);
- a path read only for whether it is there (`auditID`, the audit gate of `ka.*` fields: see
  `condition.resolver.presence_reads`) is keyed by its presence alone, not its value.

A table that fills up (`CAP` combinations), or still misses on more than a quarter of a block's
events after the first `TRIAL` blocks (values that rarely repeat: URIs, names), is given up for
the plain block path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .events.leaves import CUT, DECLINED, GATE, UNSET, Leaves, PartialEvent, servable

MEMO = True  # the slow twin: False, one-column --count-by takes blocks through the projection's dicts
CAP = 4096  # combinations remembered
TRIAL = 8  # blocks to fill the table, after which a block that misses often gives it up

Path = tuple[str, ...]
Take = Callable[[Any, str, int, int], bool]
_NO: Any = object()  # the table's answer for "no match"
_MISS: Any = object()


@lru_cache(maxsize=16)
def _keyed(paths: frozenset[Path], presence: frozenset[Path]) -> tuple[list[Path], Leaves, Callable[..., int]]:
    """The paths in order, their Structs, and the function that answers a block's Structs: built
    once per path set, not for each `--jobs` chunk (0.5 ms).

    `answer(structs, lookup, decide, keep)` keys each Struct by its leaves, looks the key up
    (`lookup(key, _MISS)`; a miss: `decide(s, key)`) and hands each answer but `_NO` to `keep`;
    it returns the misses. One call per block: a call per Struct cost 0.2 µs of each (of ~4).
    """
    order = sorted(paths)
    tree = Leaves(order)
    env: dict[str, Any] = {"U": UNSET, "Cut": type(CUT[0][0]), "MISS": _MISS, "NO": _NO}
    walk: list[str] = []
    memo: dict[Path, tuple[str, str]] = {}
    parts: list[str] = []
    for i, p in enumerate(order):
        var = tree.walk(p, f"v{i}", walk, env, memo)
        parts.append(f"({var} is not U and type({var}) is not Cut)" if p in presence else var)
    code = ["def answer(structs, lookup, decide, keep):", "    misses = 0", "    for s in structs:",
            *("    " + line for line in walk),
            "        k = (" + ", ".join(parts) + ",)",
            "        r = lookup(k, MISS)",
            "        if r is MISS:",
            "            misses += 1",
            "            r = decide(s, k)",
            "        if r is not NO:",
            "            keep(r)",
            "    return misses"]
    exec(compile("\n".join(code), "<leafcount>", "exec"), env)  # noqa: S102 (our code, no user text)
    return order, tree, env["answer"]


def count_taker(paths: frozenset[Path], presence: frozenset[Path] | None, match: Callable[[Any], bool],
                bulk: tuple[Callable[[Any], Any], Callable[[list[Any]], None]], taken: list[int],
                fallback: Take, table: dict[tuple[Any, ...], Any] | None = None) -> Take | None:
    """A `BlockSlot.take` counting one column's values of the matches (`bulk`: `Counter.bulk`), or
    None when the paths are not all leaves; blocks it cannot serve go to `fallback`.

    `table`: the answers so far for this condition, column and paths (kept by the caller across
    scans: a `--jobs` worker scans chunk after chunk); a new one when not given.
    """
    if not MEMO or presence is None or not servable(paths | {GATE}):
        return None
    order, tree, answer = _keyed(paths, presence)
    get, add_values = bulk
    lines = tree.lines
    if table is None:
        table = {}
    state = {"on": True, "blocks": 0}

    def decide(s: Any, k: tuple[Any, ...]) -> Any:
        obj: dict[str, Any] = {}
        for p in order:
            tree.copy(s, p, obj)
        ev = PartialEvent(obj)
        r = get(ev) if match(ev) else _NO
        if len(table) < CAP:
            table[k] = r
        return r

    def take(block: Any, source: str, first: int, k: int) -> bool:
        if not state["on"]:
            return fallback(block, source, first, k)
        try:
            structs = lines(block)
        except DECLINED:
            return fallback(block, source, first, k)
        if len(structs) != k:
            return fallback(block, source, first, k)  # it declines the same block (batches.py)
        values: list[Any] = []
        misses = answer(structs, table.get, decide, values.append)
        add_values(values)
        taken[0] += k
        taken[1] += len(values)
        state["blocks"] += 1
        if len(table) >= CAP or (state["blocks"] > TRIAL and misses * 4 > k):
            state["on"] = False
        return True

    return take
