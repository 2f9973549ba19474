"""`watch_events` against moto's server through the fault-injecting proxy, in real (short) time.

A writer thread puts events while the tail runs, some with timestamps the fresh cursor has already
passed (late events); the proxy throttles, drops connections, returns empty pages with tokens and
repeated tokens. Every event in [start, until) must come out exactly once.
"""

from __future__ import annotations

import threading
import time

import pytest
from support.faultproxy import FaultPlan, FaultProxy
from support.moto import audit_message, create_group, logs_client

from eksaudit.cloudwatch.checkpoint import WatchState
from eksaudit.cloudwatch.client import AwsTarget, make_client
from eksaudit.cloudwatch.watch import watch_events
from eksaudit.errors import AwsError

GROUP = "/aws/eks/demo/cluster"
STREAMS = ("kube-apiserver-audit-aaa", "kube-apiserver-audit-bbb")


class Writer(threading.Thread):
    """Puts `n` events, one every `every` s, alternating streams; every `late_every`-th one is
    stamped `late_by` ms in the past (ingested after the fresh cursor moved past its timestamp)."""

    def __init__(self, endpoint: str, n: int, *, every: float, late_every: int = 0, late_by: int = 900) -> None:
        super().__init__(daemon=True)
        self.client = logs_client(endpoint)
        self.n, self.every, self.late_every, self.late_by = n, every, late_every, late_by
        self.written: dict[str, int] = {}  # auditID -> timestamp
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for i in range(self.n):
                ts = int(time.time() * 1000)
                if self.late_every and i % self.late_every == self.late_every - 1:
                    ts -= self.late_by
                msg = audit_message(i, ts)
                self.client.put_log_events(
                    logGroupName=GROUP, logStreamName=STREAMS[i % 2], logEvents=[{"timestamp": ts, "message": msg}]
                )
                self.written[f"00000000-0000-4000-8000-{i:012d}"] = ts
                time.sleep(self.every)
        except BaseException as e:  # surfaced by the test
            self.error = e


@pytest.fixture
def group(moto_endpoint):
    create_group(logs_client(moto_endpoint), GROUP, STREAMS + ("kube-apiserver-xyz",))
    return moto_endpoint


def client_for(endpoint: str):
    return make_client(AwsTarget.from_options("demo", None, endpoint_url=endpoint))


def run_watch(endpoint: str, start_ms: int, until_ms: int | None, *, state: WatchState | None = None, lag_s=1.5, **kw):
    warnings: list[str] = []
    tail = watch_events(
        client_for(endpoint), GROUP, stream_prefix="kube-apiserver-audit", start_ms=start_ms, until_ms=until_ms,
        poll_s=0.1, lag_s=lag_s, max_rps=50, state=state, on_warning=warnings.append, **kw,
    )
    return tail, warnings


def test_events_written_while_watching_and_late_ones_arrive_exactly_once_despite_faults(group):
    plan = FaultPlan(
        ["throttle", "drop", None, "503", "empty"],
        rates={"throttle": 0.06, "drop": 0.03, "drop_mid": 0.03, "empty": 0.04, "repeat": 0.03},
        seed=7,
        max_faults=12,
    )
    with FaultProxy(group, plan, page_bytes=4000) as proxy:
        start = int(time.time() * 1000)
        writer = Writer(group, 40, every=0.03, late_every=5, late_by=500)
        writer.start()
        until = start + 1_200
        tail, warnings = run_watch(proxy.endpoint, start, until, page_limit=7)
        got = [ev.obj["auditID"] for ev in tail]
        writer.join()
    assert writer.error is None
    expected = [a for a, ts in writer.written.items() if start <= ts < until]
    assert len(got) == len(set(got)), "an event was printed twice"
    assert sorted(got) == sorted(expected), "an event was lost"
    assert proxy.total_injected >= 5
    assert tail.stats.late >= 1 or tail.stats.duplicates > 0
    assert warnings, "transient failures are reported on stderr"
    # the pass ranges asked of the service are half-open and never start before the start
    assert all(r["startTime"] >= start and r.get("logStreamNamePrefix") == "kube-apiserver-audit" for r in proxy.request_log)


def test_a_late_event_put_after_the_cursor_passed_it_comes_out_once(group):
    client = logs_client(group)
    start = int(time.time() * 1000) - 1_000
    client.put_log_events(logGroupName=GROUP, logStreamName=STREAMS[0],
                          logEvents=[{"timestamp": start + 200, "message": audit_message(1, start + 200)}])
    tail, _ = run_watch(group, start, start + 1_000, lag_s=2)
    it = iter(tail)
    first = next(it)
    assert first.obj["auditID"].endswith("1")
    # the fresh cursor is now past start+200; put an event stamped before it, into the other stream
    time.sleep(0.3)
    client.put_log_events(logGroupName=GROUP, logStreamName=STREAMS[1],
                          logEvents=[{"timestamp": start + 100, "message": audit_message(2, start + 100)}])
    rest = [ev.obj["auditID"] for ev in it]
    assert [a[-1] for a in rest] == ["2"]
    assert tail.stats.delivered == 2


def test_restart_from_a_checkpoint_neither_loses_nor_repeats(group):
    start = int(time.time() * 1000)
    until = start + 1_200
    writer = Writer(group, 30, every=0.03, late_every=4, late_by=500)
    writer.start()
    tail, _ = run_watch(group, start, until)
    first = []
    for ev in tail:
        first.append(ev.obj["auditID"])
        if len(first) == 8:
            break
    state = WatchState.from_json(tail.state().to_json())  # what --state would have saved
    time.sleep(0.3)  # the watcher is "down" while events keep coming
    tail2, _ = run_watch(group, start, until, state=state)
    second = [ev.obj["auditID"] for ev in tail2]
    writer.join()
    expected = [a for a, ts in writer.written.items() if start <= ts < until]
    both = first + second
    assert len(both) == len(set(both))
    assert sorted(both) == sorted(expected)


def test_a_missing_log_group_is_fatal(moto_endpoint):
    tail, _ = run_watch(moto_endpoint, int(time.time() * 1000), None)
    with pytest.raises(AwsError, match="not found"):
        next(iter(tail))
