"""The json plugin's fields used by Falco's k8s audit rules: `jevt.*` and their `json.*` twins.

They read any JSON event (no `auditID` gate): `jevt.value[/json/pointer]` is an RFC 6901 pointer
into the event, `jevt.obj` the whole event indented, `jevt.rawtime` the event time
(`stageTimestamp`) in nanoseconds, as decimal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from ..events import slowjson
from ..timestamps import minute_seconds, parse_ts_ns, seconds_text
from .jsonwalk import MISSING, as_string, compact_json
from .registry import ArgKind, FieldDef, FieldType

_INDEX_RE = re.compile(r"[0-9]+\Z")


@lru_cache(maxsize=1024)
def parse_pointer(pointer: str) -> tuple[str, ...] | None:
    """RFC 6901 pointer to reference tokens (`~1` -> `/`, then `~0` -> `~`); None = the whole document."""
    if pointer == "":
        return None
    body = pointer[1:] if pointer.startswith("/") else pointer
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in body.split("/"))


def resolve_pointer(doc: Any, tokens: tuple[str, ...]) -> Any:
    """Walk objects by key and arrays by decimal index; MISSING when the pointer leads nowhere."""
    v = doc
    for t in tokens:
        if isinstance(v, dict):
            v = v.get(t, MISSING)
            if v is MISSING:
                return MISSING
        elif type(v) is list:
            if not _INDEX_RE.match(t):
                return MISSING
            i = int(t)
            if i >= len(v):
                return MISSING
            v = v[i]
        else:
            return MISSING
    return v


def pointer_path(pointer: str) -> tuple[str, ...] | None:
    """The object-key path of a pointer, or None if it may index an array (or is the whole event)."""
    tokens = parse_pointer(pointer)
    if not tokens or any(_INDEX_RE.match(t) for t in tokens):
        return None
    return tokens


def _value(event: Any, pointer: Any) -> str | None:
    doc = event.obj
    if doc is None:
        return None
    tokens = parse_pointer(pointer)
    if tokens is None:
        return compact_json(doc)
    v = resolve_pointer(doc, tokens)
    if v is MISSING:
        return None
    return v if type(v) is str else as_string(v)


def _obj(event: Any, arg: Any) -> str | None:
    doc = event.obj
    if doc is None:
        return None
    return slowjson.dumps(doc, indent=True).decode()  # any depth; `1e999` as its text


def _rawtime_of(event: Any) -> str | None:
    doc = event.obj
    if not isinstance(doc, dict):
        return None
    return _rawtime_text(doc.get("stageTimestamp"))


FAST_RAWTIME = True  # the slow twin: False, `str(parse_ts_ns(ts))` for every value


def _rawtime_text(ts: Any) -> str | None:
    """`jevt.rawtime` from the `stageTimestamp` member's value (anything but a string: None).

    The API server's form (`2026-11-30T10:00:00.123456Z`) after the epoch is its second's decimal
    text (cached), the six digits and `000`: what `str` of the nanoseconds writes, without the
    arithmetic (tests/fields/test_from_leaf.py compares the two).
    """
    if type(ts) is not str:
        return None
    if FAST_RAWTIME and len(ts) == 27 and ts[19] == "." and ts[26] == "Z" and ts[10] == "T":
        frac = ts[20:26]
        if frac.isdigit() and frac.isascii():
            secs = seconds_text(ts[:19])
            if secs is not None:
                return secs + frac + "000"
    ns = parse_ts_ns(ts)
    return None if ns is None else str(ns)


# The value from the one member it reads, for an event that is a JSON object (rules/blockscreen.py
# decides on block values without building an object; tests/fields compare it with `_rawtime_of`).
_rawtime_of.from_leaf = ("stageTimestamp", _rawtime_text)  # type: ignore[attr-defined]


RAWTIME_BY_MINUTE = True  # the slow twin: False, `_rawtime_unequal`'s tests never answer (text computed)
_NINES = bytes.maketrans(b"012345678", b"999999999")
_API_SHAPE = b"9999-99-99T99:99:99.999999Z"  # the API server's timestamps, digits read as 9


def _rawtime_unequal(literals: Iterable[str]) -> Callable[[str], bool]:
    """A test of a `stageTimestamp` string: True when `_rawtime_text` of it is a string equal to
    none of `literals`, without computing it; False: compute it.

    The rules test `jevt.rawtime` only against `0` (Falco's `never_true` macro), but its text cost
    2.4 µs an event here, for every event. For the API server's form after the epoch, the text is
    the second's digits, the six of the fraction and `000` (the path `_rawtime_text` takes: the
    shape checked below implies its conditions and `seconds_text`'s: ASCII digits where the form
    has digits, its punctuation, a second below 60); so only a literal of digits ending in `000`
    whose seconds fall in the timestamp's minute can equal it. That is decided once per minute.
    """
    if not RAWTIME_BY_MINUTE:
        return lambda ts: False
    seconds = []
    for lit in literals:
        if len(lit) >= 10 and lit.isascii() and lit.isdigit() and lit.endswith("000"):
            seconds.append(int(lit[:-9]))
    minutes: dict[str, bool] = {}  # `YYYY-MM-DDTHH:MM` -> no literal can be a text of its seconds

    def unequal(ts: str) -> bool:
        # the shape in three C calls: every ASCII digit read as 9 (a dozen checks in Python cost twice)
        if not ts.isascii() or ts.encode().translate(_NINES) != _API_SHAPE or ts[17] > "5":
            return False
        minute = ts[:16]
        known = minutes.get(minute)
        if known is None:
            base = minute_seconds(minute)
            known = base is not None and base > 0 and not any(base <= s < base + 60 for s in seconds)
            if len(minutes) >= 4096:
                minutes.clear()
            minutes[minute] = known
        return known

    return unequal


_rawtime_of.unequal = _rawtime_unequal  # type: ignore[attr-defined]  # (rules/blockscreen.py)


def _rawtime(event: Any, arg: Any) -> str | None:
    return _rawtime_of(event)


_rawtime.getter = _rawtime_of  # type: ignore[attr-defined]  # the one-argument form (registry.resolve)


def fields() -> list[FieldDef]:
    """`jevt.value`, `jevt.obj`, `jevt.rawtime` and the identical `json.*` fields."""
    S = FieldType.STRING
    out: list[FieldDef] = []
    for ns in ("jevt", "json"):
        twin = "" if ns == "jevt" else " Same as jevt.value."
        out += [
            FieldDef(
                name=f"{ns}.value", type=S, arg=ArgKind.KEY, extract=_value,
                description="The value at an RFC 6901 JSON pointer into the event (~1 = /, ~0 = ~);"
                " an empty pointer gives the whole event." + twin,
                example=f"{ns}.value[/user/extra/arn/0]",
                arg_path=pointer_path,
            ),
            FieldDef(
                name=f"{ns}.obj", type=S, extract=_obj,
                description="The whole event as indented JSON." + twin.replace("value", "obj"),
            ),
            FieldDef(
                name=f"{ns}.rawtime", type=S, extract=_rawtime, reads=(("stageTimestamp",),),
                description="The event time (stageTimestamp) in nanoseconds since the epoch, as decimal text."
                + twin.replace("value", "rawtime"),
            ),
        ]
    return out
