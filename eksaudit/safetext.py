"""Text that is safe to print on a terminal: control characters shown as visible escapes.

Audit events carry attacker-chosen text (User-Agent, URIs, object bodies). Printed raw by a text
output, a `\\r\\n` starts a forged line that looks like a second alert, and ESC/OSC/CSI sequences
drive the terminal (retitle the window, clear the screen, move the cursor). So every text output
passes values through `escape_controls`: C0 controls (including CR, LF and TAB), DEL, and C1
controls (U+0080..U+009F, which include the one-character CSI U+009B) become `\\r`, `\\n`, `\\t`
or `\\xHH`; a lone surrogate (only text decoded leniently can hold one) becomes `\\udXXX` when
encoded by `encode_line`. Every other character, backslash included, is unchanged, so ordinary
text prints exactly as before. JSON outputs never need this: JSON escapes control characters.

A long ASCII text (every alert line) is checked with one SIMD search for C0 and DEL, the only
controls ASCII holds, instead of `isprintable`'s per-character lookup (0.4 µs, not 1.4, for a
350-character alert; the slow twin is `FAST = False`, tests/output/test_safetext_fast.py).
"""

from __future__ import annotations

import re
from typing import Any

_first_of: Any
try:
    from stringzilla import find_first_of as _first_of
except ImportError:  # a platform without its wheel: `isprintable` for every text
    _first_of = None

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _one(m: re.Match[str]) -> str:
    c = m.group(0)
    return _NAMED.get(c) or f"\\x{ord(c):02x}"


FAST = True  # the slow twin: False, every text checked by `isprintable` first
_LONG = 80  # from this length StringZilla's search beats `isprintable` (about 4 ns a character)
_ASCII_CONTROLS = "".join(map(chr, range(32))) + "\x7f"


def escape_controls(text: str) -> str:
    """`text` with every C0/DEL/C1 control character replaced by a visible escape (one line)."""
    if FAST and len(text) > _LONG and _first_of is not None and text.isascii():
        # ASCII text (an alert line, a long URI) holds no C1 control: one SIMD search for the rest
        if _first_of(text, _ASCII_CONTROLS) < 0:
            return text
        return _CONTROLS.sub(_one, text)
    if text.isprintable():  # the common case, checked in C: nothing to replace
        return text
    return _CONTROLS.sub(_one, text)


_CONTROLS_BUT_LF = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def escape_message(text: str) -> str:
    """Like `escape_controls`, but line feeds stay: a message may show a condition and a caret under it."""
    if text.isprintable():
        return text
    return _CONTROLS_BUT_LF.sub(_one, text)


def encode_line(text: str) -> bytes:
    """UTF-8 bytes of an escaped line; a lone surrogate becomes a visible `\\udXXX`, never an error."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")
