"""Property: while the rules' prefilter learns, its answer for a line is the exact check's.

`CombinedPrefilter._learning` (rules/prefilter.py) searches each distinct literal once, keeps what
a line holds as a mask over them, and asks the exact per-rule check only when no rule finds a
literal of each of its groups plainly and the line holds an escape that could spell a literal's
character (`ESCAPES_FIRST`; its slow twin, False, asks the exact check for every such line). The
rulesets are random (test_screen_property's generator, literals taken from the events); lines
are demo and conformance events, plain, re-spelled with escapes, in Go's spelling, or with a
matching value written by escapes only.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from soundness_kit import REG, conformance_events, demo_events
from support.conformance import conformance_dir
from support.respell import go_spell, respell, spell_string
from test_screen_property import _ruleset_text
from test_soundness_property import compiled_conditions

from eksaudit.condition import compile_condition
from eksaudit.rules import load_rules
from eksaudit.rules import prefilter as _prefilter
from eksaudit.rules.prefilter import ruleset_prefilter


def _lines(rng: random.Random, events: list[dict[str, Any]]) -> list[bytes]:
    out: list[bytes] = []
    for ev in events:
        plain = orjson.dumps(ev)
        out.append(plain)
        out.append(go_spell(plain))
        out.append(respell(ev, rng, p_escape=rng.choice([0.05, 0.3, 1.0])).encode("utf-8", "surrogatepass"))
        # one string value written by escapes alone, the rest as it was
        key = rng.choice(["verb", "requestURI", "stage", "level"])
        if isinstance(ev.get(key), str):
            one = ev[key]
            out.append(plain.replace(orjson.dumps(one), spell_string(one, rng, 1.0).encode(), 1))
    return out


def _one_escaped(rng: random.Random, lines: list[bytes], literals: set[bytes]) -> list[bytes]:
    """Each line again for each literal it holds, one character of the literal's every occurrence
    written as an escape: what only the escape scans can tell from a line without it."""
    out: list[bytes] = []
    for raw in lines:
        for lit in sorted(literals):
            body = lit.strip(b'"')
            if not body or lit not in raw:
                continue
            i = rng.randrange(len(body))
            ch = body[i:i + 1].decode("latin-1")
            if not body.isascii():
                continue
            spelled = body[:i] + f"\\u{ord(ch):04x}".encode() + body[i + 1:]
            out.append(raw.replace(body, spelled))
    return out


def _prefilter_of(rules: Path) -> Any:
    rs = load_rules([str(rules)], REG)
    pairs = [(c.prefilter, c.required) for c in rs._enabled]
    return pairs, ruleset_prefilter(pairs)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("escapes_first", [True, False])
def test_learning_answers_as_the_exact_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int,
                                             escapes_first: bool) -> None:
    monkeypatch.setattr(_prefilter, "ESCAPES_FIRST", escapes_first)
    rng = random.Random(seed)
    pool = demo_events() + conformance_events(conformance_dir())
    events = [pool[rng.randrange(len(pool))] for _ in range(30)]
    rules = tmp_path / "r.yaml"
    # checks that require literals, so that every rule (a conjunction holding one) has a prefilter
    checks = [c for c in compiled_conditions(rng, events, 40) if compile_condition(c, REG).required][:8]
    assert len(checks) >= 3
    rules.write_text(_ruleset_text(rng, checks, rng.randint(1, 10)))
    pairs, pf = _prefilter_of(rules)
    assert pf is not None
    pf._learn = 10**9  # learning all along
    exact = [p for p, _ in pairs]
    lines = _lines(rng, events)
    literals = {lit for _, req in pairs for g in req for lit in g}
    for raw in lines + _one_escaped(rng, lines, literals):
        assert pf(raw) == any(p(raw) for p in exact), raw
        assert pf.mode == "learning"


def test_a_line_without_the_literals_or_their_escapes_skips_the_exact_check(tmp_path: Path) -> None:
    """What the pre-check saves: a line with no literal plainly and no escape of their characters is
    answered without the rules' own checks (and their escape scans are never compiled)."""
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "- rule: a\n  desc: d\n  condition: ka.verb = delete and ka.target.resource = secrets\n"
        "  output: o\n  priority: WARNING\n  source: k8s_audit\n"
        "- rule: b\n  desc: d\n  condition: ka.target.resource = configmaps\n"
        "  output: o\n  priority: WARNING\n  source: k8s_audit\n")
    pairs, pf = _prefilter_of(rules)
    calls: list[bytes] = []
    exact = pf._exact
    pf._exact = lambda raw: calls.append(raw) or exact(raw)
    assert not pf(b'{"verb":"get","objectRef":{"resource":"pods"},"requestURI":"/a?b=1\\u0026c=2"}')
    assert calls == []  # `&` is in no literal: its escape cannot spell one
    assert pf(b'{"verb":"\\u0064elete","objectRef":{"resource":"secrets"}}')
    assert len(calls) == 1
    assert pf(b'{"verb":"\\u0064eletes","objectRef":{"resource":"pods"}}')
    assert len(calls) == 2  # an escape of a literal's letter: the exact check decides (it may spell one)
