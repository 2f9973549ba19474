"""Reading rules files item by item into a Collector (Falco's `rule_loader_reader`).

The YAML is decoded by yamlload.py; this module classifies items (list, macro, rule,
required_engine_version, required_plugin_versions), applies yaml-cpp's checks to each key (present,
scalar, boolean ...), handles deprecated `append: true`, `override:` blocks and enabled-only items,
and hands each decoded item to the collector. The messages are Falco's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..condition.lexer import RGX_BARE_STR, RGX_IDENTIFIER
from ..errors import RulesError
from .collector import (
    ENGINE_VERSION,
    RULE_APPENDABLE,
    Collector,
    fail,
    fmt_version,
    parse_semver,
    version_compatible,
)
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
_RULE_REPLACEABLE = (
    "condition", "output", "desc", "priority", "tags", "exceptions", "enabled", "warn_evttypes",
    "skip-if-unknown-filter", "capture", "capture_duration",
)

# ------------------------------------------------------------------------------------ decoding


def _get_required(item: YMap, key: str, where: Where) -> Any:
    if key not in item:
        raise fail(where, f"Item has no mapping for key '{key}'")
    return item[key]


def _value(item: YMap, key: str, where: Where, optional: bool) -> Any:
    """The value under `key`, with yaml-cpp's presence checks; None when optional and absent or null."""
    if key not in item:
        if optional:
            return None
        raise fail(where, f"Item has no mapping for key '{key}'")
    v = item[key]
    if v is None and not optional:
        raise fail(where, f"Mapping for key '{key}' is empty", item.line_of(key))
    return v


def decode_str(item: YMap, key: str, where: Where, *, optional: bool = False) -> str | None:
    """A scalar value, with yaml-cpp's checks (present, not null, scalar, non-empty when required)."""
    v = _value(item, key, where, optional)
    if v is None:
        return None
    ln = item.line_of(key)
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
    v = _value(item, key, where, optional)
    if v is None:
        return None
    ln = item.line_of(key)
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


class Reader:
    """Reads rules files (YAML text) into a Collector, item by item, with Falco's messages."""

    def __init__(self, collector: Collector) -> None:
        self.col = collector
        self.ctx = collector.ctx

    def _warn(self, code: str, where: Where, message: str, line: int | None = None) -> None:
        self.ctx.warn(message, where, line, code)

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
                self._warn("unknown-key", where, f"Unknown key '{k}'. The key will be ignored.", item.line_of(k))

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
            self._warn("unknown-item", where, "Unknown top level item")

    # ---- versions
    def _engine_version(self, item: YMap, where: Where) -> None:
        v = decode_str(item, "required_engine_version", where)
        assert v is not None
        want = (0, int(v), 0) if v.isdigit() and v.isascii() else parse_semver(v)
        if want is None:
            raise fail(where, f"Unable to parse engine version '{v}' as a semver string. Expected \"x.y.z\" semver format.")
        if not version_compatible(ENGINE_VERSION, want):
            raise fail(
                where, f"Rules require engine version {fmt_version(want)}, but engine version is {fmt_version(ENGINE_VERSION)}"
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

    def _head(self, item: YMap, filename: str, kind: str) -> tuple[Where, str]:
        """Where the item is and its name (`list: NAME`, ...); unknown keys warned."""
        where = Where(filename, item.line, kind)
        name = decode_str(item, kind, where)
        assert name is not None
        where.name = name
        self._unknown_keys(item, kind, where)
        return where, name

    def _append_mode(
        self, item: YMap, appendable: Iterable[str], replaceable: Iterable[str], where: Where
    ) -> tuple[bool, list[str], list[str]]:
        """The deprecated `append: true` (warned) and the keys `override:` appends and replaces."""
        append = decode_bool(item, "append", where) or False
        if append:
            self._warn("deprecated", where, WARNING_APPEND)
        app, rep = self._overrides(item, appendable, replaceable, where)
        if append and (app or rep):
            raise fail(where, ERROR_OVERRIDE_APPEND)
        return append, app, rep

    # ---- list
    def _list(self, item: YMap, filename: str) -> None:
        where, name = self._head(item, filename, "list")
        if not RGX_BARE_STR.fullmatch(name):
            self._warn("invalid-name", where, f"List has an invalid name. List names should match a regular expression: {_RGX_BARESTR}")
        items = decode_seq(item, "items", where)
        assert items is not None
        append, app, rep = self._append_mode(item, ("items",), ("items",), where)
        info = ListInfo(name, list(items), where)
        if append or "items" in app:
            self.col.append_list(info)
        else:
            self.col.define_list(info)

    # ---- macro
    def _macro(self, item: YMap, filename: str) -> None:
        where, name = self._head(item, filename, "macro")
        if not RGX_IDENTIFIER.fullmatch(name):
            self._warn(
                "invalid-name", where, f"Macro has an invalid name. Macro names should match a regular expression: {_RGX_IDENTIFIER}"
            )
        cond = decode_str(item, "condition", where)
        assert cond is not None
        append, app, rep = self._append_mode(item, ("condition",), ("condition",), where)
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
                self._warn("exception", exw, f"Multiple definitions of exception '{name}' in the same rule")
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
                self._warn("exception", exw, "Overriding/appending exception with no values")
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
        where, name = self._head(item, filename, "rule")
        append, app, rep = self._append_mode(item, RULE_APPENDABLE, _RULE_REPLACEABLE, where)
        source = decode_str(item, "source", where, optional=True)
        if app or rep:
            self._rule_override(item, name, source, app, rep, where)
        elif append:
            self._rule_append(item, name, source, where)
        elif not any(k in item for k in ("condition", "output", "desc", "priority")):
            enabled = decode_bool(item, "enabled", where, optional=False)
            self._warn("deprecated", where, WARNING_ENABLED)
            self.col.enable_rule(name, bool(enabled), where)
        else:
            self._rule_define(item, name, source, where)

    def _rule_override(self, item: YMap, name: str, source: str | None, app: list[str], rep: list[str],
                       where: Where) -> None:
        """A rule item with an `override:` block: append to / replace keys of the loaded rule."""
        expected = [k for k in dict.fromkeys((*RULE_APPENDABLE, *_RULE_REPLACEABLE)) if k in item]
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

    def _rule_append(self, item: YMap, name: str, source: str | None, where: Where) -> None:
        """The deprecated `append: true` form: condition and/or exceptions appended."""
        upd: dict[str, Any] = {}
        if source:
            upd["source"] = source
        if "condition" in item:
            upd["condition"] = decode_str(item, "condition", where)
        if "exceptions" in item:
            upd["exceptions"] = self._exceptions(item, where, append=True) or []
        if "condition" not in upd and "exceptions" not in upd:
            raise fail(where, "Appended rule must have exceptions or condition property")
        self.col.append_rule(name, upd, where)

    def _rule_define(self, item: YMap, name: str, source: str | None, where: Where) -> None:
        """A full rule definition."""
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
