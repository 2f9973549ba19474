"""Several clusters at once: fetch and watch over three log groups of the moto server.

Each event comes out once, merged in time order (timestamp, then log group name, then eventId),
knowing its group (`cw.log_group`) and cluster (`eks.cluster`); one --state resumes every group;
a state written for another set of groups is a usage error.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from support.faultproxy import FaultPlan, FaultProxy
from support.moto import audit_message, create_group, isolate_aws_env, logs_client, put_events
from typer.testing import CliRunner

from eksaudit.cli.app import app
from eksaudit.cloudwatch.checkpoint import Checkpoint
from eksaudit.cloudwatch.client import AwsTarget, make_client
from eksaudit.cloudwatch.fetch import fetch_window
from eksaudit.cloudwatch.insights import run_insights
from eksaudit.cloudwatch.retry import RetryPolicy
from eksaudit.cloudwatch.watch import watch_events
from eksaudit.events.event import AuditEvent, CwMeta
from eksaudit.fields import default_registry
from eksaudit.fields.eks import cluster_of_group
from eksaudit.timewindow import Window

# two EKS clusters and one group that is not an EKS control-plane group (no eks.cluster)
GROUPS = {"/aws/eks/prod/cluster": "prod", "/aws/eks/staging/cluster": "staging", "/custom/audit": None}
STREAMS = ["kube-apiserver-audit-1", "kube-apiserver-audit-2"]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_env(monkeypatch, tmp_path)


def load(endpoint: str, n: int = 240, *, seed: int = 3) -> tuple[Window, list[tuple[int, str, str]]]:
    """n events spread over the 3 groups, timestamps on a coarse grid so that groups share
    milliseconds; returns the window and the expected (timestamp, group, auditID) in merged order."""
    client = logs_client(endpoint)
    for g in GROUPS:
        create_group(client, g, STREAMS)
    end = (int(time.time() * 1000) // 1000) * 1000 - 60_000
    window = Window(end - 10 * 60_000, end)
    rng = random.Random(seed)
    per: dict[tuple[str, str], list[tuple[int, str]]] = {}
    expected: list[tuple[int, str, str]] = []
    names = sorted(GROUPS)
    for i in range(n):
        ts = window.start_ms + rng.randrange(0, 10 * 60_000) // 2000 * 2000
        group = names[rng.randrange(3)]
        per.setdefault((group, STREAMS[i % 2]), []).append((ts, audit_message(i, ts)))
        expected.append((ts, group, f"00000000-0000-4000-8000-{i:012d}"))
    for (group, stream), evs in per.items():
        put_events(client, group, stream, evs)
    # outside the window in every group: never delivered
    for g in names:
        put_events(client, g, STREAMS[0], [(end, audit_message(10**6, end))])
    return window, expected


def check_merged(rows: list[tuple[int, str, str]], expected: list[tuple[int, str, str]]) -> None:
    """Each expected event exactly once, ordered by timestamp then group name."""
    assert sorted(rows) == sorted(expected)
    assert len({r[2] for r in rows}) == len(rows)
    keys = [(ts, g) for ts, g, _ in rows]
    assert keys == sorted(keys)


def fetch(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["fetch", *args, "--max-rps", "200"], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def where(endpoint: str, window: Window) -> list[str]:
    return ["--cluster", "prod", "--cluster", "staging", "--log-group", "/custom/audit", "--endpoint-url", endpoint,
            "--start", str(window.start_ms), "--end", str(window.end_ms)]


def rows_of(stdout: str) -> list[tuple[int, str, str]]:
    out = []
    for line in stdout.splitlines():
        d = json.loads(line)
        assert d["eks.cluster"] == GROUPS[d["cw.log_group"]]
        out.append((d["cw.timestamp"], d["cw.log_group"], d["ka.auditid"]))
    return out


FIELDS = ["--fields", "cw.timestamp,cw.log_group,eks.cluster,ka.auditid"]


def test_eks_cluster_comes_from_the_log_group_name() -> None:
    assert cluster_of_group("/aws/eks/prod/cluster") == "prod"
    for other in ("/aws/eks/prod/other", "/custom/audit", "/aws/eks//cluster", "aws/eks/x/cluster", None):
        assert cluster_of_group(other) is None
    reg = default_registry()
    ev = AuditEvent(b"{}", cw=CwMeta(log_group="/aws/eks/blue/cluster"))
    assert reg.resolve("eks.cluster").extract(ev) == "blue"
    assert reg.resolve("cw.log_group").extract(ev) == "/aws/eks/blue/cluster"
    assert reg.resolve("eks.cluster").extract(AuditEvent(b"{}")) is None  # a file, not CloudWatch


def test_fetch_three_groups_merged_each_once(moto_endpoint: str) -> None:
    window, expected = load(moto_endpoint)
    code, out, err = fetch(*where(moto_endpoint, window), *FIELDS, "--workers", "2")
    assert code == 0, err
    assert "3 log groups" in err
    check_merged(rows_of(out), expected)


def test_fetch_filter_on_the_cluster(moto_endpoint: str) -> None:
    window, expected = load(moto_endpoint, 90)
    code, out, err = fetch(*where(moto_endpoint, window), *FIELDS, "--filter", "eks.cluster = staging")
    assert code == 0, err
    check_merged(rows_of(out), [e for e in expected if e[1] == "/aws/eks/staging/cluster"])


def test_one_state_resumes_every_group_and_refuses_another_set(moto_endpoint: str, tmp_path: Path) -> None:
    window, expected = load(moto_endpoint)
    state = str(tmp_path / "fleet.state")
    base = [*where(moto_endpoint, window), *FIELDS, "--state", state]
    got: list[tuple[int, str, str]] = []
    for limit in ("31", "57"):
        code, out, err = fetch(*base, "--limit", limit)
        assert code == 0, err
        got += rows_of(out)
        assert len(rows_of(out)) == int(limit)
    saved = json.loads(Path(state).read_text())
    assert saved["query"]["log_groups"] == sorted(GROUPS)
    assert all(k.split("|", 1)[0] in GROUPS for k in saved["cursor"]["ids"])
    code, out, err = fetch(*base)
    assert code == 0, err
    got += rows_of(out)
    assert got == sorted(got, key=lambda r: (r[0], r[1])) and sorted(got) == sorted(expected)
    assert len(got) == len(expected)
    # the same state with two of the three groups: a clear usage error, nothing fetched
    code, out, err = fetch("--cluster", "prod", "--cluster", "staging", "--endpoint-url", moto_endpoint,
                           "--start", str(window.start_ms), "--end", str(window.end_ms), "--state", state)
    assert code == 2 and out == "" and "different query" in err and "log_groups" in err


def test_a_bad_group_prefix_in_the_state_is_refused(moto_endpoint: str, tmp_path: Path) -> None:
    window, _ = load(moto_endpoint, 30)
    state = tmp_path / "fleet.state"
    code, _, err = fetch(*where(moto_endpoint, window), "--state", str(state), "--limit", "5")
    assert code == 0, err
    data = json.loads(state.read_text())
    data["cursor"]["ids"] = ["/not/ours|1"]
    state.write_text(json.dumps(data))
    code, _, err = fetch(*where(moto_endpoint, window), "--state", str(state))
    assert code == 2 and "cursor.ids" in err


def test_fetch_through_faults_with_a_shared_budget(fault_proxy: FaultProxy, moto_endpoint: str) -> None:
    window, expected = load(moto_endpoint, 300)
    fault_proxy.plan = FaultPlan(rates={"throttle": 0.1, "503": 0.05, "drop_mid": 0.05, "repeat": 0.05}, seed=5,
                                 max_faults=40)
    target = AwsTarget.from_options(["prod", "staging"], ["/custom/audit"], endpoint_url=fault_proxy.endpoint)
    run = fetch_window(
        make_client(target), target, window, workers=3, max_rps=1000, page_limit=7,
        retry=RetryPolicy(base=0.001, cap=0.02, give_up_after=120),
    )
    rows = []
    for ev in run:
        assert ev.cw is not None
        rows.append((ev.cw.timestamp, ev.cw.log_group, ev.obj["auditID"]))
    check_merged(rows, expected)  # type: ignore[arg-type]
    assert fault_proxy.total_injected > 0


def test_fetch_checkpoint_resumes_mid_millisecond_in_every_group(moto_endpoint: str, tmp_path: Path) -> None:
    window, expected = load(moto_endpoint, 200)
    target = AwsTarget.from_options(["prod", "staging"], ["/custom/audit"], endpoint_url=moto_endpoint)
    identity = {"log_groups": list(target.log_groups)}
    rows: list[tuple[int, str, str]] = []
    for stop_after in (13, 40, 77, None):
        ck = Checkpoint.open(tmp_path / "s.json", identity, window)
        run = fetch_window(make_client(target), target, window, workers=2, max_rps=1000, checkpoint=ck, page_limit=5)
        for n, ev in enumerate(run, 1):
            rows.append((ev.cw.timestamp, ev.cw.log_group, ev.obj["auditID"]))  # type: ignore[union-attr, index]
            if stop_after is not None and n == stop_after:
                break
        run.close(last_delivered=True)
    check_merged(rows, expected)


def test_watch_three_groups_each_once_and_resume(moto_endpoint: str, tmp_path: Path) -> None:
    window, expected = load(moto_endpoint, 120)
    state = str(tmp_path / "watch.json")
    args = ["watch", *where(moto_endpoint, window)[:-4], "--endpoint-url", moto_endpoint, "--start",
            str(window.start_ms), "--until", str(window.end_ms), "--lag", "0", "--poll", "0.05", "--max-rps", "200",
            "--state", state, *FIELDS]
    r = CliRunner().invoke(app, [*args, "--max-events", "50"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    assert "watching 3 log groups" in r.stderr
    first = rows_of(r.stdout)
    assert len(first) == 50
    r = CliRunner().invoke(app, args, catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    rest = rows_of(r.stdout)
    assert sorted(first + rest) == sorted(expected) and len(first + rest) == len(expected)
    keys = [(ts, g) for ts, g, _ in first + rest]
    assert keys == sorted(keys)  # everything is on time here: the fresh pass delivers in merged order
    other = ["watch", "--cluster", "prod", "--endpoint-url", moto_endpoint, "--until", str(window.end_ms),
             "--state", state]
    r = CliRunner().invoke(app, other, catch_exceptions=False)
    assert r.exit_code == 2 and "different query" in r.stderr


def test_watch_library_tags_records_with_their_group(moto_endpoint: str) -> None:
    window, expected = load(moto_endpoint, 60)
    target = AwsTarget.from_options(["prod", "staging"], ["/custom/audit"], endpoint_url=moto_endpoint)
    tail = watch_events(make_client(target), target.log_groups, stream_prefix=target.stream_prefix,
                        start_ms=window.start_ms, until_ms=window.end_ms, lag_s=0, poll_s=0.01, max_rps=1000)
    rows = [(e.cw.timestamp, e.cw.log_group, e.obj["auditID"]) for e in tail]  # type: ignore[union-attr, index]
    check_merged(rows, expected)
    assert all(k.split("|", 1)[0] in GROUPS for k, _ in tail.state().seen)


def test_insights_over_several_groups(moto_endpoint: str) -> None:
    window, expected = load(moto_endpoint, 90)
    target = AwsTarget.from_options(["prod", "staging"], ["/custom/audit"], endpoint_url=moto_endpoint)
    stats: dict[str, Any] = {}
    events = run_insights(make_client(target), target, window, None, default_registry(), poll=0.01, stats=stats)
    rows = [(e.cw.timestamp, e.cw.log_group, e.obj["auditID"]) for e in events]  # type: ignore[union-attr, index]
    check_merged(rows, expected)
    assert stats["queries"] >= 3  # one query per group
