"""AST of Falco conditions, node names as in libsinsp (`and_expr`, `binary_check_expr`, ...).

Every node carries the position where it starts, so compile errors point at a column. Nodes are
frozen: the rules loader copies macro ASTs into rules without fear of aliasing, and the pushdown
translator (`eksaudit.cloudwatch.pushdown`) reads them without importing the parser.
"""

from __future__ import annotations

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
