"""Falco's operator semantics that need more than a Python one-liner: glob, pmatch, regex, ASCII case.

glob is glibc `fnmatch(pattern, value, 0)` (so `*` crosses `/`, classes like `[[:digit:]]` work, `\\`
escapes), which Python's `fnmatch` module is not; a pattern is compiled once into `*`-separated
fixed-width segments matched greedily, so matching is linear in the value whatever the pattern
(a backtracking regex took minutes on `*a*a*a*b` against a long URI). regex is RE2 in POSIX
mode with full-match semantics, as libsinsp compiles it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import re2

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_ASCII_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


def ascii_lower(s: str) -> str:
    """C-locale tolower: only A-Z change (Falco never folds non-ASCII letters)."""
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)


def ascii_upper(s: str) -> str:
    return s.upper() if s.isascii() else s.translate(_ASCII_UPPER)


# --- glob ------------------------------------------------------------------------------------------

_CLASSES = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "blank": " \\t", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~",
    "punct": "!-/:-@\\[-`{-~", "space": " \\t\\n\\r\\f\\v", "upper": "A-Z", "xdigit": "0-9A-Fa-f",
}


def _bracket(pattern: str, i: int) -> tuple[str, int, bool] | None:
    """Translate a bracket expression starting after `[`; None if it is unterminated (then literal)."""
    n = len(pattern)
    j = i
    negate = False
    if j < n and pattern[j] in "!^":
        negate = True
        j += 1
    parts: list[str] = []
    has_class = False
    first = True
    while j < n:
        c = pattern[j]
        if c == "]" and not first:
            body = "".join(parts)
            if not body:
                return ("(?!)" if not negate else "(?s:.)"), j + 1, has_class
            return ("[" + ("^" if negate else "") + body + "]"), j + 1, has_class
        first = False
        if c == "[" and pattern.startswith("[:", j):
            end = pattern.find(":]", j + 2)
            name = pattern[j + 2 : end] if end != -1 else None
            if name in _CLASSES:
                parts.append(_CLASSES[name])
                has_class = True
                j = end + 2
                continue
        if c == "\\" and j + 1 < n:
            j += 1
            c = pattern[j]
        lo = c
        j += 1
        if j + 1 < n and pattern[j] == "-" and pattern[j + 1] != "]":
            hi = pattern[j + 1]
            if hi == "\\" and j + 2 < n:
                hi = pattern[j + 2]
                j += 1
            j += 2
            if lo <= hi:
                parts.append(re.escape(lo) + "-" + re.escape(hi))
            continue
        parts.append(re.escape(lo))
    return None


def _glob_items(pattern: str, fold: bool) -> list[str | None]:
    """The pattern as items: None for `*`, else a one-character item (a literal or a regex class).

    A literal character is itself (one character long); anything else is a regex of width one:
    `(?s:.)` for `?`, a `[...]` class (`(?-i:...)` around POSIX classes under iglob, which folds
    letters but not `[[:upper:]]`), `(?!)` for a class that matches nothing and for a trailing `\\`.
    """
    items: list[str | None] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if not items or items[-1] is not None:  # `**` is `*`
                items.append(None)
            i += 1
        elif c == "?":
            items.append("(?s:.)")
            i += 1
        elif c == "[":
            br = _bracket(pattern, i + 1)
            if br is None:
                items.append("[")
                i += 1
            else:
                text, i, has_class = br
                items.append(f"(?-i:{text})" if fold and has_class else text)
        elif c == "\\":
            if i + 1 == n:  # a trailing lone `\` is a broken pattern: glibc fnmatch matches nothing
                items.append("(?!)")
                i += 1
                continue
            items.append(pattern[i + 1])
            i += 2
        else:
            items.append(c)
            i += 1
    return items


def _item_regex(item: str) -> str:
    return re.escape(item) if len(item) == 1 else item


def glob_to_regex(pattern: str, *, fold: bool = False) -> str:
    """glibc fnmatch (flags 0) as one Python regex for `fullmatch`: the reference matcher.

    Backtracking makes it exponential on hostile input (`*a*a*a*b`): only the tests use it, to
    check the linear matcher below on small inputs (`compile_glob(..., reference=True)`).
    """
    return "".join("(?s:.*)" if it is None else _item_regex(it) for it in _glob_items(pattern, fold))


class _Segment:
    """A run of one-character items between two `*`: found with str.find when all literal."""

    __slots__ = ("width", "literal", "search", "match")

    def __init__(self, items: list[str], fold: bool) -> None:
        self.width = len(items)
        if all(len(it) == 1 for it in items):
            text = "".join(items)
            self.literal: str | None = ascii_lower(text) if fold else text
            self.search = self.match = None
        else:
            self.literal = None
            flags = re.ASCII | (re.IGNORECASE if fold else 0)
            # a fixed-width sequence of classes: no quantifier, so no backtracking blow-up
            rx = re.compile("".join(_item_regex(it) for it in items), flags)
            self.search, self.match = rx.search, rx.match

    def at(self, value: str, folded: str, pos: int) -> bool:
        """Does the segment match value[pos:pos + width]?"""
        if self.literal is not None:
            return folded.startswith(self.literal, pos)
        return self.match(value, pos, pos + self.width) is not None  # type: ignore[misc]

    def find(self, value: str, folded: str, pos: int, end: int) -> int:
        """The leftmost start >= pos of a match lying within value[pos:end], else -1."""
        if self.literal is not None:
            return folded.find(self.literal, pos, end)
        m = self.search(value, pos, end)  # type: ignore[misc]
        return -1 if m is None else m.start()


def _segment_matcher(pattern: str, fold: bool) -> Callable[[str], bool]:
    """fnmatch in O(len(value) x segment width): `*`-separated fixed-width segments, leftmost-first.

    The pattern is `S0 * S1 * ... * Sk` where each segment matches exactly its width in characters.
    The value matches iff S0 is a prefix, Sk a suffix (not overlapping S0) and S1..Sk-1 occur in
    order in between; taking each middle segment's leftmost occurrence is optimal (it leaves the
    most room to the rest), so no choice is ever undone: this is the classic greedy wildcard match.
    """
    items = _glob_items(pattern, fold)
    segs: list[list[str]] = [[]]
    for it in items:
        if it is None:
            segs.append([])
        else:
            segs[-1].append(it)
    parts = [_Segment(s, fold) for s in segs]
    needs_fold = fold and any(p.literal for p in parts)
    if len(parts) == 1:
        only = parts[0]

        def whole(v: str) -> bool:
            return len(v) == only.width and only.at(v, ascii_lower(v) if needs_fold else v, 0)
        return whole
    first, middle, last = parts[0], parts[1:-1], parts[-1]
    fixed = first.width + last.width

    def starred(v: str) -> bool:
        n = len(v)
        if n < fixed:
            return False
        f = ascii_lower(v) if needs_fold else v
        end = n - last.width
        if not first.at(v, f, 0) or not last.at(v, f, end):
            return False
        pos = first.width
        for seg in middle:
            k = seg.find(v, f, pos, end)
            if k < 0:
                return False
            pos = k + seg.width
        return True
    return starred


def compile_glob(pattern: str, fold: bool = False, reference: bool = False) -> Callable[[str], bool]:
    """A predicate `value -> bool` for `glob` (fold=False) or `iglob` (ASCII case folding).

    Linear in the value for a given pattern (see `_segment_matcher`); `reference=True` gives the
    backtracking regex translation instead, the slow twin the property tests compare against.
    Short patterns are cached (`glob val(field)` compiles per event); a long one, which only an
    event can supply, is not kept, so events cannot fill memory through the cache.
    """
    if len(pattern) <= 256:
        return _compile_glob_cached(pattern, fold, reference)
    return _compile_glob(pattern, fold, reference)


def _compile_glob(pattern: str, fold: bool, reference: bool) -> Callable[[str], bool]:
    if not reference:
        return _segment_matcher(pattern, fold)
    flags = re.ASCII | (re.IGNORECASE if fold else 0)
    rx = re.compile(glob_to_regex(pattern, fold=fold), flags)
    match = rx.fullmatch
    return lambda v: match(v) is not None


_compile_glob_cached = lru_cache(maxsize=4096)(_compile_glob)


# --- pmatch ----------------------------------------------------------------------------------------

def _components(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


_END = ""  # trie key marking "a pattern ends here" (a component is never empty)


def compile_pmatch(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Path-prefix match against a set (docs/conditions.md#operators): component-wise, globbing per component.

    Plain patterns live in a trie of components, so a value is walked once (a value of many
    thousand components costs its length, not its length squared); globbed ones are compared
    component by component, each component with the linear glob matcher.
    """
    trie: dict[str, dict] = {}
    globbed: list[list[Callable[[str], bool] | str]] = []
    for p in patterns:
        comps = _components(p)
        if any(ch in c for c in comps for ch in "?*["):
            globbed.append([compile_glob(c) if any(ch in c for ch in "?*[") else c for c in comps])
        else:
            node = trie
            for c in comps:
                node = node.setdefault(c, {})
            node[_END] = {}

    def pmatch(value: str) -> bool:
        comps = _components(value)
        node = trie
        for c in comps:
            if _END in node:
                return True
            nxt = node.get(c)
            if nxt is None:
                break
            node = nxt
        else:
            if _END in node:
                return True
        for g in globbed:
            if len(g) > len(comps):
                continue
            for pc, vc in zip(g, comps, strict=False):
                if isinstance(pc, str):
                    if pc != vc:
                        break
                elif not pc(vc):
                    break
            else:
                return True
        return False

    return pmatch


# --- regex -----------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _re2_options() -> re2.Options:
    import re2

    o = re2.Options()
    o.posix_syntax = True
    o.longest_match = True
    o.log_errors = False  # errors become ConditionError, never lines on stderr
    return o


class RegexError(ValueError):
    pass


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> Callable[[str], bool]:
    """RE2 POSIX syntax, full match; raises RegexError for Perl-only or broken patterns."""
    import re2  # here, not at the top: conditions without regex and rules do not need it (~4 ms)

    try:
        rx = re2.compile(pattern, options=_re2_options())
    except Exception as e:  # re2.error and friends: the message is bytes or str depending on version
        msg = e.args[0] if e.args else str(e)
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "replace")
        raise RegexError(str(msg)) from None
    fullmatch = rx.fullmatch

    def match(v: str) -> bool:
        try:
            return fullmatch(v) is not None
        except UnicodeEncodeError:  # lone surrogates: sanitise like Falco does invalid UTF-8
            return fullmatch(v.encode("utf-8", "replace").decode("utf-8")) is not None

    return match


# RE2's lazy DFA needs its state cache to fit in 2/3 of `max_mem` after the program itself; when it
# does not, every search falls back to the NFA and, with `log_errors`, RE2 prints "DFA out of memory"
# from C++ on fd 2, once per search (19,600 lines for 10,000 rules). Measured: an alternation of
# literals needs about 260 bytes of `max_mem` per program instruction for its DFA to start.
_DFA_BYTES_PER_INST = 400
_DFA_MIN_MEM = 8 << 20  # RE2's default
_DFA_MAX_MEM = 256 << 20  # per pattern; a larger literal set is split into several patterns


def _literal_search_options(max_mem: int) -> re2.Options:
    import re2

    o = re2.Options()
    o.max_mem = max_mem
    o.encoding = re2.Options.Encoding.LATIN1  # bytes are bytes: any literal compiles, even non-UTF-8
    o.log_errors = False  # never a line on stderr from C++; the sizing below keeps the DFA usable
    return o


def compile_literal_search(literals: Iterable[bytes]) -> Callable[[bytes], Any]:
    """`raw -> match or None`: does `raw` contain any of `literals`? One RE2 pass, with a working DFA.

    RE2 is linear, but only its DFA is fast, and the DFA needs memory in proportion to the
    program: `max_mem` is sized from the pattern (and checked against the compiled program), so a
    10,000-rule literal set gets the DFA instead of the slow NFA plus a "DFA out of memory" line
    per event. Logging is off (RE2 writes to fd 2 from C++, where no Python code could collect it),
    and nothing is left to report: a set too large for one pattern's cap is split in halves, each
    with its own DFA, so the condition RE2 warned about cannot arise. An empty set never matches.
    """
    import re2

    lits = sorted(set(literals), key=len, reverse=True)
    if not lits:
        return lambda raw: None
    pattern = b"|".join(re.escape(lit) for lit in lits)
    estimate = len(pattern) * _DFA_BYTES_PER_INST  # a program has fewer instructions than bytes
    mem = min(max(estimate, _DFA_MIN_MEM), _DFA_MAX_MEM)
    rx = None
    need = estimate
    if estimate <= 2 * _DFA_MAX_MEM:  # far larger sets are split without a doomed compile
        try:
            rx = re2.compile(pattern, options=_literal_search_options(mem))
            need = rx.programsize * _DFA_BYTES_PER_INST
        except re2.error:  # "pattern too large": more instructions than `mem` allows
            need = _DFA_MAX_MEM + 1
    if need > _DFA_MAX_MEM:
        if len(lits) > 1:
            first, second = compile_literal_search(lits[::2]), compile_literal_search(lits[1::2])
            return lambda raw: first(raw) or second(raw)
        lit = lits[0]  # one huge literal: a plain substring test
        return lambda raw: True if lit in raw else None
    if rx is None or need > mem:
        rx = re2.compile(pattern, options=_literal_search_options(need))
    return rx.search


_REGEX_META = set(".[]{}()*+?|\\^$")


def regex_could_be_simpler(pattern: str) -> bool:
    """Falco's warning: the pattern is a literal with optional anchors/`.*`-style ends."""
    p = pattern
    if p.startswith("^"):
        p = p[1:]
    if p.endswith("$"):
        p = p[:-1]
    for pre in (".*", ".+", ".?"):
        if p.startswith(pre):
            p = p[2:]
            break
    for suf in (".*", ".+", ".?"):
        if p.endswith(suf):
            p = p[:-2]
            break
    return bool(p) and not any(c in _REGEX_META for c in p)


# --- the operator and type tables (one home: the parser, compiler, prefilter and rules loader read them)

UNARY_OPS = ("exists",)
NUM_OPS = ("<=", "<", ">=", ">")
SYMBOL_STR_OPS = ("==", "=", "!=")
WORD_STR_OPS = ("glob", "iglob", "contains", "icontains", "bcontains", "startswith", "bstartswith",
                "endswith", "regex")
LIST_OPS = ("intersects", "in", "pmatch")
MODIFIERS = ("oneof", "anyof", "allof")
ALL_OPERATORS = UNARY_OPS + NUM_OPS + SYMBOL_STR_OPS + WORD_STR_OPS + LIST_OPS
STRING_OPERATORS = SYMBOL_STR_OPS + WORD_STR_OPS

NUMERIC_TYPES = frozenset({"uint64", "abstime", "reltime"})
IP_TYPES = frozenset({"ipaddr", "ipnet"})
STRING_LIKE_OPS = frozenset({"contains", "icontains", "startswith", "endswith", "glob", "iglob", "regex", "pmatch"})
ALLOWED_OPS = {
    "string": frozenset({"=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith",
                         "endswith", "glob", "iglob", "regex", "pmatch", "in", "intersects"}),
    "numeric": frozenset({"=", "==", "!=", "<", "<=", ">", ">=", "in", "intersects"}),
    "bool": frozenset({"=", "==", "!=", "in", "intersects"}),
    "ip": frozenset({"=", "==", "!=", "in", "intersects"}),
    "bytebuf": frozenset({"=", "==", "!=", "contains", "startswith", "endswith", "bcontains", "bstartswith",
                          "in", "intersects"}),
}
FAMILY_NAME = {"string": "string", "numeric": "numeric", "bool": "numeric", "ip": "ip address and network",
                "bytebuf": "buffer"}


def type_family(type_: str) -> str:
    if type_ in NUMERIC_TYPES:
        return "numeric"
    if type_ in IP_TYPES:
        return "ip"
    if type_ in ("string", "bool", "bytebuf"):
        return type_
    return "string"


def normalize_comp(comp: str) -> str:
    """Trim an exception comparison operator and collapse the blanks between operator and modifier."""
    return " ".join(comp.split())


def is_modifier_op(comp: str) -> bool:
    """`<string operator> <modifier>`, e.g. `= anyof` (an exception comp)."""
    parts = comp.split()
    return len(parts) == 2 and parts[0] in STRING_OPERATORS and parts[1] in MODIFIERS


def is_operator_defined(comp: str) -> bool:
    """An operator an exception comp may use: the 20 operators, or `<string op> <modifier>`."""
    return comp in ALL_OPERATORS or is_modifier_op(comp)


def is_list_operator(comp: str) -> bool:
    """Operators whose exception value is written as a parenthesised list."""
    return comp in LIST_OPS or is_modifier_op(comp)


_UINT64_MAX = (1 << 64) - 1


def parse_uint64(text: str) -> int | None:
    """C `sscanf("%lu%c")`: optional blanks and sign, decimal digits only, `-1` wraps."""
    t = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if t[:1] in ("+", "-"):
        sign = -1 if t[0] == "-" else 1
        t = t[1:]
    if not t or not t.isascii() or not t.isdigit():
        return None
    n = int(t)
    if n > _UINT64_MAX:
        return None
    return (-n) & _UINT64_MAX if sign < 0 else n
