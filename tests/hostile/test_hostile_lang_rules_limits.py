"""Issue 14, finding 4: a hostile rules file fails its load with a clear error, fast and small.

Before, a billion-laughs rules file (9 levels of 9 aliases) reached 6.5 GB in 60 s, an output
`%999999999ka.verb` padded every alert to 1 GB, and `%99999999999999999999` raised OverflowError
at alert time. Now aliases are bounded (uses and expanded size) with an error at file:line, and
output widths above MAX_WIDTH fail the load.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eksaudit.errors import RulesError
from eksaudit.fields import default_registry
from eksaudit.rules import K8S_SOURCES, RulesLoader
from eksaudit.rules.formatting import MAX_WIDTH, OutputFormatter
from eksaudit.rules.yamlload import MAX_ALIAS_NODES, MAX_ALIASES, load_documents

REG = default_registry()


def _laughs(levels: int = 9) -> str:
    lines = ['- list: lol0\n  items: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n']
    for i in range(1, levels + 1):
        lines.append(f"- list: lol{i}\n  items: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n")
    return "".join(lines)


def _load(text: str, name: str = "r.yaml"):
    loader = RulesLoader({s: REG for s in K8S_SOURCES})
    loader.add_text(text, name)
    return loader.finish()


def test_billion_laughs_fails_fast_with_file_and_line(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_laughs())
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GB: the bomb needs 6.5+
        from eksaudit.rules import load_rules
        from eksaudit.fields import default_registry
        from eksaudit.errors import RulesError
        try:
            load_rules([{str(path)!r}], default_registry())
        except RulesError as e:
            print(e)
    """)
    try:
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the alias bomb was expanded for more than 20 s")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == (f"{path}:12: invalid YAML: aliases expand to more than {MAX_ALIAS_NODES:,} values "
                                  "(a YAML alias bomb?)")  # line 12 uses the alias (*a5) that goes over


def test_too_many_alias_uses():
    text = "- list: base\n  items: [&x a]\n- list: many\n  items:\n" + "    - *x\n" * (MAX_ALIASES + 1)
    with pytest.raises(RulesError) as info:
        load_documents(text, "many.yaml")
    # the line of the key or of the sequence that holds the alias (the node itself starts at its anchor)
    assert str(info.value) == f"many.yaml:5: invalid YAML: more than {MAX_ALIASES:,} alias uses (a YAML alias bomb?)"
    assert len(load_documents(text.rsplit("    - *x", 1)[0], "ok.yaml")[0][1]["items"]) == MAX_ALIASES


def test_one_wide_alias_is_bounded_by_expanded_size():
    items = ", ".join(["x"] * 1000)
    text = f"- list: base\n  items: &w [{items}]\n" + "".join(
        f"- list: l{i}\n  items: *w\n" for i in range(MAX_ALIAS_NODES // 1000 + 1))
    with pytest.raises(RulesError) as info:
        load_documents(text, "wide.yaml")
    assert str(info.value).startswith("wide.yaml:")
    assert f"aliases expand to more than {MAX_ALIAS_NODES:,} values" in str(info.value)


def test_recursive_alias_is_an_error_not_a_recursion_error():
    with pytest.raises(RulesError, match=r"^r\.yaml:2: invalid YAML: recursive alias"):
        load_documents("- list: a\n  items: &x [a, *x]\n", "r.yaml")


def test_honest_aliases_still_work():
    text = ("- list: base\n  items: &names [alice, bob]\n"
            "- list: copy\n  items: *names\n"
            "- macro: m\n  condition: &c ka.user.name in (base)\n"
            "- rule: r\n  desc: d\n  condition: *c\n  output: o\n  priority: INFO\n  source: k8s_audit\n")
    rs = _load(text)
    assert [r.name for r in rs.rules] == ["r"]
    assert load_documents(text, "r.yaml")[0][1]["items"] == ["alice", "bob"]


@pytest.mark.parametrize("fmt", ["%999999999ka.verb", "%99999999999999999999", "x %1025ka.user.name y",
                                 "%" + "9" * 5000 + "ka.verb"])
def test_huge_output_widths_fail_the_load_at_the_output_line(fmt: str):
    text = f"- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: '{fmt}'\n  priority: INFO\n  source: k8s_audit\n"
    with pytest.raises(RulesError) as info:
        _load(text)
    msg = str(info.value)
    assert msg.startswith("r.yaml:4:") and f"is larger than {MAX_WIDTH}" in msg
    assert len(msg) < 300


def test_widths_up_to_the_cap_still_pad_and_truncate():
    f = OutputFormatter(f"[%{MAX_WIDTH}ka.verb][%3ka.verb]", REG)
    assert [p.width for p in f.parts if not isinstance(p, str)] == [MAX_WIDTH, 3]


def test_a_long_run_of_name_characters_after_percent_is_cheap():
    with pytest.raises(Exception, match="unknown filter"):
        OutputFormatter("%" + "a" * 200_000, REG)
