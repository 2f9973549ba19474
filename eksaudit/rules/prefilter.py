"""The rules' raw-bytes prefilter: could any enabled rule match this line, before JSON parsing?

Each compiled condition carries literal groups (see eksaudit.condition.prefilter); this module
combines them for a whole ruleset: `CombinedPrefilter` (learned first stage, one RE2 search, escape
aware, then the exact per-rule check) and the `required` hint handed to the input reader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..condition.operators import compile_literal_search
from ..condition.prefilter import escape_scan

# Literals found in (nearly) every audit event: useless to tell events apart.
_UBIQUITOUS = (b'"ResponseComplete"', b'"ResponseStarted"', b'"RequestReceived"', b'"Event"', b'"allow"',
               b'"Metadata"', b'"Request"', b'"RequestResponse"', b"audit.k8s.io")

def _never(raw: bytes) -> bool:
    return False


ESCAPES_FIRST = True  # the slow twin: False, a line with no rule's literals plainly is always checked exactly


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

    def __init__(self, rules: list[tuple[frozenset[bytes], ...]], exact: Callable[[bytes], bool], learn: int = 400,
                 escapes: Callable[[bytes], bool] | None = None):
        self._groups = [[frozenset(g) for g in groups] for groups in rules]
        # rules share literals (48 upstream rules: 190 in their groups, 38 distinct): a learned event
        # is searched for each distinct literal once; what it holds is a mask over them, and a
        # group is the mask of its literals (`found & group`: the event holds one of them)
        distinct = sorted({lit for groups in rules for g in groups for lit in g})
        bit = {lit: 1 << i for i, lit in enumerate(distinct)}
        self._bits = [(bit[lit], lit) for lit in distinct]
        self._masks = [[sum(bit[lit] for lit in g) for g in groups] for groups in self._groups]
        self._exact = exact
        # `escapes(raw)`: may `raw` spell one of the literals by escapes? When `exact` is each rule's
        # plain search or its escape scan (`ruleset_prefilter`), a line with no rule's literals
        # plainly and no such escape fails `exact` too, which then need not compile the rules'
        # scans (48 upstream, ~0.4 ms each, in every `--jobs` worker). None: always ask `exact`.
        self._escapes = escapes
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
        found = 0
        for bit, lit in self._bits:
            if lit in raw:
                found |= bit
        result = False
        for masks in self._masks:  # does some rule find a literal of each of its groups?
            for m in masks:
                if not found & m:
                    break
            else:
                result = True
                break
        if not result and (self._escapes is None or not ESCAPES_FIRST or self._escapes(raw)):
            result = self._exact(raw)  # the plain search missed: the text may spell a literal by escapes
        self._samples.append(found)
        self._passed += result
        n = len(self._samples)
        if n >= self._learn or (n == self._learn // 4 and self._passed >= 0.95 * n):
            self._build()  # early when nearly every event passes: learning costs as much as it saves
        return result

    def _build(self) -> None:
        n = len(self._samples)
        samples = self._samples
        hits: dict[int, int] = {}  # a group's mask -> the samples that hold one of its literals

        def held(m: int) -> int:
            c = hits.get(m)
            if c is None:
                c = hits[m] = sum(1 for found in samples if found & m)
            return c

        chosen: set[bytes] = set()
        mask = 0
        for groups, masks in zip(self._groups, self._masks, strict=True):  # each rule's rarest group
            i = min(range(len(groups)), key=lambda i: (held(masks[i]), len(groups[i])))
            chosen.update(groups[i])
            mask |= masks[i]
        first_stage = sum(1 for found in samples if found & mask)
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


def ruleset_prefilter(
    rules: list[tuple[Callable[[bytes], bool] | None, tuple[frozenset[bytes], ...]]],
) -> Callable[[bytes], bool] | None:
    """One raw-bytes filter for the enabled rules' (prefilter, required groups); None when some rule
    has no prefilter (every event must then be parsed)."""
    if not rules:
        return _never
    if any(p is None or not req for p, req in rules):
        return None
    funcs = tuple(p for p, _ in rules if p is not None)

    def exact(raw: bytes, _f: tuple[Callable[[bytes], bool], ...] = funcs) -> bool:
        for p in _f:  # noqa: SIM110 - a plain loop beats any(<genexpr>) per event
            if p(raw):
                return True
        return False

    groups = [req for _, req in rules]
    spelled = escape_scan({lit for req in groups for g in req for lit in g})  # every rule's scan in one
    return CombinedPrefilter(groups, exact, escapes=spelled if spelled is not None else _never)


def required_hint(rules: list[tuple[frozenset[bytes], ...]]) -> tuple[frozenset[bytes], ...] | None:
    """One literal group every event that any of the rules can match must hold (None: no hint).

    For each rule one of its literal groups, chosen statically (avoiding literals that every audit
    event holds, such as the stage values).
    """
    if not rules or any(not req for req in rules):
        return None
    union: set[bytes] = set()
    for req in rules:
        def score(g: frozenset[bytes]) -> tuple[int, int, int]:
            common = any(any(u in lit for u in _UBIQUITOUS) for lit in g)
            return (common, len(g), -min(len(lit) for lit in g))

        union.update(min(req, key=score))
    return (frozenset(union),)
