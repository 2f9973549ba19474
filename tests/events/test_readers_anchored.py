"""The `required` hint skips plain event lines without the anchor literal, and nothing else."""

from __future__ import annotations

import io

from eksaudit.events import blocks
from eksaudit.events.readers import read_events


def _event(i: int, verb: str) -> bytes:
    return b'{"kind":"Event","auditID":"a%d","verb":"%s"}' % (i, verb.encode())


def _lines(events):
    return [(ev.line, ev.raw) for ev in events]


def test_anchor_yields_the_same_matching_lines_with_exact_numbers(monkeypatch):
    monkeypatch.setattr(blocks, "_BLOCK", 64)  # many small blocks, lines cut across block edges
    body = b"\n".join(_event(i, "delete" if i % 7 == 0 else "get") for i in range(1, 200)) + b"\n"
    full = [(n, raw) for n, raw in _lines(read_events(["-"], stdin=io.BytesIO(body))) if b'"delete"' in raw]
    anchored = _lines(read_events(["-"], stdin=io.BytesIO(body), required=[frozenset({b'"delete"'})]))
    # the first line of a source is always read as usual; after it only anchored lines come
    assert anchored[0][0] == 1
    assert anchored[1:] == full
    assert [n for n, _ in anchored[1:]] == [i for i in range(1, 200) if i % 7 == 0]


def test_blocks_with_wrappers_or_truncated_lines_are_read_line_by_line():
    cw = b'{"logStreamName":"s","timestamp":1,"message":"{\\"kind\\":\\"Event\\",\\"auditID\\":\\"w\\",\\"verb\\":\\"delete\\"}"}'
    body = b"\n".join([_event(1, "get"), cw, _event(3, "get") + b"[Truncated...]", _event(4, "delete")]) + b"\n"
    bad = []
    evs = list(read_events(["-"], stdin=io.BytesIO(body), required=[(b'"delete"',)], on_bad=bad.append))
    raws = [ev.raw for ev in evs]
    # the wrapped event (whose raw text holds the literal only escaped) is still read
    assert b'{"kind":"Event","auditID":"w","verb":"delete"}' in raws
    assert _event(4, "delete") in raws
    assert [b.line for b in bad] == [3]


def test_a_last_line_without_newline_is_kept():
    body = _event(1, "get") + b"\n" + _event(2, "get") + b"\n" + _event(3, "delete")
    evs = list(read_events(["-"], stdin=io.BytesIO(body), required=[(b'"delete"',)]))
    assert [(ev.line, ev.raw) for ev in evs] == [(1, _event(1, "get")), (3, _event(3, "delete"))]
