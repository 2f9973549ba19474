"""Collected lists, macros and rules of one load, with Falco's append/override bookkeeping.

Falco's `rule_loader_collector`: all files of a load go into one `Collector` in order; a
redefinition keeps the first definition's position (so rule match order is stable across overlay
files), appends and replaces are applied per key, exceptions are validated against the rule they
belong to, and the engine/plugin version requirements are kept until the load is finished. The
messages are Falco's, so searches for a Falco error text find the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..condition.operators import is_modifier_op, is_operator_defined, normalize_comp
from ..errors import RulesError
from .model import (
    ExceptionEntry,
    ExceptionInfo,
    ListInfo,
    MacroInfo,
    RuleInfo,
    Where,
)

# The engine version eksaudit implements (Falco main after 0.44.1: 0.63.0, incl. \xHH escapes).
ENGINE_VERSION = (0, 63, 0)

# Plugins considered loaded for `required_plugin_versions`: eksaudit provides their fields.
LOADED_PLUGINS: dict[str, tuple[int, int, int]] = {
    "k8saudit": (0, 18, 0),
    "k8saudit-eks": (0, 12, 0),
    "json": (0, 7, 0),
}

RULE_APPENDABLE = ("condition", "output", "desc", "tags", "exceptions")


@dataclass
class LoadContext:
    """What the collector needs to know about the engine: which sources exist, where warnings go."""

    known_sources: frozenset[str]
    is_valid_lhs_field: Callable[[str, str], bool]  # (source, field expression) -> bool
    warn: Callable[[str, Where, int | None, str], None]  # (message, where, line, warning code)
    plugin_requirements: list[tuple[list[tuple[str, str]], Where]] = field(default_factory=list)


def fail(where: Where, message: str, line: int | None = None) -> RulesError:
    return RulesError(where.prefix(line) + message)


def parse_semver(text: str) -> tuple[int, int, int] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text.strip())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def fmt_version(v: tuple[int, int, int]) -> str:
    return ".".join(map(str, v))


def version_compatible(have: tuple[int, int, int], want: tuple[int, int, int]) -> bool:
    """Falco's rule: same major version, and at least the requested version."""
    return have[0] == want[0] and have >= want


class Collector:
    """All items of a load, in first-definition order, with Falco's shared index/visibility counter."""

    def __init__(self, ctx: LoadContext) -> None:
        self.ctx = ctx
        self.lists: dict[str, ListInfo] = {}
        self.macros: dict[str, MacroInfo] = {}
        self.rules: dict[str, RuleInfo] = {}
        self._counter = 0

    def _next(self) -> int:
        n = self._counter
        self._counter += 1
        return n

    def _define(self, table: dict[str, Any], info: Any) -> None:
        n = self._next()
        prev = table.get(info.name)
        if prev is not None:
            info.index = prev.index
            info.visibility = n
            table[info.name] = info  # dict keeps the first insertion's position
        else:
            info.index = n
            info.visibility = n
            table[info.name] = info

    # lists and macros
    def define_list(self, info: ListInfo) -> None:
        self._define(self.lists, info)

    def append_list(self, info: ListInfo) -> None:
        prev = self.lists.get(info.name)
        if prev is None:
            raise fail(info.where, "List uses 'append' or 'override.items: append' but no list by that name already exists")
        prev.items.extend(info.items)
        prev.visibility = self._next()

    def define_macro(self, info: MacroInfo) -> None:
        self._define(self.macros, info)

    def append_macro(self, info: MacroInfo) -> None:
        prev = self.macros.get(info.name)
        if prev is None:
            raise fail(
                info.where, "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists"
            )
        prev.cond = prev.cond + " " + info.cond
        prev.visibility = self._next()

    # rules
    def define_rule(self, info: RuleInfo) -> None:
        prev = self.rules.get(info.name)
        if prev is not None and prev.source != info.source:
            raise fail(info.where, "Rule has been re-defined with a different source")
        if info.source not in self.ctx.known_sources:
            info.unknown_source = True
        else:
            for ex in info.exceptions:
                self.validate_exception(info, ex)
        self._define(self.rules, info)

    def enable_rule(self, name: str, enabled: bool, where: Where) -> None:
        prev = self.rules.get(name)
        if prev is None:
            raise fail(where, "Rule has 'enabled' key but no rule by that name already exists")
        prev.enabled = enabled

    def _check_update_source(self, prev: RuleInfo, upd: dict[str, Any], where: Where) -> None:
        src = upd.get("source")
        if src and src != prev.source:
            raise fail(where, "Rule has been re-defined with a different source")

    def append_rule(self, name: str, upd: dict[str, Any], where: Where) -> None:
        prev = self.rules.get(name)
        if prev is None:
            raise fail(where, "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists")
        if not any(k in upd for k in RULE_APPENDABLE):
            raise fail(where, "Appended rule must have exceptions or condition property")
        self._check_update_source(prev, upd, where)
        if upd.get("condition"):
            prev.cond = prev.cond + " " + upd["condition"]
        if upd.get("output"):
            prev.output = prev.output + " " + upd["output"]
        if upd.get("desc"):
            prev.desc = prev.desc + " " + upd["desc"]
        if "tags" in upd:
            prev.tags |= set(upd["tags"])
        for ex in upd.get("exceptions", ()):
            existing = next((e for e in prev.exceptions if e.name == ex.name), None)
            if existing is None:
                if ex.fields is None:
                    raise fail(ex.where, "Rule exception must have fields property with a list of fields")
                if not ex.values:
                    raise fail(ex.where, "Rule exception must have values property with a list of values")
                if not prev.unknown_source:
                    self.validate_exception(prev, ex)
                prev.exceptions.append(ex)
            else:
                if ex.fields is not None:
                    raise fail(ex.where, "Can not append exception fields to existing exception, only values")
                if ex.comps is not None:
                    raise fail(ex.where, "Can not append exception comps to existing exception, only values")
                existing.values.extend(ex.values)
        prev.visibility = self._next()

    def replace_rule(self, name: str, upd: dict[str, Any], where: Where) -> None:
        prev = self.rules.get(name)
        if prev is None:
            raise fail(
                where, "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists"
            )
        self._check_update_source(prev, upd, where)
        attrs = {
            "condition": "cond", "output": "output", "desc": "desc", "priority": "priority", "enabled": "enabled",
            "warn_evttypes": "warn_evttypes", "skip-if-unknown-filter": "skip_if_unknown_filter",
            "capture": "capture", "capture_duration": "capture_duration",
        }
        for key, attr in attrs.items():
            if key in upd:
                setattr(prev, attr, upd[key])
        if "tags" in upd:
            prev.tags = set(upd["tags"])
        if "exceptions" in upd:
            if not prev.unknown_source:
                for ex in upd["exceptions"]:
                    self.validate_exception(prev, ex)
            prev.exceptions = list(upd["exceptions"])
        prev.visibility = self._next()

    def validate_exception(self, rule: RuleInfo, ex: ExceptionInfo) -> None:
        """Defaults and checks of an exception of a rule whose source is known."""
        assert ex.fields is not None
        if ex.fields.is_list:
            if ex.comps is None:
                ex.comps = ExceptionEntry(True, items=[ExceptionEntry(False, item="=") for _ in ex.fields.items])
            if not ex.comps.is_list or len(ex.comps.items) != len(ex.fields.items):
                raise fail(ex.where, "Fields and comps lists must have equal length")
            for c in ex.comps.items:
                c.item = normalize_comp(c.item)
                if c.is_list or not is_operator_defined(c.item):
                    raise fail(ex.where, f"'{c.item}' is not a supported comparison operator")
            for f in ex.fields.items:
                if f.is_list or not self.ctx.is_valid_lhs_field(rule.source, f.item):
                    raise fail(ex.where, f"'{f.item}' is not a supported filter field")
        else:
            if ex.comps is None:
                ex.comps = ExceptionEntry(False, item="in")
            if ex.comps.is_list:
                raise fail(ex.where, "Fields and comps must both be strings")
            ex.comps.item = normalize_comp(ex.comps.item)
            if ex.comps.item not in ("in", "pmatch", "intersects") and not is_modifier_op(ex.comps.item):
                raise fail(
                    ex.where,
                    "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier "
                    "operator (e.g. startswith oneof)",
                )
            if not self.ctx.is_valid_lhs_field(rule.source, ex.fields.item):
                raise fail(ex.where, f"'{ex.fields.item}' is not a supported filter field")


# -------------------------------------------------------------------------------------- reader


def check_plugin_requirements(ctx: LoadContext) -> None:
    """After all files: each requirement must be met by the first of its alternatives that is loaded."""
    for alts, where in ctx.plugin_requirements:
        for name, ver in alts:
            have = LOADED_PLUGINS.get(name)
            if have is None:
                continue
            want = parse_semver(ver)
            assert want is not None
            if not version_compatible(have, want):
                raise fail(where, f"Plugin '{name}' version '{fmt_version(have)}' is not compatible with required plugin version '{ver}'")
            break
        else:
            listed = ", ".join(f"{n} (>= {v})" for n, v in alts)
            raise fail(where, f"Plugin requirement not satisfied, must load one of: {listed}")
