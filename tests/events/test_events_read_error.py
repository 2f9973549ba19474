"""A read error in the middle of a plain file: the events read before it, then one bad-line report."""

from __future__ import annotations

import io

import pytest

from eksaudit.events.readers import read_events


class FailingStream(io.RawIOBase):
    """`data`, then an I/O error instead of its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        if self.pos >= len(self.data):
            raise OSError(5, "Input/output error")
        n = min(len(b), len(self.data) - self.pos, 4096)
        b[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


LINES = [b'{"kind":"Event","auditID":"a%d","verb":"%s"}' % (i, b"delete" if i % 3 else b"get") for i in range(3000)]


@pytest.mark.parametrize("required", [None, [frozenset({b"delete"})]])
def test_a_read_error_ends_the_source_with_a_report_after_its_events(required: list[frozenset[bytes]] | None) -> None:
    bad = []
    stream = io.BufferedReader(FailingStream(b"\n".join(LINES) + b"\n"), 1 << 16)
    events = list(read_events(["-"], stdin=stream, on_bad=bad.append, required=required))
    assert len(bad) == 1 and "read error" in bad[0].reason and "Input/output error" in bad[0].reason
    lines = [ev.line for ev in events]
    assert lines == sorted(lines) and lines[0] == 1
    for ev in events:
        assert ev.raw == LINES[ev.line - 1]
