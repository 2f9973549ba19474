"""The slow twin of orjson for hostile events: no depth limit, huge numbers kept, odd encodings read.

orjson (the fast decoder) rejects JSON nested deeper than 1,024 levels, numbers beyond the double
range (`1e999`) and invalid UTF-8 or lone surrogate escapes. Anyone who can create a Kubernetes
object chooses what its `requestObject` holds, so rejecting such an event would let them hide it
from every rule. `loads` tries orjson first and falls back to `parse`, an iterative parser (an
explicit stack, no Python recursion; its cost is linear in the text, which the reader's line cap
bounds). On every text orjson accepts, `parse` returns the same value (a property test checks it).

What the fallback does with what orjson rejects:

* any nesting depth;
* a number beyond the double range becomes a `BigNumber` that keeps its text: fields render it as
  that text (`1e999`), JSON output writes it unchanged, and a Python consumer reading it as a float
  gets plus or minus infinity;
* invalid UTF-8 and lone surrogate escapes (`"\\ud800"`) become U+FFFD, as Go's decoder (the API
  server's, Falco's) reads them.

`dumps` is the matching writer: orjson when it can, else an iterative writer (deep values,
`BigNumber`, ints beyond 64 bits), so rendering a hostile value never fails either.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["BigNumber", "JSONParseError", "dumps", "loads", "parse"]


class BigNumber:
    """A JSON number beyond the double range, kept as its text (`1e999`, `-1E400`).

    Renders as its text everywhere; `float()` gives plus or minus infinity. It is not a Python
    number, so numeric (uint64) fields see no value in it, as they see none in `1.5`.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __float__(self) -> float:
        return float(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"BigNumber({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BigNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("BigNumber", self.text))


class JSONParseError(ValueError):
    """Text that is not JSON even for the tolerant parser (`pos` is a character offset)."""

    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(f"{msg} (char {pos})")
        self.pos = pos


_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_PLAIN_STR = re.compile(r'"([^"\\\x00-\x1f]*)"')
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INT_MIN = -(1 << 63)
_UINT_MAX = (1 << 64) - 1
_scanstring = json.decoder.scanstring
_INDENT_MAX = 255  # orjson writes (and indents) values up to about this depth


def loads(data: bytes | str) -> Any:
    """`orjson.loads`, falling back to `parse` for what it rejects; raises `orjson.JSONDecodeError`
    (orjson's own error) when the text is not JSON at all."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        try:
            return parse(data)
        except JSONParseError:
            raise e from None


def _number(text: str, is_int: bool) -> Any:
    if is_int and len(text) <= 21:  # beyond that it is no 64-bit int (and int() has a digit limit)
        n = int(text)
        if _INT_MIN <= n <= _UINT_MAX:
            return n
    f = float(text)
    if f in (float("inf"), float("-inf")):
        return BigNumber(text)
    return f


def _string(s: str, pos: int) -> tuple[str, int]:
    """The string starting at the quote at `pos`, and the position after it."""
    m = _PLAIN_STR.match(s, pos)
    if m is not None:
        return m.group(1), m.end()
    try:
        v, end = _scanstring(s, pos + 1, True)
    except ValueError as e:
        raise JSONParseError(f"invalid string: {e}", pos) from None
    if _SURROGATE.search(v):
        v = _fix_surrogates(v)
    return v, end


def _fix_surrogates(v: str) -> str:
    """Lone surrogates to U+FFFD (pairs were already joined by the scanner)."""
    return _SURROGATE.sub("\ufffd", v)


def parse(data: bytes | str) -> Any:
    """Parse one JSON text iteratively; raises JSONParseError when it is not JSON."""
    s = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray, memoryview)) else data
    if s.startswith("\ufeff"):
        raise JSONParseError("unexpected byte-order mark", 0)
    ws = _WS.match
    blanks = " \t\n\r"
    n = len(s)
    stack: list[list[Any]] = []  # [container, key of the value being read (objects)]
    pos = ws(s, 0).end()
    while True:
        # one value at pos
        c = s[pos] if pos < n else ""
        if c == "{":
            pos += 1
            if pos < n and s[pos] in blanks:
                pos = ws(s, pos).end()
            if s.startswith("}", pos):
                value: Any = {}
                pos += 1
            else:
                d: dict[str, Any] = {}
                key, pos = _key(s, pos, ws)
                stack.append([d, key])
                continue
        elif c == "[":
            pos += 1
            if pos < n and s[pos] in blanks:
                pos = ws(s, pos).end()
            if s.startswith("]", pos):
                value = []
                pos += 1
            else:
                stack.append([[], None])
                continue
        else:
            value, pos = _scalar_at(s, pos, c)
        # the value is complete: store it, then close every container that ends here
        while True:
            if not stack:
                pos = ws(s, pos).end()
                if pos != n:
                    raise JSONParseError("extra data after the JSON value", pos)
                return value
            top = stack[-1]
            cont = top[0]
            is_list = type(cont) is list
            if is_list:
                cont.append(value)
            else:
                cont[top[1]] = value
            c = s[pos] if pos < n else ""
            if c in blanks and c:
                pos = ws(s, pos).end()
                c = s[pos] if pos < n else ""
            if c == ",":
                pos += 1
                if pos < n and s[pos] in blanks:
                    pos = ws(s, pos).end()
                if not is_list:
                    top[1], pos = _key(s, pos, ws)
                break
            if c == ("]" if is_list else "}"):
                pos += 1
                stack.pop()
                value = cont
                continue
            raise JSONParseError("expected ',' or the end of the container", pos)


def _scalar_at(s: str, pos: int, c: str) -> tuple[Any, int]:
    """The string, number, `true`, `false` or `null` at `pos` (`c` is its first character), and the
    position after it."""
    if c == '"':
        return _string(s, pos)
    if c == "-" or "0" <= c <= "9":
        m = _NUMBER.match(s, pos)
        if m is None:
            raise JSONParseError("invalid number", pos)
        return _number(m.group(), m.group(1) is None and m.group(2) is None), m.end()
    if s.startswith("true", pos):
        return True, pos + 4
    if s.startswith("false", pos):
        return False, pos + 5
    if s.startswith("null", pos):
        return None, pos + 4
    raise JSONParseError("expected a value" if c else "unexpected end of text", pos)


def _key(s: str, pos: int, ws: Any) -> tuple[str, int]:
    """An object key and its colon; returns the key and the position of its value."""
    if not s.startswith('"', pos):
        raise JSONParseError("expected a string key", pos)
    key, pos = _string(s, pos)
    pos = ws(s, pos).end()
    if not s.startswith(":", pos):
        raise JSONParseError("expected ':'", pos)
    return key, ws(s, pos + 1).end()


# --- writing ----------------------------------------------------------------------------------


def _fragment(v: Any) -> Any:
    if isinstance(v, BigNumber):
        return orjson.Fragment(v.text)
    raise TypeError


def dumps(value: Any, *, indent: bool = False) -> bytes:
    """Compact JSON (or orjson's 2-space indentation), identical to `orjson.dumps` when it succeeds.

    Falls back to an iterative writer for values orjson cannot write: nesting beyond its limit,
    ints beyond 64 bits, lone surrogates (escaped), other objects (as their `str`). With `indent`,
    levels deeper than orjson's limit are written on one line, so the output stays linear.
    """
    try:
        return orjson.dumps(value, default=_fragment, option=orjson.OPT_INDENT_2 if indent else None)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _write(value, indent).encode("utf-8")


def _scalar(v: Any) -> str:
    if isinstance(v, BigNumber):
        return v.text
    if v is None or isinstance(v, (bool, float)):
        try:
            return orjson.dumps(v).decode()
        except TypeError:
            pass
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if not isinstance(v, str):
        v = str(v)
    try:
        return orjson.dumps(v).decode()
    except TypeError:  # lone surrogates: escaped, as Python's json writes them
        return json.dumps(v)


def _write(value: Any, indent: bool) -> str:
    """Iterative JSON writer (explicit stack): `orjson.dumps` layout for any depth."""
    out: list[str] = []
    # each frame: (iterator over items, is_dict, depth, first?)
    stack: list[list[Any]] = []

    def nl(depth: int) -> str:
        # deeper than orjson could indent, values are written on one line: the output stays
        # linear in the input (full indentation of a deep value is quadratic)
        return "\n" + "  " * depth if indent and depth <= _INDENT_MAX else ""

    def open_value(v: Any, depth: int) -> None:
        if isinstance(v, dict):
            if not v:
                out.append("{}")
                return
            out.append("{")
            stack.append([iter(v.items()), True, depth + 1, True])
        elif isinstance(v, (list, tuple)):
            if not v:
                out.append("[]")
                return
            out.append("[")
            stack.append([iter(v), False, depth + 1, True])
        else:
            out.append(_scalar(v))

    open_value(value, 0)
    sep = ": " if indent else ":"
    while stack:
        frame = stack[-1]
        it, is_dict, depth, first = frame
        try:
            item = next(it)
        except StopIteration:
            stack.pop()
            out.append((nl(depth - 1) if depth <= _INDENT_MAX else "") + ("}" if is_dict else "]"))
            continue
        if not first:
            out.append(",")
        frame[3] = False
        out.append(nl(depth))
        if is_dict:
            k, v = item
            out.append(_scalar(k if isinstance(k, str) else _key_text(k)) + sep)
            open_value(v, depth)
        else:
            open_value(item, depth)
    return "".join(out)


def _key_text(k: Any) -> str:
    if k is None or isinstance(k, bool):
        return json.dumps(k)
    return str(k)
