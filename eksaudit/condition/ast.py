"""AST of Falco conditions, node names as in libsinsp (`and_expr`, `binary_check_expr`, ...).

Every node carries the position where it starts, so compile errors point at a column. Nodes are
frozen: the rules loader copies macro ASTs into rules without fear of aliasing, and the pushdown
translator (`eksaudit.cloudwatch.pushdown`) reads them without importing the parser.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pos:
    """Byte index from 0, line and column from 1 (CR or LF starts a new line)."""

    idx: int = 0
    line: int = 1
    col: int = 1


NO_POS = Pos()


@dataclass(frozen=True, slots=True)
class Expr:
    pos: Pos


@dataclass(frozen=True, slots=True)
class AndExpr(Expr):
    children: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class OrExpr(Expr):
    children: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class NotExpr(Expr):
    child: Expr


@dataclass(frozen=True, slots=True)
class IdentifierExpr(Expr):
    """A bare identifier: a macro reference (replaced by the macro's AST before compiling)."""

    name: str


@dataclass(frozen=True, slots=True)
class ValueExpr(Expr):
    """A literal, already unquoted and unescaped."""

    value: str


@dataclass(frozen=True, slots=True)
class ListExpr(Expr):
    values: tuple[ValueExpr, ...]


@dataclass(frozen=True, slots=True)
class TransformerListExpr(Expr):
    """`(a.b, tolower(c.d), "lit", 12)`: the list argument of `join`/`concat`/`getopt`.

    Unlike ListExpr it may hold fields and transformers, so it is a separate node.
    """

    children: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class FieldExpr(Expr):
    """`name` or `name[arg]`; `arg` is None when there are no brackets."""

    field: str
    arg: str | None = None


@dataclass(frozen=True, slots=True)
class FieldTransformerExpr(Expr):
    """`tolower(x)`, `join(",", (a, b))`, `val(x)` ...; `arg` is a trailing `[arg]` when present."""

    transformer: str
    args: tuple[Expr, ...]
    arg: str | None = None


@dataclass(frozen=True, slots=True)
class UnaryCheckExpr(Expr):
    """`left exists`."""

    left: Expr
    op: str


@dataclass(frozen=True, slots=True)
class BinaryCheckExpr(Expr):
    """`left op right`; `modifier` is `oneof`/`anyof`/`allof` when the operator carries one.

    `right` is a ValueExpr, a ListExpr, a FieldTransformerExpr (`val(...)` or another transformer)
    or an IdentifierExpr (a list name left after list substitution).
    """

    left: Expr
    op: str
    right: Expr
    modifier: str | None = None


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
