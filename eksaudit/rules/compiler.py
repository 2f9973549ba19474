"""Compiling collected rules into the rules of a Ruleset (Falco's `rule_loader_compiler`).

Compilation follows Falco's order (docs/rules.md#compatibility-with-falco): lists are expanded, macros are parsed and
spliced in definition order with their visibility, then each rule gets exceptions, list
substitution, parse, macro splice, and is compiled against the field resolver of its source.
"""

from __future__ import annotations

from collections.abc import Callable

from ..condition.ast import (
    AndExpr,
    BinaryCheckExpr,
    Expr,
    NotExpr,
    OrExpr,
    ValueExpr,
)
from ..condition.compiler import CompiledCondition, compile_condition
from ..condition.errors import UNKNOWN_FIELD, ConditionError
from ..condition.macros import expand_macros
from ..condition.parser import parse
from ..condition.resolver import FieldResolver
from ..errors import EksauditError, FieldError, RulesError
from .collector import Collector
from .expand import exceptions_to_text, expand_list_items, substitute_lists
from .formatting import FormatError, OutputFormatter
from .model import Priority, RuleInfo, Where
from .ruleset import CompiledRule
from .screen import split_condition

MAX_DEPTH = 1000  # Falco's loader sets the parser's depth limit to 1000 (libsinsp alone: 100)


def _field_prefix_warnings(expr: Expr, names: frozenset[str], max_len: int) -> list[str]:
    """libsinsp warns when a string literal *starts with* a field name (`"proc.pname "` too)."""
    out: list[str] = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, (AndExpr, OrExpr)):
            stack.extend(e.children)
        elif isinstance(e, NotExpr):
            stack.append(e.child)
        elif isinstance(e, BinaryCheckExpr) and isinstance(e.right, ValueExpr):
            v = e.right.value
            if any(v[:n] in names for n in range(min(len(v), max_len), 0, -1)):
                out.append(f"'{v}' may be a valid field misused as a const string value")
    return out


class _Compiler:
    """Turns a Collector into a Ruleset (Falco's rule_loader_compiler)."""

    def __init__(
        self,
        col: Collector,
        resolvers: dict[str, FieldResolver],
        warn: Callable[[str, Where, int | None, str | None], None],
        min_priority: Priority,
    ) -> None:
        self.col = col
        self.resolvers = resolvers
        self.warn = warn
        self.min_priority = min_priority
        self.used_lists: set[str] = set()
        self.used_macros: set[str] = set()
        self._name_cache: dict[int, frozenset[str]] = {}
        self._max_name = 0

    def _names(self, resolver: FieldResolver) -> frozenset[str]:
        names = self._name_cache.get(id(resolver))
        if names is None:
            names = self._name_cache[id(resolver)] = frozenset(resolver.names())
            self._max_name = max([self._max_name, *map(len, names)])
        return names

    def _parse(self, text: str, where: Where, line: int) -> Expr:
        try:
            return parse(text, max_depth=MAX_DEPTH)
        except ConditionError as e:
            raise RulesError(where.prefix(line) + "condition: " + e.render()) from None

    def run(self) -> list[CompiledRule]:
        lists = expand_list_items(self.col.lists)
        parsed: dict[str, Expr] = {}
        for m in self.col.macros.values():
            text = substitute_lists(m.cond, lists, self.used_lists)
            parsed[m.name] = self._parse(text, m.where, m.cond_line)
        resolved: dict[str, Expr] = dict(parsed)
        infos = list(self.col.macros.values())
        for m in infos:
            visible = {um.name: resolved[um.name] for um in infos if um.index < m.visibility}
            try:
                resolved[m.name] = expand_macros(parsed[m.name], visible, used=self.used_macros)
            except ConditionError as e:
                raise RulesError(m.where.prefix(m.cond_line) + e.message) from None
        self.macros = resolved

        out: list[CompiledRule] = []
        for r in self.col.rules.values():
            if r.unknown_source:
                continue
            c = self._rule(r, lists)
            if c is not None:
                out.append(c)

        for lst in self.col.lists.values():
            if lst.name not in self.used_lists:
                self.warn("List not referred to by any other rule/macro", lst.where, None, "unused-list")
        for m in self.col.macros.values():
            if m.name not in self.used_macros:
                self.warn("Macro not referred to by any other rule/macro", m.where, None, "unused-macro")
        return out

    def _rule(self, r: RuleInfo, lists: dict[str, list[str]]) -> CompiledRule | None:
        resolver = self.resolvers[r.source]
        formatter = self._formatter(r, resolver)
        compiled = self._condition(r, resolver, lists) if formatter is not None else None
        if formatter is None or compiled is None:
            return None  # skipped (skip-if-unknown-filter), warned
        expanded = compiled.ast
        warnings = list(compiled.warnings)
        for w in _field_prefix_warnings(expanded, self._names(resolver), self._max_name):
            if w not in warnings:
                warnings.append(w)
        for w in warnings:
            self.warn(str(w), r.where, r.cond_line, "compile")
        c = CompiledRule(
            info=r, ast=expanded, matches=compiled.matches,
            prefilter=compiled.prefilter, required=tuple(compiled.required), formatter=formatter,
            enabled=r.enabled and r.priority <= self.min_priority, tags=tuple(sorted(r.tags)),
            reads=compiled.reads,
        )
        c.split = split_condition(expanded, resolver)
        return c

    def _formatter(self, r: RuleInfo, resolver: FieldResolver) -> OutputFormatter | None:
        try:
            return OutputFormatter(r.output, resolver)
        except FormatError as e:
            if e.unknown_field and r.skip_if_unknown_filter:
                self.warn(e.message, r.where, r.output_line, "skipped-rule")
                return None
            raise RulesError(r.where.prefix(r.output_line) + "output: " + e.message) from None

    def _condition(self, r: RuleInfo, resolver: FieldResolver, lists: dict[str, list[str]]) -> CompiledCondition | None:
        """Exceptions, list substitution, parse, macros, compile: Falco's order."""
        cond = exceptions_to_text(r.cond, r.exceptions) if r.exceptions else r.cond
        text = substitute_lists(cond, lists, self.used_lists)
        ast = self._parse(text, r.where, r.cond_line)
        try:
            return compile_condition(ast, resolver, macros=self.macros, used_macros=self.used_macros)
        except ConditionError as e:
            if r.skip_if_unknown_filter and e.kind == UNKNOWN_FIELD:
                self.warn(e.message, r.where, r.cond_line, "skipped-rule")
                return None
            shown = ConditionError(e.message, text if e.source is None else e.source, e.pos, e.suggestions)
            raise RulesError(r.where.prefix(r.cond_line) + "condition: " + shown.render()) from None
        except EksauditError as e:
            if r.skip_if_unknown_filter and isinstance(e, FieldError) and e.unknown:
                self.warn(str(e), r.where, r.cond_line, "skipped-rule")
                return None
            raise RulesError(r.where.prefix(r.cond_line) + "condition: " + str(e)) from None


def compile_collector(
    col: Collector,
    resolvers: dict[str, FieldResolver],
    warn: Callable[[str, Where, int | None, str | None], None],
    *,
    min_priority: Priority = Priority.DEBUG,
) -> list[CompiledRule]:
    return _Compiler(col, resolvers, warn, min_priority).run()

