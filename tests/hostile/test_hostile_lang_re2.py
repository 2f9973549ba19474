"""Issue 14, finding 8: 10,000 rules do not print thousands of RE2 "DFA out of memory" lines.

The rules prefilter searches one RE2 alternation of literals. At RE2's default 8 MB the DFA of a
10,000-rule alternation cannot start, so each search fell back to the NFA and RE2 printed a line
from C++ on fd 2 per event. `compile_literal_search` sizes `max_mem` from the program (splitting
huge sets) and turns RE2's logging off: no lines, and the fast DFA is used. The probe runs in a
child process because RE2 writes to the file descriptor, which only a child's capture can see.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from eksaudit.condition.operators import compile_literal_search


def test_ten_thousand_rules_prefilter_is_silent_and_exact():
    code = textwrap.dedent("""
        from eksaudit.rules.prefilter import CombinedPrefilter
        rules = [(frozenset({f'"verb":"verb{i}"'.encode()}), frozenset({f"/apis/group{i}/v1/thing{i}".encode()}))
                 for i in range(10_000)]
        seen = []
        pf = CombinedPrefilter(rules, exact=lambda raw: seen.append(raw) or False, learn=20)
        misses = [pf(b'{"verb":"get","requestURI":"/apis/zz%d/v1/x"}' % i) for i in range(300)]
        print(pf.mode, sum(misses))
        hit = b'{"verb":"verb77","requestURI":"/apis/group77/v1/thing77"}'
        n = len(seen)
        pf(hit)
        print(len(seen) == n + 1)   # passed the RE2 stage to the exact check
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["two-stage", "0", "True"]
    assert "DFA out of memory" not in res.stderr
    assert res.stderr == ""


def test_huge_literal_sets_are_split_and_still_exact(monkeypatch):
    import eksaudit.condition.operators as ops

    monkeypatch.setattr(ops, "_DFA_MAX_MEM", 16 << 20)  # split at a smaller size to keep the test quick
    lits = [f"literal-number-{i:06d}-".encode() * 3 for i in range(6_000)]  # 380 KB of literals
    search = compile_literal_search(lits)
    assert search.__name__ == "<lambda>"  # split (a single pattern's search is RE2's own method)
    assert search(b"xx" + lits[1234] + b"yy") is not None
    assert search(b"xx" + lits[-1]) is not None
    assert search(b"literal-number-") is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=6), max_size=8), st.binary(max_size=40))
def test_literal_search_agrees_with_substring_tests(literals, raw):
    """Any bytes (non-UTF-8, regex metacharacters, NUL) are literal; the answer is `any(lit in raw)`."""
    got = compile_literal_search(literals)(raw) is not None
    assert got == any(lit in raw for lit in literals)
