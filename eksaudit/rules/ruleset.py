"""A compiled ruleset and its matching: rules in load order, first match wins by default.

Speed: most rules start with conjuncts such as `ka.verb in (create, update)` or
`ka.target.resource = pods`. Those are turned into guards; the guard fields are read once per event
(one bitmask table per field) and only rules whose guards accept the event are evaluated at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..condition.ast import (
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    ListExpr,
    OrExpr,
    ValueExpr,
    as_string,
    conjuncts,
)
from ..condition.resolver import FieldResolver, ResolvedField
from ..errors import EksauditError
from .formatting import OutputFormatter
from .model import Alert, RuleInfo, RuleSummary, RuleWarning, default_hostname
from .prefilter import required_hint, ruleset_prefilter


@dataclass
class _Guard:
    """`field in (values)` that a rule's condition requires at top level (missing value: no match)."""

    key: str
    bound: ResolvedField
    values: frozenset[str]


@dataclass
class CompiledRule:
    info: RuleInfo
    ast: Expr
    matches: Callable[[Any], bool]
    prefilter: Callable[[bytes], bool] | None
    required: tuple[frozenset[bytes], ...]
    formatter: OutputFormatter
    enabled: bool
    tags: tuple[str, ...]
    guards: list[_Guard] = field(default_factory=list)
    residual: Callable[[Any], bool] | None = None  # the condition minus its guards (None: nothing left)
    position: int = 0
    reads: frozenset[tuple[str, ...]] | None = None  # JSON paths the condition reads (None: all)


def _guard_of(expr: Expr, resolver: FieldResolver) -> tuple[str, ResolvedField, frozenset[str]] | None:
    """The (field, allowed values) an expression requires, when it is a plain membership test."""
    if isinstance(expr, OrExpr):
        parts = [_guard_of(c, resolver) for c in expr.children]
        if not parts or any(p is None for p in parts):
            return None
        keys = {p[0] for p in parts if p is not None}
        if len(keys) != 1:
            return None
        first = parts[0]
        assert first is not None
        return first[0], first[1], frozenset().union(*(p[2] for p in parts if p is not None))
    if isinstance(expr, AndExpr) and len(expr.children) == 1:
        return _guard_of(expr.children[0], resolver)
    if not isinstance(expr, BinaryCheckExpr) or not isinstance(expr.left, FieldExpr):
        return None
    op = expr.op
    if expr.modifier is not None:
        if not (op in ("=", "==") and expr.modifier in ("oneof", "anyof") and isinstance(expr.right, ListExpr)):
            return None
        values = frozenset(v.value for v in expr.right.values)
    elif op in ("=", "==") and isinstance(expr.right, ValueExpr):
        values = frozenset((expr.right.value,))
    elif op in ("in", "intersects") and isinstance(expr.right, ListExpr):
        values = frozenset(v.value for v in expr.right.values)
    else:
        return None
    try:
        bound = resolver.resolve(expr.left.field, expr.left.arg)
    except EksauditError:
        return None
    if bound.is_list or bound.type != "string":
        return None
    key = expr.left.field if expr.left.arg is None else f"{expr.left.field}[{expr.left.arg}]"
    return key, bound, values


def split_guards(expanded: Expr, resolver: FieldResolver) -> tuple[list[_Guard], list[Expr]]:
    """A condition's top-level conjuncts as guards (one per field) and the rest."""
    guards: list[_Guard] = []
    seen: set[str] = set()
    rest: list[Expr] = []
    for conj in conjuncts(expanded):
        g = _guard_of(conj, resolver)
        if g is not None and g[0] not in seen:
            seen.add(g[0])
            guards.append(_Guard(*g))
        else:
            rest.append(conj)
    return guards, rest


def _union_reads(parts: Iterable[frozenset[tuple[str, ...]] | None]) -> frozenset[tuple[str, ...]] | None:
    """The JSON paths that matching reads, over every enabled rule (None as soon as one reads all).

    Outputs are not included: an alert renders after the event has its whole object again.
    """
    out: set[tuple[str, ...]] = set()
    for p in parts:
        if p is None:
            return None
        out |= p
    return frozenset(out)


class Ruleset:
    """Compiled rules of the known sources, in load order, ready to match events."""

    def __init__(
        self,
        compiled: list[CompiledRule],
        *,
        warnings: list[RuleWarning],
        rule_matching: str = "first",
        hostname: str | None = None,
    ) -> None:
        if rule_matching not in ("first", "all"):
            raise ValueError("rule_matching must be 'first' or 'all'")
        self._compiled = compiled
        self._by_name = {c.info.name: c for c in compiled}
        self.warnings = warnings
        self.rule_matching = rule_matching
        self.hostname = hostname if hostname is not None else default_hostname()
        self.rules: list[RuleSummary] = [
            RuleSummary(
                name=c.info.name, priority=c.info.priority, enabled=c.enabled, source=c.info.source,
                file=c.info.where.file, line=c.info.where.line, desc=c.info.desc, condition=c.info.cond,
                output=c.info.output, tags=c.tags, capture=c.info.capture,
                capture_duration=c.info.capture_duration,
            )
            for c in compiled
        ]
        self._enabled = [c for c in compiled if c.enabled]
        for i, c in enumerate(self._enabled):
            c.position = i
        self._build_index()
        self.prefilter = ruleset_prefilter([(c.prefilter, c.required) for c in self._enabled])
        self.reads = _union_reads(c.reads for c in self._enabled)

    @property
    def required(self) -> tuple[frozenset[bytes], ...] | None:
        """Literal groups every event that any enabled rule can match must hold (None: no such hint).

        One group: for each rule, one of its literal groups, chosen statically (avoiding literals
        that every audit event holds, such as the stage values). Sound (the reader also stops at
        escapes that could spell a literal, see `condition.prefilter.EscapeScan`), coarser than `prefilter`;
        meant for block-level skipping in the input reader (`read_events(required=...)`).
        """
        return required_hint([c.required for c in self._enabled])

    # --- introspection
    @property
    def enabled_count(self) -> int:
        return len(self._enabled)

    def compiled_condition(self, name: str) -> str:
        """The rule's fully expanded condition rendered as Falco's `condition_compiled`."""
        c = self._by_name.get(name)
        if c is None:
            raise KeyError(name)
        return as_string(c.ast)

    def new_summary(self) -> Any:
        from .summary import Summary

        return Summary(c.info.name for c in self._compiled)

    # --- matching
    def _build_index(self) -> None:
        """One bitmask table per guarded field: value -> rules that this value does not rule out.

        Bit i stands for enabled rule i. A rule without a guard on a field is in every entry of that
        field's table (and in its default, used for values no rule names or a missing value ...
        minus the rules that need a value). Per event: one extraction and one lookup per field,
        AND the masks, then evaluate only the surviving rules, in load order.
        """
        keys: dict[str, ResolvedField] = {}
        distinct: dict[str, set[str]] = {}
        users: dict[str, int] = {}
        for c in self._enabled:
            for g in c.guards:
                keys.setdefault(g.key, g.bound)
                distinct.setdefault(g.key, set()).update(g.values)
                users[g.key] = users.get(g.key, 0) + 1
        # Each indexed field costs one extraction per event; a field that guards only a few rules
        # saves about one check of each of them: not worth it, those rules check it themselves.
        floor = max(2, len(self._enabled) // 10)
        keys = {k: b for k, b in keys.items() if users[k] >= floor or len(self._enabled) == 1}
        self._all_mask = (1 << len(self._enabled)) - 1
        self._checks: list[tuple[tuple[_Guard, ...], Callable[[Any], bool] | None]] = [
            (tuple(g for g in c.guards if g.key not in keys), c.residual) for c in self._enabled
        ]
        index: list[tuple[str, ResolvedField, dict[str, int], int]] = []
        for key, bound in keys.items():
            default = 0
            table: dict[str, int] = {}
            for c in self._enabled:
                bit = 1 << c.position
                g = next((g for g in c.guards if g.key == key), None)
                if g is None:
                    default |= bit
                else:
                    for v in g.values:
                        table[v] = table.get(v, 0) | bit
            index.append((key, bound, {v: m | default for v, m in table.items()}, default))
        # Most discriminating fields first, so an event that no rule wants is dropped early.
        index.sort(key=lambda t: -len(distinct[t[0]]))
        self._index = index

    def candidates(self, event: Any) -> list[int]:
        """Positions (in load order) of the enabled rules whose guards accept the event."""
        mask = self._all_mask
        for _key, bound, table, default in self._index:
            v = bound.extract(event)
            mask &= table.get(v, default) if isinstance(v, str) else default
            if not mask:
                return []
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return out

    def match(self, event: Any) -> list[Alert]:
        """Alerts for one event: the first matching rule (`rule_matching='first'`), or all of them."""
        alerts: list[Alert] = []
        cache: dict[str, Any] = {}
        for pos in self.candidates(event):
            guards, residual = self._checks[pos]
            ok = True
            for g in guards:
                key = g.key
                if key in cache:
                    v = cache[key]
                else:
                    v = cache[key] = g.bound.extract(event)
                if v not in g.values:
                    ok = False
                    break
            if not ok or (residual is not None and not residual(event)):
                continue
            alerts.append(self._alert(self._enabled[pos], event))
            if self.rule_matching == "first":
                break
        return alerts

    def _alert(self, c: CompiledRule, event: Any) -> Alert:
        return Alert(c.info.name, c.info.priority, c.info.source, tags=c.tags, hostname=self.hostname, event=event,
                     renderer=c.formatter.render, text_renderer=c.formatter.render_text)


