"""Projection decoding: parse only the JSON paths a query reads, skip the rest of each event in C.

A condition such as `ka.verb=delete and ka.target.resource=secrets` reads three values of an
event that may hold a kilobyte or more (`user.extra`, `requestObject`, ...). `Projection(paths)`
builds msgspec Struct types from the path set and decodes an event's raw text into a *partial*
object: a dict that holds, for each wanted path, exactly what the full parse would hold there (the
whole subtree at the end of a path), and nothing else. The field extractors then run on it as on
the full object, so no extractor needs a second, projected form.

What the partial object equals, and the assumptions behind it (each with a test in
tests/soundness/test_projection.py that tries to break it):

* msgspec and orjson read the same values: strings (escapes included), floats, nested objects,
  duplicate keys (the last one wins, a repeated object replaces the earlier one whole). Integers
  are the exception: orjson reads one beyond 64 bits as a float, msgspec as an exact int, so such
  an int is turned into the float orjson would give (`_fix`).
* An event msgspec cannot serve this way returns None and is parsed whole by the caller: not a
  JSON object, a wanted member that is not an object where the path goes on (`"objectRef": null`),
  a lone surrogate, invalid UTF-8 in a wanted value, nesting deeper than msgspec's limit, invalid
  JSON anywhere (msgspec validates what it skips, except UTF-8 inside skipped strings, which the
  full path's fallback parser accepts as well).
* Values that orjson rejects but the full path's fallback parser reads (`1e999`) make msgspec fail
  when they are wanted (None: full parse), and are read by both when skipped.

`PROJECTING` is the switch to the slow twin: when False, `projection_for` returns None and every
event is parsed whole.

Two decoders serve a projection, tried in turn. The first (`TYPED`) is typed with TypedDicts, so
msgspec builds the partial dict itself, with no Python code per event: its values are typed as
JSON of at most `_DEPTH` levels of arrays and objects whose integers fit in 64 signed bits, which
is what orjson reads the same way, so nothing needs fixing afterwards. A value it cannot type so
(deeper, or an integer beyond that) makes it decline, and the second decoder (Structs with values
typed `Any`, copied into a dict by generated code that applies `_fix`) reads the event. `TYPED =
False` leaves only the second (tests compare the two).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Annotated, Any, NewType, TypedDict, Union

import msgspec

__all__ = ["PROJECTING", "Projection", "projection_for"]

PROJECTING = True  # the slow twin: False parses every event whole (tests compare the two)
TYPED = True  # the slow twin of the typed first decoder: False decodes through Structs and `_fix` only

Path = tuple[str, ...]
_UNSET: Any = msgspec.UNSET
_WHOLE: Any = None  # a tree node that wants the whole subtree
_DECLINED = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)  # parse the event whole
_I64_MIN = -(1 << 63)
_U64_MAX = (1 << 64) - 1


def _fix(v: Any) -> Any:
    """`v` as orjson would have read it: integers beyond 64 bits become floats (scalars fast)."""
    t = type(v)
    if t is str:
        return v
    if t is int:
        return v if _I64_MIN <= v <= _U64_MAX else float(v)
    if t is dict:
        for k, x in v.items():
            tx = type(x)
            if tx is int or tx is dict or tx is list:
                v[k] = _fix(x)
        return v
    if t is list:
        for i, x in enumerate(v):
            tx = type(x)
            if tx is int or tx is dict or tx is list:
                v[i] = _fix(x)
        return v
    return v


_UNNAMEABLE = re.compile(r'["\\\x00-\x1f]')  # msgspec cannot name a Struct field with these


def _nameable(path: Path) -> Path:
    """`path` up to its first key that msgspec cannot name (from there on, the subtree is wanted whole)."""
    for i, key in enumerate(path):
        if _UNNAMEABLE.search(key):
            return path[:i]
    return path


def _tree(paths: Iterable[Path]) -> dict[str, Any]:
    """Paths as a tree of keys; a node is `_WHOLE` where a path ends (a shorter path wins)."""
    root: dict[str, Any] = {}
    for path in sorted({_nameable(p) for p in paths}, key=len):
        if not path:
            raise ValueError("empty path: the whole object is wanted")
        node = root
        for i, key in enumerate(path):
            last = i == len(path) - 1
            if key in node and node[key] is _WHOLE:
                break  # a prefix of this path is wanted whole already
            if last:
                node[key] = _WHOLE
            else:
                node = node.setdefault(key, {})
    return root


def _struct(node: dict[str, Any], keys: list[str], code: list[str]) -> tuple[type, str]:
    """A Struct type for one tree node, and the name of the function that copies one into a dict.

    The function's code (appended to `code`, nested nodes' functions first) reads the Struct's
    attributes `f0, f1, ...` and writes the keys as the constants `K0, K1, ...` (collected in
    `keys`): no text of an event or of a query is ever part of the code.
    """
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    body: list[str] = []
    for i, (key, sub) in enumerate(node.items()):
        attr = f"f{i}"
        rename[attr] = key
        k = f"K{len(keys)}"
        keys.append(key)
        body += [f"    v = s.{attr}", "    if v is not U:"]
        if sub is _WHOLE:
            fields.append((attr, Any, _UNSET))
            body.append(f"        out[{k}] = v if type(v) is str else fix(v)")
        else:
            typ, fname = _struct(sub, keys, code)
            fields.append((attr, typ | None, _UNSET))  # null is a value too: kept as None
            body.append(f"        out[{k}] = None if v is None else {fname}(v)")
    name = f"convert{len(code)}"
    typ = msgspec.defstruct(f"Projected_{name}", fields, rename=rename, gc=False)
    code += [f"def {name}(s):", "    out = {}", *body, "    return out", ""]
    return typ, name


def _compile(tree: dict[str, Any]) -> tuple[type, Callable[[Any], dict[str, Any]]]:
    """The root Struct type and its converter, compiled from `_struct`'s generated code."""
    keys: list[str] = []
    code: list[str] = []
    typ, name = _struct(tree, keys, code)
    env: dict[str, Any] = {"U": _UNSET, "fix": _fix}
    env.update({f"K{i}": k for i, k in enumerate(keys)})
    exec(compile("\n".join(code), "<projection>", "exec"), env)  # noqa: S102 (our code, no user text)
    return typ, env[name]


# Levels of arrays and objects the typed decoder reads inside a wanted value (`user.groups` is one,
# `user.extra` two); each level costs about four times the one below when the decoder is built.
_DEPTH = 2


@lru_cache(maxsize=1)
def _json_type() -> Any:
    """JSON of at most `_DEPTH` levels whose integers orjson reads as msgspec does (int64; an
    unsigned 64-bit integer above that is declined too, a simpler bound than msgspec supports).

    Named by a `NewType`, which msgspec decodes as the union itself: building a decoder, msgspec
    asks `typing.get_type_hints` of each TypedDict, which walks every member of an unnamed union
    again (half the 1.7 ms a projection's decoder took to build, in every `--jobs` worker).
    """
    scalar: Any = Union[str, Annotated[int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1)], float, bool, None]
    typ = scalar
    for _ in range(_DEPTH):
        typ = Union[scalar, list[typ], dict[str, typ]]  # type: ignore[valid-type]
    return NewType("JSONValue", typ)


def _typed(node: dict[str, Any]) -> Any:
    """A TypedDict (no key required) for one tree node: what the typed decoder builds for it."""
    return _typed_of(_shape(node))


def _shape(node: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The tree node as a hashable value: (key, None for a wanted value or the inner node's shape)."""
    return tuple((key, None if sub is _WHOLE else _shape(sub)) for key, sub in node.items())


@lru_cache(maxsize=256)
def _typed_of(shape: tuple[tuple[str, Any], ...]) -> Any:
    """`_typed` by shape: the projections of a scan share their inner objects (`user`, `objectRef`),
    and msgspec keeps what it learns of a TypedDict with the type."""
    fields = {key: _json_type() if sub is None else Union[_typed_of(sub), None] for key, sub in shape}
    return TypedDict("Projected", fields, total=False)  # type: ignore[operator]


def _ascii_keys(node: dict[str, Any]) -> bool:
    return all(key.isascii() and (sub is _WHOLE or _ascii_keys(sub)) for key, sub in node.items())


class Projection:
    """Decode the members at `paths` of an event's JSON text; see the module docstring.

    `projection(raw)` is the partial object, or None when the event must be parsed whole.
    """

    __slots__ = ("paths", "_tree", "_typed", "_lines", "_decode", "_convert")

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = frozenset(tuple(p) for p in paths)
        self._tree = _tree(self.paths)
        # msgspec (0.23) never matches a TypedDict key that has a non-ASCII character (a Struct's it
        # does): such a projection is served by the Structs alone (test_projection_typed.py)
        typed = TYPED and _ascii_keys(self._tree)
        self._lines: Any = None
        self._typed: Any = None
        if typed:
            decoder = msgspec.json.Decoder(_typed(self._tree))
            self._typed, self._lines = decoder.decode, decoder.decode_lines
        self._decode: Any = None  # the second decoder: built when first needed
        self._convert: Any = None

    def _structs(self, raw: bytes) -> dict[str, Any]:
        """The second decoder (Structs, then the generated copy); raises what `parts` names."""
        if self._decode is None:
            typ, self._convert = _compile(self._tree)
            self._decode = msgspec.json.Decoder(typ).decode
        return self._convert(self._decode(raw))

    def __call__(self, raw: bytes) -> dict[str, Any] | None:
        typed = self._typed
        if typed is not None:
            try:
                return typed(raw)
            except _DECLINED:
                pass
        try:
            return self._structs(raw)
        except _DECLINED:
            return None

    def parts(self) -> tuple[Callable[[bytes], dict[str, Any]], Callable[[bytes], dict[str, Any]] | None,
                             tuple[type, ...]]:
        """(first, second, errors), for a hot loop that inlines `__call__`: `first(raw)` is the
        partial object or raises `errors`; then `second(raw)` likewise (None: no second try)."""
        if self._typed is not None:
            return self._typed, self._structs, _DECLINED
        return self._structs, None, _DECLINED

    def lines(self) -> Callable[[Any], list[dict[str, Any]]] | None:
        """The typed decoder over a buffer of whitespace-separated values (`decode_lines`): each
        value as `parts()`'s first decoder reads it alone; raises its errors. None without it."""
        return self._lines

    def __repr__(self) -> str:
        return f"Projection({sorted(self.paths)!r})"


# Beyond this many values to copy out, decoding the projection costs more than orjson's full
# parse (measured with callgrind on 5,000 events of benchmarks/shapes.py: `not ka.verb in (...)`,
# 3 values, 25k instead of 42k instructions per event; the 12 values of `-r eks`, 2% more).
MAX_VALUES = 8


def projection_for(paths: Iterable[Path] | None, max_values: int = MAX_VALUES) -> Projection | None:
    """A projection for `paths`; None when parsing whole is better: something reads the whole
    object, more than `max_values` values are read, or projecting is off.

    (A caller that decodes only large events may allow more values: on the 1.2-1.8 KB events that
    raise alerts in benchmarks/rules_vs_jq.py, 13 values decode in 5.2-5.6 µs where orjson takes
    8.9-12.9 µs.)
    """
    if paths is None or not PROJECTING:
        return None
    paths = list(paths)
    if any(not _nameable(p) for p in paths):
        return None  # the whole object is wanted (an empty path, or a first key msgspec cannot name)
    return _projection(frozenset(paths), TYPED, max_values)


@lru_cache(maxsize=64)
def _projection(paths: frozenset[Path], typed: bool, max_values: int) -> Projection | None:
    """Built once per path set and `TYPED` (the typed decoder, ~0.1 ms per value; the Structs and
    their compiled converter, 0.8 ms, when first needed), not once per scan: `--jobs` workers scan
    every chunk anew. A Projection holds no state between events."""
    if _values(_tree(paths)) > max_values:
        return None
    return Projection(paths)


def _values(node: dict[str, Any]) -> int:
    """How many values (subtrees wanted whole) a tree copies out."""
    return sum(1 if sub is _WHOLE else _values(sub) for sub in node.values())
