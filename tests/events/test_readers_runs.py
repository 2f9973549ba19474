"""Runs of plain event lines skipped with two counts read exactly what the line loop reads.

Between two anchors, the anchored block reader skips a run of plain event lines at once when a
count of its newlines and a count of its `}\\n{"kind":"Event",` joints say every line is plain
(`blocks._plain_run`), with StringZilla's SIMD search (`fastscan`). Its slow twin looks at each
line (`blocks.RUNS = False`, `fastscan.SIMD = False`). The inputs mix long runs of plain lines
without the anchor with every line that is not plain: CRLF, trailing blanks, blank lines,
truncated events, wrappers, a document over several lines whose middle line looks plain, a line
that starts plain and does not end with `}`, escapes that may spell the anchor, lines cut across
blocks; block sizes from a few bytes up.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.events import blocks, fastscan
from eksaudit.events.readers import read_events


def _ev(i: int, verb: str, extra: str = "") -> bytes:
    return b'{"kind":"Event","auditID":"a%d","verb":"%s"%s}' % (i, verb.encode(), extra.encode())


_CW = (b'{"logStreamName":"s","timestamp":%d,"message":"{\\"kind\\":\\"Event\\",\\"auditID\\":\\"w%d\\",'
       b'\\"verb\\":\\"delete\\"}"}')


def _lines(kind: int, i: int) -> list[bytes]:
    """One input item: mostly plain event lines without the anchor (kinds 0-5), then the rest."""
    if kind <= 5:
        return [_ev(i, "get", ',"pad":"' + "x" * (i % 7) * 40 + '"' if kind == 5 else "")]
    return [
        [_ev(i, "delete")],
        [_ev(i, "get") + b"\r"],
        [_ev(i, "get") + b"  "],
        [b""],
        [_ev(i, "get") + b"[Truncated...]"],
        [_ev(i, "get")[:-1]],  # starts plain, no closing brace
        [_CW % (i, i)],
        [b"2026-01-01T00:00:00.000Z " + _ev(i, "delete")],
        [b"[", _ev(i, "get", ',"requestObject":{"x":{}}'), _ev(i + 1, "delete"), b"]"],  # plain-looking lines inside
        [b'{"kind":"Event","auditID":"e%d","verb":"\\u0064elete"}' % i],  # the anchor spelled with an escape
        [b"{"],  # a stray brace: the lines after it are read again one by one
        [b"\xef\xbb\xbf" + _ev(i, "get")],
    ][kind - 6]


_KINDS = st.lists(st.integers(0, 17), min_size=1, max_size=120)


def _read(data: bytes, required: list) -> tuple[list, list]:
    bad: list = []
    evs = [(ev.line, ev.raw, ev.cw) for ev in read_events(["-"], stdin=io.BytesIO(data), on_bad=bad.append,
                                                             required=required)]
    return evs, [(b.line, b.reason) for b in bad]


def _twin(monkeypatch: pytest.MonkeyPatch, data: bytes, required: list, runs: bool, simd: bool) -> tuple[list, list]:
    monkeypatch.setattr(blocks, "RUNS", runs)
    monkeypatch.setattr(fastscan, "SIMD", simd)
    return _read(data, required)


@settings(max_examples=300, deadline=None)
@given(kinds=_KINDS, block=st.sampled_from([5, 17, 64, 333, 4096, 1 << 20]), last_newline=st.booleans(),
       groups=st.sampled_from([[frozenset({b'"delete"'})], [frozenset({b'"delete"', b'"nothing"'})],
                               [frozenset({b"get"})]]))
def test_skipped_runs_read_what_the_line_loop_reads(kinds, block, last_newline, groups):
    body = b"\n".join(line for i, k in enumerate(kinds) for line in _lines(k, i * 10))
    if last_newline:
        body += b"\n"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blocks, "_BLOCK", block)
        slow = _twin(mp, body, groups, runs=False, simd=False)
        assert _twin(mp, body, groups, runs=True, simd=True) == slow
        assert _twin(mp, body, groups, runs=True, simd=False) == slow
        assert _twin(mp, body, groups, runs=False, simd=True) == slow


def test_a_long_run_is_skipped_with_exact_line_numbers(monkeypatch):
    body = b"\n".join([_ev(i, "get") for i in range(1, 5000)] + [_ev(5000, "delete"), _ev(5001, "get")]) + b"\n"
    seen = []
    real = blocks._plain_run

    def spy(prefix):
        run = real(prefix)

        def counted(buf, p, mpos):
            out = run(buf, p, mpos)
            seen.append(out[0])
            return out

        return counted

    monkeypatch.setattr(blocks, "_plain_run", spy)
    evs, bad = _read(body, [frozenset({b'"delete"'})])
    assert bad == []
    assert [(n, raw) for n, raw, _ in evs] == [(1, _ev(1, "get")), (5000, _ev(5000, "delete"))]
    assert sum(seen) >= 4990  # the lines between were skipped by runs, not one by one


def test_a_run_stops_at_a_line_that_is_not_plain():
    body = b"\n".join([_ev(1, "get"), _ev(2, "get"), _ev(3, "get") + b"\r", _ev(4, "get"), _ev(5, "delete")]) + b"\n"
    evs, bad = _read(body, [frozenset({b'"delete"'})])
    # the CRLF line is not plain: it goes to the exact path (read, whitespace stripped), the others are skipped
    assert [(n, raw) for n, raw, _ in evs] == [(1, _ev(1, "get")), (3, _ev(3, "get")), (5, _ev(5, "delete"))]
    assert bad == []


_WORDS = [b'"delete"', b"delete", b'"get"', b"\\u0064", b"\n", b"}", b'{"kind":"Event",', b"x", b"de"]


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.sampled_from(_WORDS), max_size=50),
       lits=st.lists(st.sampled_from([b'"delete"', b"delete", b'"get"', b"de", b"x"]), min_size=1, max_size=3, unique=True),
       steps=st.lists(st.integers(0, 40), max_size=12))
def test_the_anchor_finds_what_bytes_and_re_find(parts, lits, steps):
    """Offsets as the block loop asks for them (pos never smaller): SIMD and its remembered offsets
    per literal give the twin's answers (`bytes.find` for one literal, a regex for several)."""
    buf = bytearray(b"".join(parts))
    anchor = blocks.Anchor(sorted(lits, key=len, reverse=True))
    fast = anchor.finder()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fastscan, "SIMD", False)
        slow = anchor.finder()
    pos = 0
    for step in [0, *steps]:
        pos = min(pos + step, len(buf))
        assert fast(buf, pos, len(buf)) == slow(buf, pos, len(buf))
