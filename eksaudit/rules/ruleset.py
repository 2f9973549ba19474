"""A compiled ruleset and its matching: rules in load order, first match wins by default.

Speed: most rules start with conjuncts such as `ka.verb in (create, update)` or
`ka.target.resource = pods`. Those are turned into guards; the guard fields are read once per event
(one bitmask table per field) and only rules whose guards accept the event are evaluated at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import eksaudit.rules.blockscreen as _blockscreen  # its BLOCK_SCREEN switch (tests flip it)
import eksaudit.rules.screen as _screen  # its SCREENING switch, read per call (tests flip it)

from ..condition.ast import Expr, as_string
from .formatting import OutputFormatter
from .model import TIME_READS, Alert, RuleInfo, RuleSummary, RuleWarning, default_hostname
from .prefilter import required_hint, ruleset_prefilter
from .screen import Screen, Split


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
    split: Split | None = None  # conjuncts by the one field each tests (None: not split, see screen.py)
    position: int = 0
    reads: frozenset[tuple[str, ...]] | None = None  # JSON paths the condition reads (None: all)


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
        self.screen = Screen([(c.split, c.matches) for c in self._enabled])
        self.prefilter = ruleset_prefilter([(c.prefilter, c.required) for c in self._enabled])
        self.reads = _union_reads(c.reads for c in self._enabled)
        self._blocks: _blockscreen.BlockScreen | None = None

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
    def match(self, event: Any) -> list[Alert]:
        """Alerts for one event: the first matching rule (`rule_matching='first'`), or all of them."""
        if not _screen.SCREENING:
            return self._match_plain(event)
        return self.finish(event, self.screen.candidates(event))

    def block_screen(self) -> _blockscreen.BlockScreen | None:
        """The screen over whole blocks of plain event lines (blockscreen.py), or None when it or
        the screen is switched off. One per ruleset: its decision tables serve every scan."""
        if not (_screen.SCREENING and _blockscreen.BLOCK_SCREEN):
            return None
        if self._blocks is None:
            self._blocks = _blockscreen.BlockScreen(self)
        return self._blocks

    def alert_reads(self, mask: int) -> frozenset[tuple[str, ...]] | None:
        """The JSON paths that finishing an event whose candidates are `mask` reads, its alerts'
        outputs and times included (None: maybe the whole event)."""
        out: set[tuple[str, ...]] = set(TIME_READS)
        while mask:
            low = mask & -mask
            mask ^= low
            c = self._enabled[low.bit_length() - 1]
            output = c.formatter.reads
            if c.reads is None or output is None:
                return None
            out |= c.reads | output
        return frozenset(out)

    def finish(self, event: Any, mask: int) -> list[Alert]:
        """`match` for an event whose `screen.candidates` are `mask`: the residuals, in load order."""
        alerts: list[Alert] = []
        residuals = self.screen.residuals
        while mask:
            low = mask & -mask
            mask ^= low
            pos = low.bit_length() - 1
            residual = residuals[pos]
            if residual is None or residual(event):
                alerts.append(self._alert(self._enabled[pos], event))
                if self.rule_matching == "first":
                    break
        return alerts

    def _match_plain(self, event: Any) -> list[Alert]:
        """The slow twin of `match`: each enabled rule's whole condition, in load order."""
        alerts: list[Alert] = []
        for c in self._enabled:
            if c.matches(event):
                alerts.append(self._alert(c, event))
                if self.rule_matching == "first":
                    break
        return alerts

    def _alert(self, c: CompiledRule, event: Any) -> Alert:
        info, fmt = c.info, c.formatter
        return Alert.lazy(info.name, info.priority, info.source, c.tags, self.hostname, event, fmt.render,
                          fmt.text_renderer)


