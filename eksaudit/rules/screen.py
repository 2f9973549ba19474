"""Per-value decisions shared by every rule: a rule's tests of one field are decided once per value.

Most conjuncts of Falco rules test one field against literals: `ka.verb in (create, update)`,
`not ka.user.name startswith "system:"`, `jevt.value[/stage] in (k8s_audit_stages)`. For a field
that several rules test this way (a *keyed* field), each rule's conjuncts on it are compiled to run
on the field's value instead of the event, and their results for a value are kept as one bitmask
(bit i: enabled rule i is still possible). An audit log has few distinct verbs, resources, users
or stages, so per event a keyed field costs one extraction and one dict lookup, whatever the
number of rules; only the rules left standing have their other conjuncts (the residual) evaluated.

Why the answer is the same as evaluating each rule's whole condition (the slow twin, `SCREENING =
False`; tests/rules/test_rules_screen.py compares the two on random rules and odd events):
- Falco's `and` has no order semantics, and compiled conjuncts have no side effects and do not
  raise, so conjuncts may be evaluated in any order and some of them ahead of time.
- A conjunct that names exactly one field (once or more, under transformers or not) depends on the
  event only through that field's extracted value: the compiler reads fields through `extract` alone.
- Cached decisions are kept for strings and (apart) ints only, None has its own mask: values that
  compare equal across types (`1`, `1.0`, `True`) never share an entry. Other values are decided
  afresh, as is any new value once a field's cache holds `CACHE_CAP` values (URIs, timestamps).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..condition.ast import (
    AndExpr,
    BinaryCheckExpr,
    Expr,
    FieldExpr,
    FieldTransformerExpr,
    ListExpr,
    NotExpr,
    OrExpr,
    TransformerListExpr,
    UnaryCheckExpr,
    ValueExpr,
    as_string,
    conjuncts,
)
from ..condition.compiler import compile_predicate
from ..condition.resolver import FieldResolver, ResolvedField
from ..errors import EksauditError

SCREENING = True  # the slow twin: False evaluates every enabled rule's whole condition, in load order
CACHE_CAP = 4096  # distinct string values remembered per keyed field
LEARN = 256  # events screened with every field before the fields are ordered for early exit

Pred = Callable[[Any], bool]
FieldKey = tuple[str, "str | None"]


def field_refs(expr: Expr) -> Iterator[FieldExpr]:
    """Every field reference in an expression (transformer arguments and `val(...)` included)."""
    if isinstance(expr, FieldExpr):
        yield expr
    elif isinstance(expr, (AndExpr, OrExpr, TransformerListExpr)):
        for c in expr.children:
            yield from field_refs(c)
    elif isinstance(expr, NotExpr):
        yield from field_refs(expr.child)
    elif isinstance(expr, UnaryCheckExpr):
        yield from field_refs(expr.left)
    elif isinstance(expr, BinaryCheckExpr):
        yield from field_refs(expr.left)
        yield from field_refs(expr.right)
    elif isinstance(expr, FieldTransformerExpr):
        for a in expr.args:
            yield from field_refs(a)


def _literal_count(expr: Expr) -> int:
    """How many literals an expression names (`in (a, b, c)`: 3): how finely it splits values."""
    if isinstance(expr, ValueExpr):
        return 1
    if isinstance(expr, ListExpr):
        return len(expr.values)
    if isinstance(expr, (AndExpr, OrExpr, TransformerListExpr)):
        return sum(_literal_count(c) for c in expr.children)
    if isinstance(expr, NotExpr):
        return _literal_count(expr.child)
    if isinstance(expr, BinaryCheckExpr):
        return _literal_count(expr.right)
    return 0


@dataclass(frozen=True)
class _ValueField:
    """A field resolved to "the value passed in": a conjunct compiled with it runs on a value."""

    name: str
    arg: str | None
    type: str
    is_list: bool
    string_ops: bool
    path: None = None
    reads: tuple[()] = ()

    @staticmethod
    def extract(value: Any) -> Any:
        return value


class _ValueResolver:
    """Resolves one field to `_ValueField`; any other field is an error (it cannot happen)."""

    def __init__(self, inner: FieldResolver, key: FieldKey) -> None:
        self.inner, self.key = inner, key

    def resolve(self, name: str, arg: str | None) -> _ValueField:
        if (name, arg) != self.key:
            raise EksauditError(f"{name} is not the keyed field")
        rf = self.inner.resolve(name, arg)
        return _ValueField(name, arg, rf.type, bool(rf.is_list), bool(getattr(rf, "string_ops", False)))

    def names(self) -> Iterable[str]:
        return self.inner.names()


class KeyedField:
    """One keyed field: its extractor, each constraining rule's test of its value, and the cache."""

    __slots__ = ("key", "extract", "reads", "path", "tests", "free", "none_mask", "cache", "ints", "weight",
                 "_texts", "_literals", "_others")

    def __init__(self, key: FieldKey, bound: ResolvedField) -> None:
        self.key = key
        self.extract: Callable[[Any], Any] = bound.extract
        self.reads = getattr(bound, "reads", None)  # JSON paths it reads (blockscreen.py decodes them)
        self.path = bound.path
        # (bits of the rules, their conjuncts on this field compiled to run on the value): rules
        # whose conjuncts read the same (`as_string`) share one test, run once per value
        self.tests: list[tuple[int, Pred]] = []
        self._texts: dict[str, int] = {}  # test text -> its index in `tests`
        self.weight = 0  # literals named: the more, the likelier a value rules rules out
        self.free = 0  # bits of the rules that do not test this field
        self.none_mask = 0
        self.cache: dict[str, int] = {}
        self.ints: dict[int, int] = {}  # apart: `type(v) is int` leaves bools out, and 1 == True
        # Every string that no test names decides alike when the tests only compare the value for
        # equality with literals (`=`, `!=`, `in`, `exists`, under `not`/`and`/`or`) on a string
        # field: those literals (and ""), else None. `_others` is the decision for every other string.
        self._literals: set[str] | None = set() if bound.type == "string" and not bound.is_list else None
        self._others: int | None = None  # set by `seal`

    def compile(self, parts: list[Expr], resolver: FieldResolver) -> tuple[str, Pred, int]:
        """A rule's conjuncts on this field as a test of the value: (its text, the test, literals named)."""
        expr = _and(parts)
        text = as_string(expr)
        if self._literals is not None and not _equality_only(expr, self._literals):
            self._literals = None
        i = self._texts.get(text)
        test = self.tests[i][1] if i is not None else compile_predicate(expr, _ValueResolver(resolver, self.key))
        return text, test, sum(_literal_count(p) for p in parts)

    def add(self, bit: int, text: str, test: Pred, weight: int) -> None:
        """Rule `bit` tests this field with `test` (rules with the same test text share it)."""
        i = self._texts.get(text)
        if i is None:
            self._texts[text] = len(self.tests)
            self.tests.append((bit, test))
            self.weight += weight
        else:
            bits, shared = self.tests[i]
            self.tests[i] = (bits | bit, shared)

    def seal(self, all_mask: int) -> None:
        """Done adding tests: the rules that do not test this field are never ruled out by it."""
        for bits, _ in self.tests:
            all_mask &= ~bits
        self.free = all_mask
        self.none_mask = self.decide(None)
        if self._literals is not None:
            self._literals.add("")
            other = "\x01" * (1 + max(map(len, self._literals)))  # longer than any literal: named by none
            self._others = self.decide(other)

    def decide(self, value: Any) -> int:
        """The rules this value leaves possible."""
        literals = self._literals
        if type(value) is str and literals is not None and self._others is not None and value not in literals:
            return self._others
        m = self.free
        for bits, test in self.tests:
            if test(value):
                m |= bits
        return m

    def equality_classes(self) -> tuple[dict[str, int], int] | None:
        """When every string that no test names decides alike (see `_literals`): the decisions of
        the strings they name, and that of every other string; else None."""
        if self._literals is None or self._others is None:
            return None
        return {lit: self.decide(lit) for lit in self._literals}, self._others

    def narrow(self, value: Any, mask: int) -> int:
        """`mask & decide(value)`, remembered for strings and ints while the cache has room.

        Once it is full (a field of many values: URIs, timestamps), only the rules still in `mask`
        are tested.
        """
        t = type(value)
        cache = self.cache if t is str else self.ints if t is int else None
        if cache is not None:
            m = cache.get(value)
            if m is None and len(cache) < CACHE_CAP:
                m = cache[value] = self.decide(value)
            if m is not None:
                return mask & m
        for bits, test in self.tests:
            if mask & bits and not test(value):
                mask &= ~bits
        return mask

    @property
    def label(self) -> str:
        name, arg = self.key
        return name if arg is None else f"{name}[{arg}]"


@dataclass
class Split:
    """One rule's condition split: its conjuncts per field they alone test, and the rest."""

    by_field: dict[FieldKey, list[Expr]]
    rest: list[Expr]
    resolver: FieldResolver


def _single_field(conj: Expr, resolver: FieldResolver) -> FieldKey | None:
    """The field a conjunct names, when it names exactly one scalar field (else None)."""
    keys = {(f.field, f.arg) for f in field_refs(conj)}
    if len(keys) != 1:
        return None
    (key,) = keys
    try:
        rf = resolver.resolve(*key)
    except EksauditError:
        return None
    return None if rf.is_list else key


def split_condition(expanded: Expr, resolver: FieldResolver) -> Split:
    """A macro-free condition's top-level conjuncts, grouped by the one field each names."""
    by_field: dict[FieldKey, list[Expr]] = {}
    rest: list[Expr] = []
    for conj in conjuncts(expanded):
        key = _single_field(conj, resolver)
        if key is None:
            rest.append(conj)
        else:
            by_field.setdefault(key, []).append(conj)
    return Split(by_field, rest, resolver)


def _cost(f: KeyedField) -> float:
    """A field's cost for ordering: a plain path's value 1, a computed one (`jevt.rawtime` parses a
    timestamp, `ka.uri.param` a query string) 4, about what they measure."""
    return 1.0 if f.path is not None else 4.0


def _equality_only(expr: Expr, literals: set[str]) -> bool:
    """True when `expr` tests its field only for equality with literals (added to `literals`)."""
    if isinstance(expr, (AndExpr, OrExpr)):
        return all(_equality_only(c, literals) for c in expr.children)
    if isinstance(expr, NotExpr):
        return _equality_only(expr.child, literals)
    if isinstance(expr, UnaryCheckExpr):
        return expr.op == "exists" and isinstance(expr.left, FieldExpr)
    if isinstance(expr, BinaryCheckExpr) and isinstance(expr.left, FieldExpr) and expr.modifier is None:
        if expr.op in ("=", "!=") and isinstance(expr.right, ValueExpr):
            literals.add(expr.right.value)
            return True
        if expr.op == "in" and isinstance(expr.right, ListExpr):
            if not all(isinstance(v, ValueExpr) for v in expr.right.values):
                return False
            literals.update(v.value for v in expr.right.values)
            return True
    return False


def _and(parts: list[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else AndExpr(parts[0].pos, tuple(parts))


class Screen:
    """Keyed fields of a ruleset and each rule's residual: `candidates(event)` as a bitmask.

    A field is keyed when at least `min_rules` rules test it alone in a conjunct; the other
    conjuncts of those rules (and every conjunct on fields that are not keyed) form the residuals.
    A rule given without a split (None) is evaluated whole, as its residual.
    """

    def __init__(self, rules: list[tuple[Split | None, Pred]], *, min_rules: int = 2) -> None:
        n = len(rules)
        self.all_mask = (1 << n) - 1
        users: dict[tuple[int, str, str | None], int] = {}
        for s, _ in rules:
            for key in s.by_field if s is not None else ():
                k = (id(s.resolver), *key)
                users[k] = users.get(k, 0) + 1
        keyed = {k for k, u in users.items() if u >= min(min_rules, n)}
        fields: dict[tuple[int, str, str | None], KeyedField] = {}
        self.residuals: list[Pred | None] = []
        for i, (s, whole) in enumerate(rules):
            if s is None:
                self.residuals.append(whole)
                continue
            staged: list[tuple[tuple[int, str, str | None], KeyedField, tuple[str, Pred, int]]] = []
            rest = list(s.rest)
            try:
                for key, parts in s.by_field.items():
                    k = (id(s.resolver), *key)
                    if k not in keyed:
                        rest.extend(parts)
                        continue
                    f = fields.get(k) or KeyedField(key, s.resolver.resolve(*key))
                    staged.append((k, f, f.compile(parts, s.resolver)))
                residual = compile_predicate(_and(rest), s.resolver) if rest else None
            except EksauditError:  # cannot happen for parts of a compiled condition: stay exact anyway
                self.residuals.append(whole)
                continue
            for k, f, (text, test, weight) in staged:
                fields.setdefault(k, f).add(1 << i, text, test, weight)
            self.residuals.append(residual)
        for f in fields.values():
            f.seal(self.all_mask)
        # Fields naming many literals first: their values rule out the most rules, and a
        # bitmask that reaches 0 ends the event's screening before the other fields are read.
        self.fields = sorted(fields.values(), key=lambda f: (-f.weight, f.label))
        # The first events are screened with every field, to learn an order (`_order`).
        self._sample: list[list[int]] = []
        if len(self.fields) > 1:
            self.candidates = self._learning  # type: ignore[method-assign]

    def _learning(self, event: Any) -> int:
        """`candidates` while learning: every field read, the same mask."""
        masks: list[int] = []
        mask = self.all_mask
        for f in self.fields:
            v = f.extract(event)
            m = f.none_mask if v is None else f.narrow(v, self.all_mask)
            masks.append(m)
            mask &= m
        self._sample.append(masks)
        if len(self._sample) >= LEARN:
            self._order()
        return mask

    def _order(self) -> None:
        """Order the fields greedily: next, the one that rules out the most rules of the sample per
        unit of cost (`_cost`), given the fields before it; then screen with early exit.

        The costs are fixed, not timed: the order then depends on the events alone, and so does
        which events get parsed (an event ruled out before any field reads its JSON is never
        parsed, so a line that is not JSON is reported or not by the order: the same every run).
        """
        sample, self._sample = self._sample, []
        # events that the fields decide alike count once, with their number (most of the sample)
        rows = Counter(map(tuple, sample))
        masks, weights = list(rows), list(rows.values())
        n = len(self.fields)
        cost = [_cost(f) for f in self.fields]
        left = list(range(n))
        current = [self.all_mask] * len(masks)
        order: list[int] = []
        while left:
            gain = {i: sum(w * (cur & ~m[i]).bit_count() for cur, m, w in zip(current, masks, weights, strict=True))
                    / cost[i] for i in left}
            best = max(left, key=lambda i: (gain[i], -left.index(i)))
            order.append(best)
            left.remove(best)
            current = [cur & m[best] for cur, m in zip(current, masks, strict=True)]
        self.fields = [self.fields[i] for i in order]
        del self.candidates  # the class's method again

    def candidates(self, event: Any) -> int:
        """Bitmask of the rules whose keyed conjuncts all hold for the event (0: none can match)."""
        mask = self.all_mask
        for f in self.fields:
            v = f.extract(event)
            if v is None:
                mask &= f.none_mask
            elif type(v) is str:
                m = f.cache.get(v)
                mask = mask & m if m is not None else f.narrow(v, mask)
            else:
                mask = f.narrow(v, mask)
            if not mask:
                return 0
        return mask
