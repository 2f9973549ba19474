"""Sigma rules on real audit logs: our own rules against hand-written oracles, SigmaHQ's rules (from
$EKSAUDIT_SIGMA_RULES_DIR, never copied here), and `sigma convert` giving the same alerts.

The oracles below are the Sigma specification applied by hand to each of tests/sigma/rules/*.yml,
written directly over the event dict (case-insensitive equality, startswith, `re` search...).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.conformance import conformance_dir

from eksaudit.events.readers import read_events
from eksaudit.fields import default_registry
from eksaudit.rules import load_rules
from eksaudit.sigma import SigmaRule, read_sigma_file
from eksaudit.sigma.reference import evaluate

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules"


def _datasets() -> list[Path]:
    root = conformance_dir()
    if root is None:
        return []
    files = sorted((root / "datasets").glob("*/*.log")) + sorted((root / "datasets").glob("*/*.jsonl"))
    files = [f for f in files if f.name != "expectations.jsonl"]
    traces = root / "falco" / "trace_files" / "k8s_audit"
    files += sorted(traces.glob("*.json")) if traces.is_dir() else []
    return files


DATASETS = _datasets()
needs_data = pytest.mark.skipif(not DATASETS, reason="conformance datasets absent (see tests/support/conformance.py)")


def _get(ev: dict[str, Any], *path: str) -> Any:
    v: Any = ev
    for p in path:
        if not isinstance(v, dict) or p not in v:
            return None
        v = v[p]
    return v


def _eq(v: Any, want: str) -> bool:
    return isinstance(v, str) and v.lower() == want.lower()


def _text(v: Any) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    return None


ORACLES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "Exec or attach into a pod (eksaudit test)": lambda e: (
        _eq(e.get("verb"), "create") and _eq(_get(e, "objectRef", "resource"), "pods")
        and any(_eq(_get(e, "objectRef", "subresource"), s) for s in ("exec", "attach"))),
    "Secrets read by a non-system user (eksaudit test)": lambda e: (
        _eq(_get(e, "objectRef", "resource"), "secrets") and any(_eq(e.get("verb"), v) for v in ("get", "list", "watch"))
        and not (isinstance(_get(e, "user", "username"), str) and _get(e, "user", "username").lower().startswith("system:"))),
    "Request denied (eksaudit test)": lambda e: _text(_get(e, "responseStatus", "code")) in ("401", "403"),
    "Impersonated request (eksaudit test)": lambda e: (
        isinstance(e.get("impersonatedUser"), dict) and "username" in e["impersonatedUser"]
        and isinstance(_get(e, "impersonatedUser", "username"), str)
        and _get(e, "impersonatedUser", "username").lower().startswith("system:serviceaccount:")),
    "Non-resource request by a human-looking client (eksaudit test)": lambda e: (
        e.get("objectRef") in (None, "") and isinstance(e.get("userAgent"), str)
        and ("kubectl" in e["userAgent"].lower()
             or re.search(r"^(curl|python-requests|Go-http-client)/", e["userAgent"]) is not None)),
}


def _events(path: Path) -> list[Any]:
    return list(read_events([str(path)]))


@needs_data
@pytest.mark.parametrize("dataset", DATASETS, ids=[f"{p.parent.name}/{p.name}" for p in DATASETS])
def test_own_rules_give_the_hand_written_verdicts(dataset):
    rs = load_rules([str(RULES)], default_registry(), rule_matching="all")
    assert sorted(r.name for r in rs.rules if r.enabled) == sorted(ORACLES)
    for ev in _events(dataset):
        got = sorted(a.rule for a in rs.match(ev))
        want = sorted(name for name, oracle in ORACLES.items() if isinstance(ev.obj, dict) and oracle(ev.obj))
        assert got == want, f"{dataset.name}: auditID {getattr(ev, 'obj', {}).get('auditID')}"


@needs_data
def test_own_rules_fire_on_the_datasets():
    """The oracles are not vacuous: each rule but one has events to judge in the corpus."""
    fired: set[str] = set()
    for d in DATASETS:
        for ev in _events(d):
            fired |= {n for n, o in ORACLES.items() if isinstance(ev.obj, dict) and o(ev.obj)}
    assert {"Exec or attach into a pod (eksaudit test)", "Request denied (eksaudit test)",
            "Impersonated request (eksaudit test)", "Non-resource request by a human-looking client (eksaudit test)",
            "Secrets read by a non-system user (eksaudit test)"} <= fired


def _alerts_json(rules: list[str], data: list[Path]) -> list[str]:
    rs = load_rules(rules, default_registry(), rule_matching="all")
    rs.hostname = "h"
    return [a.to_json() for d in data for ev in _events(d) for a in rs.match(ev)]


def _convert(args: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "eksaudit", "sigma", "convert", *args], capture_output=True, text=True)
    out.write_text(proc.stdout)
    return proc


@needs_data
def test_convert_round_trip_gives_the_same_alerts(tmp_path):
    conv = tmp_path / "converted.yaml"
    proc = _convert([str(RULES)], conv)
    assert proc.returncode == 0, proc.stderr
    assert "windows_logon.yml:1" in proc.stderr and "skipped" in proc.stderr
    sigma = _alerts_json([str(RULES)], DATASETS)
    falco = _alerts_json([str(conv)], DATASETS)
    assert sigma and sigma == falco


MODIFY = ("create", "delete", "patch", "replace", "update")
SHELL_AND_TOOL_PATHS = [f"{pre}{name}" for name in ("ash", "bash", "busybox", "dash", "sh", "zsh")
                        for pre in ("%2fbin%2f", "/bin/")] + \
                       [f"{pre}{name}" for name in ("curl", "kubectl", "perl", "python", "wget")
                        for pre in ("%2fusr%2fbin%2f", "/usr/bin/")]
SCANNER_AGENTS = ("access_matrix", "trufflehog", "azurehound", "micro-scanner")


def _in(v: Any, *options: str) -> bool:
    return any(_eq(v, o) for o in options)


def _has(v: Any, *needles: str) -> bool:
    return isinstance(v, str) and any(n.lower() in v.lower() for n in needles)


def _ref(e: dict[str, Any], key: str) -> Any:
    return _get(e, "objectRef", key)


# SigmaHQ's Kubernetes audit rules (rules/application/kubernetes/audit, by Sigma id), their
# detections restated by hand as predicates on the event (the Sigma semantics applied: values are
# case-insensitive, '*' matches any present value, a missing field never matches). Only facts of
# the rules (fields and values) are restated here; their files are not part of this repository.
SIGMAHQ_ORACLES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "eed82177-38f5-4299-8a76-098d50d225ab": lambda e: (
        _eq(_ref(e, "apiGroup"), "admissionregistration.k8s.io")
        and _in(_ref(e, "resource"), "mutatingwebhookconfigurations", "validatingwebhookconfigurations")
        and _in(e.get("verb"), *MODIFY)),
    "0c9b3bda-41a6-4442-9345-356ae86343dc": lambda e: (
        _eq(_ref(e, "apiGroup"), "batch") and _in(_ref(e, "resource"), "cronjobs", "jobs") and _in(e.get("verb"), *MODIFY)),
    "40967487-139b-4811-81d9-c9767a92aa5a": lambda e: _eq(e.get("verb"), "delete") and _eq(_ref(e, "resource"), "deployments"),
    "3132570d-cab2-4561-9ea6-1743644b2290": lambda e: _eq(e.get("verb"), "delete") and _eq(_ref(e, "resource"), "events"),
    "a1b0ca4e-7835-413e-8471-3ff2b8a66be6": lambda e: (
        _eq(e.get("verb"), "create") and _eq(_ref(e, "resource"), "pods") and _eq(_ref(e, "subresource"), "exec")),
    "402b955c-8fe0-4a8c-b635-622b4ac5f902": lambda e: (
        _eq(e.get("verb"), "create") and _eq(_ref(e, "resource"), "pods") and "hostPath" in e),
    "a80d927d-ac6e-443f-a867-e8d6e3897318": lambda e: (
        _eq(e.get("verb"), "create") and _eq(_ref(e, "resource"), "pods") and _eq(_ref(e, "namespace"), "kube-system")),
    "597a7e84-187d-458b-9e4f-2f5a0e676711": lambda e: (
        _text(_get(e, "responseStatus", "code")) is not None and _text(_get(e, "responseStatus", "code")).lower() == "allow"
        and (_has(e.get("requestURI"), *SHELL_AND_TOOL_PATHS) or _has(e.get("userAgent"), *SCANNER_AGENTS))),
    "c5cd1b20-36bb-488d-8c05-486be3d0cb97": lambda e: (
        _eq(e.get("verb"), "create") and _eq(_ref(e, "resource"), "pods") and "capabilities" in e),
    "84b777bd-c946-4d17-aa2e-c39f5a454325": lambda e: (
        _eq(e.get("verb"), "create") and _eq(e.get("apiGroup"), "authorization.k8s.io")
        and _eq(_ref(e, "resource"), "selfsubjectrulesreviews")),
    "10b97915-ec8d-455f-a815-9a78926585f6": lambda e: (
        _eq(_ref(e, "apiGroup"), "rbac.authorization.k8s.io") and _in(_ref(e, "resource"), "clusterrolebindings", "rolebindings")
        and _in(e.get("verb"), *MODIFY)),
    "eeb3e9e1-b685-44e4-9232-6bb701f925b5": lambda e: _eq(e.get("verb"), "list") and _eq(_ref(e, "resource"), "secrets"),
    "58d31a75-a4f8-4c40-985b-373d58162ca2": lambda e: _eq(_ref(e, "resource"), "secrets") and _in(e.get("verb"), *MODIFY),
    "e31bae15-83ed-473e-bf31-faf4f8a17d36": lambda e: _eq(e.get("verb"), "create") and _eq(_ref(e, "resource"), "serviceaccounts"),
    "ad9012a6-e518-4432-9890-f3b82b8fc71f": lambda e: (
        _eq(e.get("verb"), "patch") and _eq(e.get("apiGroup"), "apps") and _eq(_ref(e, "resource"), "deployments")),
    "0d933542-1f1f-420d-97d4-21b2c3c492d9": lambda e: _text(_get(e, "responseStatus", "code")) in ("401", "403"),
}


def _sigmahq_dir() -> Path | None:
    d = os.environ.get("EKSAUDIT_SIGMA_RULES_DIR")
    return Path(d) if d else None


@pytest.mark.skipif(_sigmahq_dir() is None, reason="set EKSAUDIT_SIGMA_RULES_DIR to a directory of Sigma rules "
                    "(e.g. a SigmaHQ checkout's rules/application/kubernetes/audit) to run them")
@needs_data
def test_external_sigma_rules_load_run_and_convert(tmp_path):
    root = _sigmahq_dir()
    assert root is not None and root.is_dir(), f"{root}: not a directory"
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml"))
    assert files, f"{root}: no Sigma rule files"
    events = [ev for d in DATASETS for ev in _events(d)]
    judged = 0
    for f in files:
        rs = load_rules([str(f)], default_registry(), rule_matching="all")
        assert rs.enabled_count >= 1, f"{f}: no Kubernetes audit rule loaded"
        (rule,) = [r for r in read_sigma_file(f) if isinstance(r, SigmaRule)]
        oracle = SIGMAHQ_ORACLES.get(rule.rule_id or "")
        for ev in events:
            fired = bool(rs.match(ev))
            # the slow twin (direct evaluation of the rule tree) agrees on every rule
            assert fired == (isinstance(ev.obj, dict) and evaluate(rule.tree, ev.obj)), f"{f}: {ev.obj}"
            if oracle is not None:
                assert fired == (isinstance(ev.obj, dict) and oracle(ev.obj)), f"{f}: {ev.obj}"
        judged += oracle is not None
    print(f"{len(files)} Sigma files loaded and run on {len(events)} events; {judged} judged by hand-written verdicts")
    conv = tmp_path / "converted.yaml"
    proc = _convert([str(f) for f in files], conv)
    assert proc.returncode == 0, proc.stderr
    assert _alerts_json([str(f) for f in files], DATASETS) == _alerts_json([str(conv)], DATASETS)
