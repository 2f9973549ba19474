"""`--count-by F1,F2 [--top N]`: matches counted per distinct tuple of values, printed at the end.

Largest count first; equal counts keep the order in which their value first appeared (a stable
sort over an insertion-ordered dict), so the output is deterministic. Only the key tuples and
their counts are kept, never events. A list value counts as one tuple element (its whole list).
jsonl prints `{"F1": v, "F2": v, "count": n}` (through `--query` when given); table and csv print
the fields and a `count` column.

Memory is bounded whatever the cardinality: past `max_memory` (an estimate of what the dict of
keys costs, `--max-memory`, default 256 MB) the counts move to a private temporary SQLite file
(`_Spill`) and counting starts again in memory; at the end the file is merged and ranked by SQLite
(count descending, first appearance ascending), which gives exactly the in-memory order. Output is
written in batches as it is ranked, so printing holds no more than a batch either.
"""

from __future__ import annotations

import heapq
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from operator import itemgetter
from typing import Any

import orjson

from ..events.event import AuditEvent
from .columns import Column, json_value
from .console import BOLD, Console
from .options import OutputFormat
from .query import Query

DEFAULT_MAX_MEMORY = 256 * 1024 * 1024
# Estimated bytes per distinct key besides its values: the key tuple, the dict slot (with the slack
# of a table that doubles, and both tables during a resize), and the ranking's list of keys.
_ENTRY_BYTES = 240
_OUTPUT_BATCH = 1024  # lines per write when printing counts


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):  # jevt.obj style values
        try:
            return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # nested deeper than orjson writes, or values it cannot write
            from ..events.slowjson import dumps

            return dumps(v).decode()
    return v


def _size(key: tuple[Any, ...]) -> int:
    """Estimated bytes one new key costs in the counter (its values included)."""
    size = _ENTRY_BYTES + 8 * len(key)
    getsize = sys.getsizeof
    for x in key:
        size += getsize(x)
        if type(x) is tuple:
            size += sum(getsize(y) for y in x)
    return size


def _encode(key: tuple[Any, ...]) -> bytes:
    """A key as a canonical blob for the spill file (equal keys, equal blobs)."""
    try:
        return orjson.dumps(key)
    except TypeError:  # ints beyond 64 bits, lone surrogates: not JSON, but still keys
        return b"\x00" + pickle.dumps(key, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(blob: bytes) -> tuple[Any, ...]:
    if blob[:1] == b"\x00":
        return pickle.loads(blob[1:])  # noqa: S301 (our own private temporary file)
    return tuple(orjson.loads(blob))


class _Spill:
    """Counts kept in a private temporary SQLite database (deleted when it is closed)."""

    def __init__(self) -> None:
        import sqlite3

        self.db = sqlite3.connect("")  # "": a temporary on-disk database, removed on close
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;"
            "PRAGMA cache_size=-16384;"
            "CREATE TABLE c(k BLOB PRIMARY KEY, n INTEGER NOT NULL, f INTEGER NOT NULL) WITHOUT ROWID;"
        )
        self.first = 0  # first-appearance number of the next batch's first key

    def add(self, counts: dict[tuple[Any, ...], int]) -> None:
        """Merge one batch (in first-appearance order); keys already stored keep their first place."""
        base = self.first
        self.db.executemany(
            "INSERT INTO c(k, n, f) VALUES (?, ?, ?) ON CONFLICT(k) DO UPDATE SET n = n + excluded.n",
            ((_encode(k), n, base + i) for i, (k, n) in enumerate(counts.items())),
        )
        self.first = base + len(counts)

    def ranked(self, top: int | None) -> Iterator[tuple[tuple[Any, ...], int]]:
        sql = "SELECT k, n FROM c ORDER BY n DESC, f ASC"
        args: tuple[int, ...] = ()
        if top is not None:
            sql += " LIMIT ?"
            args = (min(top, (1 << 63) - 1),)
        try:
            for blob, n in self.db.execute(sql, args):
                yield _decode(blob), n
        finally:
            self.db.close()


# The slow twin of the one-column counter (`Counter._one_column_add`): when False, every event is
# counted by the general `Counter.add` (tests compare the two).
ONE_COLUMN = True


class Counter:
    """Counts per key tuple, in first-appearance order, within a memory budget (see the module doc).

    `spill_at` is the budget in estimated bytes (None: never spill, everything stays in memory).
    `spills` counts the batches moved to the temporary file.
    """

    def __init__(self, columns: Sequence[Column], *, max_memory: int | None = DEFAULT_MAX_MEMORY) -> None:
        self.columns = list(columns)
        self._counts: dict[tuple[Any, ...], int] = {}
        # one column: counts by the value itself (no key tuple per event), folded into `counts`
        # (keys `(value,)`) before anything else reads or changes them
        self._by_value: dict[Any, int] = {}
        self.spill_at = max_memory
        self.used = 0  # estimated bytes held by `counts`
        self.spills = 0
        self._spill: _Spill | None = None
        self._one = len(self.columns) == 1 and ONE_COLUMN
        if self._one:
            self.add = self._one_column_add()  # type: ignore[method-assign]

    @property
    def counts(self) -> dict[tuple[Any, ...], int]:
        """Counts per key tuple, in first-appearance order (what was counted so far)."""
        if self._by_value:
            self._fold()
        return self._counts

    def _fold(self) -> None:
        """Move the one-column counts by value into `counts`, in their first-appearance order."""
        counts = self._counts
        current = counts.get
        for v, n in self._by_value.items():
            key = (v,)
            had = current(key)
            counts[key] = n if had is None else had + n
        self._by_value.clear()  # in place: the one-column closure holds it

    def add(self, ev: AuditEvent) -> None:
        key = tuple(_hashable(get(ev)) for _, get in self.columns)
        counts = self.counts
        n = counts.get(key)
        if n is None:
            counts[key] = 1
            self._new_key(key)
        else:
            counts[key] = n + 1

    def _one_column_add(self) -> Any:
        """`add` for one column (the usual `--count-by F`): no generator, no call for scalar values,
        no key tuple (counted by value: a tuple per event costs more than the count itself)."""
        get = self.columns[0][1]
        by_value = self._by_value
        current = by_value.get
        unhashable = (list, dict)
        new_key = self._new_key
        counts = self._counts

        def add1(ev: AuditEvent) -> None:
            v = get(ev)
            if isinstance(v, unhashable):
                v = _hashable(v)
            n = current(v)
            if n is None:
                by_value[v] = 1
                if (v,) not in counts:
                    new_key((v,))
            else:
                by_value[v] = n + 1

        return add1

    def bulk(self) -> tuple[Callable[[Any], Any], Callable[[list[Any]], None]] | None:
        """(get, add_values), for counting a whole block's matches at once (events/batches.py):
        `get(ev)` per match, then `add_values(values)`; None unless one column is counted by value.

        The same counts and order of first appearance as `add` per event, the counting done in C
        (`collections` counts into the dict, new keys last, in order); a spill while a block is
        counted moves its counts whole, which ranks the same (the spill file keeps each key's first
        place, and keys' first appearances keep their order).
        """
        if not self._one:
            return None
        try:
            from collections import _count_elements as count_into  # type: ignore[attr-defined]
        except ImportError:  # not CPython's C helper: the same counting, in Python
            def count_into(mapping: dict[Any, int], values: list[Any]) -> None:
                get = mapping.get
                for v in values:
                    mapping[v] = get(v, 0) + 1

        by_value = self._by_value
        counts = self._counts
        new_key = self._new_key
        unhashable = (list, dict)

        def add_values(values: list[Any]) -> None:
            if not values:
                return
            if any(issubclass(t, unhashable) for t in set(map(type, values))):
                values = [_hashable(v) if isinstance(v, unhashable) else v for v in values]
            before = len(by_value)
            count_into(by_value, values)
            new = len(by_value) - before
            if new:
                spills = self.spills
                for v in reversed(list(islice(reversed(by_value), new))):  # the new keys, first seen first
                    if (v,) not in counts:
                        new_key((v,))
                        if self.spills != spills:
                            break  # the rest went to the spill file with it: nothing of them is held

        return self.columns[0][1], add_values

    def _new_key(self, key: tuple[Any, ...]) -> None:
        self.used += _size(key)
        if self.spill_at is not None and self.used > self.spill_at:
            self.spill()

    def merge(self, counts: dict[tuple[Any, ...], int]) -> None:
        """Add the counts of a later part of the input (in its first-appearance order): as if added one by one."""
        mine = self.counts  # folded first
        current = mine.get
        new_key = self._new_key
        for key, n in counts.items():
            had = current(key)
            if had is None:
                mine[key] = n
                new_key(key)
            else:
                mine[key] = had + n

    def spill(self) -> None:
        """Move the counts held in memory to the temporary file (cleared in place: closures keep it)."""
        counts = self.counts  # folded first
        if not counts:
            return
        if self._spill is None:
            self._spill = _Spill()
        self._spill.add(counts)
        counts.clear()
        self.used = 0
        self.spills += 1

    def ranked(self, top: int | None = None) -> list[tuple[tuple[Any, ...], int]]:
        return list(self.iter_ranked(top))

    def iter_ranked(self, top: int | None = None) -> Iterator[tuple[tuple[Any, ...], int]]:
        """(key, count) pairs, largest count first, ties in first-appearance order; once, at the end."""
        if self._spill is not None:
            self.spill()
            yield from self._spill.ranked(top)
            return
        counts = self.counts
        if top is not None and top < len(counts):
            yield from heapq.nlargest(top, counts.items(), key=itemgetter(1))  # stable, as sorted()
            return
        for key in sorted(counts, key=counts.__getitem__, reverse=True):  # stable: ties keep order
            yield key, counts[key]


class CountsWriter:
    reads_raw = False  # only the columns' fields, during `event` (Sink.batchable)

    def __init__(
        self,
        console: Console,
        columns: Sequence[Column],
        fmt: OutputFormat,
        *,
        top: int | None = None,
        query: Query | None = None,
        max_memory: int | None = DEFAULT_MAX_MEMORY,
    ) -> None:
        self.console = console
        self.counter = Counter(columns, max_memory=max_memory)
        self.event = self.counter.add  # type: ignore[method-assign]  # one call less per event
        self.names = [h for h, _ in columns]
        self.fmt = fmt
        self.top = top
        self.query = query

    def event(self, ev: AuditEvent) -> None:
        self.counter.add(ev)

    def _object(self, key: tuple[Any, ...], n: int) -> dict[str, Any]:
        obj = {name: json_value(v) for name, v in zip(self.names, key, strict=True)}
        obj["count"] = n
        return obj

    def objects(self) -> list[dict[str, Any]]:
        return [self._object(key, n) for key, n in self.counter.iter_ranked(self.top)]

    def close(self) -> None:
        ranked = self.counter.iter_ranked(self.top)
        if self.fmt is OutputFormat.TABLE:
            from .table import render_table  # tabulate: only when a table is printed

            rows = [[*key, n] for key, n in ranked]  # a table needs every row for its widths
            if not rows:
                return
            lines = render_table([*self.names, "count"], rows, numalign=True)
            if self.console.color:
                lines[0] = self.console.paint(lines[0], BOLD)
            self.console.write_lines([ln.encode() for ln in lines])
        elif self.fmt is OutputFormat.CSV:
            from .csv import csv_rows

            header = True
            for batch in _batches(ranked):
                rows = [[*key, n] for key, n in batch]
                lines = csv_rows([*self.names, "count"], rows, escape=self.console.stdout_isatty)
                self.console.write_lines(lines if header else lines[1:])
                header = False
            if header:
                self.console.write_lines(csv_rows([*self.names, "count"], [], escape=self.console.stdout_isatty))
        else:
            q = self.query
            dumps = q.dumps if q is not None else orjson.dumps
            for batch in _batches(ranked):
                self.console.write_lines([dumps(self._object(key, n)) for key, n in batch])


def _batches(items: Iterator[Any], size: int = _OUTPUT_BATCH) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
