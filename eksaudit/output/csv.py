"""`-o csv`: a header, then one row per match (`--fields`, or the table's default columns).

RFC 4180 quoting by the standard `csv` module, with `\\n` line ends (what Unix tools expect). No
value is an empty cell; list values are joined with commas inside one (quoted) cell. The header
is printed even when nothing matched, so a consumer always gets the column names.

CSV is data: piped or redirected, a value is written exactly (a newline inside a quoted cell is
valid CSV). On a terminal it is text for people, so control characters are shown escaped (`\\n`,
`\\x1b`, see `eksaudit.safetext`): each row is one line and no event text can drive the terminal.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from ..events.event import AuditEvent
from ..safetext import encode_line, escape_controls
from .columns import Column, cell_text
from .console import Console


class _RowFormatter:
    def __init__(self, escape: bool = False) -> None:
        self._buf = io.StringIO()
        self._w = csv.writer(self._buf, lineterminator="\n")
        self._escape = escape

    def line(self, cells: Sequence[Any]) -> bytes:
        if self._escape:
            cells = [escape_controls(c) if isinstance(c, str) else c for c in cells]
        self._buf.seek(0)
        self._buf.truncate()
        self._w.writerow(cells)
        return encode_line(self._buf.getvalue()[:-1])


class CsvWriter:
    def __init__(self, console: Console, columns: Sequence[Column]) -> None:
        self.console = console
        self.columns = list(columns)
        self._fmt = _RowFormatter(escape=console.stdout_isatty)
        self._header_done = False

    def _header(self) -> None:
        self._header_done = True
        self.console.write_line(self._fmt.line([h for h, _ in self.columns]))

    def skip_header(self) -> None:
        """Rows only: this writer renders a part of the output, whose header another writer prints."""
        self._header_done = True

    def ensure_header(self) -> None:
        """The header, unless it was printed (before rows rendered elsewhere are written)."""
        if not self._header_done:
            self._header()

    def event(self, ev: AuditEvent) -> None:
        if not self._header_done:
            self._header()
        self.console.write_line(self._fmt.line([cell_text(get(ev)) for _, get in self.columns]))

    def close(self) -> None:
        if not self._header_done:
            self._header()


def csv_rows(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, escape: bool = False) -> list[bytes]:
    """Header and rows as CSV lines (used by the counts writer); `escape` for a terminal."""
    fmt = _RowFormatter(escape)
    return [fmt.line(list(headers))] + [fmt.line([cell_text(v) for v in r]) for r in rows]
