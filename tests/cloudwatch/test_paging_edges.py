"""Our FilterLogEvents loop, token bucket and outer retry, with a scripted fake client (no network)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from eksaudit.cloudwatch.client import TransientAwsError
from eksaudit.cloudwatch.paging import FilterRequest, PageStats, iter_pages
from eksaudit.cloudwatch.ratelimit import TokenBucket
from eksaudit.cloudwatch.retry import RetryPolicy
from eksaudit.errors import AwsError


class FakeClient:
    """Answers each filter_log_events call with the next scripted item (a dict, or an exception to raise)."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls: list[dict[str, Any]] = []

    def filter_log_events(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def ev(ts: int, eid: str, stream: str = "kube-apiserver-audit-a") -> dict[str, Any]:
    return {"timestamp": ts, "eventId": eid, "logStreamName": stream, "ingestionTime": ts, "message": "{}"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, d: float) -> None:
        self.slept.append(d)
        self.now += d


REQ = FilterRequest("/aws/eks/c/cluster", 1000, 2000, "kube-apiserver-audit")


def test_empty_pages_with_token_continue_and_only_missing_token_ends() -> None:
    client = FakeClient([
        {"events": [], "nextToken": "t1"},
        {"events": [], "nextToken": "t2"},
        {"events": [ev(1500, "1")], "nextToken": "t3"},
        {"events": [], "nextToken": "t4"},
        {"events": [ev(1600, "2")]},
    ])
    stats = PageStats()
    pages = list(iter_pages(client, REQ, stats=stats))
    assert [p.token for p in pages] == [None, "t1", "t2", "t3", "t4"]
    assert [e["eventId"] for p in pages for e in p.events] == ["1", "2"]
    assert stats.empty_pages == 3 and stats.pages == 5
    assert not any(p.repeated for p in pages)


def test_repeated_token_stops_without_looping() -> None:
    client = FakeClient([
        {"events": [ev(1100, "1")], "nextToken": "a"},
        {"events": [ev(1200, "2")], "nextToken": "b"},
        {"events": [ev(1300, "3")], "nextToken": "a"},  # handed out before: following it would loop
    ])
    stats = PageStats()
    pages = list(iter_pages(client, REQ, stats=stats))
    assert len(client.calls) == 3
    assert pages[-1].repeated and not pages[0].repeated
    assert stats.repeated_tokens == 1


def test_half_open_window_and_stream_prefix_are_enforced_client_side() -> None:
    client = FakeClient([
        {"events": [ev(999, "0"), ev(1000, "1"), ev(1999, "2"), ev(2000, "3"), ev(1500, "4", stream="authenticator-x")]}
    ])
    (page,) = list(iter_pages(client, REQ))
    assert [e["eventId"] for e in page.events] == ["1", "2"]
    params = client.calls[0]
    assert params["startTime"] == 1000 and params["endTime"] == 2000  # ts == end dropped by us
    assert params["logStreamNamePrefix"] == "kube-apiserver-audit"
    assert params["interleaved"] is True and "filterPattern" not in params


def test_pattern_and_limit_are_sent() -> None:
    req = FilterRequest("/g", 0, None, None, pattern='{ $.verb = "delete" }', limit=50_000)
    client = FakeClient([{"events": []}])
    list(iter_pages(client, req))
    p = client.calls[0]
    assert p["filterPattern"] == '{ $.verb = "delete" }' and p["limit"] == 10_000
    assert "endTime" not in p and "logStreamNamePrefix" not in p


def test_retry_resumes_the_same_token() -> None:
    clock = FakeClock()
    client = FakeClient([
        {"events": [ev(1100, "1")], "nextToken": "t1"},
        TransientAwsError("throttle", "Rate exceeded"),
        TransientAwsError("connection", "reset"),
        TransientAwsError("server", "503"),
        {"events": [ev(1200, "2")]},
    ])
    limiter = TokenBucket(1000, clock=clock, sleep=clock.sleep)
    retry = RetryPolicy(base=0.1, sleep=clock.sleep, clock=clock, rng=random.Random(1))
    stats = PageStats()
    pages = list(iter_pages(client, REQ, limiter=limiter, retry=retry, stats=stats))
    assert [c.get("nextToken") for c in client.calls] == [None, "t1", "t1", "t1", "t1"]
    assert [e["eventId"] for p in pages for e in p.events] == ["1", "2"]
    assert stats.throttles == 1 and stats.connection_errors == 1 and stats.server_errors == 1
    assert limiter.throttles == 1 and limiter.rate < 1000


def test_retry_gives_up_with_throttled_out() -> None:
    clock = FakeClock()
    retry = RetryPolicy(base=1, cap=8, give_up_after=30, sleep=clock.sleep, clock=clock, rng=random.Random(0))

    def always() -> None:
        raise TransientAwsError("throttle", "Rate exceeded")

    with pytest.raises(AwsError, match="throttled out") as ei:
        retry.call(always)
    assert not isinstance(ei.value, TransientAwsError)
    assert clock.now <= 30
    assert all(d <= 8 for d in clock.slept)


def test_retry_full_jitter_bounds() -> None:
    r = RetryPolicy(base=0.5, cap=60, rng=random.Random(3))
    for attempt in range(12):
        for _ in range(20):
            assert 0 <= r.delay(attempt) <= min(60, 0.5 * 2**attempt)


def test_non_transient_errors_are_not_retried() -> None:
    client = FakeClient([AwsError("access denied"), {"events": []}])
    with pytest.raises(AwsError, match="access denied"):
        list(iter_pages(client, REQ, retry=RetryPolicy(sleep=lambda d: None)))
    assert len(client.calls) == 1


def test_token_bucket_spaces_requests_at_the_rate() -> None:
    clock = FakeClock()
    b = TokenBucket(5, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        b.acquire()
    # first one free (burst 1), then 1/5 s apart: 10 waits of 0.2 s
    assert clock.now == pytest.approx(2.0)


def test_token_bucket_halves_on_throttle_and_recovers_additively() -> None:
    clock = FakeClock()
    b = TokenBucket(10, clock=clock, sleep=clock.sleep, throttle_cooldown=1.0)
    b.on_throttle()
    assert b.rate == pytest.approx(5)
    b.on_throttle()  # same cooldown window: several workers hit by one burst count once
    assert b.rate == pytest.approx(5)
    clock.now += 2
    b.on_throttle()
    assert b.rate == pytest.approx(2.5)
    for _ in range(10):
        b.on_success()
    assert b.rate == pytest.approx(2.5 + 10 * 10 / 50)
    for _ in range(100):
        b.on_success()
    assert b.rate == 10
    for _ in range(50):
        clock.now += 10
        b.on_throttle()
    assert b.rate == pytest.approx(b.min_rate)


def test_token_bucket_is_shared_fairly_between_threads() -> None:
    import threading

    clock_lock = threading.Lock()
    waits: list[float] = []
    b = TokenBucket(4, clock=lambda: 0.0, sleep=lambda d: (clock_lock.acquire(), waits.append(d), clock_lock.release()))

    def worker() -> None:
        for _ in range(5):
            b.acquire()

    ts = [threading.Thread(target=worker) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    # with a frozen clock, the 20 reservations queue up 1/4 s apart: 0.25, 0.5, ... 4.75
    assert sorted(waits) == pytest.approx([0.25 * k for k in range(1, 20)])


def test_unreachable_endpoint_gives_up_early_only_if_nothing_ever_answered():
    from eksaudit.cloudwatch.client import TransientAwsError
    from eksaudit.cloudwatch.retry import UNREACHABLE_ATTEMPTS, RetryPolicy
    from eksaudit.errors import AwsError

    calls = []

    def down():
        calls.append(1)
        raise TransientAwsError("unreachable", "FilterLogEvents: cannot connect")

    policy = RetryPolicy(sleep=lambda s: None, clock=lambda: 0.0)
    with pytest.raises(AwsError, match="cannot reach CloudWatch Logs"):
        policy.call(down)
    assert len(calls) == UNREACHABLE_ATTEMPTS

    # once the endpoint has answered, an outage is retried like any other connection problem
    policy = RetryPolicy(sleep=lambda s: None, clock=lambda: 0.0)
    policy.call(lambda: "ok")
    outcomes = iter([True] * 10 + [False])

    def flaky():
        if next(outcomes):
            raise TransientAwsError("unreachable", "FilterLogEvents: cannot connect")
        return "back"

    assert policy.call(flaky) == "back"
    # and watch never gives up on it
    never = RetryPolicy(sleep=lambda s: None, clock=lambda: 0.0, unreachable_attempts=None)
    outcomes = iter([True] * 10 + [False])
    assert never.call(flaky) == "back"
