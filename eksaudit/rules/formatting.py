"""Falco output format strings (`output:`): `%field` substitution for text and JSON alerts.

A format is compiled once per rule at load time (unknown fields fail the load, as in Falco) and
rendered per alert. Text rendering follows Falco: `<NA>` for a missing value, lists as `(a,b)`,
an optional width pads or truncates (at most MAX_WIDTH: `%999999999ka.verb` would make every
alert a gigabyte, so it fails the load instead). `output_fields` keeps typed values for JSON:
None for missing, lists as lists, numbers as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..condition.resolver import FieldResolver, ResolvedField
from ..condition.transformers import SCALAR_FUNCS, length
from ..errors import EksauditError

NA = "<NA>"
FAST_TEXT = True  # the slow twin: False, alerts' text rendered by `render_text`, token by token
MAX_WIDTH = 1024  # `%NNNfield` pads every alert to NNN characters: a larger width is a load error

_NAME_CHARS_RE = re.compile(r"[A-Za-z0-9_.]+")
_TRANSFORMER_RE = re.compile(r"(tolower|toupper|b64|basename|len)\(")
_WIDTH_RE = re.compile(r"[0-9]+")


class FormatError(EksauditError):
    """An output format that cannot be compiled; `unknown_field` marks Falco's "unknown filter" class."""

    def __init__(self, message: str, *, unknown_field: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unknown_field = unknown_field


_MISSING: Any = object()  # a member the compiled renderer's walk did not find
_UINT64_MAX = 2**64 - 1


def _text_of(v: Any) -> str:
    return v if type(v) is str else render_value(v)


def render_value(v: Any) -> str:
    """One value as Falco prints it in text: `<NA>`, decimal numbers, `true`/`false`, lists `(a,b)`."""
    if v is None:
        return NA
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return "(" + ",".join(render_value(x) for x in v) + ")"
    return str(v)


def _apply_transformer(name: str, v: Any) -> Any:
    """tolower/toupper/b64/basename per value (lists element-wise), len of a string or list."""
    if v is None:
        return None
    if name == "len":
        return length(v)
    fn = SCALAR_FUNCS[name]
    if isinstance(v, list):
        out = [x for x in (fn(e) for e in v) if x is not None]
        return out or None
    return fn(v if isinstance(v, str) else str(v))


@dataclass
class _Token:
    """One `%...` reference: how to get its value, and the plain fields it shows in output_fields."""

    text: str
    width: int | None
    get: Callable[[Any], Any]
    fields: list[tuple[str, ResolvedField]]


class OutputFormatter:
    """A compiled `output:` string; `render(event)` gives (message, output_fields)."""

    def __init__(self, fmt: str, resolver: FieldResolver) -> None:
        self.format = fmt
        self._resolver = resolver
        self._name_set = set(resolver.names())
        self._max_name = max(map(len, self._name_set), default=0)
        self.parts: list[str | _Token] = []
        self._parse()

    # --- parsing
    def _longest_field(self, text: str, i: int) -> str | None:
        """The longest known field name that is a prefix of text[i:] (Falco's greedy-then-shorter)."""
        m = _NAME_CHARS_RE.match(text, i)
        if not m:
            return None
        cand = m.group(0)[: self._max_name]  # a longer run of name characters is no field name
        while cand:
            if cand in self._name_set:
                return cand
            cand = cand[:-1]
        return None

    def _field_at(self, text: str, i: int) -> tuple[int, Callable[[Any], Any], list[tuple[str, ResolvedField]]]:
        """Parse a field (`name` or `name[arg]`) at text[i]; returns (end, getter, fields)."""
        name = self._longest_field(text, i)
        if name is None:
            raise FormatError(f"invalid formatting token: unknown filter: {text[i:i + 40]!r}", unknown_field=True)
        j = i + len(name)
        arg: str | None = None
        if j < len(text) and text[j] == "[":
            if j + 1 < len(text) and text[j + 1] in "\"'":
                q = text[j + 1]
                close = text.find(q + "]", j + 2)
                if close < 0:
                    raise FormatError(f"unbalanced argument brackets after %{name}", unknown_field=True)
                arg = text[j + 2:close]
                j = close + 2
            else:
                close = text.find("]", j + 1)
                if close < 0:
                    raise FormatError(f"unbalanced argument brackets after %{name}", unknown_field=True)
                arg = text[j + 1:close]
                j = close + 1
        try:
            bound = self._resolver.resolve(name, arg)
        except EksauditError as e:
            raise FormatError(f"nonexistent field {name}: {e}", unknown_field=True) from None
        key = name if arg is None else f"{name}[{arg}]"
        return j, bound.extract, [(key, bound)]

    def _expr_at(self, text: str, i: int) -> tuple[int, Callable[[Any], Any], list[tuple[str, ResolvedField]],
                                                    tuple[str, bool]]:
        """A field or transformer at text[i]: (end, getter, fields, (its type, is a list)). The
        transformers check the type as the condition compiler does: `len` of strings and lists, the
        others of strings (`b64` also of bytes); anything else fails the load instead of every alert."""
        m = _TRANSFORMER_RE.match(text, i)
        if not m:
            end, get, fields = self._field_at(text, i)
            bound = fields[0][1]
            return end, get, fields, (bound.type, bool(bound.is_list))
        name = m.group(1)
        j, inner, fields, (kind, is_list) = self._expr_at(text, m.end())
        while j < len(text) and text[j] in " \t":
            j += 1
        if j >= len(text) or text[j] != ")":
            raise FormatError(f"expected a ')' token closing the transformer {name}(")
        if name == "len":
            if not (is_list or kind in ("string", "bytebuf")):
                raise FormatError(f"transformer 'len' does not support fields of type {kind}")
            kind, is_list = "uint64", False
        elif kind not in (("string", "bytebuf") if name == "b64" else ("string",)):
            raise FormatError(f"transformer '{name}' does not support fields of type {kind}")
        return j + 1, (lambda ev, _g=inner, _n=name: _apply_transformer(_n, _g(ev))), fields, (kind, is_list)

    def _parse(self) -> None:
        text = self.format
        lit: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c != "%":
                lit.append(c)
                i += 1
                continue
            if i + 1 >= n:
                raise FormatError("formatting cannot end with a %")
            start = i
            i += 1
            width = None
            m = _WIDTH_RE.match(text, i)
            if m:
                digits = m.group(0)
                if len(digits) > len(str(MAX_WIDTH)) or int(digits) > MAX_WIDTH:
                    raise FormatError(f"invalid formatting token: width {digits[:24]}{'...' if len(digits) > 24 else ''}"
                                      f" is larger than {MAX_WIDTH} in {text[start:start + 40]!r}")
                width = int(digits)
                i = m.end()
            if i >= n or text[i] in " \t\n(%":
                raise FormatError(f"invalid formatting token: unknown filter: {text[start:start + 20]!r}", unknown_field=True)
            end, get, fields, _ = self._expr_at(text, i)
            if lit:
                self.parts.append("".join(lit))
                lit = []
            self.parts.append(_Token(text[start:end], width, get, fields))
            i = end
        if lit:
            self.parts.append("".join(lit))
        # For render_text: the literals as one str.format template, the tokens' getters in order.
        self._template = "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else "{}"
                                 for p in self.parts)
        self._tokens = [(p.get, p.width) for p in self.parts if isinstance(p, _Token)]
        self._fast_text: Callable[[Any], str] | None = None

    @property
    def text_renderer(self) -> Callable[[Any], str]:
        """What renders the output text of an alert: `render_text`, or its compiled twin
        (`_compile_text`) while FAST_TEXT is on."""
        if not FAST_TEXT:
            return self.render_text
        if self._fast_text is None:
            self._fast_text = self._compile_text()
        return self._fast_text

    def _compile_text(self) -> Callable[[Any], str]:
        """`render_text` as one generated function, with the walk of each plain-path token inlined.

        A token's getter may declare its walk (`.walk`: keys, audit gate, kind), as `path_getter`
        does: on an object (a `dict`, with `auditID` when gated) whose members down the keys are
        `dict`s, a missing member gives no value (`<NA>`), and a leaf of kind "text" that is a
        string is the value as it is, an int `str` of it; of kind "uint" (`ka.response.code`), an
        int from 0 to 2**64-1 is the value. Every other case (no object, a subclass of `dict`,
        `null`, any other leaf) is handed to the getter itself, so the text is `render_text`'s
        (tests/soundness/test_render_property.py compares the two). Keys and literals are passed
        in as constants: no text of a rules file becomes code.
        """
        env: dict[str, Any] = {"S": _text_of, "M": _MISSING, "NA": NA, "U": _UINT64_MAX}
        body: list[str] = []
        walks = [getattr(get, "walk", None) for get, _ in self._tokens]
        if any(w is not None for w in walks):
            body += ["    o = event.obj", "    d = type(o) is dict", '    g = d and "auditID" in o']
        names: list[str] = []
        for i, ((get, width), walk) in enumerate(zip(self._tokens, walks, strict=True)):
            v = f"v{i}"
            env[f"G{i}"] = get
            if walk is None:
                body.append(f"    {v} = S(G{i}(event))")
            else:
                keys, gated, kind = walk
                for j, k in enumerate(keys):
                    env[f"K{i}_{j}"] = k
                # G{i} itself marks "the getter's turn": no walk can produce it
                body.append(f"    {v} = o.get(K{i}_0, M) if {'g' if gated else 'd'} else G{i}")
                for j in range(1, len(keys)):
                    body.append(f"    if type({v}) is dict: {v} = {v}.get(K{i}_{j}, M)")
                    body.append(f"    elif {v} is not M and {v} is not G{i}: {v} = M if not isinstance({v}, dict) else G{i}")
                if kind == "text":
                    body += [f"    if type({v}) is not str:",
                             f"        {v} = NA if {v} is M else str({v}) if type({v}) is int else S(G{i}(event))"]
                else:  # "uint"
                    body += [f"    if type({v}) is int and 0 <= {v} <= U: {v} = str({v})",
                             f"    else: {v} = NA if {v} is M else S(G{i}(event))"]
            if width is not None:
                body.append(f"    {v} = {v}[:{int(width)}].ljust({int(width)})")
            names.append(v)
        # the text as one f-string of the literals (constants) and the values: cheaper than format
        values = iter(names)
        line: list[str] = []
        for k, p in enumerate(self.parts):
            if isinstance(p, str):
                env[f"L{k}"] = p
                line.append(f"{{L{k}}}")
            else:
                line.append(f"{{{next(values)}}}")
        body.append('    return f"' + "".join(line) + '"')
        # the names as a closure's cells, not default arguments: a call fills every default
        # argument (0.5 µs an alert for the 27 of Falco's most frequent output), a cell costs nothing
        names = sorted(env)
        source = ["def make(" + ", ".join(names) + "):", "    def render(event):",
                  *("    " + line for line in body), "    return render"]
        scope: dict[str, Any] = {}
        exec(compile("\n".join(source), "<output format>", "exec"), scope)  # noqa: S102 (our code, no user text)
        return scope["make"](*(env[n] for n in names))

    @property
    def reads(self) -> frozenset[tuple[str, ...]] | None:
        """The JSON paths rendering reads (None: maybe all of the event)."""
        out: set[tuple[str, ...]] = set()
        for p in self.parts:
            if isinstance(p, str):
                continue
            for _, bound in p.fields:
                r = getattr(bound, "reads", None)
                if r is None:
                    return None
                out.update(r)
        return frozenset(out)

    # --- rendering
    @property
    def field_keys(self) -> list[str]:
        """The output_fields keys, in format order, without duplicates."""
        keys: list[str] = []
        for p in self.parts:
            if isinstance(p, _Token):
                for k, _ in p.fields:
                    if k not in keys:
                        keys.append(k)
        return keys

    def render(self, event: Any) -> tuple[str, dict[str, Any]]:
        """The output text and the output_fields (Falco's JSON alert has both)."""
        return self.render_text(event), self.render_fields(event)

    def render_text(self, event: Any) -> str:
        """The output text alone (what `-o falco` prints): no output_fields dict is built."""
        values: list[str] = []
        for get, width in self._tokens:
            v = get(event)
            s = v if type(v) is str else render_value(v)
            if width is not None:
                s = s[:width].ljust(width)
            values.append(s)
        return self._template.format(*values)

    def render_fields(self, event: Any) -> dict[str, Any]:
        """output_fields: each field of the format once, null for no value, lists as lists."""
        fields: dict[str, Any] = {}
        for p in self.parts:
            if isinstance(p, str):
                continue
            for key, bound in p.fields:
                if key not in fields:
                    v = bound.extract(event)
                    fields[key] = list(v) if isinstance(v, (list, tuple)) else v
        return fields
