"""Write the same JSON value in other valid spellings, at random: what the fast paths must not notice.

`respell(value, rng)` writes any character of any key or string as a `\\uXXXX` escape (upper- or
lower-case hex, surrogate pairs beyond the BMP), `/` as `\\/`, puts whitespace wherever JSON allows
it, shuffles the keys of every object, and (with `multiline=True`) pretty-prints over several lines.
`json.loads` of the result is always equal to `value` (checked by `respell` itself), and its key
order is the only thing that may differ. `numbers=True` also re-spells numbers (`200` as `2e2`,
`2.00E+2`): the same JSON number, but Python then reads a float, so a field may render it another
way (`200.0`); use it only to compare two paths on the same bytes.

`go_spell(line)` is what Go's encoding/json (so the API server) does: `&`, `<`, `>` as `\\u0026`,
`\\u003c`, `\\u003e`. `respell_file(values, rng)` writes a whole input: a BOM, CRLF line ends,
some documents pretty-printed over many lines.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from typing import Any

_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INLINE_WS = ("", "", "", " ", "  ", "\t")


def _hex(rng: random.Random, code: int) -> str:
    digits = f"{code:04x}"
    case = rng.random()
    if case < 0.4:
        return digits
    if case < 0.8:
        return digits.upper()
    return "".join(d.upper() if rng.random() < 0.5 else d for d in digits)


def _u(rng: random.Random, ch: str) -> str:
    code = ord(ch)
    if code > 0xFFFF:
        code -= 0x10000
        hi, lo = 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)
        return f"\\u{_hex(rng, hi)}\\u{_hex(rng, lo)}"
    return f"\\u{_hex(rng, code)}"


def spell_string(s: str, rng: random.Random, p_escape: float) -> str:
    """A JSON string literal for `s`: each character literal or escaped with probability `p_escape`."""
    out = ['"']
    for ch in s:
        escape = rng.random() < p_escape
        if ch in _SHORT or ord(ch) < 0x20:
            out.append(_u(rng, ch) if escape or ch not in _SHORT else _SHORT[ch])
        elif ch == "/" and escape and rng.random() < 0.5:
            out.append("\\/")
        elif escape:
            out.append(_u(rng, ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(v: int | float, rng: random.Random, numbers: bool) -> str:
    text = json.dumps(v)
    if not numbers or rng.random() < 0.5 or isinstance(v, bool):
        return text
    if isinstance(v, int) and v != 0:
        digits = str(abs(v))
        sign = "-" if v < 0 else ""
        k = rng.randrange(len(digits))  # d.ddd e+k
        mant = digits[: len(digits) - k] + ("." + digits[len(digits) - k :] if k else "")
        exp = rng.choice(["e", "E"]) + rng.choice(["", "+"]) + str(k)
        return sign + mant + (exp if k or rng.random() < 0.5 else "")
    return text


class _Writer:
    def __init__(self, rng: random.Random, p_escape: float, numbers: bool, multiline: bool) -> None:
        self.rng = rng
        self.p = p_escape
        self.numbers = numbers
        self.multiline = multiline
        self.indent = rng.choice(["  ", "    ", "\t", " "])
        self.newline = rng.choice(["\n", "\r\n"]) if multiline else ""

    def ws(self, depth: int) -> str:
        if self.multiline and self.rng.random() < 0.7:
            return self.newline + self.indent * depth
        return self.rng.choice(_INLINE_WS)

    def value(self, v: Any, depth: int) -> str:
        rng = self.rng
        if isinstance(v, str):
            return spell_string(v, rng, self.p)
        if v is None or isinstance(v, bool):
            return json.dumps(v)
        if isinstance(v, (int, float)):
            return _number(v, rng, self.numbers)
        if isinstance(v, list):
            if not v:
                return "[" + self.ws(depth + 1) + "]"
            items = [self.ws(depth + 1) + self.value(x, depth + 1) + self.ws(depth) for x in v]
            return "[" + ",".join(items) + "]"
        if isinstance(v, dict):
            keys = list(v)
            rng.shuffle(keys)
            if not keys:
                return "{" + self.ws(depth + 1) + "}"
            members = [
                self.ws(depth + 1) + spell_string(k, rng, self.p) + self.ws(depth + 1) + ":"
                + self.ws(depth + 1) + self.value(v[k], depth + 1) + self.ws(depth)
                for k in keys
            ]
            return "{" + ",".join(members) + "}"
        raise TypeError(type(v))


def respell(value: Any, rng: random.Random, *, p_escape: float | None = None, numbers: bool = False,
            multiline: bool = False) -> str:
    """One random valid JSON spelling of `value` (one line unless `multiline`)."""
    p = rng.choice([0.0, 0.02, 0.1, 0.5, 1.0]) if p_escape is None else p_escape
    text = _Writer(rng, p, numbers, multiline).value(value, 0)
    assert json.loads(text) == value, text[:200]
    assert multiline or "\n" not in text
    return text


def go_spell(line: bytes) -> bytes:
    """Go's encoding/json escaping of HTML characters (what the API server writes)."""
    return line.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")


def respell_file(values: Iterable[Any], rng: random.Random, *, numbers: bool = False, p_multiline: float = 0.1,
                 bom: bool | None = None, crlf: bool | None = None) -> bytes:
    """A whole input file of these values, each respelled (some pretty-printed), maybe BOM and CRLF."""
    bom = rng.random() < 0.3 if bom is None else bom
    crlf = rng.random() < 0.3 if crlf is None else crlf
    end = "\r\n" if crlf else "\n"
    parts = [respell(v, rng, numbers=numbers, multiline=rng.random() < p_multiline) + end for v in values]
    data = "".join(parts).encode("utf-8", "surrogatepass")
    return (b"\xef\xbb\xbf" if bom else b"") + data
