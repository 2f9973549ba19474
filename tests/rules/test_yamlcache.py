"""Rules files read before come from the cache (rules/yamlcache.py): the same documents, lines and
columns as a parse, or no cache at all; never an error of its own, never someone else's folder.

The slow twin is `rules.yamlload.CACHING = False` (every text parsed). Texts are Falco's rules
loader vectors (when the conformance folder is there), the upstream rules, and random YAML with
what the reader keeps apart: nulls in every spelling, quoted and empty strings, duplicate keys,
complex keys, aliases, several documents, comments and CRLF.
"""

from __future__ import annotations

import marshal
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from support.conformance import conformance_dir

from eksaudit.errors import RulesError
from eksaudit.rules import yamlcache, yamlload
from eksaudit.rules.yamlload import YMap, YSeq, YStr, load_documents


def _shape(v: Any) -> Any:
    """A value with everything the reader reads: types, text, lines, columns, key lines."""
    if v is None:
        return None
    if isinstance(v, YStr):
        return ("s", str(v), v.line, v.col)
    if isinstance(v, YSeq):
        return ("q", v.line, [_shape(x) for x in v])
    if isinstance(v, YMap):
        return ("m", v.line, [(k, v.key_lines[k], _shape(x)) for k, x in v.items()])
    raise AssertionError(f"unexpected {type(v).__name__}")


def _parsed(text: str) -> Any:
    yamlload.CACHING = False
    try:
        return [_shape(d) for d in load_documents(text, "r.yaml")]
    finally:
        yamlload.CACHING = True


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("EKSAUDIT_CACHE_DIR", str(d))
    return d / "rules"


def _texts() -> list[str]:
    out = []
    base = conformance_dir()
    if base is not None:
        cases = yaml.safe_load((base / "falco-grammar" / "loader_cases.yaml").read_text())["cases"]
        out += [c["rules_yaml"] for c in cases if isinstance(c.get("rules_yaml"), str)]
        out.append((base / "falco" / "k8s_audit_rules.yaml").read_text())
    return out


_SCALARS = st.sampled_from(["a", "", "~", "null", "Null", "NULL", "'null'", '""', "010", "yes", "1.0", "é", "x y",
                            "'quoted'", "\"with \\\" quote\"", "- not a list", "[a, b]", "{k: v}", "&anchor v", "*anchor"])


@st.composite
def _yaml_texts(draw: Any) -> str:
    lines = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["rule", "list", "macro", "odd"]))
        if kind == "odd":
            lines.append(draw(st.sampled_from(["# a comment", "---", "- ~", "-", "- [x, ~, '']", "- ? [k]\n  : v",
                                               "- &a {k: v}\n- *a", "- {dup: 1, dup: 2}"])))
            continue
        lines.append(f"- {kind}: n{i}")
        for key in draw(st.lists(st.sampled_from(["condition", "items", "output", "enabled", "desc", "tags"]),
                                 max_size=4)):
            lines.append(f"  {key}: {draw(_SCALARS)}")
    text = "\n".join(lines) + "\n"
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@settings(max_examples=150, deadline=None)
@given(_yaml_texts())
def test_a_cached_text_reads_as_it_parses(tmp_path_factory: Any, text: str) -> None:
    saved = os.environ.get("EKSAUDIT_CACHE_DIR")  # the test run's (tests/conftest.py)
    os.environ["EKSAUDIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("c"))
    try:
        try:
            want = _parsed(text)
        except RulesError:
            return  # not YAML: nothing is kept
        assert [_shape(d) for d in load_documents(text, "r.yaml")] == want  # parsed, kept
        assert yamlcache.load(text) is not None
        assert [_shape(d) for d in load_documents(text, "r.yaml")] == want  # from the cache
    finally:
        if saved is None:
            del os.environ["EKSAUDIT_CACHE_DIR"]
        else:
            os.environ["EKSAUDIT_CACHE_DIR"] = saved


def test_falcos_rules_files_read_from_the_cache_as_they_parse(cache: Path) -> None:
    texts = _texts()
    if not texts:
        pytest.skip("conformance data not found: the generated texts above still run")
    for text in texts:
        want = _parsed(text)
        load_documents(text, "r.yaml")
        got = yamlcache.load(text)
        assert got is not None and [_shape(d) for d in got] == want


def test_a_file_that_does_not_parse_is_not_kept(cache: Path) -> None:
    with pytest.raises(RulesError, match=r"r.yaml:\d+: invalid YAML"):
        load_documents("- rule: a\n  condition: [unclosed\n", "r.yaml")
    assert not cache.exists() or not any(cache.iterdir())


def test_a_damaged_entry_is_parsed_again_and_replaced(cache: Path) -> None:
    text = "- list: l\n  items: [a, b]\n"
    want = _parsed(text)
    load_documents(text, "r.yaml")
    (entry,) = cache.glob("*.docs")
    for damage in (b"", b"\x00garbage", entry.read_bytes()[:-3], marshal.dumps([(9, 1)]),
                   marshal.dumps({"not": "a list"})):
        entry.write_bytes(damage)
        assert yamlcache.load(text) is None
        assert [_shape(d) for d in load_documents(text, "r.yaml")] == want
        assert yamlcache.load(text) is not None  # written again


def test_a_folder_others_may_write_to_is_not_used(cache: Path) -> None:
    text = "- macro: m\n  condition: ka.verb = get\n"
    load_documents(text, "r.yaml")
    assert yamlcache.load(text) is not None
    cache.chmod(0o777)
    assert yamlcache.load(text) is None
    cache.chmod(0o700)
    assert yamlcache.load(text) is not None


def test_no_folder_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "- list: l\n  items: [a]\n"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("EKSAUDIT_CACHE_DIR", str(blocker / "below"))  # cannot be made
    assert [_shape(d) for d in load_documents(text, "r.yaml")] == _parsed(text)
    monkeypatch.setenv("EKSAUDIT_CACHE_DIR", "")  # off
    assert yamlcache.cache_dir() is None
    assert [_shape(d) for d in load_documents(text, "r.yaml")] == _parsed(text)


def test_the_default_folder_is_the_users_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EKSAUDIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert yamlcache.cache_dir() == tmp_path / "eksaudit" / "rules"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert yamlcache.cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "eksaudit" / "rules"


def test_old_entries_are_removed(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlcache, "MAX_ENTRIES", 5)
    for i in range(9):
        load_documents(f"- list: l{i}\n  items: [a]\n", "r.yaml")
        os.utime(next(p for p in cache.glob("*.docs") if yamlcache._entry(cache, f"- list: l{i}\n  items: [a]\n") == p),
                 ns=(i * 10**9, i * 10**9))
    left = sorted(cache.glob("*.docs"))
    assert len(left) == 5
    assert yamlcache.load("- list: l8\n  items: [a]\n") is not None
    assert yamlcache.load("- list: l0\n  items: [a]\n") is None


def test_a_rules_file_read_before_loads_without_pyyaml(cache: Path) -> None:
    rules = cache.parent.parent / "r.yaml"
    rules.write_text("- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: WARNING\n"
                     "  source: k8s_audit\n")
    code = ("import sys; from eksaudit.rules import load_rules; from eksaudit.fields import default_registry; "
            f"rs = load_rules([{str(rules)!r}], default_registry()); "
            "print(rs.enabled_count, 'yaml' in sys.modules)")
    env = dict(os.environ)
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["1", "True"]
    assert again.stdout.split() == ["1", "False"]


def test_a_damaged_byte_anywhere_is_caught(cache: Path) -> None:
    text = "- list: l\n  items: [a]\n"
    load_documents(text, "r.yaml")
    (entry,) = cache.glob("*.docs")
    rng = random.Random(5)
    good = entry.read_bytes()
    for _ in range(200):
        data = bytearray(good)
        for i in rng.sample(range(len(data)), rng.randint(1, 4)):
            data[i] = (data[i] + rng.randrange(1, 256)) % 256  # another byte
        entry.write_bytes(bytes(data))
        assert yamlcache.load(text) is None  # the checksum first: marshal never sees damaged data
