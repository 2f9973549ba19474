"""glob/iglob/pmatch: the linear matchers agree with their references on random and odd inputs.

The fast glob matcher (`*`-separated fixed-width segments, leftmost-first) is checked against its
slow twin, the backtracking whole-pattern regex (`compile_glob(..., reference=True)`), and, where
the C library has it, against glibc's own `fnmatch` (what Falco calls) on ASCII text. pmatch's
trie is checked against the definition (some pattern's components are a prefix of the value's).
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eksaudit.condition.operators import compile_glob, compile_pmatch

_FNM_CASEFOLD = 1 << 4


def _libc_fnmatch():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        fn = libc.fnmatch
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    fn.restype = ctypes.c_int
    # only glibc has FNM_CASEFOLD with this value and classes like [[:digit:]]: check it behaves so
    if fn(b"[[:digit:]]A", b"1a", _FNM_CASEFOLD) != 0 or fn(b"*/x", b"a/b/x", 0) != 0:
        return None
    return fn


FNMATCH = _libc_fnmatch()

# small alphabets so that random patterns and values often interact
PATTERN_ATOMS = st.sampled_from([
    "a", "b", "A", "/", "-", "*", "*", "?", "[", "]", "!", "^", "\\", ":",
    "[ab]", "[!a]", "[^b]", "[a-c]", "[]a]", "[[:digit:]]", "[[:upper:]]", "[[:alpha:]]", "[z-a]", "[!]",
    "1", "\\*", "\\[", "**",
])
VALUE_CHARS = st.sampled_from(list("aabbAB/-1[]*\\!z"))
patterns = st.lists(PATTERN_ATOMS, max_size=10).map("".join)
values = st.lists(VALUE_CHARS, max_size=14).map("".join)


@settings(max_examples=1000, deadline=None)
@given(patterns, values, st.booleans())
@example("*a*a*b", "aaab", False)
@example("a*", "", False)
@example("*", "", False)
@example("", "", False)
@example("?*?", "a", False)
@example("[!]a]*", "]", False)
@example("*[[:upper:]]", "xa", True)
@example("a\\", "a\\", False)
@example("[a", "[a", False)
def test_glob_agrees_with_the_backtracking_reference(pattern: str, value: str, fold: bool) -> None:
    fast = compile_glob(pattern, fold)(value)
    assert fast == compile_glob(pattern, fold, reference=True)(value)


@pytest.mark.skipif(FNMATCH is None, reason="glibc fnmatch not available")
@settings(max_examples=800, deadline=None)
@given(patterns, values, st.booleans())
def test_glob_agrees_with_glibc_fnmatch(pattern: str, value: str, fold: bool) -> None:
    assert FNMATCH is not None
    libc = FNMATCH(pattern.encode(), value.encode(), _FNM_CASEFOLD if fold else 0) == 0
    assert compile_glob(pattern, fold)(value) == libc


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), st.booleans())
def test_glob_agrees_on_any_text(pattern: str, value: str, fold: bool) -> None:
    """Unicode, controls, surrogates: the two matchers still agree (and never raise)."""
    assert compile_glob(pattern, fold)(value) == compile_glob(pattern, fold, reference=True)(value)


def test_glob_semantics_examples() -> None:
    g = compile_glob
    assert g("/api/*")("/api/v1/namespaces/x")  # `*` crosses `/`
    assert g("*.yaml")(".hidden.yaml")  # a leading dot is not special
    assert g("a?c")("a\nc")  # `?` matches a newline
    assert not g("a?c")("ac")
    assert g("*a*a*b")("xaxab") and not g("*a*a*b")("xab")
    assert g("ab*ba")("aba") is False  # prefix and suffix must not overlap
    assert g("ab*ba")("abba")
    assert g("[[:upper:]]*", True)("Ab") and not g("[[:upper:]]*", True)("ab")  # classes are not folded
    assert g("K*", True)("kelvin") and not g("k", True)("\u212a")  # ASCII folding only


def _pmatch_reference(patterns: list[str], value: str) -> bool:
    def comps(p: str) -> list[str]:
        return [c for c in p.split("/") if c]

    vc = comps(value)
    for p in patterns:
        pc = comps(p)
        if len(pc) <= len(vc) and all(compile_glob(a, reference=True)(b) for a, b in zip(pc, vc, strict=False)):
            return True
    return False


path_parts = st.sampled_from(["a", "b", "ab", "*", "a*", "?", "[ab]", ""])
paths = st.lists(path_parts, max_size=5).map("/".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(paths, max_size=4), paths)
def test_pmatch_agrees_with_its_definition(patterns: list[str], value: str) -> None:
    # in a value, glob characters are plain text; the reference globs a pattern component
    # only where it has one, exactly as the fast matcher does
    assert compile_pmatch(patterns)(value) == _pmatch_reference(patterns, value)
