"""Falco's operator semantics that need more than a Python one-liner: glob, pmatch, regex, ASCII case.

glob is glibc `fnmatch(pattern, value, 0)` (so `*` crosses `/`, classes like `[[:digit:]]` work, `\\`
escapes), which Python's `fnmatch` module is not; we translate to a Python regex once, at compile
time. regex is RE2 in POSIX mode with full-match semantics, as libsinsp compiles it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

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


def glob_to_regex(pattern: str, *, fold: bool = False) -> str:
    """glibc fnmatch (flags 0) as a Python regex for `fullmatch`."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("(?s:.*)")
            i += 1
        elif c == "?":
            out.append("(?s:.)")
            i += 1
        elif c == "[":
            br = _bracket(pattern, i + 1)
            if br is None:
                out.append(re.escape("["))
                i += 1
            else:
                text, i, has_class = br
                # iglob folds letters but not POSIX classes ([[:upper:]] stays upper-case only)
                out.append(f"(?-i:{text})" if fold and has_class else text)
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, fold: bool = False) -> Callable[[str], bool]:
    """A predicate `value -> bool` for `glob` (fold=False) or `iglob` (ASCII case folding)."""
    flags = re.ASCII | (re.IGNORECASE if fold else 0)
    rx = re.compile(glob_to_regex(pattern, fold=fold), flags)
    match = rx.fullmatch
    return lambda v: match(v) is not None


# --- pmatch ----------------------------------------------------------------------------------------

def _components(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def compile_pmatch(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Path-prefix match against a set (spec §2.5): component-wise, globbing per component."""
    plain: set[tuple[str, ...]] = set()
    globbed: list[list[Callable[[str], bool] | str]] = []
    for p in patterns:
        comps = _components(p)
        if any(ch in c for c in comps for ch in "?*["):
            globbed.append([compile_glob(c) if any(ch in c for ch in "?*[") else c for c in comps])
        else:
            plain.add(tuple(comps))
    match_all = () in plain

    def pmatch(value: str) -> bool:
        if match_all:
            return True
        comps = _components(value)
        for k in range(1, len(comps) + 1):
            if tuple(comps[:k]) in plain:
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

def _re2_options() -> re2.Options:
    o = re2.Options()
    o.posix_syntax = True
    o.longest_match = True
    o.log_errors = False  # errors become ConditionError, never lines on stderr
    return o


_RE2_OPTIONS = _re2_options()


class RegexError(ValueError):
    pass


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> Callable[[str], bool]:
    """RE2 POSIX syntax, full match; raises RegexError for Perl-only or broken patterns."""
    try:
        rx = re2.compile(pattern, options=_RE2_OPTIONS)
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
