"""`eksaudit fetch` end to end: CliRunner against moto (and the fault proxy), plus one real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.moto import audit_message, create_group, isolate_aws_env, logs_client, put_events
from typer.testing import CliRunner

from eksaudit.cli.app import app

GROUP = "/aws/eks/demo/cluster"
STREAMS = ["kube-apiserver-audit-a", "kube-apiserver-audit-b"]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_env(monkeypatch, tmp_path)


def load(endpoint: str, n: int = 200) -> tuple[int, int, list[str]]:
    """n events, every 10th a delete; returns (start_ms, end_ms, messages in order)."""
    client = logs_client(endpoint)
    create_group(client, GROUP, STREAMS)
    end = int(time.time() * 1000) // 1000 * 1000 - 60_000
    start = end - 20 * 60_000
    msgs: dict[str, list[tuple[int, str]]] = {s: [] for s in STREAMS}
    for i in range(n):
        ts = start + i * 5000
        msgs[STREAMS[i % 2]].append((ts, audit_message(i, ts, verb="delete" if i % 10 == 0 else "get")))
    for s, evs in msgs.items():
        put_events(client, GROUP, s, evs)
    ordered = [m for _, m in sorted(m for evs in msgs.values() for m in evs)]
    return start, end, ordered


def run(*args: str) -> tuple[int, str, str]:
    if "--explain" not in args and "--max-rps" not in args:
        args = (*args, "--max-rps", "100")
    r = CliRunner().invoke(app, ["fetch", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def test_fetch_jsonl_prints_messages_verbatim_in_order(moto_endpoint: str) -> None:
    start, end, ordered = load(moto_endpoint)
    code, out, err = run("--cluster", "demo", "--endpoint-url", moto_endpoint, "--start", str(start), "--end", str(end))
    assert code == 0, err
    assert out.splitlines() == ordered
    assert "eksaudit: window [" in err


def test_fetch_cw_records_and_filter_with_pushdown(moto_endpoint: str) -> None:
    start, end, ordered = load(moto_endpoint)
    with FaultProxy(moto_endpoint) as proxy:
        code, out, err = run(
            "--cluster", "demo", "--endpoint-url", proxy.endpoint, "--start", str(start), "--end", str(end),
            "--filter", "ka.verb=delete", "-o", "cw",
        )
        sent = {r.get("filterPattern") for r in proxy.request_log}
    assert code == 0 and err.startswith("eksaudit: window [")
    recs = [json.loads(line) for line in out.splitlines()]
    assert [r["message"] for r in recs] == [m for m in ordered if '"verb":"delete"' in m]
    assert all(set(r) >= {"logStreamName", "timestamp", "ingestionTime", "eventId", "message"} for r in recs)
    assert sent == {'{ $.verb = "delete" }'}  # moto ignores JSON patterns; the client-side filter is exact


def test_no_pushdown_sends_no_pattern(moto_endpoint: str) -> None:
    start, end, _ = load(moto_endpoint, 20)
    with FaultProxy(moto_endpoint) as proxy:
        code, _, _ = run(
            "--cluster", "demo", "--endpoint-url", proxy.endpoint, "--start", str(start), "--end", str(end),
            "--filter", "ka.verb=delete", "--no-pushdown", "-q",
        )
        assert code == 0
        assert all("filterPattern" not in r for r in proxy.request_log)


def test_nothing_matched_exits_1(moto_endpoint: str) -> None:
    start, end, _ = load(moto_endpoint, 20)
    code, out, _ = run("--cluster", "demo", "--endpoint-url", moto_endpoint, "--start", str(start), "--end", str(end),
                       "--filter", "ka.verb=patch")
    assert code == 1 and out == ""


def test_missing_log_group_exits_3_with_the_fix(moto_endpoint: str) -> None:
    code, out, err = run("--cluster", "nope", "--endpoint-url", moto_endpoint, "--since", "5m")
    assert code == 3 and out == ""
    assert err.strip().splitlines()[-1].startswith("eksaudit: error: log group /aws/eks/nope/cluster in us-east-1 not found")


def test_access_denied_exits_3_naming_iam_actions(fault_proxy: FaultProxy) -> None:
    fault_proxy.plan.queue(*["denied"] * 20)
    code, _, err = run("--log-group", "/g", "--endpoint-url", fault_proxy.endpoint, "--since", "5m", "--workers", "1")
    assert code == 3
    assert "access denied calling filter_log_events" in err and "logs:FilterLogEvents" in err


def test_explain_calls_nothing(moto_endpoint: str) -> None:
    with FaultProxy(moto_endpoint) as proxy:
        code, out, _ = run(
            "--cluster", "demo", "--endpoint-url", proxy.endpoint, "--start", "2026-01-01T00:00:00Z",
            "--end", "2026-01-01T01:00:00Z", "--filter", "ka.verb=delete", "--explain",
        )
        assert proxy.requests == 0
    assert code == 0
    assert "window [2026-01-01T00:00:00.000Z, 2026-01-01T01:00:00.000Z)" in out
    assert "12 slices" in out and "slice 12: [2026-01-01T00:55:00.000Z, 2026-01-01T01:00:00.000Z)" in out
    assert 'filter pattern: { $.verb = "delete" }' in out


def test_explain_insights_prints_the_query() -> None:
    code, out, _ = run("--cluster", "demo", "--since", "1h", "--engine", "insights", "--filter", "ka.verb=delete", "--explain")
    assert code == 0
    assert "query: fields @timestamp" in out and 'verb = "delete"' in out


def test_usage_errors_exit_2() -> None:
    assert run("--since", "1h")[0] == 2
    assert run("--cluster", "a", "--log-group", "/b", "--since", "1h", "--start", "-2h", "--explain")[0] == 2
    code, out, _ = run("--cluster", "a", "--log-group", "/b", "--explain")  # several groups: combinable
    assert code == 0 and "log group: /aws/eks/a/cluster\nlog group: /b\n" in out
    assert run("--cluster", "a", "--since", "1h", "--start", "-2h", "--explain")[0] == 2


def test_state_resumes_without_repeats(moto_endpoint: str, tmp_path: Path) -> None:
    start, end, ordered = load(moto_endpoint)
    state = str(tmp_path / "fetch.state")
    base = ["--cluster", "demo", "--endpoint-url", moto_endpoint, "--start", str(start), "--end", str(end), "--state", state]
    code, first, _ = run(*base, "--limit", "37")
    assert code == 0 and len(first.splitlines()) == 37
    code, rest, _ = run(*base)
    assert code == 0
    assert first.splitlines() + rest.splitlines() == ordered
    code, again, err = run(*base)
    assert code == 1 and again == "" and "already completed" in err
    code, _, err = run(*base[:-2], "--filter", "ka.verb=get", "--state", state)
    assert code == 2 and "different query" in err


def test_real_subprocess(moto_endpoint: str) -> None:
    start, end, ordered = load(moto_endpoint, 50)
    env = dict(os.environ)
    p = subprocess.run(
        [sys.executable, "-m", "eksaudit", "fetch", "--log-group", GROUP, "--stream-prefix", "kube-apiserver-audit",
         "--endpoint-url", moto_endpoint, "--start", str(start), "--end", str(end), "--fields", "ka.verb", "--max-rps", "100"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert p.returncode == 0, p.stderr
    assert [json.loads(line)["ka.verb"] for line in p.stdout.splitlines()] == [
        "delete" if '"verb":"delete"' in m else "get" for m in ordered
    ]
    assert p.stderr.startswith("eksaudit: window [")


def test_an_endpoint_that_never_answers_ends_with_exit_3_and_what_to_check():
    import socket

    with socket.socket() as s:  # a free port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run(
        [sys.executable, "-m", "eksaudit", "fetch", "--cluster", "x", "--since", "5m",
         "--endpoint-url", f"http://127.0.0.1:{port}", "--region", "us-east-1"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"},
    )
    assert r.returncode == 3
    assert "cannot reach CloudWatch Logs" in r.stderr and "--endpoint-url" in r.stderr
    assert "Traceback" not in r.stderr
