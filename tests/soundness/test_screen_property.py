"""Property: the rules screen (rules/screen.py) raises exactly the alerts of plain evaluation.

Rulesets are random: each rule is a conjunction of checks drawn from a small shared pool (so several
rules test the same fields, and some test them the same way, as Falco rules do through macros), over
every registered field and operator (the generators of test_soundness_property). Events are the demo
generator's and the conformance data's, and the same events with the values of commonly tested fields
replaced by odd JSON (null, numbers, booleans, arrays, objects, empty strings). The slow twin is
`screen.SCREENING = False`: every enabled rule's whole condition, in load order. The cache cap and
the learning sample are made small so that the uncached path and the reordering run too.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from soundness_kit import REG, conformance_events, demo_events
from support.conformance import conformance_dir
from support.objects import parent_at
from test_soundness_property import compiled_conditions

from eksaudit.events.event import AuditEvent
from eksaudit.rules import load_rules
from eksaudit.rules import screen as _screen

# JSON paths that rules test most, and values that no generator writes there
_PATHS = [("verb",), ("objectRef", "resource"), ("objectRef", "subresource"), ("user", "username"),
          ("stageTimestamp",), ("stage",), ("responseStatus", "code"), ("objectRef", "namespace"),
          ("requestURI",), ("annotations", "authorization.k8s.io/decision")]
_ODD = [None, 0, 1, 1.0, True, False, "", "1", "0", [], ["get"], {}, {"a": 1}, 200, 200.0, "200",
        "1970-01-01T00:00:00.000000Z", "system:anonymous", -1, 2**70]


def _odd(rng: random.Random, obj: dict[str, Any]) -> dict[str, Any]:
    o = copy.deepcopy(obj)
    for path in rng.sample(_PATHS, rng.randint(1, 3)):
        node = parent_at(o, path)
        if rng.random() < 0.15:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = copy.deepcopy(rng.choice(_ODD))  # never shared: later paths write into it
    return o


def _ruleset_text(rng: random.Random, checks: list[str], n: int) -> str:
    items: list[dict[str, Any]] = [{"macro": "shared", "condition": "(" + rng.choice(checks) + ")"}]
    for i in range(n):
        parts = [f"({c})" for c in rng.sample(checks, rng.choice([1, 1, 2, 2, 3, 4]))]
        if rng.random() < 0.5:
            parts.insert(rng.randrange(len(parts) + 1), "shared")
        if rng.random() < 0.2:
            parts.append("not (" + rng.choice(checks) + ")")
        items.append({"rule": f"r{i}", "desc": "d", "condition": " and ".join(parts), "output": "o %ka.verb",
                      "priority": "WARNING", "source": "k8s_audit"})
    return yaml.safe_dump(items, sort_keys=False)


def _names(rs: Any, ev: AuditEvent) -> list[str]:
    return [a.rule for a in rs.match(ev)]


def _compare(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, seed: int, matching: str) -> tuple[int, int]:
    """Screen against plain evaluation on one random ruleset: (alerts raised, keyed fields)."""
    rng = random.Random(seed)
    monkeypatch.setattr(_screen, "CACHE_CAP", rng.choice([1, 3, 4096]))
    monkeypatch.setattr(_screen, "LEARN", rng.choice([1, 7, 256]))
    pool = demo_events() + conformance_events(conformance_dir())
    events = [pool[rng.randrange(len(pool))] for _ in range(60)]
    checks = compiled_conditions(rng, events, 8)  # values taken from the events: some match
    events += [_odd(rng, e) for e in events[:40]]
    rules = tmp_path / f"r{seed}.yaml"
    rules.write_text(_ruleset_text(rng, checks, rng.randint(2, 12)))
    rs = load_rules([str(rules)], REG, rule_matching=matching)
    plain = load_rules([str(rules)], REG, rule_matching=matching)
    alerts = 0
    for o in events:
        ev = AuditEvent(json.dumps(o).encode())  # 2**70 included
        fast = _names(rs, ev)
        monkeypatch.setattr(_screen, "SCREENING", False)
        slow = _names(plain, ev)
        monkeypatch.setattr(_screen, "SCREENING", True)
        assert fast == slow, (ev.raw[:300], rules.read_text())
        alerts += len(fast)
    return alerts, len(rs.screen.fields)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), matching=st.sampled_from(["all", "first"]))
def test_screen_raises_the_alerts_of_plain_evaluation(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                      seed: int, matching: str) -> None:
    _compare(tmp_path, monkeypatch, seed, matching)


def test_the_random_rulesets_are_not_trivial(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The property would prove little if the rules never fired or no field were keyed."""
    runs = [_compare(tmp_path, monkeypatch, seed, "all") for seed in range(12)]
    assert sum(a > 0 for a, _ in runs) >= 6
    assert sum(k > 0 for _, k in runs) >= 6


def test_the_screen_keys_shared_fields_and_decides_on_values() -> None:
    """The upstream-style shape: a field tested by several rules is keyed, identical tests are shared,
    values are cached per type (1 and True never share a decision)."""
    text = "\n".join(
        f"- rule: r{i}\n  desc: d\n  condition: ka.verb in (create, update) and ka.response.code = {code} "
        f"and ka.target.resource = {res}\n  output: o\n  priority: WARNING\n  source: k8s_audit\n"
        for i, (code, res) in enumerate([(1, "pods"), (1, "secrets"), (200, "pods")])
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "r.yaml"
        p.write_text(text)
        rs = load_rules([str(p)], REG, rule_matching="all")
    keyed = {f.label: f for f in rs.screen.fields}
    assert set(keyed) == {"ka.verb", "ka.response.code", "ka.target.resource"}
    assert len(keyed["ka.verb"].tests) == 1  # three rules, one shared test
    assert all(r is None for r in rs.screen.residuals)  # everything decided per value

    def ev(code: Any, res: str = "pods") -> AuditEvent:
        return AuditEvent(orjson.dumps({"kind": "Event", "auditID": "a", "verb": "create",
                                        "objectRef": {"resource": res}, "responseStatus": {"code": code}}))

    assert _names(rs, ev(1)) == ["r0"]
    assert _names(rs, ev(True)) == _names(load_rules_plain(p_text=text), ev(True))
    assert _names(rs, ev(200)) == ["r2"]
    assert _names(rs, ev(1, "secrets")) == ["r1"]


def load_rules_plain(p_text: str) -> Any:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "r.yaml"
        p.write_text(p_text)
        return _Plain(load_rules([str(p)], REG, rule_matching="all"))


class _Plain:
    """A ruleset matched through the slow twin."""

    def __init__(self, rs: Any) -> None:
        self.rs = rs

    def match(self, ev: AuditEvent) -> list[Any]:
        saved = _screen.SCREENING
        _screen.SCREENING = False
        try:
            return self.rs.match(ev)
        finally:
            _screen.SCREENING = saved


def test_a_rule_whose_tests_do_not_compile_is_evaluated_whole() -> None:
    """Belt and braces: the parts of a compiled condition always compile, but if one did not, the
    rule would be matched by its whole condition rather than lost or mis-screened."""
    from eksaudit.condition.ast import BinaryCheckExpr, FieldExpr, Pos, ValueExpr
    from eksaudit.condition.parser import parse
    from eksaudit.rules.screen import Screen, split_condition

    good = split_condition(parse("ka.verb = create and ka.target.resource = pods"), REG)
    bad = split_condition(parse("ka.verb = delete"), REG)
    bad.by_field[("ka.verb", None)] = [BinaryCheckExpr(Pos(), FieldExpr(Pos(), "ka.verb"), "no-such-op",
                                                       ValueExpr(Pos(), "x"))]
    whole_calls: list[Any] = []
    screen = Screen([(good, lambda ev: True), (bad, lambda ev: whole_calls.append(ev) or True)])
    assert [f.label for f in screen.fields] == ["ka.verb"]  # tested by both rules; only rule 0 compiled it
    ev = AuditEvent(b'{"kind":"Event","auditID":"a","verb":"get","objectRef":{"resource":"pods"}}')
    mask = screen.candidates(ev)
    assert mask == 0b10  # rule 0 ruled out by its verb; rule 1 left to its whole condition
    assert screen.residuals[1](ev) and whole_calls == [ev]
