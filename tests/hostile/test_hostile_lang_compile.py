"""Issue 14, finding 5: compiling conditions and rules is linear in their size.

Before, an OR of 2,000 terms took 21 s and 4,000 terms 84 s (each node's line and column were found
by rescanning the text before it), and a 40 KB `contains` string took 33 s (the field-name pattern
backtracked over every split of a long word). Each probe runs in a child process with a generous
bound; benchmarks/compile_scaling.py prints the actual figures for 1k/10k sizes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.bounded import run_python_bounded

from eksaudit.condition import ConditionError, parse
from eksaudit.condition.errors import pos_at


def _run(code: str, bound: float) -> str:
    return run_python_bounded(code, bound)


def test_an_or_of_4000_terms_compiles_quickly():
    out = _run("""
        from eksaudit.condition import compile_condition
        from eksaudit.fields import default_registry
        cond = " or ".join(f"ka.user.name = user{i}" for i in range(4000))
        c = compile_condition(cond, default_registry())
        print(len(c.ast.children), c.ast.children[-1].pos.col)
    """, bound=15)
    n, col = out.split()
    assert n == "4000" and int(col) > 90_000  # positions are still exact


def test_a_multiline_or_keeps_exact_positions():
    cond = "\n".join(f"ka.verb = v{i} or" for i in range(3000)) + "\r\nka.verb = last"
    expr = parse(cond)
    last = expr.children[-1]
    assert (last.pos.line, last.pos.col) == (3002, 1)  # `\r\n` counts as two line breaks, as in Falco
    with pytest.raises(ConditionError) as info:
        parse(cond + " and (")
    assert info.value.pos is not None and info.value.pos.line == 3002


def test_a_40kb_contains_string_and_long_words_compile_quickly():
    out = _run("""
        from eksaudit.condition import compile_condition, parse, ConditionError
        from eksaudit.fields import default_registry
        reg = default_registry()
        word = "a" * 40_000
        print(compile_condition(f"ka.uri contains {word}", reg).warnings == [])
        print(len(compile_condition(f"ka.uri contains '{word}'", reg).source))
        try:
            compile_condition(f"{word}.{word} exists", reg)
        except ConditionError as e:
            print("error", e.message[:20])
        try:
            parse(word + " = x")
        except ConditionError as e:
            print("error", e.pos.col)
    """, bound=15)
    assert out.splitlines() == ["True", "40018", "error unknown field 'aaaaa", "error 40002"]


def test_a_rules_file_with_a_huge_condition_and_many_rules_loads_quickly():
    out = _run("""
        from eksaudit.rules import RulesLoader, K8S_SOURCES
        from eksaudit.fields import default_registry
        reg = default_registry()
        big = " or ".join(f"ka.user.name = user{i}" for i in range(4000))
        text = f"- rule: big\\n  desc: d\\n  condition: {big}\\n  output: o %ka.verb\\n  priority: WARNING\\n  source: k8s_audit\\n"
        text += "".join(f"- rule: r{i}\\n  desc: d\\n  condition: ka.verb = v{i}\\n  output: o\\n"
                        "  priority: INFO\\n  source: k8s_audit\\n" for i in range(2000))
        loader = RulesLoader({s: reg for s in K8S_SOURCES})
        loader.add_text(text, "big.yaml")
        print(len(loader.finish().rules))
    """, bound=40)
    assert out == "2001"


_BLANKS = st.sampled_from([" ", "\n", "\r", "\r\n", "\t", "  \n "])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_BLANKS, st.sampled_from(["ka.verb = get", "not ka.uri exists", "(ka.verb in (a, b))"]),
                          st.sampled_from(["and", "or"])), min_size=1, max_size=12))
def test_node_positions_equal_the_plain_rescan(parts):
    """The parser's binary search over line breaks gives what `pos_at` (a rescan) gives, on every node."""
    text = "".join(f"{blank}{check} {op}" for blank, check, op in parts)[: -len(parts[-1][2])] + "\n"
    expr = parse(text)
    stack = [expr]
    while stack:
        node = stack.pop()
        pos = node.pos
        assert pos == pos_at(text, pos.idx)
        for attr in ("children", "child", "left", "right", "values", "args"):
            sub = getattr(node, attr, None)
            if isinstance(sub, tuple):
                stack.extend(x for x in sub if hasattr(x, "pos"))
            elif hasattr(sub, "pos"):
                stack.append(sub)


@given(st.text(st.sampled_from(["a", " ", "\n", "\r", "é"]), max_size=40), st.integers(-3, 45))
def test_pos_at_counts_cr_and_lf_as_line_breaks(text, idx):
    """`pos_at` (counts and a reverse search) is the character-by-character scan: CR and LF each
    start a line (Falco's), the index clamped to the text."""
    i = max(0, min(idx, len(text)))
    line, last = 1, -1
    for k in range(i):
        if text[k] in "\r\n":
            line, last = line + 1, k
    pos = pos_at(text, idx)
    assert (pos.idx, pos.line, pos.col) == (i, line, i - last)
