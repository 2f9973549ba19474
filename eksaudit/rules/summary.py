"""Falco's end-of-run summary: alert counts by severity and by rule.

The layout is Falco's, byte for byte, so people who read Falco's summary read this one; counts are
alerts (rule matches), not events. Rule names (from rules files, which may be someone else's) are
printed with control characters escaped, so the summary stays one line per rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..safetext import escape_controls
from .model import Alert, Priority


class Summary:
    """Counts alerts; `render()` lists rules in load order (`rule_order`), else in first-seen order."""

    def __init__(self, rule_order: Iterable[str] | None = None) -> None:
        self._order = {name: i for i, name in enumerate(rule_order or ())}
        self.total = 0
        self.by_priority: Counter[Priority] = Counter()
        self.by_rule: Counter[str] = Counter()
        self._seen: dict[str, int] = {}

    def add(self, alert: Alert) -> None:
        self.total += 1
        self.by_priority[alert.priority] += 1
        self.by_rule[alert.rule] += 1
        self._seen.setdefault(alert.rule, len(self._seen))

    def merge(self, other: Summary) -> None:
        """Add the alerts another Summary counted after this one's (a worker's chunk of the input)."""
        self.total += other.total
        self.by_priority.update(other.by_priority)
        self.by_rule.update(other.by_rule)
        for name in other._seen:
            self._seen.setdefault(name, len(self._seen))

    def _rule_key(self, name: str) -> tuple[int, int]:
        if name in self._order:
            return (0, self._order[name])
        return (1, self._seen[name])

    def render(self) -> str:
        lines = [f"Events detected: {self.total}", "Rule counts by severity:"]
        for p in Priority:
            if self.by_priority[p]:
                lines.append(f"   {p.short_name}: {self.by_priority[p]}")
        lines.append("Triggered rules by rule name:")
        for name in sorted((r for r, c in self.by_rule.items() if c), key=self._rule_key):
            lines.append(f"   {escape_controls(name)}: {self.by_rule[name]}")
        return "\n".join(lines) + "\n"
