"""The screen (rules/screen.py), residual conditions and combined prefilter change speed, never results.

Every event is matched twice: by the Ruleset (screen + residual conditions + prefilter) and by
plain evaluation of every enabled rule's full compiled condition in load order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eksaudit.demo.generator import generate_events
from eksaudit.demo.scenario import build_scenario
from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import load_rules

REG = default_registry()


def _events() -> list[AuditEvent]:
    evs = [AuditEvent.from_obj(o) for o in generate_events(2000, seed=7)]
    scenario = build_scenario(now_ms=1_772_359_200_000, total=1500)
    evs += [AuditEvent(e.message.encode()) for e in scenario.events if e.message.startswith("{")]
    return evs


def _check(rs, events: list[AuditEvent]) -> int:
    enabled = [c for c in rs._compiled if c.enabled]
    required = rs.required
    fired = 0
    for ev in events:
        expected = [c.info.name for c in enabled if c.matches(ev)]
        got = [a.rule for a in rs.match(ev)]
        assert got == expected, ev.raw[:300]
        if expected:
            fired += 1
            assert rs.prefilter is None or rs.prefilter(ev.raw), ev.raw[:300]
            assert required is None or all(any(lit in ev.raw for lit in g) for g in required)
        if rs.prefilter is not None and not rs.prefilter(ev.raw):
            assert not expected
    return fired


def test_builtin_eks_index_is_exact() -> None:
    rs = load_rules(["eks"], REG, rule_matching="all")
    assert _check(rs, _events()) > 0


def test_upstream_index_is_exact(conformance: Path) -> None:
    rs = load_rules([str(conformance / "falco" / "k8s_audit_rules.yaml")], REG, rule_matching="all")
    assert _check(rs, _events()) > 0


def test_trace_files_index_is_exact(conformance: Path) -> None:
    from eksaudit.events.readers import read_events

    base = conformance / "falco"
    files = sorted(str(p) for p in (base / "trace_files" / "k8s_audit").glob("*.json"))
    rules = [str(base / "testing-repo" / "rules" / "falco_rules_v1.0.1_k8s_lists_excerpt.yaml"),
             str(base / "k8s_audit_rules.yaml")]
    rs = load_rules(rules, REG, rule_matching="all")
    assert _check(rs, list(read_events(files))) > 20


@pytest.mark.parametrize("learn_events", [0, 1000])
def test_prefilter_modes_are_sound(learn_events: int) -> None:
    rs = load_rules(["eks"], REG)
    events = _events()
    for ev in events[:learn_events]:
        rs.prefilter(ev.raw)
    _check(load_rules(["eks"], REG, rule_matching="all"), events)
    for ev in events:
        if rs.match(ev):
            assert rs.prefilter(ev.raw)


def test_prefilter_stops_learning_early_when_everything_passes() -> None:
    """Learning costs a search of every rule's literals per event: when nearly all of the first
    quarter of the sample passes, filtering could not pay, and the prefilter turns itself off."""
    from eksaudit.rules.prefilter import CombinedPrefilter

    pf = CombinedPrefilter([(frozenset({b"Event"}),)], exact=lambda raw: b"Event" in raw, learn=400)
    for _ in range(99):
        assert pf(b'{"kind":"Event"}')
    assert pf.mode == "learning"
    assert pf(b'{"kind":"Event"}')
    assert pf.mode == "off"
    mixed = CombinedPrefilter([(frozenset({b"secrets"}),)], exact=lambda raw: b"secrets" in raw, learn=400)
    for i in range(100):
        assert mixed(b'{"r":"secrets"}' if i % 2 else b'{"r":"pods"}') == bool(i % 2)
    assert mixed.mode == "learning"  # half pass: the whole sample is learned
