"""The progress line never glues itself to data written to the same terminal."""

from __future__ import annotations

import io

from eksaudit.cloudwatch.paging import PageStats
from eksaudit.output.progress import ProgressLine, format_progress


class Terminal(io.StringIO):
    """stdout and stderr of one terminal: everything lands in one transcript, in order."""


def test_data_write_erases_the_drawn_line_first():
    screen = Terminal()

    class Bytes:
        def write(self, b: bytes) -> int:
            return screen.write(b.decode())

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return True

    stats = PageStats()
    p = ProgressLine(stats, lambda: 7, screen, clock=lambda: 1.0)
    out = p.guard(Bytes())
    p.draw()
    out.write(b'{"a":1}\n')
    p.draw()
    p.stop()
    text = screen.getvalue()
    line = format_progress(stats, 7, 0.0)
    assert text == f"\r\x1b[K{line}" + "\r\x1b[K" + '{"a":1}\n' + f"\r\x1b[K{line}" + "\r\x1b[K"
    assert out.isatty()


def test_stop_without_drawing_writes_nothing():
    screen = Terminal()
    p = ProgressLine(PageStats(), lambda: 0, screen)
    p.stop()
    assert screen.getvalue() == ""
