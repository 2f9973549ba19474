"""Compiling collected rules into a Ruleset, and matching events against it.

Compilation follows Falco's order (§3.11): lists are expanded, macros are parsed and spliced in
definition order with their visibility, then each rule gets exceptions → list substitution → parse
→ macro splice → compile against the field resolver. Matching follows Falco's order (§3.13): rules
in load order, first match wins by default.

Speed: most rules start with conjuncts such as `ka.verb in (create, update)` or
`ka.target.resource = pods`. Those are turned into guards; the guard fields are read once per event
and only rules whose guards accept the event are evaluated at all.
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
    NotExpr,
    OrExpr,
    ValueExpr,
    as_string,
)
from ..condition.compiler import compile_condition
from ..condition.errors import ConditionError
from ..condition.operators import compile_literal_search
from ..condition.parser import parse
from ..condition.prefilter import escape_scan
from ..condition.resolver import FieldResolver, ResolvedField
from ..errors import EksauditError, RulesError
from .collector import Collector
from .expand import MacroError, exceptions_to_text, expand_list_items, expand_macros, substitute_lists
from .formatting import FormatError, OutputFormatter
from .model import Alert, Priority, RuleInfo, RuleSummary, Where, default_hostname

# Literals found in (nearly) every audit event: useless to tell events apart.
_UBIQUITOUS = (b'"ResponseComplete"', b'"ResponseStarted"', b'"RequestReceived"', b'"Event"', b'"allow"',
               b'"Metadata"', b'"Request"', b'"RequestResponse"', b"audit.k8s.io")

MAX_DEPTH = 1000  # Falco's loader sets the parser's depth limit to 1000 (libsinsp alone: 100)

_UNKNOWN_FIELD_MARKERS = ("nonexistent field", "unknown filter", "invalid formatting token", "unknown field")


class RuleWarning(str):
    """A load warning: the text is the full message (`file:line: rule 'X': ...`); `code` classifies it.

    Codes: `unknown-key`, `deprecated`, `unknown-source`, `unused-list`, `unused-macro`, `invalid-name`,
    `exception`, `compile`, `unknown-item`, `skipped-rule`.
    """

    code: str
    message: str

    def __new__(cls, text: str, code: str, message: str) -> RuleWarning:
        w = super().__new__(cls, text)
        w.code = code
        w.message = message
        return w


def _warning_code(message: str) -> str:
    if message.startswith("Unknown key"):
        return "unknown-key"
    if "deprecated" in message:
        return "deprecated"
    if "invalid name" in message:
        return "invalid-name"
    if "exception" in message:
        return "exception"
    if message.startswith("Unknown top level item"):
        return "unknown-item"
    return "other"


@dataclass
class _Guard:
    """`field in (values)` that a rule's condition requires at top level (missing value: no match)."""

    key: str
    bound: ResolvedField
    values: frozenset[str]


@dataclass
class _CompiledRule:
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


def _conjuncts(expr: Expr) -> Iterable[Expr]:
    if isinstance(expr, AndExpr):
        for c in expr.children:
            yield from _conjuncts(c)
    else:
        yield expr


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


def _is_unknown_field_error(text: str) -> bool:
    low = text.lower()
    return any(m in low for m in _UNKNOWN_FIELD_MARKERS)


class Ruleset:
    """Compiled rules of the known sources, in load order, ready to match events."""

    def __init__(
        self,
        compiled: list[_CompiledRule],
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
        pfs = [c.prefilter for c in self._enabled]
        self.prefilter: Callable[[bytes], bool] | None
        if not pfs:
            self.prefilter = _never
        elif any(p is None for p in pfs) or any(not c.required for c in self._enabled):
            self.prefilter = None
        else:
            funcs = tuple(p for p in pfs if p is not None)

            def exact(raw: bytes, _f: tuple[Callable[[bytes], bool], ...] = funcs) -> bool:
                for p in _f:  # noqa: SIM110 - a plain loop beats any(<genexpr>) per event
                    if p(raw):
                        return True
                return False

            self.prefilter = CombinedPrefilter([c.required for c in self._enabled], exact)

    @property
    def required(self) -> tuple[frozenset[bytes], ...] | None:
        """Literal groups every event that any enabled rule can match must hold (None: no such hint).

        One group: for each rule, one of its literal groups, chosen statically (avoiding literals
        that every audit event holds, such as the stage values). Sound (the reader also stops at
        escapes that could spell a literal, see `condition.prefilter.EscapeScan`), coarser than `prefilter`;
        meant for block-level skipping in the input reader (`read_events(required=...)`).
        """
        if not self._enabled or any(not c.required for c in self._enabled):
            return None
        union: set[bytes] = set()
        for c in self._enabled:
            def score(g: frozenset[bytes]) -> tuple[int, int, int]:
                common = any(any(u in lit for u in _UBIQUITOUS) for lit in g)
                return (common, len(g), -min(len(lit) for lit in g))

            union.update(min(c.required, key=score))
        return (frozenset(union),)

    # --- introspection
    @property
    def enabled_count(self) -> int:
        return len(self._enabled)

    def rule_names(self) -> list[str]:
        """Names of the enabled rules in match order (the summary lists rules in this order)."""
        return [c.info.name for c in self._enabled]

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

    def _alert(self, c: _CompiledRule, event: Any) -> Alert:
        return Alert(c.info.name, c.info.priority, c.info.source, tags=c.tags, hostname=self.hostname, event=event,
                     renderer=c.formatter.render, text_renderer=c.formatter.render_text)


def _never(raw: bytes) -> bool:
    return False


class CombinedPrefilter:
    """"Could any enabled rule match this raw event?" in one pass over the bytes, most of the time.

    Each rule's prefilter (from the condition engine) is a conjunction of literal groups: the event
    must contain a literal of every group. Calling all of them costs more than parsing the JSON. But
    one group per rule is enough for a sound first stage: if the event contains no literal of any
    rule's chosen group, nor an escape that could spell one of their characters, no rule can match. The chosen groups are searched with one RE2 pattern; only
    events that pass it go through the exact per-rule check.

    Which group is most selective depends on the data (`"ResponseComplete"` is in every event), so
    the first `learn` events are checked exactly while noting which groups each contains; then each
    rule keeps its rarest group. When the sample shows that nearly every event passes anyway, the
    filter stops filtering (it would only cost time). Answers are sound in every phase: False only
    when no rule can match.
    """

    def __init__(self, rules: list[tuple[frozenset[bytes], ...]], exact: Callable[[bytes], bool], learn: int = 400):
        self._rules: list[list[tuple[int, tuple[bytes, ...]]]] = []
        k = 0
        for groups in rules:
            self._rules.append([(k + i, tuple(g)) for i, g in enumerate(groups)])
            k += len(groups)
        self._exact = exact
        self._learn = learn
        self._samples: list[int] = []
        self._passed = 0
        self.mode = "learning"
        self._search: Callable[[bytes], Any] | None = None

    def __call__(self, raw: bytes) -> bool:
        search = self._search
        if search is not None:
            return search(raw) is not None and self._exact(raw)
        if self.mode == "learning":
            return self._learning(raw)
        if self.mode == "exact":
            return self._exact(raw)
        return True

    def _learning(self, raw: bytes) -> bool:
        bits = 0
        result = False
        for groups in self._rules:
            ok = True
            for k, g in groups:
                for lit in g:
                    if lit in raw:
                        bits |= 1 << k
                        break
                else:
                    ok = False
            result = result or ok
        if not result:
            result = self._exact(raw)  # the plain search missed: the text may spell a literal by escapes
        self._samples.append(bits)
        self._passed += result
        if len(self._samples) >= self._learn:
            self._build()
        return result

    def _build(self) -> None:
        n = len(self._samples)
        chosen: set[bytes] = set()
        mask = 0
        for groups in self._rules:
            k, g = min(groups, key=lambda kg: (sum(1 for b in self._samples if b >> kg[0] & 1), len(kg[1])))
            chosen.update(g)
            mask |= 1 << k
        first_stage = sum(1 for b in self._samples if b & mask)
        self._samples = []
        if self._passed > 0.8 * n:
            self.mode = "off"  # nearly everything can match: parsing is cheaper than filtering
            return
        if first_stage > 0.8 * n:
            self.mode = "exact"
            return
        # one RE2 pass sized so its DFA works and RE2 prints nothing (see compile_literal_search)
        search = compile_literal_search(chosen)
        escapes = escape_scan(chosen)  # a line that may spell a chosen literal by escapes goes on
        if escapes is None:
            self._search = search
        else:
            self._search = lambda raw: search(raw) or escapes(raw) or None
        self.mode = "two-stage"


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

    def run(self) -> list[_CompiledRule]:
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
                resolved[m.name] = expand_macros(parsed[m.name], visible, self.used_macros)
            except MacroError as e:
                raise RulesError(m.where.prefix(m.cond_line) + e.message) from None
        self.macros = resolved

        out: list[_CompiledRule] = []
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

    def _rule(self, r: RuleInfo, lists: dict[str, list[str]]) -> _CompiledRule | None:
        resolver = self.resolvers[r.source]
        cond = exceptions_to_text(r.cond, r.exceptions) if r.exceptions else r.cond
        try:
            formatter = OutputFormatter(r.output, resolver)
        except FormatError as e:
            if e.unknown_field and r.skip_if_unknown_filter:
                self.warn(e.message, r.where, r.output_line, "skipped-rule")
                return None
            raise RulesError(r.where.prefix(r.output_line) + "output: " + e.message) from None
        text = substitute_lists(cond, lists, self.used_lists)
        ast = self._parse(text, r.where, r.cond_line)
        used: set[str] = set()
        try:
            expanded = expand_macros(ast, self.macros, used)
        except MacroError as e:
            err = ConditionError(e.message, text, e.expr.pos)
            raise RulesError(r.where.prefix(r.cond_line) + "condition: " + err.render()) from None
        self.used_macros |= used
        try:
            # The unexpanded AST with the (already resolved) macros: compile errors inside a macro
            # then name the macro and point at its reference in this rule's text.
            compiled = compile_condition(ast, resolver, macros=self.macros)
        except ConditionError as e:
            if r.skip_if_unknown_filter and _is_unknown_field_error(e.message):
                self.warn(e.message, r.where, r.cond_line, "skipped-rule")
                return None
            shown = ConditionError(e.message, text if e.source is None else e.source, e.pos, e.suggestions)
            raise RulesError(r.where.prefix(r.cond_line) + "condition: " + shown.render()) from None
        except EksauditError as e:
            if r.skip_if_unknown_filter and _is_unknown_field_error(str(e)):
                self.warn(str(e), r.where, r.cond_line, "skipped-rule")
                return None
            raise RulesError(r.where.prefix(r.cond_line) + "condition: " + str(e)) from None
        warnings = list(compiled.warnings)
        for w in _field_prefix_warnings(expanded, self._names(resolver), self._max_name):
            if w not in warnings:
                warnings.append(w)
        for w in warnings:
            self.warn(str(w), r.where, r.cond_line, "compile")
        enabled = r.enabled and r.priority <= self.min_priority
        c = _CompiledRule(
            info=r, ast=expanded, matches=compiled.matches, residual=compiled.matches, prefilter=compiled.prefilter, required=tuple(compiled.required),
            formatter=formatter, enabled=enabled, tags=tuple(sorted(r.tags)),
        )
        seen: set[str] = set()
        rest: list[Expr] = []
        for conj in _conjuncts(expanded):
            g = _guard_of(conj, resolver)
            if g is not None and g[0] not in seen:
                seen.add(g[0])
                c.guards.append(_Guard(*g))
            else:
                rest.append(conj)
        # The matcher checks every guard itself (index or cached lookup), so the rule's remaining
        # work is the conjunction of the other conjuncts (`and` has no order semantics to keep).
        if c.guards:
            if not rest:
                c.residual = None
            else:
                residual = rest[0] if len(rest) == 1 else AndExpr(expanded.pos, tuple(rest))
                try:
                    c.residual = compile_condition(residual, resolver).matches
                except EksauditError:  # cannot happen for parts of a compiled condition; stay exact
                    c.guards = []
        return c


def compile_collector(
    col: Collector,
    resolvers: dict[str, FieldResolver],
    warn: Callable[[str, Where, int | None, str | None], None],
    *,
    min_priority: Priority = Priority.DEBUG,
) -> list[_CompiledRule]:
    return _Compiler(col, resolvers, warn, min_priority).run()

