"""The field registry: one declaration per field, read by the condition engine, outputs, docs and pushdown.

A `FieldDef` says what a field is (type, list or scalar, which argument it takes, where it lives
in the JSON) next to the function that extracts it. `FieldRegistry.resolve()` validates the
argument once and returns a `BoundField` whose `extract(event)` is what runs per event.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..errors import FieldError


class FieldType(str, Enum):
    STRING = "string"
    UINT64 = "uint64"
    BOOL = "bool"
    ABSTIME = "abstime"
    RELTIME = "reltime"
    IPADDR = "ipaddr"
    IPNET = "ipnet"


class ArgKind(str, Enum):
    NONE = "none"  # no [arg] allowed
    INDEX = "index"  # optional [N], digits only
    KEY = "key"  # required [key]


# extract(event, arg) -> None (no value) | scalar | non-empty list. For INDEX fields `arg` is an int.
Extractor = Callable[[Any, Any], Any]
Paths = tuple[tuple[str, ...], ...]

_INDEX_RE = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_REF_RE = re.compile(r"([A-Za-z0-9_.]+)(?:\[(.*)\])?\Z", re.S)


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: FieldType
    description: str
    extract: Extractor = field(repr=False, compare=False)
    is_list: bool = False
    arg: ArgKind = ArgKind.NONE
    path: tuple[str, ...] | None = None
    string_ops: bool = False
    example: str | None = None  # an example reference, e.g. "ka.user.extra[arn]"
    deprecated: bool = False
    # For key-argument fields whose argument is one more object key (`ka.annotation[KEY]`):
    # maps the argument to the full JSON path of the bound field, or None when it is not a plain path.
    arg_path: Callable[[str], tuple[str, ...] | None] | None = field(default=None, repr=False, compare=False)
    # The JSON paths the extractor reads (each with its whole subtree), for projection decoding
    # (events/projection.py); None = the whole object (the default: unknown is never guessed).
    # A path extractor carries its own (`path_extractor(...).reads`), used when this is not given.
    reads: Paths | None = field(default=None, repr=False, compare=False)

    @property
    def namespace(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class BoundField:
    """A field with a validated argument: `extract(event)` is called per event."""

    defn: FieldDef
    arg: str | None
    extract: Callable[[Any], Any] = field(repr=False, compare=False)
    bound_path: tuple[str, ...] | None = None  # the path with the argument, when the argument is a key
    reads: Paths | None = None  # the JSON paths `extract` reads (None: the whole object)

    @property
    def name(self) -> str:
        return self.defn.name

    @property
    def ref(self) -> str:
        """The reference as a user writes it: `name` or `name[arg]`."""
        return self.defn.name if self.arg is None else f"{self.defn.name}[{self.arg}]"

    @property
    def type(self) -> str:
        return self.defn.type.value

    @property
    def is_list(self) -> bool:
        return self.defn.is_list

    @property
    def path(self) -> tuple[str, ...] | None:
        return self.bound_path if self.bound_path is not None else self.defn.path

    @property
    def string_ops(self) -> bool:
        return self.defn.string_ops


def _reads(defn: FieldDef, bound_path: tuple[str, ...] | None) -> Paths | None:
    """What a bound field reads: the path its argument names (`arg_path`: `ka.annotation[KEY]`,
    `jevt.value[/a/b]`; with `auditID`, the gate of most), else the definition's `reads`, else its
    path extractor's."""
    if bound_path is not None:
        return (bound_path, ("auditID",))
    if defn.reads is not None:
        return defn.reads
    return getattr(defn.extract, "reads", None)


def parse_field_ref(text: str) -> tuple[str, str | None]:
    """Split `ka.user.extra[arn]` into (`ka.user.extra`, `arn`); the argument is None without brackets."""
    m = _REF_RE.match(text)
    if not m:
        raise FieldError(f"invalid field reference {text!r}")
    return m.group(1), m.group(2)


class FieldRegistry:
    """Field definitions by name, with argument validation and did-you-mean suggestions."""

    def __init__(self, defs: Iterable[FieldDef] = ()) -> None:
        self._defs: dict[str, FieldDef] = {}
        self._bound: dict[tuple[str, str | None], BoundField] = {}  # `resolve`'s answers (frozen: shared)
        for d in defs:
            self.add(d)

    def add(self, defn: FieldDef) -> FieldDef:
        if defn.name in self._defs:
            raise ValueError(f"field {defn.name} registered twice")
        self._defs[defn.name] = defn
        return defn

    def __iter__(self) -> Iterator[FieldDef]:
        return iter(self._defs.values())

    def __len__(self) -> int:
        return len(self._defs)

    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def names(self) -> list[str]:
        return list(self._defs)

    def get(self, name: str) -> FieldDef | None:
        return self._defs.get(name)

    def suggest(self, name: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(name, self._defs.keys(), n=n, cutoff=0.6)

    def resolve(self, name: str, arg: str | None = None) -> BoundField:
        """Validate `name[arg]` and bind the argument; raises FieldError with suggestions.

        Remembered: a rules file names the same fields a thousand times (the upstream one)."""
        bound = self._bound.get((name, arg))
        if bound is None:
            bound = self._bound[(name, arg)] = self._resolve(name, arg)
        return bound

    def _resolve(self, name: str, arg: str | None) -> BoundField:
        defn = self._defs.get(name)
        if defn is None:
            raise FieldError(f"unknown field {name!r}", self.suggest(name), unknown=True)
        fn = defn.extract
        if defn.arg is ArgKind.NONE:
            if arg is not None:
                raise FieldError(f"field {name} does not take an argument (got [{arg}])")
            # a plain-path extractor comes with its one-argument form: no wrapper call per event
            getter = getattr(fn, "getter", None)
            return BoundField(defn, None, getter if getter is not None else lambda ev, _fn=fn: _fn(ev, None),
                              reads=_reads(defn, None))
        if defn.arg is ArgKind.KEY:
            if arg is None:
                raise FieldError(f"field {name} requires an argument: {name}[KEY]")
            bound_path = defn.arg_path(arg) if defn.arg_path is not None else None
            return BoundField(defn, arg, lambda ev, _fn=fn, _a=arg: _fn(ev, _a), bound_path,
                              _reads(defn, bound_path))
        # INDEX: optional [N], digits only, no leading zero unless exactly 0
        if arg is None:
            return BoundField(defn, None, lambda ev, _fn=fn: _fn(ev, None), reads=_reads(defn, None))
        if not _INDEX_RE.match(arg):
            raise FieldError(f"field {name} takes a numeric index [N], got [{arg}]")
        idx = int(arg)
        return BoundField(defn, arg, lambda ev, _fn=fn, _i=idx: _fn(ev, _i), reads=_reads(defn, None))

    def resolve_ref(self, text: str) -> BoundField:
        """Resolve a reference as written on the command line (`ka.user.extra[arn]`)."""
        name, arg = parse_field_ref(text)
        return self.resolve(name, arg)
