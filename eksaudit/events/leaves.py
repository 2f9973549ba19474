"""Typed leaves: a block of plain event lines decoded into small Structs holding a few JSON leaves.

For scans whose answer per event depends on a few scalar members (`verb`, `user.username`,
`objectRef.resource`), and whose events repeat those values, the answer can be remembered per
combination of leaf values: decided once by the real code on a partial object, then looked up.
`Leaves(paths)` gives what that needs: the Struct types (one msgspec `decode_lines` call per block,
events/batches.py), generated code that reads a leaf's value out of a Struct, and the partial object
a set of leaves stands for (`copy`).

Why a leaf's value can key a decision (the tests of rules/blockscreen.py and pipeline's count-by
compare with the line by line path):
- A leaf is typed `str | int64 | None`: anything else at a wanted path (a float, a bool, an object,
  an integer beyond 64 bits) makes msgspec decline, and the whole block goes another way. So two
  leaves that compare equal are the same JSON value: `1`, `1.0` and `true` (equal in Python) never
  share a key.
- A missing member is `UNSET`; a path cut short by a `null` or a missing member has its own marker
  per depth (`CUT`), so `{"a": null}`, `{}` and `{"a": {"b": null}}` never share one either.
- The partial object `copy` builds holds exactly what the whole event holds at those paths (members
  present down to the leaf, a `null` where the path meets one), so an extractor that reads only
  those paths (a field's `reads`, as projection decoding relies on) gives the same value on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Union

import msgspec

__all__ = ["CUT", "DECLINED", "GATE", "UNSET", "Leaves", "PartialEvent"]

Path = tuple[str, ...]
GATE: Path = ("auditID",)  # the audit gate's member (ka.* fields: is there one?)
UNSET: Any = msgspec.UNSET
DECLINED = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)
MAX_DEPTH = 15
_LEAF: Any = Union[str, Annotated[int, msgspec.Meta(ge=-(1 << 63), le=(1 << 63) - 1)], None]


class _Cut:
    """Where a path stops early: at depth `depth`, a `null` (`null=True`) or a missing member."""

    __slots__ = ("depth", "null")

    def __init__(self, depth: int, null: bool) -> None:
        self.depth, self.null = depth, null

    def __repr__(self) -> str:
        return f"<{'null' if self.null else 'missing'} at {self.depth}>"


CUT = [(_Cut(d, True), _Cut(d, False)) for d in range(MAX_DEPTH + 1)]  # markers compare by identity


class PartialEvent:
    """An event that is only its (partial) object, to run extractors and conditions on leaves."""

    __slots__ = ("obj", "_obj", "raw", "cw", "source", "line")

    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = self._obj = obj
        self.raw = b""
        self.cw = None
        self.source = self.line = None

    failed_to_parse = False


class _Node:
    """One object of the path tree: its members' attribute names and, for inner ones, their nodes."""

    def __init__(self) -> None:
        self.attrs: dict[str, str] = {}  # JSON key -> Struct attribute
        self.kids: dict[str, _Node] = {}
        self.type: Any = None


def _build(node: _Node, name: str) -> Any:
    fields: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    for key, attr in node.attrs.items():
        kid = node.kids.get(key)
        typ = _LEAF if kid is None else Union[_build(kid, f"{name}_{attr}"), None]
        fields.append((attr, typ, UNSET))
        rename[attr] = key
    node.type = msgspec.defstruct(name, fields, rename=rename, gc=False)
    return node.type


def servable(paths: Iterable[Path]) -> bool:
    """Paths Structs can hold as leaves: named by msgspec, not too deep, none inside another."""
    from .projection import _nameable

    ps = set(paths)
    if not ps or any(not p or _nameable(p) != p or len(p) > MAX_DEPTH for p in ps):
        return False
    return not any(p != q and q[: len(p)] == p for p in ps for q in ps)


class Leaves:
    """Struct types for `paths` (each a leaf: see `servable`) and the gate; `lines(block)` decodes."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.root = _Node()
        for p in [GATE, *paths]:
            node = self.root
            for i, key in enumerate(p):
                node.attrs.setdefault(key, f"a{len(node.attrs)}")
                if i < len(p) - 1:
                    node = node.kids.setdefault(key, _Node())
        self.type = _build(self.root, "Leaves")
        self.lines = msgspec.json.Decoder(self.type).decode_lines
        self.gate_attr = self.root.attrs[GATE[0]]

    def walk(self, path: Path, var: str, code: list[str], env: dict[str, Any],
             memo: dict[Path, tuple[str, str]]) -> str:
        """Append code that sets `var` to the leaf at `path` of Struct `s` (UNSET: missing; a `CUT`
        marker where the path stops early), at an indent of four; returns `var`.

        For straight-line code that reads many leaves: each inner object on the way (`objectRef`
        of `objectRef.resource`, `.name`, `.namespace`) is read and type-checked once, where first
        needed, into `P<n>`, with `K<n>` its `CUT` marker (None: the object is there). `memo`
        (prefix -> those names) is the code's own: a name is used only after the line that sets
        it, so the code must not branch around them."""
        src, cut = "s", None
        node = self.root
        for i, key in enumerate(path[:-1]):
            kid = node.kids[key]
            prefix = path[: i + 1]
            if prefix not in memo:
                pv, kv = f"P{len(memo)}", f"K{len(memo)}"
                tname, null, missing = f"N{id(kid)}", f"C{i}n", f"C{i}m"
                env[tname] = kid.type
                env[null], env[missing] = CUT[i]
                mark = f"None if type({pv}) is {tname} else {null} if {pv} is None else {missing}"
                if cut is None:
                    code += [f"    {pv} = {src}.{node.attrs[key]}", f"    {kv} = {mark}"]
                else:  # cut above: the marker of the first object missing on the way
                    code += [f"    {pv} = {src}.{node.attrs[key]} if {cut} is None else None",
                             f"    {kv} = {cut} if {cut} is not None else {mark}"]
                memo[prefix] = (pv, kv)
            src, cut = memo[prefix]
            node = kid
        leaf = f"{src}.{node.attrs[path[-1]]}"
        code.append(f"    {var} = {leaf}" if cut is None else f"    {var} = {leaf} if {cut} is None else {cut}")
        return var

    def copy(self, s: Any, path: Path, out: dict[str, Any]) -> None:
        """The leaf at `path` of Struct `s` into the partial object `out`, as the whole event holds
        it there: members present down to it, a `null` where the path meets one, nothing where one
        is missing."""
        src, node = s, self.root
        for i, key in enumerate(path):
            v = getattr(src, node.attrs[key])
            if v is UNSET:
                return
            if i == len(path) - 1 or v is None:
                out[key] = v
                return
            out = out.setdefault(key, {})
            src, node = v, node.kids[key]
