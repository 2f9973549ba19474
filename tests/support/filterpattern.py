"""A local evaluator of CloudWatch Logs filter patterns (JSON patterns and simple term patterns).

moto ignores `filterPattern`, so this module is how tests check that a pushed pattern is a sound
superset of its condition (eksaudit itself never evaluates a pattern: the server does). It follows
the syntax AWS documents in "Filter pattern syntax for metric filters, subscription filters, and
filter log events" (CloudWatch Logs User Guide). Where AWS's behaviour is undocumented it takes the
NARROWEST plausible reading, so a pushdown proved sound here stays sound on the real service:

* a quoted or bare string value matches only JSON string nodes; `*` matches any run of
  characters (zero or more), anywhere in the value;
* a number matches only JSON number nodes (never a string "403", never a boolean);
* `!=` needs the selected node to exist with the compared type (a missing field never matches);
* `IS NULL` needs a JSON null, `IS TRUE`/`IS FALSE` a boolean, `NOT EXISTS` an absent path;
* a selector walks object keys (`.key`, `['key.with.dots']`) and array indexes (`[0]`); `[*]` and
  `.*` fan out, and a comparison holds when it holds for any selected node;
* a JSON pattern never matches a message that is not a JSON object (e.g. `[Truncated...]` lines).

Term patterns: plain terms must all occur (case-sensitive substrings), `"quoted phrases"` too,
`-term` must not occur, and when `?term`s are present at least one of them must occur.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eksaudit.errors import ExpressionError


class FilterPatternError(ExpressionError):
    """A filter pattern this evaluator cannot parse."""


_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_BARE_RE = re.compile(r"[^\s()&|\"%{}]+")
_KEY_RE = re.compile(r"[A-Za-z0-9_@\-]+")

Pred = Callable[[Any], bool]


@dataclass
class FilterPattern:
    """A parsed pattern: `matches(message)` evaluates it on one log event's message."""

    text: str
    kind: str  # "all" | "json" | "terms"
    _pred: Callable[[str], bool]
    selector_wildcards: int = 0
    regexes: int = 0

    def matches(self, message: str | bytes) -> bool:
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return self._pred(message)


def matches(pattern: str, message: str | bytes) -> bool:
    """Convenience: parse `pattern` and evaluate it on `message`."""
    return parse_pattern(pattern).matches(message)


def parse_pattern(text: str) -> FilterPattern:
    t = text.strip()
    if not t:
        return FilterPattern(text, "all", lambda _m: True)
    if t.startswith("{"):
        p = _JsonParser(t)
        pred = p.parse()
        return FilterPattern(text, "json", _json_pred(pred), p.wildcards, p.regexes)
    if t.startswith("["):
        raise FilterPatternError("space-delimited [a, b] patterns are not supported by this evaluator")
    return FilterPattern(text, "terms", _terms_pred(t))


def _json_pred(pred: Pred) -> Callable[[str], bool]:
    def run(message: str) -> bool:
        try:
            obj = json.loads(message)
        except ValueError:
            return False
        return isinstance(obj, dict) and pred(obj)

    return run


# ---------------------------------------------------------------------------- term patterns


def _terms_pred(t: str) -> Callable[[str], bool]:
    must: list[str] = []
    must_not: list[str] = []
    optional: list[str] = []
    match_all = False
    for m in re.finditer(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))', t):
        prefix, quoted, bare = m.group(1), m.group(2), m.group(3)
        term = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        if quoted is not None and not term.strip():
            match_all = True
            continue
        {"": must, "-": must_not, "?": optional}[prefix].append(term)

    def run(message: str) -> bool:
        if match_all and not (must or must_not or optional):
            return True
        if any(x not in message for x in must) or any(x in message for x in must_not):
            return False
        return not optional or any(x in message for x in optional)

    return run


# ---------------------------------------------------------------------------- JSON patterns


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.wildcards = 0
        self.regexes = 0

    def err(self, what: str) -> FilterPatternError:
        return FilterPatternError(f"filter pattern column {self.i + 1}: {what}: {self.s!r}")

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def eat(self, tok: str) -> bool:
        self.ws()
        if self.s.startswith(tok, self.i):
            self.i += len(tok)
            return True
        return False

    def expect(self, tok: str) -> None:
        if not self.eat(tok):
            raise self.err(f"expected {tok!r}")

    def parse(self) -> Pred:
        self.expect("{")
        pred = self.or_expr()
        self.expect("}")
        self.ws()
        if self.i != len(self.s):
            raise self.err("unexpected text after '}'")
        return pred

    def or_expr(self) -> Pred:
        parts = [self.and_expr()]
        while self.eat("||"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda o, ps=tuple(parts): any(p(o) for p in ps))

    def and_expr(self) -> Pred:
        parts = [self.atom()]
        while self.eat("&&"):
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda o, ps=tuple(parts): all(p(o) for p in ps))

    def atom(self) -> Pred:
        if self.eat("("):
            p = self.or_expr()
            self.expect(")")
            return p
        walk = self.selector()
        self.ws()
        if self.eat("IS"):
            self.ws()
            for word, test in (("NULL", lambda n: n is None), ("TRUE", lambda n: n is True),
                               ("FALSE", lambda n: n is False)):
                if self.eat(word):
                    return lambda o, w=walk, t=test: any(t(n) for n in w(o))
            raise self.err("expected NULL, TRUE or FALSE after IS")
        if self.eat("NOT"):
            self.ws()
            if not self.eat("EXISTS"):
                raise self.err("expected EXISTS after NOT")
            return lambda o, w=walk: not w(o)
        for op in ("!=", "<=", ">=", "=", "<", ">"):
            if self.eat(op):
                break
        else:
            raise self.err("expected a comparison operator")
        test = self.value(op)
        return lambda o, w=walk, t=test: any(t(n) for n in w(o))

    def selector(self) -> Callable[[Any], list[Any]]:
        self.ws()
        if not self.eat("$"):
            raise self.err("expected a selector starting with '$'")
        steps: list[tuple[str, Any]] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == ".":
                self.i += 1
                if self.s.startswith("*", self.i):
                    self.i += 1
                    steps.append(("star", None))
                    self.wildcards += 1
                    continue
                if self.s.startswith("[", self.i):  # $.['key.with.dots']
                    continue
                m = _KEY_RE.match(self.s, self.i)
                if not m:
                    raise self.err("expected a key after '.'")
                steps.append(("key", m.group(0)))
                self.i = m.end()
            elif c == "[":
                self.i += 1
                m = re.compile(r"\s*(\*|[0-9]+|'([^']*)'|\"([^\"]*)\")\s*\]").match(self.s, self.i)
                if not m:
                    raise self.err("bad [...] in selector")
                self.i = m.end()
                if m.group(1) == "*":
                    steps.append(("star", None))
                    self.wildcards += 1
                elif m.group(1).isdigit():
                    steps.append(("index", int(m.group(1))))
                else:
                    steps.append(("key", m.group(2) if m.group(2) is not None else m.group(3)))
            else:
                break
        if not steps:
            raise self.err("a selector needs at least one key")

        def walk(obj: Any) -> list[Any]:
            nodes = [obj]
            for kind, arg in steps:
                nxt: list[Any] = []
                for n in nodes:
                    if kind == "key":
                        if isinstance(n, dict) and arg in n:
                            nxt.append(n[arg])
                    elif kind == "index":
                        if isinstance(n, list) and arg < len(n):
                            nxt.append(n[arg])
                    elif isinstance(n, list):
                        nxt.extend(n)
                    elif isinstance(n, dict):
                        nxt.extend(n.values())
                nodes = nxt
            return nodes

        return walk

    def value(self, op: str) -> Callable[[Any], bool]:
        self.ws()
        s = self.s
        if self.i >= len(s):
            raise self.err("expected a value")
        c = s[self.i]
        if c == '"':
            m = re.compile(r'"((?:[^"\\]|\\.)*)"').match(s, self.i)
            if not m:
                raise self.err("unterminated string")
            self.i = m.end()
            return _string_test(op, re.sub(r"\\(.)", r"\1", m.group(1)), self)
        if c == "%":
            end = s.find("%", self.i + 1)
            if end < 0:
                raise self.err("unterminated %regex%")
            rx = s[self.i + 1 : end]
            self.i = end + 1
            self.regexes += 1
            if op not in ("=", "!="):
                raise self.err("regex needs = or !=")
            try:
                compiled = re.compile(rx)
            except re.error as e:
                raise self.err(f"bad regex ({e})") from None
            if op == "=":
                return lambda n: isinstance(n, str) and compiled.search(n) is not None
            return lambda n: isinstance(n, str) and compiled.search(n) is None
        m = _BARE_RE.match(s, self.i)
        if not m:
            raise self.err("expected a value")
        self.i = m.end()
        tok = m.group(0)
        if _NUMBER_RE.match(tok):
            return _number_test(op, float(tok))
        return _string_test(op, tok, self)


def _glob(value: str) -> Callable[[str], bool]:
    if "*" not in value:
        return lambda s: s == value
    rx = re.compile(".*".join(re.escape(p) for p in value.split("*")), re.S)
    return lambda s: rx.fullmatch(s) is not None


def _string_test(op: str, value: str, p: _JsonParser) -> Callable[[Any], bool]:
    if op not in ("=", "!="):
        raise p.err(f"{op} needs a number")
    g = _glob(value)
    if op == "=":
        return lambda n: isinstance(n, str) and g(n)
    return lambda n: isinstance(n, str) and not g(n)


def _is_num(n: Any) -> bool:
    return isinstance(n, (int, float)) and not isinstance(n, bool)


def _number_test(op: str, x: float) -> Callable[[Any], bool]:
    cmp: dict[str, Callable[[float], bool]] = {
        "=": lambda v: v == x,
        "!=": lambda v: v != x,
        "<": lambda v: v < x,
        "<=": lambda v: v <= x,
        ">": lambda v: v > x,
        ">=": lambda v: v >= x,
    }
    f = cmp[op]
    return lambda n: _is_num(n) and f(float(n))
