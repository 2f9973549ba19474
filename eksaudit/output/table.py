"""`-o table`: aligned columns for people (tabulate's `simple` layout), streamed in batches.

The table cannot wait for the end of a large or endless (`watch`) input, so it prints in batches:
the first `batch` rows (100, or fewer if the input ends first) are laid out by tabulate, which
fixes the column widths; later rows are printed at once with those widths (a longer value widens
its own line only). With `Console(line_buffered=True)` asked for explicitly (`watch`) the first
batch is a single row, so nothing waits. Cell text is kept on one line and inert on a terminal:
control characters are shown escaped (`\\n`, `\\t`, `\\x1b`, see `eksaudit.safetext`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from ..events.event import AuditEvent
from ..safetext import encode_line, escape_controls
from .columns import Column, cell_text
from .console import BOLD, Console

DEFAULT_BATCH = 100
_SEP = "  "  # tabulate's `simple` column separator



def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numalign: bool = False) -> list[str]:
    """tabulate `simple` lines (header, dashes, rows), trailing spaces removed."""
    text = tabulate(
        [[escape_controls(cell_text(v)) if not (numalign and isinstance(v, int)) else v for v in r] for r in rows],
        headers=[escape_controls(h) for h in headers],
        tablefmt="simple",
        disable_numparse=not numalign,
    )
    return [line.rstrip() for line in text.split("\n")]


class TableWriter:
    def __init__(self, console: Console, columns: Sequence[Column], *, batch: int = DEFAULT_BATCH) -> None:
        self.console = console
        self.columns = list(columns)
        self.headers = [h for h, _ in self.columns]
        self.batch = 1 if console.streaming else max(1, batch)
        self.rows: list[list[str]] = []
        self.widths: list[int] | None = None

    def row(self, ev: AuditEvent) -> list[str]:
        return [escape_controls(cell_text(get(ev))) for _, get in self.columns]

    def event(self, ev: AuditEvent) -> None:
        cells = self.row(ev)
        if self.widths is not None:
            self.console.write_line(encode_line(self._format(cells)))
            return
        self.rows.append(cells)
        if len(self.rows) >= self.batch:
            self._first_batch()

    def _format(self, cells: Sequence[str]) -> str:
        assert self.widths is not None
        return _SEP.join(c.ljust(w) for c, w in zip(cells, self.widths, strict=True)).rstrip()

    def _first_batch(self) -> None:
        lines = render_table(self.headers, self.rows)
        self.widths = [len(d) for d in lines[1].split(_SEP)]
        if self.console.color:
            lines[0] = self.console.paint(lines[0], BOLD)
        self.console.write_lines([encode_line(ln) for ln in lines])
        self.rows = []

    def close(self) -> None:
        if self.widths is None and self.rows:
            self._first_batch()
