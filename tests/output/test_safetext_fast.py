"""Property: `escape_controls` answers the same with its SIMD check of long ASCII text (`FAST`) and
without it (the slow twin: `isprintable`, then the regex, for every text).

The shortcut rests on one assumption: ASCII text holds no C1 control, so C0 and DEL are all there
is to find. The texts are random around the length where it starts: ASCII with and without
controls at any place (first, last, the only one), and non-ASCII text with C1 controls, other
unprintable characters (U+2028, a lone surrogate) and wide characters.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit import safetext
from eksaudit.safetext import escape_controls

_ASCII = st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), min_size=0, max_size=300)
_PRINTABLE_ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=60, max_size=300)
_ANY = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()), max_size=300)
_ODD = st.sampled_from(["\x00", "\x1b", "\r", "\n", "\t", "\x7f", "\x85", "\x9b", "\u2028", "\ud800", "é", "\U0001f600"])


def _slow(text: str) -> str:
    safetext.FAST = False
    try:
        return escape_controls(text)
    finally:
        safetext.FAST = True


@settings(max_examples=400, deadline=None)
@given(st.one_of(_ASCII, _ANY, st.tuples(_PRINTABLE_ASCII, _ODD, st.integers(0, 400)).map(
    lambda t: t[0][: t[2]] + t[1] + t[0][t[2]:])))
def test_the_fast_check_escapes_what_the_plain_one_does(text: str) -> None:
    assert escape_controls(text) == _slow(text)


@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x1b", "\x1f", "\x7f", "\r", "\n", "\t"])
@pytest.mark.parametrize("where", [0, 40, 200])
def test_an_ascii_control_anywhere_in_a_long_line_is_escaped(ch: str, where: int) -> None:
    text = ("x" * 200)[:where] + ch + ("y" * 200)[where:]
    out = escape_controls(text)
    assert ch not in out and out == _slow(text)
    assert len(text) > safetext._LONG


def test_long_printable_ascii_is_returned_as_it_is() -> None:
    text = "10:00:00.000001000: Warning user=alice uri=/api/v1/namespaces/default/secrets/db?x=1&y=2 " * 3
    assert escape_controls(text) is text
