"""Falco's k8s audit detections (falco/testing-repo/k8saudit_expectations.yaml, 66 cases).

Each case: a trace file, rules files loaded in order (a falco_rules list excerpt, the upstream
k8s_audit_rules.yaml unmodified, then overlays), and the expected alert counts by rule and by
priority, with Falco's default `rule_matching: first`.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksaudit.events.readers import read_events
from eksaudit.fields import default_registry
from eksaudit.rules import load_rules


def conformance_dir() -> Path | None:
    """tests/conftest.py's lookup, usable at collection time (the fixture still decides skipping)."""
    env = os.environ.get("EKSAUDIT_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "conformance")
    return next((c for c in candidates if c.is_dir()), None)


def _cases() -> list[dict[str, Any]]:
    d = conformance_dir()
    if d is None:
        return []
    return yaml.safe_load((Path(d) / "falco" / "testing-repo" / "k8saudit_expectations.yaml").read_text())


CASES = _cases()


def _check(expected: Any, actual: int) -> bool:
    if expected == ">0":
        return actual > 0
    return actual == int(expected)


def test_all_cases_present(conformance: Path) -> None:
    assert len(CASES) == 66


@pytest.mark.parametrize("case", CASES, ids=[c["test"] for c in CASES])
def test_k8saudit_case(case: dict[str, Any], conformance: Path) -> None:
    base = conformance / "falco"
    ruleset = load_rules([str(base / f) for f in case["rules_files"]], default_registry())
    alerts = []
    for ev in read_events([str(base / case["trace_file"])]):
        for alert in ruleset.match(ev):
            alert.format_text()  # every alert must render
            alert.to_json()
            alerts.append(alert)
    by_rule = Counter(a.rule for a in alerts)
    by_priority = Counter(a.priority.short_name for a in alerts)
    expect = case["expect"]
    got = f"by rule {dict(by_rule)}"
    if "total_detections" in expect:
        assert _check(expect["total_detections"], len(alerts)), got
    for prio, n in (expect.get("by_priority") or {}).items():
        assert _check(n, by_priority[prio.upper().replace("INFORMATIONAL", "INFO")]), got
    for rule, n in (expect.get("by_rule") or {}).items():
        assert _check(n, by_rule[rule]), got
    if "stderr_matches" in expect:
        # The payload is not an audit event ({"kind": 0}): Falco's plugin logs it and emits nothing.
        assert not alerts
