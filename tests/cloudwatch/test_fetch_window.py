"""fetch_window against a real HTTP endpoint (moto), directly and through the fault proxy."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
from support.faultproxy import FaultPlan, FaultProxy
from support.moto import audit_message, create_group, logs_client, put_events

from eksaudit.cloudwatch.checkpoint import Checkpoint
from eksaudit.cloudwatch.client import AwsTarget, make_client
from eksaudit.cloudwatch.fetch import fetch_window, plan_slices
from eksaudit.cloudwatch.retry import RetryPolicy
from eksaudit.errors import AwsError, UsageError
from eksaudit.timewindow import Window

GROUP = "/aws/eks/demo/cluster"
STREAMS = ["kube-apiserver-audit-aaa", "kube-apiserver-audit-bbb", "kube-apiserver-audit-ccc"]
TARGET = AwsTarget.from_options("demo", None)


def load(endpoint: str, n: int, *, span_ms: int = 15 * 60_000, quantum: int = 100, seed: int = 7,
         extra_streams: tuple[str, ...] = ("authenticator-zzz",), workers: int = 4) -> tuple[Window, list[tuple[int, str]]]:
    """n audit events over the 3 audit streams (+ noise streams that must not be fetched).

    Timestamps are quantized to `quantum` ms so many events share a millisecond, and a cluster of
    events sits exactly on every slice boundary. Returns the window and the expected messages in order.
    """
    client = logs_client(endpoint)
    create_group(client, GROUP, STREAMS + list(extra_streams))
    end = (int(time.time() * 1000) // 1000) * 1000 - 60_000
    window = Window(end - span_ms, end)
    bounds = [s for s, _ in plan_slices(window, workers)][1:] + [end - 1, window.start_ms]
    rng = random.Random(seed)
    per_stream: dict[str, list[tuple[int, str]]] = {s: [] for s in STREAMS}
    for i in range(n):
        if i % 50 == 0:
            ts = bounds[(i // 50) % len(bounds)]
        else:
            ts = window.start_ms + rng.randrange(0, span_ms) // quantum * quantum
        per_stream[STREAMS[i % 3]].append((ts, audit_message(i, ts)))
    for s, evs in per_stream.items():
        put_events(client, GROUP, s, evs)
    for s in extra_streams:
        put_events(client, GROUP, s, [(window.start_ms + 5, audit_message(10**9, window.start_ms + 5))])
    # outside the window: the end is exclusive, the start inclusive
    put_events(client, GROUP, STREAMS[0], [(end, audit_message(10**9 + 1, end))])
    put_events(client, GROUP, STREAMS[1], [(window.start_ms - 1, audit_message(10**9 + 2, window.start_ms - 1))])
    expected = sorted((ts, m) for evs in per_stream.values() for ts, m in evs)
    return window, expected


def fast_retry() -> RetryPolicy:
    return RetryPolicy(base=0.001, cap=0.02, give_up_after=120)


def client_for(endpoint: str, workers: int = 4) -> Any:
    return make_client(TARGET.with_endpoint(endpoint), max_pool=workers + 4, max_attempts=1)


def check_order(events: list[Any]) -> None:
    keys = [(e.cw.timestamp, len(e.cw.event_id), e.cw.event_id) for e in events]
    assert keys == sorted(keys), "events are not in (timestamp, eventId) order"
    ids = [e.cw.event_id for e in events]
    assert len(ids) == len(set(ids)), "an event was delivered twice"


def test_fetch_every_event_once_in_order(moto_endpoint: str) -> None:
    window, expected = load(moto_endpoint, 3000)
    run = fetch_window(client_for(moto_endpoint), TARGET, window, workers=4, max_rps=1000, page_limit=250, retry=fast_retry())
    events = list(run)
    check_order(events)
    assert sorted((e.cw.timestamp, e.text) for e in events) == expected
    assert all(e.cw.log_stream in STREAMS and e.cw.log_group == GROUP for e in events)
    assert run.stats.pages >= len(run.slices)


def test_fetch_spills_to_disk_with_a_tiny_memory_budget(moto_endpoint: str, tmp_path: Path) -> None:
    window, expected = load(moto_endpoint, 2000)
    run = fetch_window(
        client_for(moto_endpoint), TARGET, window, workers=4, max_rps=1000, page_limit=100,
        memory_limit=4000, spill_dir=str(tmp_path), retry=fast_retry(),
    )
    events = list(run)
    check_order(events)
    assert [(e.cw.timestamp, e.text) for e in events] == [(t, m) for t, m in _ordered(events, expected)]
    assert run.spilled_records > 0
    assert list(tmp_path.iterdir()) == []  # spill files are anonymous and gone


def _ordered(events: list[Any], expected: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """`expected` in delivery order (same-ms ties are ordered by eventId, which the loader does not know)."""
    got = [(e.cw.timestamp, e.text) for e in events]
    assert sorted(got) == expected
    return got


@pytest.mark.slow
def test_fetch_exactly_once_through_200_plus_faults(moto_endpoint: str) -> None:
    """50,000 events, 3 streams, many same-ms events (also on slice edges), >= 200 injected faults."""
    window, expected = load(moto_endpoint, 50_000, quantum=250)
    loader = logs_client(moto_endpoint)
    late: list[tuple[int, str]] = []

    def insert_late() -> None:  # events ingested late, with old timestamps, while the fetch runs
        for k in range(20):
            ts = window.start_ms + 1000 * k
            late.append((ts, audit_message(2 * 10**9 + k, ts)))
            put_events(loader, GROUP, STREAMS[k % 3], [late[-1]])

    plan = FaultPlan(
        rates={"throttle": 0.12, "500": 0.06, "503": 0.06, "drop": 0.06, "drop_mid": 0.06, "empty": 0.08, "repeat": 0.08,
               "reject": 0.04, "eventless": 0.06},
        seed=11,
    )
    with FaultProxy(moto_endpoint, plan) as proxy:
        proxy.after_requests(40, insert_late)
        run = fetch_window(client_for(proxy.endpoint), TARGET, window, workers=4, max_rps=1000, page_limit=200, retry=fast_retry())
        events = list(run)
    assert proxy.total_injected >= 200, (proxy.injected, run.stats, len(events), proxy.requests)
    assert all(proxy.injected[f] > 0 for f in ("throttle", "500", "503", "drop", "drop_mid", "empty", "repeat", "reject",
                                               "eventless"))
    check_order(events)
    got = [(e.cw.timestamp, e.text) for e in events]
    late_set = set(late)
    assert sorted(g for g in got if g not in late_set) == expected  # every stored event exactly once
    assert run.stats.throttles > 0 and run.stats.restarts > 0 and run.stats.empty_pages > 0


def test_checkpoint_resume_after_interruption(moto_endpoint: str, tmp_path: Path) -> None:
    window, expected = load(moto_endpoint, 1500)
    state = tmp_path / "state.json"
    identity = {"log_group": GROUP, "filter": None}
    client = client_for(moto_endpoint)

    first: list[Any] = []
    ck = Checkpoint.open(state, identity, window)
    run = fetch_window(client, TARGET, window, workers=3, max_rps=1000, page_limit=100, checkpoint=ck, retry=fast_retry())
    for ev in run:
        first.append(ev)
        if len(first) == 777:
            break
    run.close(last_delivered=True)  # like --limit: the 777th was printed
    assert state.exists()

    # a second interruption, this one while an event was being printed (not counted as delivered)
    second: list[Any] = []
    ck2 = Checkpoint.open(state, identity, window)
    assert ck2.resumed and ck2.delivered == 777
    run2 = fetch_window(client, TARGET, window, workers=3, max_rps=1000, page_limit=100, checkpoint=ck2, retry=fast_retry())
    for ev in run2:
        second.append(ev)
        if len(second) == 300:
            break
    run2.close(last_delivered=False)
    second.pop()  # that one never made it out

    ck3 = Checkpoint.open(state, identity, Window(window.start_ms + 5, window.end_ms or 0), relative_window=True)
    assert ck3.window == window  # --since moved, the saved window wins
    third = list(fetch_window(client, TARGET, window, workers=3, max_rps=1000, page_limit=100, checkpoint=ck3, retry=fast_retry()))
    allev = first + second + third
    check_order(allev)
    assert sorted((e.cw.timestamp, e.text) for e in allev) == expected
    assert Checkpoint.open(state, identity, window).complete

    with pytest.raises(UsageError, match="different query"):
        Checkpoint.open(state, {"log_group": GROUP, "filter": "ka.verb=get"}, window)
    with pytest.raises(UsageError, match="was written for"):
        Checkpoint.open(state, identity, Window(window.start_ms + 1, window.end_ms))


def test_limit_stops_workers_early(moto_endpoint: str) -> None:
    window, _ = load(moto_endpoint, 2000)
    run = fetch_window(client_for(moto_endpoint), TARGET, window, workers=2, max_rps=1000, page_limit=50, retry=fast_retry())
    it = iter(run)
    got = [next(it) for _ in range(10)]
    run.close()
    assert len(got) == 10
    assert all(not t.is_alive() for t in run._threads)
    assert run.stats.pages < 40  # it did not go on to fetch everything


def test_missing_log_group_is_fatal_with_a_fix(moto_endpoint: str) -> None:
    now = int(time.time() * 1000)
    run = fetch_window(client_for(moto_endpoint), TARGET, Window(now - 60_000, now), workers=2, max_rps=1000, retry=fast_retry())
    with pytest.raises(AwsError, match=r"log group /aws/eks/demo/cluster in us-east-1 not found: check --cluster"):
        list(run)


def test_access_denied_names_the_iam_actions(fault_proxy: FaultProxy, moto_endpoint: str) -> None:
    window, _ = load(moto_endpoint, 50)
    fault_proxy.plan.queue("denied")
    run = fetch_window(client_for(fault_proxy.endpoint), TARGET, window, workers=1, max_rps=1000, retry=fast_retry())
    with pytest.raises(AwsError, match="logs:FilterLogEvents, logs:DescribeLogStreams"):
        list(run)


def test_throttled_out_after_the_retry_budget(fault_proxy: FaultProxy, moto_endpoint: str) -> None:
    window, _ = load(moto_endpoint, 20)
    fault_proxy.plan.queue(*["throttle"] * 50)
    run = fetch_window(
        client_for(fault_proxy.endpoint), TARGET, window, workers=1, max_rps=1000, slices=[(window.start_ms, window.end_ms or 0)],
        retry=RetryPolicy(base=0.001, cap=0.001, max_attempts=5),
    )
    with pytest.raises(AwsError, match="throttled out"):
        list(run)


def test_retry_resumes_the_same_token_over_http(fault_proxy: FaultProxy, moto_endpoint: str) -> None:
    window, expected = load(moto_endpoint, 300)
    fault_proxy.plan.queue(None, "throttle", "drop_mid", "503", None, "drop", None)
    run = fetch_window(
        client_for(fault_proxy.endpoint), TARGET, window, workers=1, max_rps=1000, page_limit=100,
        slices=[(window.start_ms, window.end_ms or 0)], retry=fast_retry(),
    )
    events = list(run)
    assert sorted((e.cw.timestamp, e.text) for e in events) == expected
    tokens = [r.get("nextToken") for r in fault_proxy.request_log]
    # request 2 got a token; the 3 failed attempts and the success all resent exactly that token
    assert tokens[1] is not None and tokens[1:5] == [tokens[1]] * 4


def test_target_from_options() -> None:
    t = AwsTarget.from_options("prod", None, region="eu-west-1")
    assert (t.log_group, t.stream_prefix, t.region) == ("/aws/eks/prod/cluster", "kube-apiserver-audit", "eu-west-1")
    g = AwsTarget.from_options(None, "/my/group")
    assert (g.log_group, g.stream_prefix) == ("/my/group", "kube-apiserver-audit")  # --log-group too
    assert AwsTarget.from_options(None, "/g", stream_prefix="").stream_prefix is None
    assert AwsTarget.from_options(None, "/g", stream_prefix="x").stream_prefix == "x"
    both = AwsTarget.from_options(["b", "a"], ["/g", "/aws/eks/a/cluster"])  # combinable, repeatable
    assert both.log_groups == ("/aws/eks/a/cluster", "/aws/eks/b/cluster", "/g")
    with pytest.raises(UsageError):
        AwsTarget.from_options(None, None)


def test_plan_slices_partition_the_window() -> None:
    w = Window(1_000_000, 1_000_000 + 3_600_000)
    s = plan_slices(w, 4)
    assert s[0][0] == w.start_ms and s[-1][1] == w.end_ms
    assert all(a[1] == b[0] for a, b in zip(s, s[1:], strict=False))
    assert len(s) == 12 and len(plan_slices(Window(0, 7 * 86_400_000), 4)) == 64
    assert len(plan_slices(Window(0, 60_000), 4)) == 8  # more slices than workers
    assert plan_slices(Window(0, 3), 4) == [(0, 1), (1, 2), (2, 3)]


@pytest.mark.parametrize("memory_limit", [64 * 1024 * 1024, 300])
def test_fetch_events_are_the_one_cloudwatch_conversion(moto_endpoint: str, tmp_path: Path, memory_limit: int) -> None:
    """fetch turns each record into an event with AuditEvent.from_cloudwatch, as watch, Insights and the
    readers do: a trailing line end is dropped, text and metadata kept; the same from memory and
    from a spill file."""
    from eksaudit.events.event import AuditEvent

    group = "/aws/eks/conv/cluster"
    client = logs_client(moto_endpoint)
    create_group(client, group, STREAMS[:1])
    end = (int(time.time() * 1000) // 1000) * 1000 - 60_000
    messages = [f'{{"kind":"Event","auditID":"{i}","user":{{"username":"é✓"}}}}' + ("\r\n" if i % 2 else "")
                for i in range(40)]
    put_events(client, group, STREAMS[0], [(end - 1000 + i, m) for i, m in enumerate(messages)])
    target = AwsTarget.from_options(None, group)
    run = fetch_window(client_for(moto_endpoint), target, Window(end - 2000, end), workers=2, max_rps=1000,
                       page_limit=7, memory_limit=memory_limit, spill_dir=str(tmp_path), retry=fast_retry())
    got = list(run)
    records = [r for page in client.get_paginator("filter_log_events").paginate(logGroupName=group)
               for r in page["events"]]
    assert sum(r["message"].endswith("\r\n") for r in records) == 20  # stored as sent
    want = [AuditEvent.from_cloudwatch(r, log_group=group) for r in sorted(records, key=lambda r: r["timestamp"])]
    assert [(e.raw, e.cw) for e in got] == [(e.raw, e.cw) for e in want]
    assert all(not e.raw.endswith(b"\n") for e in got) and len(got) == 40
    assert (run.spilled_records > 0) == (memory_limit == 300)
