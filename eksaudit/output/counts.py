"""`--count-by F1,F2 [--top N]`: matches counted per distinct tuple of values, printed at the end.

Largest count first; equal counts keep the order in which their value first appeared (a stable
sort over an insertion-ordered dict), so the output is deterministic. Memory grows with the number
of distinct tuples, not with the input. A list value counts as one tuple element (its whole list).
jsonl prints `{"F1": v, "F2": v, "count": n}` (through `--query` when given); table and csv print
the fields and a `count` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from ..events.event import AuditEvent
from .columns import Column, json_value
from .console import BOLD, Console
from .options import OutputFormat
from .query import Query


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):  # jevt.obj style values
        return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()
    return v


class Counter:
    """Counts per key tuple, in first-appearance order."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self.counts: dict[tuple[Any, ...], int] = {}
        if len(self.columns) == 1:
            self.add = self._one_column_add()  # type: ignore[method-assign]

    def add(self, ev: AuditEvent) -> None:
        key = tuple(_hashable(get(ev)) for _, get in self.columns)
        self.counts[key] = self.counts.get(key, 0) + 1

    def _one_column_add(self) -> Any:
        """`add` for one column (the usual `--count-by F`): no generator, no call for scalar values."""
        get = self.columns[0][1]
        counts = self.counts
        current = counts.get
        unhashable = (list, dict)

        def add1(ev: AuditEvent) -> None:
            v = get(ev)
            key = (_hashable(v),) if isinstance(v, unhashable) else (v,)
            counts[key] = current(key, 0) + 1

        return add1

    def ranked(self, top: int | None = None) -> list[tuple[tuple[Any, ...], int]]:
        items = sorted(self.counts.items(), key=lambda kv: -kv[1])
        return items[:top] if top is not None else items


class CountsWriter:
    def __init__(
        self,
        console: Console,
        columns: Sequence[Column],
        fmt: OutputFormat,
        *,
        top: int | None = None,
        query: Query | None = None,
    ) -> None:
        self.console = console
        self.counter = Counter(columns)
        self.event = self.counter.add  # type: ignore[method-assign]  # one call less per event
        self.names = [h for h, _ in columns]
        self.fmt = fmt
        self.top = top
        self.query = query

    def event(self, ev: AuditEvent) -> None:
        self.counter.add(ev)

    def objects(self) -> list[dict[str, Any]]:
        out = []
        for key, n in self.counter.ranked(self.top):
            obj = {name: json_value(v) for name, v in zip(self.names, key, strict=True)}
            obj["count"] = n
            out.append(obj)
        return out

    def close(self) -> None:
        ranked = self.counter.ranked(self.top)
        if self.fmt is OutputFormat.TABLE:
            from .table import render_table  # tabulate: only when a table is printed

            if not ranked:
                return
            lines = render_table([*self.names, "count"], [[*key, n] for key, n in ranked], numalign=True)
            if self.console.color:
                lines[0] = self.console.paint(lines[0], BOLD)
            self.console.write_lines([ln.encode() for ln in lines])
        elif self.fmt is OutputFormat.CSV:
            from .csv import csv_rows

            self.console.write_lines(csv_rows([*self.names, "count"], [[*key, n] for key, n in ranked],
                                              escape=self.console.stdout_isatty))
        else:
            q = self.query
            self.console.write_lines([q.dumps(o) if q is not None else orjson.dumps(o) for o in self.objects()])
