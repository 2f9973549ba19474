"""The SIMD substring search and count (`fastscan`, StringZilla) give bytes' own answers.

The block reader only asks with a non-empty needle and `0 <= start <= end <= len(buf)`, on a
bytearray (a block) or bytes; these are the inputs drawn here, from an alphabet where needles
recur (JSON punctuation, the newline, the start of an API server event) and from any byte.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.events import fastscan

stringzilla = pytest.importorskip("stringzilla", reason="the SIMD search is StringZilla's (a dependency)")

_ATOMS = [b"\n", b"}", b"{", b'"', b"}\n", b'{"kind":"Event",', b"delete", b'"delete"', b"\\u0064", b"a", b"\xff", b"\x00"]
_BUF = st.one_of(
    st.lists(st.sampled_from(_ATOMS), max_size=60).map(b"".join),
    st.binary(max_size=300),
)


@st.composite
def _query(draw: st.DrawFn) -> tuple[bytes, bytes, int, int]:
    buf = draw(_BUF)
    if buf and draw(st.booleans()):  # a needle taken from the buffer: found at least once
        i = draw(st.integers(0, len(buf) - 1))
        needle = buf[i : i + draw(st.integers(1, 20))]
    else:
        needle = draw(st.one_of(st.sampled_from(_ATOMS), st.binary(min_size=1, max_size=4)))
    start = draw(st.integers(0, len(buf)))
    end = draw(st.integers(start, len(buf)))
    return buf, needle, start, end


def _both() -> tuple[tuple, tuple]:
    fast = fastscan.functions()
    fastscan.SIMD = False
    try:
        slow = fastscan.functions()
    finally:
        fastscan.SIMD = True
    return fast, slow


def test_the_fast_functions_are_stringzillas_and_the_twin_is_bytes():
    fast, slow = _both()
    assert fast == (stringzilla.find, stringzilla.count)
    assert slow[0](b"abcabc", b"c", 3, 6) == 5 and slow[1](b"abcabc", b"c", 0, 6) == 2


@settings(max_examples=600, deadline=None)
@given(_query(), st.booleans())
def test_find_and_count_match_bytes(q: tuple[bytes, bytes, int, int], mutable: bool) -> None:
    raw, needle, start, end = q
    buf = bytearray(raw) if mutable else raw
    (find, count), (slow_find, slow_count) = _both()
    assert find(buf, needle, start, end) == slow_find(buf, needle, start, end) == raw.find(needle, start, end)
    assert count(buf, needle, start, end) == slow_count(buf, needle, start, end) == raw.count(needle, start, end)


def test_long_buffers_past_simd_widths():
    # needles straddling 16/32/64-byte lanes, far into a block
    raw = (b'{"kind":"Event","verb":"get"}\n' * 700) + b'{"kind":"Event","verb":"delete"}\n' + b"x" * 129
    (find, count), _ = _both()
    for start in (0, 1, 15, 31, 63, 64, 1000):
        for needle in (b'"delete"', b"}\n{", b"\n", b"x" * 65, b"xx\n"):
            assert find(raw, needle, start, len(raw)) == raw.find(needle, start, len(raw))
            assert count(raw, needle, start, len(raw)) == raw.count(needle, start, len(raw))
