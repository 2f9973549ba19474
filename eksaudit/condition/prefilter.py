"""Literals every matching event's raw JSON must contain, to reject lines before parsing them.

Most lines of a big audit log fail a typical condition, and parsing JSON costs far more than a
bytes search. For checks on fields that are a plain JSON path (`ResolvedField.path`), a string
value `v` appears in the raw text as `"v"`; so `ka.verb = delete` needs `"delete"`, `startswith
v` needs `"v`, `contains v` needs `v`. The requirement is kept in conjunctive form: a tuple of
groups, and an event passes when it contains at least one literal of every group.

Soundness comes first (a rejected event must be one that cannot match), whatever the spelling of
the JSON (see docs/conditions.md, "What the skipping assumes"):
- only literals made of a few ASCII characters are used ([A-Za-z0-9 ._:/@-]): no quote, backslash
  or control character (always escaped), no JSON punctuation (`{`, `[`, `,` ...: a string field may
  hold an object rendered as compact JSON, which the raw text may spell with spaces);
- any character may be written as an escape (`\\u0064`, `\\u006C`, `\\/`): a line that holds an
  escape that could spell a character of a wanted literal is never rejected (`EscapeScan`);
  so the plain bytes search decides only lines whose escapes cannot spell any such character (the
  API server's `\\u0026` in URIs does not stop it);
- a number may be written with an exponent (`2e2` is 200): a line that holds such a number is never
  rejected by a literal of a numeric field;
- a string field may hold a non-string JSON value rendered as text (compact JSON, numbers
  re-spelled): literals that could be (part of) a number or start with `:` require nothing, and
  true/false/null are required without quotes;
- `not`, `!=`, icontains, glob, regex, transformers and anything unknown require nothing;
- `or` requires one literal from each branch (one group per branch, unioned), or nothing when
  any branch requires nothing.

`SKIPPING = False` turns every literal requirement off (no prefilter, no reader anchors, no rules
prefilter): the exact slow path, which the property tests compare with the fast one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from .ast import AndExpr, BinaryCheckExpr, Expr, FieldExpr, ListExpr, NotExpr, OrExpr, ValueExpr
from .operators import NUMERIC_TYPES
from .resolver import FieldResolver

Groups = list[frozenset[bytes]]

_SAFE = re.compile(r"[A-Za-z0-9 ._:/@-]*\Z")
_SCALARISH = re.compile(r"[0-9+\-.eE]*\Z")
_JSON_WORDS = ("true", "false", "null")

#: the internal switch between the fast path (literal prefilter, reader anchors, rules prefilter)
#: and the exact slow path (every event parsed and evaluated); read when a condition is compiled
SKIPPING = True

# A JSON number with an exponent (`2e2`, `1.5E+3`): `200` is not in its text. Only in number
# context (after `:` `,` `[`), so hex ids in strings (`"8e2c..."`) rarely trip it.
EXPONENT = rb"[:,\[][ \t\r\n]*-?[0-9]+(?:\.[0-9]+)?[eE]"


class EscapeScan:
    """Finds the escapes that could spell a character of some literals.

    A literal is searched in the raw text as written; JSON may write any character of a string as
    `\\uXXXX` (either case, surrogate pairs beyond the BMP) and `/` as `\\/`. The quotes that
    delimit a literal (`"delete"`) cannot be escaped: only the characters between them count. A
    literal of digits alone is a numeric field's (string literals of digits are never used): it
    may also be a number written with an exponent (`2e2`). Only those escapes are looked for, so
    the API server's `\\u0026` does not stop a line from being rejected when no literal holds `&`.
    Over-matching (an escaped backslash before `u0064`) only sends a line to the exact path.
    A line is tested with `re` (its per-call cost is lowest); a block with RE2, which skips from
    backslash to backslash far faster than `re` or `bytes.find` on this pattern.
    """

    __slots__ = ("pattern", "_numeric", "_line", "_block")

    def __init__(self, lits: Iterable[bytes]) -> None:
        chars: set[str] = set()
        numeric = False
        for lit in lits:
            body = lit[1:] if lit.startswith(b'"') else lit
            body = body[:-1] if body.endswith(b'"') else body
            chars.update(body.decode("utf-8", "surrogateescape"))
            numeric = numeric or lit.isdigit()
        ascii_codes = sorted({_hex_class(ord(ch))[2:] for ch in chars if ord(ch) < 0x100})
        alts: list[bytes] = []
        if ascii_codes:
            alts.append(rb"\\u00(?:" + b"|".join(ascii_codes) + b")")
        for ch in sorted(chars):
            code = ord(ch)
            if 0x100 <= code <= 0xFFFF:
                alts.append(rb"\\u" + _hex_class(code))
            elif code > 0xFFFF:  # a surrogate pair: any high surrogate may start it
                alts.append(rb"\\u[dD][89abAB]")
        if "/" in chars:
            alts.append(rb"\\/")
        if numeric:
            alts.append(EXPONENT)
        self.pattern = b"|".join(alts)
        self._numeric = numeric
        # compiled when first used: a ruleset has one per rule (48 upstream, ~1 ms each to compile)
        # and most are never called
        self._line: Any = None
        self._block: Any = None

    def __bool__(self) -> bool:
        return bool(self.pattern)

    def find(self, buf: Any, pos: int = 0, end: int | None = None) -> int:
        """Offset of the first such escape in `buf[pos:end]`, or -1."""
        if self._block is None:
            self._block = _re2_search(self.pattern)
        m = self._block(buf, pos, len(buf) if end is None else end)
        return m.start() if m is not None else -1

    def __call__(self, raw: bytes) -> bool:
        """True when the line may spell a literal through an escape (then it is not rejected)."""
        line = self._line
        if line is None:
            # the number pattern has no literal prefix: `re` would try it at every byte
            line = self._line = _re2_search(self.pattern) if self._numeric else _re_search(self.pattern)
        return line(raw) is not None


# Compiled once per pattern: rules that name the same characters share it.
@lru_cache(maxsize=256)
def _re2_search(pattern: bytes) -> Callable[..., Any]:
    import re2

    return re2.compile(pattern).search


@lru_cache(maxsize=256)
def _re_search(pattern: bytes) -> Callable[..., Any]:
    return re.compile(pattern).search


@lru_cache(maxsize=1024)
def _hex_class(code: int) -> bytes:
    """The four hex digits of `code` as regex source, letters in either case (`6[cC]`)."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{code:04x}").encode()


def escape_scan(lits: Iterable[bytes]) -> EscapeScan | None:
    """An `EscapeScan` for these literals, None when no escape could spell any of their characters."""
    scan = EscapeScan(lits)
    return scan if scan else None


def _could_be_bare(lit: str) -> bool:
    return any(w.startswith(lit) or w.endswith(lit) for w in _JSON_WORDS)


def _string_needle(op: str, lit: str) -> bytes | None:
    if not _SAFE.match(lit):
        return None
    if _SCALARISH.match(lit) or lit.startswith(":"):
        # A string field may hold a re-spelled JSON number (1e3 -> 1000.0) or compact JSON of an
        # object (`{"a":1}` where the raw text has `"a": 1`): such literals prove nothing.
        return None
    if op == "contains" or _could_be_bare(lit):
        return lit.encode("ascii") if lit else None
    if op in ("=", "==", "in", "intersects"):
        return b'"' + lit.encode("ascii") + b'"'
    if op == "startswith":
        return b'"' + lit.encode("ascii")
    if op == "endswith":
        return lit.encode("ascii") + b'"'
    return None


def _numeric_needle(op: str, lit: str, string_ops: bool) -> bytes | None:
    if not _SAFE.match(lit):
        return None
    if op in ("=", "==", "in", "intersects"):
        t = lit.strip()
        if t.isascii() and t.isdigit():
            return str(int(t)).encode("ascii")
        if string_ops and t.isascii() and t.lstrip("+").isdigit() and t.lstrip("+"):
            return str(int(t.lstrip("+"))).encode("ascii")
        return None
    if string_ops and op in ("contains", "startswith", "endswith") and lit:
        return lit.encode("ascii")
    return None


class _Deriver:
    def __init__(self, resolver: FieldResolver) -> None:
        self.resolver = resolver

    def groups(self, e: Expr) -> Groups:
        if isinstance(e, AndExpr):
            out: Groups = []
            for c in e.children:
                for g in self.groups(c):
                    if g not in out:
                        out.append(g)
            return out
        if isinstance(e, OrExpr):
            union: set[bytes] = set()
            for c in e.children:
                gs = self.groups(c)
                if not gs:
                    return []
                # the most selective group of the branch: longest shortest literal
                union |= max(gs, key=lambda g: min(len(x) for x in g))
            return [frozenset(union)]
        if isinstance(e, NotExpr):
            return []
        if isinstance(e, BinaryCheckExpr):
            return self.check(e)
        return []

    def check(self, e: BinaryCheckExpr) -> Groups:
        if not isinstance(e.left, FieldExpr):
            return []
        try:
            rf = self.resolver.resolve(e.left.field, e.left.arg)
        except Exception:
            return []
        if getattr(rf, "path", None) is None:
            return []
        if isinstance(e.right, ListExpr):
            lits = [v.value for v in e.right.values]
        elif isinstance(e.right, ValueExpr):
            lits = [e.right.value]
        else:
            return []
        if not lits:
            return []
        op = e.op
        mod = e.modifier
        if op == "!=" or (op not in ("=", "==", "in", "intersects", "contains", "startswith", "endswith")):
            return []
        if rf.type == "string":
            needles = [_string_needle(op, lit) for lit in lits]
        elif rf.type in NUMERIC_TYPES:
            needles = [_numeric_needle(op, lit, bool(getattr(rf, "string_ops", False))) for lit in lits]
        else:
            return []
        if mod == "allof":
            return [frozenset([n]) for n in needles if n is not None]
        if any(n is None for n in needles):
            return []
        return [frozenset(n for n in needles if n is not None)]


def _make(groups: tuple[tuple[bytes, ...], ...]) -> Callable[[bytes], bool]:
    """The predicate: every group has a literal in the raw text, or the text may spell one by escapes."""
    plain = _make_plain(groups)
    escaped = escape_scan(lit for g in groups for lit in g)
    if escaped is None:
        return plain
    return lambda raw: plain(raw) or escaped(raw)


def _make_plain(groups: tuple[tuple[bytes, ...], ...]) -> Callable[[bytes], bool]:
    if len(groups) == 1 and len(groups[0]) == 1:
        lit = groups[0][0]
        return lambda raw: lit in raw
    if all(len(g) == 1 for g in groups):
        lits = tuple(g[0] for g in groups)

        def all_of(raw: bytes) -> bool:
            for lit in lits:  # noqa: SIM110 - a plain loop beats all(<genexpr>) per line
                if lit not in raw:
                    return False
            return True
        return all_of

    def cnf(raw: bytes) -> bool:
        for g in groups:
            for lit in g:
                if lit in raw:
                    break
            else:
                return False
        return True
    return cnf


def derive_prefilter(expr: Expr, resolver: FieldResolver) -> tuple[tuple[frozenset[bytes], ...],
                                                                      Callable[[bytes], bool] | None]:
    """(groups, predicate) for a macro-expanded AST; the predicate is None when nothing is required."""
    if not SKIPPING:
        return (), None
    groups = [g for g in _Deriver(resolver).groups(expr) if g]
    if not groups:
        return (), None
    # cheapest and most selective first: long single literals reject soonest
    groups.sort(key=lambda g: (len(g), -min(len(x) for x in g)))
    ordered = tuple(tuple(sorted(g, key=len, reverse=True)) for g in groups)
    return tuple(groups), _make(ordered)


def prefilter_any(required: list[tuple[frozenset[bytes], ...]]) -> Callable[[bytes], bool] | None:
    """A prefilter for "any of these conditions" (a ruleset): None if one of them requires nothing."""
    fns: list[Any] = []
    for groups in required:
        if not groups:
            return None
        fns.append(_make(tuple(tuple(g) for g in groups)))
    if not fns:
        return None
    tup = tuple(fns)
    return lambda raw: any(f(raw) for f in tup)
