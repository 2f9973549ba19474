"""The one macro resolver (Falco's `filter_macro_resolver`): identifiers in a condition are macros.

`MacroResolver.inside(ref)` is the single place that looks a macro up, detects reference loops,
records which macros were used, and words the errors: an error raised while inside a macro's body
(whose positions refer to the macro's own text) is re-raised at the reference in the outer text,
naming the chain of macros (`... (in macro 'a' > 'b')`). `expand_macros` splices the bodies into
the AST with it; the compiler walks through the same resolver, so both report the same errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from .ast import AndExpr, Expr, IdentifierExpr, NotExpr, OrExpr
from .errors import ConditionError


class MacroResolver:
    """Macro ASTs by name, for one condition text (`source`, None when unknown)."""

    def __init__(self, macros: Mapping[str, Expr] | None, source: str | None = None,
                 used: set[str] | None = None) -> None:
        self.macros = macros or {}
        self.source = source
        self.used: set[str] = used if used is not None else set()
        self.stack: list[str] = []

    @contextmanager
    def inside(self, ref: IdentifierExpr) -> Iterator[Expr]:
        """The body of the macro `ref` names, while the caller walks it."""
        name = ref.name
        if name in self.stack:
            raise ConditionError(f"reference loop in macro '{name}'", self.source, ref.pos)
        body = self.macros.get(name)
        if body is None:
            raise ConditionError(f"Undefined macro '{name}' used in filter.", self.source, ref.pos)
        self.used.add(name)
        self.stack.append(name)
        try:
            yield body
        except ConditionError as err:
            if not hasattr(err, "macro_chain"):
                err.macro_chain = list(self.stack)  # type: ignore[attr-defined]
            if len(self.stack) > 1:
                raise
            # Positions inside the macro refer to the macro's own text: point at the reference.
            chain = " > ".join(f"'{m}'" for m in err.macro_chain)  # type: ignore[attr-defined]
            raise ConditionError(f"{err.message} (in macro {chain})", self.source, ref.pos,
                                 err.suggestions, kind=err.kind) from None
        finally:
            self.stack.pop()

    def expand(self, expr: Expr) -> Expr:
        """`expr` with every macro reference replaced by the macro's AST (unchanged parts kept)."""
        if isinstance(expr, IdentifierExpr):
            with self.inside(expr) as body:
                return self.expand(body)
        if isinstance(expr, (AndExpr, OrExpr)):
            kids = tuple(self.expand(c) for c in expr.children)
            if all(a is b for a, b in zip(kids, expr.children, strict=True)):
                return expr
            return type(expr)(expr.pos, kids)
        if isinstance(expr, NotExpr):
            kid = self.expand(expr.child)
            return expr if kid is expr.child else NotExpr(expr.pos, kid)
        return expr


def expand_macros(expr: Expr, macros: Mapping[str, Expr] | None, *, source: str | None = None,
                  used: set[str] | None = None) -> Expr:
    """Replace every macro reference by its macro's AST, recursively (loops and unknown names fail).

    `used` (if given) collects the names of the macros met on the way.
    """
    try:
        return MacroResolver(macros, source, used).expand(expr)
    except RecursionError:
        raise ConditionError("condition nested too deeply", source, expr.pos) from None
