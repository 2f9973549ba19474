"""AST of Falco conditions, node names as in libsinsp (`and_expr`, `binary_check_expr`, ...).

Every node carries the position where it starts, so compile errors point at a column. Nodes are
frozen: the rules loader copies macro ASTs into rules without fear of aliasing, and the pushdown
translator (`eksaudit.cloudwatch.pushdown`) reads them without importing the parser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError
from operator import attrgetter
from typing import Any, ClassVar

_set = object.__setattr__


class _Frozen:
    """What `@dataclass(frozen=True, slots=True)` generates, written once for every node class.

    The dataclass decorator compiles six methods per class with `exec`: for the 13 classes here,
    15 ms of every command's start-up. Equality, hash, repr, frozenness, `__match_args__` and
    pickling behave as the dataclass's do (`tests/condition/test_condition_ast.py` checks them
    against a dataclass twin). A subclass lists its fields, in order, in `__match_args__` and
    sets them in `__init__` with `_set` (the fields it adds go in its `__slots__`).
    """

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _values: ClassVar[Callable[[Any], tuple[Any, ...]]]  # the fields' values, as one tuple

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        get = attrgetter(*cls.__match_args__)
        # attrgetter of one name gives the value, not a 1-tuple; staticmethod: not bound to self
        cls._values = staticmethod(get if len(cls.__match_args__) > 1 else lambda obj: (get(obj),))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values(self) == self._values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in zip(self.__match_args__, self._values(self), strict=True))
        return f"{self.__class__.__qualname__}({inner})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[Any]:
        return list(self._values(self))

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(self.__match_args__, state, strict=True):
            _set(self, name, value)


class Pos(_Frozen):
    """Byte index from 0, line and column from 1 (CR or LF starts a new line)."""

    __slots__ = ("idx", "line", "col")
    __match_args__ = ("idx", "line", "col")
    idx: int
    line: int
    col: int

    def __init__(self, idx: int = 0, line: int = 1, col: int = 1) -> None:
        _set(self, "idx", idx)
        _set(self, "line", line)
        _set(self, "col", col)


NO_POS = Pos()


class Expr(_Frozen):
    """A condition node: where it starts in the condition text."""

    __slots__ = ("pos",)
    __match_args__ = ("pos",)
    pos: Pos

    def __init__(self, pos: Pos) -> None:
        _set(self, "pos", pos)


class AndExpr(Expr):
    """`a and b and ...`: two or more children."""

    __slots__ = ("children",)
    __match_args__ = ("pos", "children")
    children: tuple[Expr, ...]

    def __init__(self, pos: Pos, children: tuple[Expr, ...]) -> None:
        _set(self, "pos", pos)
        _set(self, "children", children)


class OrExpr(Expr):
    """`a or b or ...`: two or more children."""

    __slots__ = ("children",)
    __match_args__ = ("pos", "children")
    children: tuple[Expr, ...]

    def __init__(self, pos: Pos, children: tuple[Expr, ...]) -> None:
        _set(self, "pos", pos)
        _set(self, "children", children)


class NotExpr(Expr):
    """`not child`."""

    __slots__ = ("child",)
    __match_args__ = ("pos", "child")
    child: Expr

    def __init__(self, pos: Pos, child: Expr) -> None:
        _set(self, "pos", pos)
        _set(self, "child", child)


class IdentifierExpr(Expr):
    """A bare identifier: a macro reference (replaced by the macro's AST before compiling)."""

    __slots__ = ("name",)
    __match_args__ = ("pos", "name")
    name: str

    def __init__(self, pos: Pos, name: str) -> None:
        _set(self, "pos", pos)
        _set(self, "name", name)


class ValueExpr(Expr):
    """A literal, already unquoted and unescaped."""

    __slots__ = ("value",)
    __match_args__ = ("pos", "value")
    value: str

    def __init__(self, pos: Pos, value: str) -> None:
        _set(self, "pos", pos)
        _set(self, "value", value)


class ListExpr(Expr):
    """`(a, b, "c")`: the literal list of `in`, `intersects`, `pmatch`."""

    __slots__ = ("values",)
    __match_args__ = ("pos", "values")
    values: tuple[ValueExpr, ...]

    def __init__(self, pos: Pos, values: tuple[ValueExpr, ...]) -> None:
        _set(self, "pos", pos)
        _set(self, "values", values)


class TransformerListExpr(Expr):
    """`(a.b, tolower(c.d), "lit", 12)`: the list argument of `join`/`concat`/`getopt`.

    Unlike ListExpr it may hold fields and transformers, so it is a separate node.
    """

    __slots__ = ("children",)
    __match_args__ = ("pos", "children")
    children: tuple[Expr, ...]

    def __init__(self, pos: Pos, children: tuple[Expr, ...]) -> None:
        _set(self, "pos", pos)
        _set(self, "children", children)


class FieldExpr(Expr):
    """`name` or `name[arg]`; `arg` is None when there are no brackets."""

    __slots__ = ("field", "arg")
    __match_args__ = ("pos", "field", "arg")
    field: str
    arg: str | None

    def __init__(self, pos: Pos, field: str, arg: str | None = None) -> None:
        _set(self, "pos", pos)
        _set(self, "field", field)
        _set(self, "arg", arg)


class FieldTransformerExpr(Expr):
    """`tolower(x)`, `join(",", (a, b))`, `val(x)` ...; `arg` is a trailing `[arg]` when present."""

    __slots__ = ("transformer", "args", "arg")
    __match_args__ = ("pos", "transformer", "args", "arg")
    transformer: str
    args: tuple[Expr, ...]
    arg: str | None

    def __init__(self, pos: Pos, transformer: str, args: tuple[Expr, ...], arg: str | None = None) -> None:
        _set(self, "pos", pos)
        _set(self, "transformer", transformer)
        _set(self, "args", args)
        _set(self, "arg", arg)


class UnaryCheckExpr(Expr):
    """`left exists`."""

    __slots__ = ("left", "op")
    __match_args__ = ("pos", "left", "op")
    left: Expr
    op: str

    def __init__(self, pos: Pos, left: Expr, op: str) -> None:
        _set(self, "pos", pos)
        _set(self, "left", left)
        _set(self, "op", op)


class BinaryCheckExpr(Expr):
    """`left op right`; `modifier` is `oneof`/`anyof`/`allof` when the operator carries one.

    `right` is a ValueExpr, a ListExpr, a FieldTransformerExpr (`val(...)` or another transformer)
    or an IdentifierExpr (a list name left after list substitution).
    """

    __slots__ = ("left", "op", "right", "modifier")
    __match_args__ = ("pos", "left", "op", "right", "modifier")
    left: Expr
    op: str
    right: Expr
    modifier: str | None

    def __init__(self, pos: Pos, left: Expr, op: str, right: Expr, modifier: str | None = None) -> None:
        _set(self, "pos", pos)
        _set(self, "left", left)
        _set(self, "op", op)
        _set(self, "right", right)
        _set(self, "modifier", modifier)


def conjuncts(expr: Expr) -> Iterator[Expr]:
    """The top-level conjuncts of a condition, nested `and`s flattened (`a and (b and c)`: a, b, c)."""
    if isinstance(expr, AndExpr):
        for c in expr.children:
            yield from conjuncts(c)
    else:
        yield expr


# --- canonical rendering (libsinsp `ast::as_string`) -------------------------------------------

_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"', "\0": "\\x00"}
_QUOTE_TRIGGERS = frozenset("\b\f\n\r\t =\\\"'\0")


def escape_str(value: str) -> str:
    """Falco's `escape_str`: quote only when the value holds a blank, `=`, a quote, `\\` or NUL.

    Values with `(`, `)` or `,` stay bare, exactly as Falco renders them (so the output is not
    always parseable again: that is Falco's behaviour, kept for comparable `compiled condition`s).
    """
    if not any(c in _QUOTE_TRIGGERS for c in value):
        return value
    return '"' + "".join(_ESCAPES.get(c, c) for c in value) + '"'


def _field_arg(arg: str | None) -> str:
    if arg is None:
        return ""
    return "[" + (escape_str(arg) if arg != "" else '""') + "]"


def as_string(expr: Expr) -> str:
    """Render an AST the way Falco prints `condition_compiled`."""
    if isinstance(expr, AndExpr):
        return "(" + " and ".join(as_string(c) for c in expr.children) + ")"
    if isinstance(expr, OrExpr):
        return "(" + " or ".join(as_string(c) for c in expr.children) + ")"
    if isinstance(expr, NotExpr):
        return "not " + as_string(expr.child)
    if isinstance(expr, IdentifierExpr):
        return expr.name
    if isinstance(expr, ValueExpr):
        return escape_str(expr.value)
    if isinstance(expr, ListExpr):
        return "(" + ", ".join(escape_str(v.value) for v in expr.values) + ")"
    if isinstance(expr, TransformerListExpr):
        return "(" + ",".join(as_string(c) for c in expr.children) + ")"
    if isinstance(expr, FieldExpr):
        return expr.field + _field_arg(expr.arg)
    if isinstance(expr, FieldTransformerExpr):
        return expr.transformer + "(" + ",".join(as_string(a) for a in expr.args) + ")" + _field_arg(expr.arg)
    if isinstance(expr, UnaryCheckExpr):
        return as_string(expr.left) + " " + expr.op
    if isinstance(expr, BinaryCheckExpr):
        op = expr.op if expr.modifier is None else f"{expr.op} {expr.modifier}"
        return f"{as_string(expr.left)} {op} {as_string(expr.right)}"
    raise TypeError(f"not a condition node: {type(expr).__name__}")
