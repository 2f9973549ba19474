"""The block reader (plain files and stdin) reads exactly what the line-by-line reader does.

Plain files go through `blocks.read_blocks` (lines found with `find`, plain event lines sliced
out of the block, anchored skipping); gzip input still goes line by line through `_process`. So a
gzipped copy of the same text is an independent reference: without `required` the two must agree
event for event and bad line for bad line; with `required` the block reader may only leave out
events that the prefilter would reject anyway.
"""

from __future__ import annotations

import gzip
import io
import random

import pytest

from eksaudit.events import blocks
from eksaudit.events.readers import read_events


def _ev(i: int, verb: str, extra: str = "") -> bytes:
    return b'{"kind":"Event","auditID":"a%d","verb":"%s"%s}' % (i, verb.encode(), extra.encode())


def _kinds(i: int, rng: random.Random) -> list[bytes]:
    verb = rng.choice(["get", "list", "delete", "create"])
    res = rng.choice(["pods", "secrets"])
    obj = ',"objectRef":{"resource":"' + res + '"}'
    cw = (b'{"logStreamName":"s","timestamp":%d,"message":"{\\"kind\\":\\"Event\\",\\"auditID\\":\\"w%d\\",'
          b'\\"verb\\":\\"%s\\"}"}' % (i, i, verb.encode()))
    return rng.choice(
        [
            [_ev(i, verb, obj)],
            [_ev(i, verb, obj)],
            [_ev(i, verb, obj)],
            [_ev(i, verb, obj + ',"pad":"' + "x" * rng.randint(100, 3000) + '"')],  # spans blocks
            [_ev(i, verb) + b"  "],  # trailing blanks
            [_ev(i, verb) + b"\r"],  # CRLF
            [_ev(i, verb) + b"[Truncated...]"],
            [cw],
            [b""],
            [b"not json at all"],
            [b"2026-01-01T00:00:00.000Z " + _ev(i, verb)],
            [b'{"events": [', _ev(i, verb, obj) + b",", _ev(i + 1, "delete") + b",", _ev(i + 2, "get"), b"]}"],
            # a line that looks like a plain event but is only part of an open document
            [b"[", b'{"kind":"Event","auditID":"d%d","requestObject":{"x":{}}' % i, b', "verb":"%s"}' % verb.encode(), b"]"],
        ]
    )


def _body(seed: int, n: int = 120) -> bytes:
    rng = random.Random(seed)
    lines: list[bytes] = []
    for i in range(n):
        lines.extend(_kinds(i * 10, rng))
        if seed % 2 == 0 and i == n * 4 // 5:
            lines.append(b"{")  # a stray brace: reported, the lines after it read again one by one
    body = b"\n".join(lines)
    return body if seed % 3 == 0 else body + b"\n"  # sometimes no newline after the last line


def _read(data: bytes, **kw):
    bad = []
    evs = [(ev.line, ev.raw, ev.cw) for ev in read_events(["-"], stdin=io.BytesIO(data), on_bad=bad.append, **kw)]
    return evs, [(b.line, b.reason) for b in bad]


def _passes(raw: bytes, groups) -> bool:
    return all(any(lit in raw for lit in g) for g in groups)


@pytest.mark.parametrize("block", [7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("seed", range(6))
def test_block_reader_matches_the_line_reader(monkeypatch, block, seed):
    monkeypatch.setattr(blocks, "_BLOCK", block)
    body = _body(seed)
    reference = _read(gzip.compress(body))
    assert _read(body) == reference


@pytest.mark.parametrize("block", [7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "groups",
    [
        [frozenset({b'"delete"'})],
        [frozenset({b'"secrets"'}), frozenset({b'"delete"'})],
        [frozenset({b'"delete"', b'"create"'}), frozenset({b"secrets"})],
    ],
)
def test_anchored_reading_only_leaves_out_events_the_prefilter_rejects(monkeypatch, block, seed, groups):
    monkeypatch.setattr(blocks, "_BLOCK", block)
    body = _body(seed)
    ref_events, ref_bad = _read(gzip.compress(body))
    events, bad = _read(body, required=groups)
    assert bad == ref_bad
    # in order, a subset of the reference ...
    it = iter(ref_events)
    assert all(any(e == r for r in it) for e in events)
    # ... holding every event that can pass the prefilter
    wanted = [e for e in ref_events if _passes(e[1], groups)]
    assert [e for e in events if _passes(e[1], groups)] == wanted
    assert wanted  # the mix does hold matching events
    assert len(events) < len(ref_events)  # and lines were skipped


def test_the_rarest_group_is_the_anchor():
    pats = blocks.anchor_patterns([frozenset({b'"secrets"'}), frozenset({b'"delete"'})])
    sample = b'"secrets" "secrets" "delete"'
    assert blocks._rarest(pats, sample).pattern == b'"delete"'
    # ties keep the prefilter's order
    assert blocks._rarest(pats, b"nothing").pattern == b'"secrets"'


def test_literals_that_span_lines_are_never_anchors():
    assert blocks.anchor_patterns([frozenset({b"a\nb"}), frozenset({b""})]) == []
    assert [p.pattern for p in blocks.anchor_patterns([frozenset({b"x", b"yy"})])] == [b"yy|x"]


def test_a_line_longer_than_many_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "_BLOCK", 16)
    long_get = _ev(2, "get", ',"pad":"' + "y" * 500 + '"')
    long_del = _ev(3, "delete", ',"pad":"' + "z" * 500 + '"')
    body = b"\n".join([_ev(1, "get"), long_get, long_del, _ev(4, "delete")])
    evs, bad = _read(body, required=[frozenset({b'"delete"'})])
    assert bad == []
    assert [(n, raw) for n, raw, _ in evs] == [(1, _ev(1, "get")), (3, long_del), (4, _ev(4, "delete"))]
    evs, _ = _read(body)
    assert [raw for _, raw, _ in evs] == [_ev(1, "get"), long_get, long_del, _ev(4, "delete")]


def test_plain_event_equals_the_constructor():
    from eksaudit.events.event import AuditEvent, plain_event

    raw = _ev(1, "get")
    fast = plain_event(raw, "f.jsonl", 7)
    ref = AuditEvent(raw, source="f.jsonl", line=7)
    assert type(fast) is AuditEvent
    for slot in AuditEvent.__slots__:  # every slot set, to the same value (unparsed: the same sentinel)
        assert getattr(fast, slot) is getattr(ref, slot), slot
    assert (fast.obj, fast.failed_to_parse) == (ref.obj, ref.failed_to_parse)
