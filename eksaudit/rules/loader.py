"""Reading rules files into collected lists, macros and rules (Falco's rule_loader reader + collector).

This is the part of loading that is bookkeeping, not compiling: item classification, required keys,
deprecated `append: true`, `override:` append/replace per key, enabled-only items, exception
validation, engine and plugin version requirements. All files of a load go into one `Collector` in
order; a redefinition keeps the first definition's position (so rule match order is stable across
overlay files). The messages are Falco's, so searches for a Falco error text find the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..condition.lexer import RGX_BARE_STR, RGX_IDENTIFIER
from ..condition.operators import is_modifier_op, is_operator_defined, normalize_comp
from ..errors import RulesError
from .model import (
    ExceptionEntry,
    ExceptionInfo,
    ListInfo,
    MacroInfo,
    Priority,
    RuleInfo,
    Where,
)
from .yamlload import YMap, YSeq, is_scalar, line_of, load_documents, to_bool

# The engine version eksaudit implements (Falco main after 0.44.1: 0.63.0, incl. \xHH escapes).
ENGINE_VERSION = (0, 63, 0)

# Plugins considered loaded for `required_plugin_versions`: eksaudit provides their fields.
LOADED_PLUGINS: dict[str, tuple[int, int, int]] = {
    "k8saudit": (0, 18, 0),
    "k8saudit-eks": (0, 12, 0),
    "json": (0, 7, 0),
}

WARNING_APPEND = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead."
WARNING_ENABLED = (
    "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry "
    "under the 'override' key (i.e. 'enabled: replace')."
)
ERROR_OVERRIDE_APPEND = (
    "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') "
    "under 'override' instead."
)

_RGX_IDENTIFIER = "([a-zA-Z]+[a-zA-Z0-9_]*)"
_RGX_BARESTR = "([^()\"'[:space:]=,]+)"

_KEYS = {
    "list": {"list", "items", "append", "override"},
    "macro": {"macro", "condition", "append", "override"},
    "rule": {
        "rule", "condition", "output", "desc", "priority", "source", "enabled", "tags", "exceptions",
        "warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration", "append", "override",
    },
}
_RULE_APPENDABLE = ("condition", "output", "desc", "tags", "exceptions")
_RULE_REPLACEABLE = (
    "condition", "output", "desc", "priority", "tags", "exceptions", "enabled", "warn_evttypes",
    "skip-if-unknown-filter", "capture", "capture_duration",
)

class LoadFailure(Exception):
    """Internal: one load error with where it happened (turned into RulesError by `fail`)."""


@dataclass
class LoadContext:
    """What the collector needs to know about the engine: which sources exist, where warnings go."""

    known_sources: frozenset[str]
    is_valid_lhs_field: Callable[[str, str], bool]  # (source, field expression) -> bool
    warn: Callable[[str, Where, int | None], None]
    plugin_requirements: list[tuple[list[tuple[str, str]], Where]] = field(default_factory=list)


def fail(where: Where, message: str, line: int | None = None) -> RulesError:
    return RulesError(where.prefix(line) + message)


# ------------------------------------------------------------------------------------ decoding


def _get_required(item: YMap, key: str, where: Where) -> Any:
    if key not in item:
        raise fail(where, f"Item has no mapping for key '{key}'")
    return item[key]


def decode_str(item: YMap, key: str, where: Where, *, optional: bool = False) -> str | None:
    """A scalar value, with yaml-cpp's checks (present, not null, scalar, non-empty when required)."""
    if key not in item:
        if optional:
            return None
        raise fail(where, f"Item has no mapping for key '{key}'")
    v = item[key]
    ln = item.line_of(key)
    if v is None:
        if optional:
            return None
        raise fail(where, f"Mapping for key '{key}' is empty", ln)
    if not is_scalar(v):
        raise fail(where, "Value is not a scalar value", ln)
    if v == "" and not optional:
        raise fail(where, "Value must be non-empty", ln)
    return v


def decode_bool(item: YMap, key: str, where: Where, *, optional: bool = True) -> bool | None:
    s = decode_str(item, key, where, optional=optional)
    if s is None:
        return None
    b = to_bool(s)
    if b is None:
        raise fail(where, f"Can't decode YAML scalar value for key '{key}': '{s}' is not a boolean", item.line_of(key))
    return b


def decode_uint(item: YMap, key: str, where: Where) -> int | None:
    s = decode_str(item, key, where, optional=True)
    if s is None:
        return None
    if not s.isdigit() or not s.isascii() or int(s) >= 2**64:
        raise fail(where, f"Can't decode YAML scalar value for key '{key}': '{s}' is not an unsigned integer", item.line_of(key))
    return int(s)


def decode_seq(item: YMap, key: str, where: Where, *, optional: bool = False) -> list[str] | None:
    """A sequence of scalars (`items`, `tags`)."""
    if key not in item:
        if optional:
            return None
        raise fail(where, f"Item has no mapping for key '{key}'")
    v = item[key]
    ln = item.line_of(key)
    if v is None:
        if optional:
            return None
        raise fail(where, f"Mapping for key '{key}' is empty", ln)
    if not isinstance(v, YSeq):
        raise fail(where, "Value is not a sequence", ln)
    out: list[str] = []
    for e in v:
        if e is None:
            continue
        if not is_scalar(e):
            raise fail(where, "sequence value is not scalar", line_of(e, ln))
        out.append(str(e))
    return out


def _decode_entry(v: Any, where: Where, line: int) -> ExceptionEntry:
    if is_scalar(v):
        return ExceptionEntry(False, item=str(v))
    if isinstance(v, YSeq):
        return ExceptionEntry(True, items=[_decode_entry(e, where, line_of(e, line)) for e in v if e is not None])
    raise fail(where, "Value is not a scalar value nor a sequence", line)


def parse_semver(text: str) -> tuple[int, int, int] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text.strip())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _fmt_ver(v: tuple[int, int, int]) -> str:
    return ".".join(map(str, v))


def version_compatible(have: tuple[int, int, int], want: tuple[int, int, int]) -> bool:
    """Falco's rule: same major version, and at least the requested version."""
    return have[0] == want[0] and have >= want


# ----------------------------------------------------------------------------------- collector


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
        if not any(k in upd for k in _RULE_APPENDABLE):
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
        """Defaults and checks of an exception of a rule whose source is known (§3.10)."""
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


class Reader:
    """Reads rules files (YAML text) into a Collector, item by item, with Falco's messages."""

    def __init__(self, collector: Collector) -> None:
        self.col = collector
        self.ctx = collector.ctx

    def _warn(self, where: Where, message: str, line: int | None = None) -> None:
        self.ctx.warn(message, where, line)

    def read_text(self, text: str, filename: str) -> None:
        for doc in load_documents(text, filename):
            if doc is None:
                continue
            if not isinstance(doc, YSeq):
                raise RulesError(f"{filename}:{line_of(doc, 1)}: Rules content is not yaml array of objects")
            for item in doc:
                if item is None:
                    continue
                if not isinstance(item, YMap):
                    raise RulesError(
                        f"{filename}:{line_of(item, doc.line)}: Unexpected element type. "
                        "Each element should be a yaml associative array."
                    )
                self.read_item(item, filename)

    def _unknown_keys(self, item: YMap, kind: str, where: Where) -> None:
        for k in item:
            if k not in _KEYS[kind]:
                self._warn(where, f"Unknown key '{k}'. The key will be ignored.", item.line_of(k))

    def read_item(self, item: YMap, filename: str) -> None:
        where = Where(filename, item.line)
        if "required_engine_version" in item:
            self._engine_version(item, Where(filename, item.line, "required_engine_version"))
        elif "required_plugin_versions" in item:
            self._plugin_versions(item, Where(filename, item.line, "required_plugin_versions"))
        elif "list" in item:
            self._list(item, filename)
        elif "macro" in item:
            self._macro(item, filename)
        elif "rule" in item:
            self._rule(item, filename)
        else:
            self._warn(where, "Unknown top level item")

    # ---- versions
    def _engine_version(self, item: YMap, where: Where) -> None:
        v = decode_str(item, "required_engine_version", where)
        assert v is not None
        want = (0, int(v), 0) if v.isdigit() and v.isascii() else parse_semver(v)
        if want is None:
            raise fail(where, f"Unable to parse engine version '{v}' as a semver string. Expected \"x.y.z\" semver format.")
        if not version_compatible(ENGINE_VERSION, want):
            raise fail(
                where, f"Rules require engine version {_fmt_ver(want)}, but engine version is {_fmt_ver(ENGINE_VERSION)}"
            )

    def _plugin_versions(self, item: YMap, where: Where) -> None:
        reqs = item["required_plugin_versions"]
        if reqs is None:
            return
        if not isinstance(reqs, YSeq):
            raise fail(where, "Value of required_plugin_versions must be a sequence", item.line_of("required_plugin_versions"))
        for plugin in reqs:
            if not isinstance(plugin, YMap):
                raise fail(where, "Unexpected element type. Each element should be a yaml associative array.", line_of(plugin, item.line))
            alts: list[tuple[str, str]] = []
            entries = [plugin]
            alt_node = plugin.get("alternatives")
            if alt_node is not None:
                if not isinstance(alt_node, YSeq):
                    raise fail(where, "Value is not a sequence", plugin.line_of("alternatives"))
                entries += list(alt_node)
            for e in entries:
                if not isinstance(e, YMap):
                    raise fail(where, "Unexpected element type. Each element should be a yaml associative array.", line_of(e, plugin.line))
                ew = Where(where.file, e.line, where.kind)
                name = decode_str(e, "name", ew)
                ver = decode_str(e, "version", ew)
                assert name is not None and ver is not None
                if parse_semver(ver) is None:
                    raise fail(ew, f"Invalid required version '{ver}' for plugin '{name}'")
                if any(n == name for n, _ in alts):
                    raise fail(ew, f"Found duplicate alternative '{name}' for plugin requirement")
                alts.append((name, ver))
            self.ctx.plugin_requirements.append((alts, Where(where.file, plugin.line, where.kind)))

    # ---- overrides
    def _overrides(
        self, item: YMap, appendable: Iterable[str], replaceable: Iterable[str], where: Where
    ) -> tuple[list[str], list[str]]:
        ov = item.get("override")
        if ov is None or not isinstance(ov, YMap):
            return [], []
        app, rep = [], []
        for key, op in ov.items():
            ln = ov.line_of(key)
            if op == "append":
                if key not in appendable:
                    raise fail(where, f"Key '{key}' cannot be appended to, use 'replace' instead", ln)
                app.append(key)
            elif op == "replace":
                if key not in replaceable:
                    raise fail(where, f"Key '{key}' cannot be replaced", ln)
                rep.append(key)
            else:
                raise fail(
                    where, f"Invalid override operation for key '{key}': '{op}'. Allowed values are: append, replace", ln
                )
        return app, rep

    # ---- list
    def _list(self, item: YMap, filename: str) -> None:
        where = Where(filename, item.line, "list")
        name = decode_str(item, "list", where)
        assert name is not None
        where.name = name
        self._unknown_keys(item, "list", where)
        if not RGX_BARE_STR.fullmatch(name):
            self._warn(where, f"List has an invalid name. List names should match a regular expression: {_RGX_BARESTR}")
        items = decode_seq(item, "items", where)
        assert items is not None
        append = decode_bool(item, "append", where) or False
        if append:
            self._warn(where, WARNING_APPEND)
        app, rep = self._overrides(item, ("items",), ("items",), where)
        if append and (app or rep):
            raise fail(where, ERROR_OVERRIDE_APPEND)
        info = ListInfo(name, list(items), where)
        if append or "items" in app:
            self.col.append_list(info)
        else:
            self.col.define_list(info)

    # ---- macro
    def _macro(self, item: YMap, filename: str) -> None:
        where = Where(filename, item.line, "macro")
        name = decode_str(item, "macro", where)
        assert name is not None
        where.name = name
        self._unknown_keys(item, "macro", where)
        if not RGX_IDENTIFIER.fullmatch(name):
            self._warn(
                where, f"Macro has an invalid name. Macro names should match a regular expression: {_RGX_IDENTIFIER}"
            )
        cond = decode_str(item, "condition", where)
        assert cond is not None
        append = decode_bool(item, "append", where) or False
        if append:
            self._warn(where, WARNING_APPEND)
        app, rep = self._overrides(item, ("condition",), ("condition",), where)
        if append and (app or rep):
            raise fail(where, ERROR_OVERRIDE_APPEND)
        info = MacroInfo(name, cond, where, cond_line=line_of(item["condition"], item.line))
        if append or "condition" in app:
            self.col.append_macro(info)
        else:
            self.col.define_macro(info)

    # ---- rule
    def _exceptions(self, item: YMap, where: Where, *, append: bool) -> list[ExceptionInfo] | None:
        exs = item.get("exceptions")
        if exs is None:
            return None
        ln = item.line_of("exceptions")
        if not isinstance(exs, YSeq):
            raise fail(where, "Rule exceptions must be a sequence", ln)
        out: list[ExceptionInfo] = []
        names: set[str] = set()
        for ex in exs:
            exln = line_of(ex, ln)
            if not isinstance(ex, YMap):
                raise fail(where, "Rule exception must be a mapping", exln)
            name = decode_str(ex, "name", Where(where.file, exln, "rule", where.name))
            assert name is not None
            exw = Where(where.file, exln, f"rule '{where.name}' exception", name)
            if name in names:
                self._warn(exw, f"Multiple definitions of exception '{name}' in the same rule")
            names.add(name)
            info = ExceptionInfo(name, exw)
            if "fields" in ex or not append:
                f = _get_required(ex, "fields", exw)
                if f is None:
                    raise fail(exw, "Mapping for key 'fields' is empty", ex.line_of("fields"))
                info.fields = _decode_entry(f, exw, ex.line_of("fields"))
            if ex.get("comps") is not None:
                info.comps = _decode_entry(ex["comps"], exw, ex.line_of("comps"))
            vals = ex.get("values")
            if "values" in ex and vals is not None:
                if not isinstance(vals, YSeq):
                    raise fail(exw, "Rule exception values must be a sequence", ex.line_of("values"))
                info.values = [_decode_entry(v, exw, line_of(v, ex.line_of("values"))) for v in vals if v is not None]
            elif append:
                self._warn(exw, "Overriding/appending exception with no values")
            out.append(info)
        return out

    def _update_value(self, item: YMap, key: str, where: Where) -> Any:
        """Decode one key of an append/replace item."""
        if key in ("condition", "output", "desc"):
            v = decode_str(item, key, where)
            return v.strip() if key == "output" and v is not None else v
        if key == "tags":
            return decode_seq(item, "tags", where) or []
        if key == "priority":
            return self._priority(item, where)
        if key == "capture_duration":
            return decode_uint(item, key, where)
        return decode_bool(item, key, where, optional=False)

    def _priority(self, item: YMap, where: Where) -> Priority:
        p = decode_str(item, "priority", where)
        try:
            return Priority.parse(str(p))
        except ValueError:
            raise fail(where, "Invalid priority", item.line_of("priority")) from None

    def _rule(self, item: YMap, filename: str) -> None:
        where = Where(filename, item.line, "rule")
        name = decode_str(item, "rule", where)
        assert name is not None
        where.name = name
        self._unknown_keys(item, "rule", where)
        append = decode_bool(item, "append", where) or False
        if append:
            self._warn(where, WARNING_APPEND)
        app, rep = self._overrides(item, _RULE_APPENDABLE, _RULE_REPLACEABLE, where)
        if append and (app or rep):
            raise fail(where, ERROR_OVERRIDE_APPEND)
        source = decode_str(item, "source", where, optional=True)

        if app or rep:
            expected = [k for k in dict.fromkeys((*_RULE_APPENDABLE, *_RULE_REPLACEABLE)) if k in item]
            for op_name, keys, action in (("append", app, self.col.append_rule), ("replace", rep, self.col.replace_rule)):
                if not keys:
                    continue
                upd: dict[str, Any] = {}
                if source:
                    upd["source"] = source
                for key in keys:
                    if key not in expected:
                        raise fail(where, f"An {op_name} override for '{key}' was specified but '{key}' is not defined")
                    expected.remove(key)
                    if key == "exceptions":
                        upd[key] = self._exceptions(item, where, append=op_name == "append") or []
                    else:
                        upd[key] = self._update_value(item, key, where)
                action(name, upd, where)
            for key in expected:
                raise fail(
                    where, f"Unexpected key '{key}': no corresponding entry under 'override' is defined.", item.line_of(key)
                )
            return

        if append:
            upd = {}
            if source:
                upd["source"] = source
            if "condition" in item:
                upd["condition"] = decode_str(item, "condition", where)
            if "exceptions" in item:
                upd["exceptions"] = self._exceptions(item, where, append=True) or []
            if "condition" not in upd and "exceptions" not in upd:
                raise fail(where, "Appended rule must have exceptions or condition property")
            self.col.append_rule(name, upd, where)
            return

        if not any(k in item for k in ("condition", "output", "desc", "priority")):
            enabled = decode_bool(item, "enabled", where, optional=False)
            self._warn(where, WARNING_ENABLED)
            self.col.enable_rule(name, bool(enabled), where)
            return

        cond = decode_str(item, "condition", where)
        output = decode_str(item, "output", where)
        desc = decode_str(item, "desc", where)
        assert cond is not None and output is not None and desc is not None
        priority = self._priority(item, where)
        info = RuleInfo(
            name=name,
            cond=cond,
            output=output.strip(),
            desc=desc,
            priority=priority,
            where=where,
            source=source or "syscall",
            cond_line=line_of(item["condition"], item.line),
            output_line=line_of(item["output"], item.line),
        )
        en = decode_bool(item, "enabled", where)
        if en is not None:
            info.enabled = en
        for key, attr in (("warn_evttypes", "warn_evttypes"), ("skip-if-unknown-filter", "skip_if_unknown_filter"), ("capture", "capture")):
            b = decode_bool(item, key, where)
            if b is not None:
                setattr(info, attr, b)
        cd = decode_uint(item, "capture_duration", where)
        if cd is not None:
            info.capture_duration = cd
        info.tags = set(decode_seq(item, "tags", where, optional=True) or ())
        info.exceptions = self._exceptions(item, where, append=False) or []
        self.col.define_rule(info)


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
                raise fail(where, f"Plugin '{name}' version '{_fmt_ver(have)}' is not compatible with required plugin version '{ver}'")
            break
        else:
            listed = ", ".join(f"{n} (>= {v})" for n, v in alts)
            raise fail(where, f"Plugin requirement not satisfied, must load one of: {listed}")
