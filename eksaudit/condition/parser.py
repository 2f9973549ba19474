"""Recursive-descent parser for Falco conditions, mirroring libsinsp's `filter/parser.cpp`.

Grammar (as libsinsp's; `Sep` is ≥1 blank or a `(` that opens an Embedded at the same level)::

    Expr        := OrExpr                                  (the whole input must be consumed)
    OrExpr      := AndExpr { "or" Sep AndExpr }
    AndExpr     := NotExpr { "and" Sep NotExpr }
    NotExpr     := { "not" Blank+ } ( "not(" Embedded | Check )
    Embedded    := Blank* Expr Blank* ")"
    Check       := "(" Embedded | Field Condition | LhsTransformer Condition | Identifier
    Field       := FieldName [ "[" (QuotedStr | FieldArgBare) "]" ]
    LhsTransformer := TName "(" TArg { "," TArg } ")" [ "[" arg "]" ]
    TName       := tolower | toupper | b64 | basename | len | join | concat | getopt
    TArg        := HexNumber | Number | QuotedStr | TList | LhsTransformer | Field
    TList       := "(" [ TListArg { "," TListArg } ] ")"
    TListArg    := Field | LhsTransformer | QuotedStr | Number
    Condition   := "exists"
                 | NumOp ( RhsTransformer | HexNumber | Number )
                 | StrOp ( RhsTransformer | QuotedStr | BareStr )
                 | StrOp Modifier ( List | Identifier )
                 | ListOp ( List | RhsTransformer | Identifier )
    RhsTransformer := "val(" Field ")" [ "[" arg "]" ] | LhsTransformer
    List        := "(" [ Value { "," Value } ] ")"         (Value = QuotedStr | BareStr)

Falco's quirks are kept on purpose (they decide which rules load): keywords are matched as raw
prefixes (`(a)and(b)` parses), word operators need a following blank while `in`/`exists` do not,
`not not x` cancels, `a or(b) and c` is rejected. Every node carries the position where its rule
started; each nesting level counts towards `max_depth` (100 like libsinsp, Falco's loader 1000).
"""

from __future__ import annotations

import functools
import re
import sys
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, TypeVar

from .ast import (
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    FieldTransformerExpr,
    IdentifierExpr,
    ListExpr,
    NotExpr,
    OrExpr,
    Pos,
    TransformerListExpr,
    UnaryCheckExpr,
    ValueExpr,
)
from .errors import ConditionError, pos_at
from .lexer import RGX_IDENTIFIER, RGX_NOT_BLANK, LexError, Scanner
from .operators import ALL_OPERATORS, LIST_OPS, MODIFIERS, NUM_OPS, SYMBOL_STR_OPS, WORD_STR_OPS

LHS_TRANSFORMERS = ("tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt")

_OPS_TEXT = ", ".join(f"'{o}'" for o in ALL_OPERATORS)
_TRANSFORMERS_TEXT = ", ".join(f"'{t}'" for t in ("val",) + LHS_TRANSFORMERS)
_KEYWORDS = ("and", "or", "not")
_LINE_BREAK = re.compile(r"[\r\n]")


class _DepthGuard:
    """libsinsp's scoped `depth_guard`: each production entered counts one level; leaving it, normally
    or by an error (a failed production the parser backs out of), gives the level back."""

    __slots__ = ("parser", "max_depth", "depth")

    def __init__(self, parser: _Parser, max_depth: int) -> None:
        self.parser = parser
        self.max_depth = max_depth
        self.depth = 0

    def __enter__(self) -> None:
        if self.depth + 1 >= self.max_depth:
            raise self.parser.fail(f"exceeded max depth limit of {self.max_depth}")
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1


_M = TypeVar("_M", bound=Callable[..., Any])


def _guarded(production: _M) -> _M:
    """Run a production inside the parser's depth guard."""

    @functools.wraps(production)
    def run(self: _Parser, *args: Any, **kwargs: Any) -> Any:
        with self.depth_guard:
            return production(self, *args, **kwargs)
    return run  # type: ignore[return-value]


class _Parser:
    def __init__(self, text: str, max_depth: int) -> None:
        self.s = Scanner(text)
        self.text = text
        self.depth_guard = _DepthGuard(self, max_depth)
        # offsets of CR and LF, so a node's line and column cost a binary search, not a rescan
        # of the text before it (that made long conditions quadratic to parse)
        self._breaks = [m.start() for m in _LINE_BREAK.finditer(text)]

    # -- helpers ---------------------------------------------------------------------------------
    def fail(self, message: str, idx: int | None = None) -> LexError:
        return LexError(message, self.s.i if idx is None else idx)

    def pos(self) -> Pos:
        """Line and column of the cursor, as `pos_at` gives them (CR or LF each start a line)."""
        idx = self.s.i
        k = bisect_left(self._breaks, idx)  # line breaks before idx
        return Pos(idx, k + 1, idx - (self._breaks[k - 1] if k else -1))

    # -- productions -----------------------------------------------------------------------------
    def parse(self) -> Expr:
        if self.text == "":
            raise self.fail("filter input string is empty", 0)
        res = self.parse_or()
        if self.s.i != self.s.n:
            raise self.fail(f"unexpected token after '{self.s.last}', expecting 'or', 'and'")
        return res

    @_guarded
    def _bool_expr(self, keyword: str, sub, cls) -> Expr:  # noqa: ANN001 - internal
        s = self.s
        pos = self.pos()
        s.blank()
        children = [sub()]
        s.blank()
        while s.lex_str(keyword):
            if not s.blank():
                if s.lex_str("("):
                    child = self.parse_embedded_remainder()
                else:
                    raise self.fail(f"expected blank or '(' after '{keyword}'")
            else:
                child = sub()
            children.append(child)
            s.blank()
        return cls(pos, tuple(children)) if len(children) > 1 else children[0]

    def parse_or(self) -> Expr:
        return self._bool_expr("or", self.parse_and, OrExpr)

    def parse_and(self) -> Expr:
        return self._bool_expr("and", self.parse_not, AndExpr)

    @_guarded
    def parse_not(self) -> Expr:
        s = self.s
        pos = self.pos()
        s.blank()
        is_not = False
        while s.lex_rgx(RGX_NOT_BLANK):
            is_not = not is_not
        if s.lex_str("not("):
            is_not = not is_not
            child = self.parse_embedded_remainder()
        else:
            child = self.parse_check()
        return NotExpr(pos, child) if is_not else child

    @_guarded
    def parse_embedded_remainder(self) -> Expr:
        s = self.s
        s.blank()
        child = self.parse_or()
        s.blank()
        if not s.lex_str(")"):
            raise self.fail("expected a ')' token")
        return child

    def _lex_transformer_name(self) -> str | None:
        s = self.s
        for name in LHS_TRANSFORMERS:
            if s.lex_str(name + "("):
                return name
        return None

    @_guarded
    def parse_check(self) -> Expr:
        s = self.s
        pos = self.pos()
        s.blank()
        if s.lex_str("("):
            res = self.parse_embedded_remainder()
        elif s.lex_field_name():
            left = self.parse_field_remainder(s.last, pos)
            res = self.parse_condition(left, pos)
        elif (name := self._lex_transformer_name()) is not None:
            s.blank()
            left = self.parse_transformer_remainder(name, pos)
            res = self.parse_condition(left, pos)
        elif s.lex_identifier():
            res = IdentifierExpr(pos, s.last)
        else:
            raise self.fail("expected a '(' token, a field check, or an identifier")
        return res

    def parse_field_arg(self) -> str | None:
        """An optional `[arg]` right after a field or transformer (no blanks allowed)."""
        s = self.s
        if not s.lex_str("["):
            return None
        if not s.lex_quoted_str() and not s.lex_field_arg_bare():
            raise self.fail("expected a valid field argument: a quoted string or a bare string")
        arg = s.last
        if not s.lex_str("]"):
            raise self.fail("expected a ']' token")
        return arg

    @_guarded
    def parse_field_remainder(self, name: str, pos: Pos) -> FieldExpr:
        arg = self.parse_field_arg()
        return FieldExpr(pos, name, arg)

    @_guarded
    def parse_transformer_remainder(self, name: str, pos: Pos) -> FieldTransformerExpr:
        """After `name(`: the arguments, `)` and an optional `[arg]`."""
        s = self.s
        s.blank()
        args = [self.parse_transformer_arg()]
        s.blank()
        while s.lex_str(","):
            s.blank()
            args.append(self.parse_transformer_arg())
            s.blank()
        if not s.lex_str(")"):
            raise self.fail("expected a ')' token closing the transformer")
        arg = self.parse_field_arg()
        return FieldTransformerExpr(pos, name, tuple(args), arg)

    @_guarded
    def parse_transformer_arg(self) -> Expr:
        s = self.s
        pos = self.pos()
        if s.lex_hex_num() or s.lex_num() or s.lex_quoted_str():
            res: Expr = ValueExpr(pos, s.last)
        elif s.lex_str("("):
            res = self.parse_transformer_list(pos)
        elif (name := self._lex_transformer_name()) is not None:
            s.blank()
            res = self.parse_transformer_remainder(name, pos)
        elif s.lex_field_name():
            res = self.parse_field_remainder(s.last, pos)
        else:
            raise self.fail(f"expected a field or a nested valid transformer: {_TRANSFORMERS_TEXT}")
        return res

    @_guarded
    def parse_transformer_list(self, pos: Pos) -> TransformerListExpr:
        s = self.s
        s.blank()
        items: list[Expr] = []
        if not s.peek(")"):
            items.append(self.parse_transformer_list_arg())
            s.blank()
            while s.lex_str(","):
                s.blank()
                items.append(self.parse_transformer_list_arg())
                s.blank()
        if not s.lex_str(")"):
            raise self.fail("expected a ')' token")
        return TransformerListExpr(pos, tuple(items))

    def parse_transformer_list_arg(self) -> Expr:
        s = self.s
        pos = self.pos()
        if s.lex_field_name():
            return self.parse_field_remainder(s.last, pos)
        if (name := self._lex_transformer_name()) is not None:
            s.blank()
            return self.parse_transformer_remainder(name, pos)
        if s.lex_quoted_str() or s.lex_num():
            return ValueExpr(pos, s.last)
        raise self.fail("expected a field, a transformer, a quoted string or a number in the list")

    @_guarded
    def parse_condition(self, left: Expr, pos: Pos) -> Expr:
        s = self.s
        s.blank()
        if s.lex_str("exists"):
            return UnaryCheckExpr(pos, left, "exists")
        s.blank()
        modifier = None
        for op in NUM_OPS:
            if s.lex_str(op):
                right = self.parse_num_value_or_transformer()
                break
        else:
            op = self._lex_str_op()
            if op is not None:
                modifier = self._lex_modifier(op)
                if modifier is not None:
                    right = self.parse_modifier_rhs()
                else:
                    right = self.parse_str_value_or_transformer()
            else:
                for op in LIST_OPS:
                    if s.lex_str(op):
                        right = self.parse_list_value_or_transformer()
                        break
                else:
                    raise self.fail(f"expected a valid check operator: one of {_OPS_TEXT}")
        return BinaryCheckExpr(pos, left, op, right, modifier)

    def _lex_str_op(self) -> str | None:
        s = self.s
        for op in SYMBOL_STR_OPS:
            if s.lex_str(op):
                return op
        for op in WORD_STR_OPS:
            if s.peek(op) and s.i + len(op) < s.n and s.text[s.i + len(op)] in " \t\b\r\n":
                s.lex_str(op)
                return op
        return None

    def _lex_modifier(self, op: str) -> str | None:
        """Recognise `oneof|anyof|allof` only under Falco's four conditions (docs/conditions.md#modifiers-oneof-anyof-allof)."""
        s = self.s
        text, start = s.text, s.i
        if not s.at_blank():
            return None
        j = start
        while j < s.n and text[j] in " \t\b\r\n":
            j += 1
        for mod in MODIFIERS:
            if text.startswith(mod, j):
                k = j + len(mod)
                if k >= s.n or text[k] not in " \t\b\r\n":
                    return None
                while k < s.n and text[k] in " \t\b\r\n":
                    k += 1
                if k < s.n and text[k] == "(":
                    pass
                elif RGX_IDENTIFIER.match(text, k):
                    for kw in _KEYWORDS:
                        if text.startswith(kw, k):
                            after = k + len(kw)
                            if after >= s.n or not text[after].isalnum():
                                return None
                else:
                    return None
                s.i = k
                s.last = mod
                return mod
        return None

    def parse_modifier_rhs(self) -> Expr:
        s = self.s
        pos = self.pos()
        if s.lex_str("("):
            return self.parse_list_literal(pos)
        s.lex_identifier()
        return ValueExpr(pos, s.last)

    @_guarded
    def parse_num_value_or_transformer(self) -> Expr:
        s = self.s
        s.blank()
        pos = self.pos()
        res = self.try_parse_transformer_or_val()
        if res is None:
            if s.lex_hex_num() or s.lex_num():
                res = ValueExpr(pos, s.last)
            else:
                raise self.fail(f"expected a number value or a field with a valid transformer: {_TRANSFORMERS_TEXT}")
        return res

    @_guarded
    def parse_str_value_or_transformer(self, no_transformer: bool = False) -> Expr:
        s = self.s
        s.blank()
        pos = self.pos()
        res = None if no_transformer else self.try_parse_transformer_or_val()
        if res is None:
            if s.lex_quoted_str() or s.lex_bare_str():
                res = ValueExpr(pos, s.last)
            elif no_transformer:
                raise self.fail("expected a string value")
            else:
                raise self.fail(f"expected a string value or a field with a valid transformer: {_TRANSFORMERS_TEXT}")
        return res

    @_guarded
    def parse_list_literal(self, pos: Pos) -> ListExpr:
        """After `(`: values separated by commas, then `)`; `()` is the empty list."""
        s = self.s
        s.blank()
        values: list[ValueExpr] = []
        mark = (s.i, s.last)
        try:
            first = self.parse_str_value_or_transformer(no_transformer=True)
        except LexError:
            s.i, s.last = mark
            first = None
        if first is not None:
            assert isinstance(first, ValueExpr)
            values.append(first)
            s.blank()
            while s.lex_str(","):
                v = self.parse_str_value_or_transformer(no_transformer=True)
                assert isinstance(v, ValueExpr)
                values.append(v)
                s.blank()
        if not s.lex_str(")"):
            raise self.fail("expected a ')' token")
        return ListExpr(pos, tuple(values))

    @_guarded
    def parse_list_value_or_transformer(self) -> Expr:
        s = self.s
        s.blank()
        pos = self.pos()
        if s.lex_str("("):
            res: Expr | None = self.parse_list_literal(pos)
        else:
            res = self.try_parse_transformer_or_val()
            if res is None:
                if s.lex_identifier():
                    res = ValueExpr(pos, s.last)
                else:
                    raise self.fail(
                        f"expected a list, an identifier, or a field with a valid transformer: {_TRANSFORMERS_TEXT}")
        return res

    @_guarded
    def try_parse_transformer_or_val(self) -> Expr | None:
        s = self.s
        s.blank()
        pos = self.pos()
        res: Expr | None = None
        if s.lex_str("val("):
            s.blank()
            field_pos = self.pos()
            if not s.lex_field_name():
                raise self.fail("expected a field within 'val' transformer")
            child = self.parse_field_remainder(s.last, field_pos)
            s.blank()
            if not s.lex_str(")"):
                raise self.fail("expected a ')' token closing the transformer")
            arg = self.parse_field_arg()
            res = FieldTransformerExpr(pos, "val", (child,), arg)
        elif (name := self._lex_transformer_name()) is not None:
            s.blank()
            res = self.parse_transformer_remainder(name, pos)
        return res


class ParseResult:
    """An AST plus where the parser stopped (Falco's position vectors check the end position)."""

    __slots__ = ("expr", "end")

    def __init__(self, expr: Expr, end: Pos) -> None:
        self.expr = expr
        self.end = end


def parse_with_end(text: str, *, max_depth: int = 100) -> ParseResult:
    """Parse like `parse` and also return the final cursor position."""
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be text, not {type(text).__name__}")
    p = _Parser(text, max_depth)
    _ensure_recursion_room(max_depth)
    try:
        expr = p.parse()
    except LexError as e:
        raise ConditionError(e.message, text, pos_at(text, e.idx)) from None
    except RecursionError:
        raise ConditionError(f"exceeded max depth limit of {max_depth}", text, pos_at(text, p.s.i)) from None
    return ParseResult(expr, pos_at(text, p.s.i))


def parse(text: str, *, max_depth: int = 100) -> Expr:
    """Parse a Falco condition into an AST; raises ConditionError with the position on bad input."""
    return parse_with_end(text, max_depth=max_depth).expr


def _ensure_recursion_room(max_depth: int) -> None:
    # One depth unit is one Python frame here; keep enough head-room for the caller's own stack so
    # the depth limit, not Python's RecursionError, is what the user meets.
    need = max_depth * 2 + 1000
    if sys.getrecursionlimit() < need:
        sys.setrecursionlimit(need)
