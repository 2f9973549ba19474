"""JSON helpers shared by the field modules: as-string rendering and the two k8saudit walks.

They mirror the Falco k8saudit plugin (docs/fields.md#values): a field is a string rendering of
whatever JSON value sits at its path, and a missing key or a wrong JSON type means "no value",
never an exception. Events are parsed by orjson, so the raw text of numbers and string escapes is
not kept; see `as_string` for the tolerated differences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from ..events import slowjson


class _Missing:
    """Sentinel for "no value" inside walks (JSON null is a value: Python None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def as_string(v: Any) -> str:
    """Falco's as-string rendering: a JSON string is its text, anything else its compact JSON.

    Key order is kept and ints are exact; a number beyond the double range (`1e999`, which only
    the fallback parser reads) is its original text. Tolerated differences from the Go plugin, which keeps the
    original text: floats are re-spelled (`1e3` -> `1000.0`, `1.50` -> `1.5`), string escapes are
    re-spelled (`\\u0026` -> `&`, non-ASCII as UTF-8), and duplicate keys collapse to the last value.
    """
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if v is None:
        return "null"
    return compact_json(v)


def compact_json(v: Any) -> str:
    """Compact JSON text (no spaces, key order kept, UTF-8 kept).

    Values orjson cannot write (nesting deeper than its limit, `1e999` kept as text, ints beyond
    64 bits, objects built by hand) go through `slowjson.dumps`, which writes any depth.
    """
    try:
        return orjson.dumps(v).decode()
    except TypeError:
        return slowjson.dumps(v).decode()


def get_path(v: Any, keys: Sequence[str]) -> Any:
    """The plugin's plain walk: object keys; MISSING as soon as a key or an object is missing."""
    for k in keys:
        if not isinstance(v, dict):
            return MISSING
        v = v.get(k, MISSING)
        if v is MISSING:
            return MISSING
    return v


def multi(v: Any, idx: int | None, keys: Sequence[str]) -> Any:
    """The plugin's multi walk: a key walk that fans out over the arrays it meets.

    Returns a list of values with MISSING placeholders (one per array element whose walk failed),
    or MISSING. Arrays are checked only before consuming a key, so a final array is one value;
    `idx` selects that element in every array met (the first one, in practice); the key "" stays on
    the element itself.
    """
    n = len(keys)
    i = 0
    while i < n:
        if type(v) is list:
            if idx is None:
                rest = keys[i:]
                out: list[Any] = []
                for elem in v:
                    r = multi(elem, None, rest)
                    if r is MISSING:
                        out.append(MISSING)
                    else:
                        out.extend(r)
                return out
            if idx >= len(v):
                return MISSING
            v = v[idx]
        k = keys[i]
        if k != "":
            if isinstance(v, dict):
                v = v.get(k, MISSING)
            else:
                return MISSING
            if v is MISSING:
                return MISSING
        i += 1
    return [v]


def strings_skip_missing(values: Any) -> list[str] | None:
    """Render a `multi` result, dropping MISSING placeholders; None when nothing is left."""
    if values is MISSING:
        return None
    out = [as_string(x) for x in values if x is not MISSING]
    return out or None


def list_strings(v: Any) -> list[str] | None:
    """A JSON array as a list field (each element as-string); None if not an array or empty."""
    if type(v) is not list or not v:
        return None
    return [x if type(x) is str else as_string(x) for x in v]


def audit_obj(event: Any) -> dict[str, Any] | None:
    """The plugin's gate: the event's object if it is a JSON object with `auditID`, else None."""
    o = event.obj
    if isinstance(o, dict) and "auditID" in o:
        return o
    return None


def audit_member(event: Any, key: str) -> Any:
    """A top-level member of an audit event; MISSING when it is not an audit event or lacks the key."""
    o = audit_obj(event)
    return MISSING if o is None else o.get(key, MISSING)


def audit_dict(event: Any, key: str) -> dict[str, Any] | None:
    """A top-level member that must be a JSON object (`user`, `annotations`, ...); else None."""
    v = audit_member(event, key)
    return v if isinstance(v, dict) else None


def json_obj(event: Any) -> dict[str, Any] | None:
    """The event's object when it is a JSON object (no Gate: for jevt.* and friends)."""
    o = event.obj
    return o if isinstance(o, dict) else None


def path_getter(keys: tuple[str, ...], *, gate: bool = True) -> Callable[[Any], str | None]:
    """`path_extractor` as one closure of the event alone: what a bound field runs per event.

    The gate, the object access and the walk are inlined (no `audit_obj`/`json_obj` call, no
    argument wrapper), because this is the innermost call of every condition and `--count-by`.
    Its `walk` says so to the output formats' compiled renderer (rules/formatting.py): the keys,
    the gate, and "text" (a string leaf is returned as it is, an int as `str` of it).
    """
    if not keys:
        raise ValueError("empty path")
    missing = MISSING
    if len(keys) == 1:
        (k0,) = keys

        def get1(event: Any) -> str | None:
            o = event.obj
            if not isinstance(o, dict) or (gate and "auditID" not in o):
                return None
            v = o.get(k0, missing)
            if v is missing:
                return None
            return v if type(v) is str else as_string(v)

        get1.walk = (keys, gate, "text")  # type: ignore[attr-defined]  # see rules/formatting.py
        return get1

    if len(keys) == 2:
        k0, k1 = keys

        def get2(event: Any) -> str | None:
            o = event.obj
            if not isinstance(o, dict) or (gate and "auditID" not in o):
                return None
            a = o.get(k0)
            if not isinstance(a, dict):
                return None
            v = a.get(k1, missing)
            if v is missing:
                return None
            return v if type(v) is str else as_string(v)

        get2.walk = (keys, gate, "text")  # type: ignore[attr-defined]
        return get2

    head, rest = keys[0], keys[1:]

    def getn(event: Any) -> str | None:
        o = event.obj
        if not isinstance(o, dict) or (gate and "auditID" not in o):
            return None
        v = get_path(o.get(head), rest)
        if v is missing:
            return None
        return v if type(v) is str else as_string(v)

    getn.walk = (keys, gate, "text")  # type: ignore[attr-defined]
    return getn


def path_extractor(keys: tuple[str, ...], *, gate: bool = True) -> Callable[[Any, Any], str | None]:
    """A scalar field that is the as-string value at an object-key path (specialised for speed).

    The returned function carries `.getter`, the same field as a one-argument `path_getter`,
    which `FieldRegistry.resolve` binds instead of wrapping this one.
    """
    getter = path_getter(keys, gate=gate)

    def ex(event: Any, arg: Any = None) -> str | None:
        return getter(event)

    ex.getter = getter  # type: ignore[attr-defined]
    ex.reads = path_reads(keys, gate=gate)  # type: ignore[attr-defined]
    return ex


def path_reads(keys: tuple[str, ...], *, gate: bool = True) -> tuple[tuple[str, ...], ...]:
    """The JSON paths a gated walk of `keys` reads: `keys` itself and, for the gate, `auditID`."""
    return (keys, ("auditID",)) if gate else (keys,)


def list_path_extractor(keys: tuple[str, ...]) -> Callable[[Any, Any], list[str] | None]:
    """A gated list field: the JSON array at `keys`, each element as-string (helper A, list form)."""

    def ex(event: Any, arg: Any = None) -> list[str] | None:
        o = audit_obj(event)
        if o is None:
            return None
        v = get_path(o, keys)
        return list_strings(v)

    ex.reads = path_reads(keys)  # type: ignore[attr-defined]
    return ex
