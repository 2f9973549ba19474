"""run_insights against moto's server (slicing, row-cap bisection, dedup, order, close) and a
scripted fake client for the statuses moto cannot produce (Failed, Timeout, endless Running)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from support.moto import audit_message, create_group, logs_client, put_events

from eksaudit.cloudwatch.client import AwsTarget, make_client
from eksaudit.cloudwatch.insights import parse_insights_time, run_insights
from eksaudit.cloudwatch.retry import RetryPolicy
from eksaudit.errors import AwsError
from eksaudit.timewindow import Window

GROUP = "/aws/eks/demo/cluster"


class Recorder:
    """Wraps a client and records the operations called (to check StopQuery and query counts)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self.inner, name)

        def call(**params: Any) -> Any:
            self.calls.append((name, params))
            return fn(**params)

        return call

    def count(self, op: str) -> int:
        return sum(1 for n, _ in self.calls if n == op)


@pytest.fixture
def loaded(moto_endpoint: str) -> tuple[str, int, list[tuple[int, str]]]:
    """60 audit events over 10 minutes in two streams, plus one duplicate (same auditID and stage)."""
    base = (int(time.time()) - 3600) * 1000
    raw = logs_client(moto_endpoint)
    create_group(raw, GROUP, ["kube-apiserver-audit-a", "kube-apiserver-audit-b"])
    a, b = [], []
    for i in range(60):
        ts = base + i * 10_000 + (i % 7)
        (a if i % 2 else b).append((ts, audit_message(i, ts, verb="delete" if i % 3 == 0 else "get")))
    dup_ts, dup_msg = a[5]
    b.append((dup_ts + 1, dup_msg))  # the same event logged twice
    put_events(raw, GROUP, "kube-apiserver-audit-a", a)
    put_events(raw, GROUP, "kube-apiserver-audit-b", b)
    return moto_endpoint, base, sorted(a + b)


def _ids(events: list[Any]) -> list[str]:
    return [json.loads(e.raw)["auditID"] for e in events]


def _expected(events: list[tuple[int, str]], start: int, end: int) -> list[str]:
    out, seen = [], set()
    for ts, msg in events:
        aid = json.loads(msg)["auditID"]
        if start <= ts < end and aid not in seen:
            seen.add(aid)
            out.append(aid)
    return out


def _client(endpoint: str) -> Any:
    return make_client(AwsTarget(GROUP, endpoint_url=endpoint))


def test_insights_moto_whole_window_in_order_once(loaded: tuple[str, int, list[tuple[int, str]]]) -> None:
    endpoint, base, events = loaded
    start, end = base + 15_000, base + 500_000  # boundaries cut inside the data
    stats: dict[str, int] = {}
    out = list(run_insights(_client(endpoint), AwsTarget(GROUP), Window(start, end), None, None,
                            slices=3, sleep=lambda s: None, stats=stats))
    assert _ids(out) == _expected(events, start, end)
    ts = [e.cw.timestamp for e in out]
    assert ts == sorted(ts) and all(start <= t < end for t in ts)
    assert {e.cw.log_stream for e in out} == {"kube-apiserver-audit-a", "kube-apiserver-audit-b"}
    assert all(e.cw.log_group == GROUP for e in out)
    assert stats["queries"] == 3 and stats["bisections"] == 0


def test_insights_moto_row_cap_bisects_until_complete(loaded: tuple[str, int, list[tuple[int, str]]]) -> None:
    endpoint, base, events = loaded
    start, end = base, base + 600_000
    stats: dict[str, int] = {}
    rec = Recorder(_client(endpoint))
    out = list(run_insights(rec, AwsTarget(GROUP), Window(start, end), None, None,
                            slices=1, row_cap=7, sleep=lambda s: None, stats=stats))
    assert _ids(out) == _expected(events, start, end)
    assert stats["bisections"] >= 8  # 61 rows with at most 7 per complete slice
    assert stats["duplicates"] == 1
    for _, params in rec.calls:
        if "queryString" in params:
            assert params["queryString"].endswith("| sort @timestamp asc | limit 7")
            assert params["startTime"] <= params["endTime"]


def test_insights_moto_close_stops_the_prefetched_query(loaded: tuple[str, int, list[tuple[int, str]]]) -> None:
    endpoint, base, _ = loaded
    rec = Recorder(_client(endpoint))
    gen = run_insights(rec, AwsTarget(GROUP), Window(base, base + 600_000), None, None, slices=4,
                       sleep=lambda s: None)
    first = next(gen)
    assert first.cw is not None
    gen.close()  # moto answers StopQuery with HTTP 500: must be swallowed
    assert rec.count("stop_query") == 1
    assert rec.count("start_query") == 2  # the first slice and the prefetched second one


# ------------------------------------------------------------------------- scripted fake client


class FakeInsights:
    """Answers GetQueryResults from a script of (status, rows, nextToken) per call."""

    def __init__(self, script: list[dict[str, Any]], *, start_error: Exception | None = None) -> None:
        self.script = script
        self.start_error = start_error
        self.stopped: list[str] = []
        self.started = 0

    def start_query(self, **params: Any) -> dict[str, Any]:
        if self.start_error is not None:
            raise self.start_error
        self.started += 1
        return {"queryId": f"q{self.started}"}

    def get_query_results(self, **params: Any) -> dict[str, Any]:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def stop_query(self, **params: Any) -> dict[str, Any]:
        self.stopped.append(params["queryId"])
        return {"success": True}


def _row(i: int, ts: int) -> list[dict[str, str]]:
    return [
        {"field": "@timestamp", "value": "2026-01-02 03:04:05.678" if ts < 0 else str(ts)},
        {"field": "@message", "value": audit_message(i, ts)},
        {"field": "@logStream", "value": "kube-apiserver-audit-x"},
        {"field": "@ptr", "value": f"p{i}"},
    ]


W = Window(1_700_000_000_000, 1_700_000_060_000)


@pytest.mark.parametrize("status", ["Failed", "Timeout", "Cancelled", "Unknown"])
def test_insights_terminal_statuses_raise_one_clear_line(status: str) -> None:
    fake = FakeInsights([{"status": "Running"}, {"status": status}])
    slept: list[float] = []
    with pytest.raises(AwsError) as ei:
        list(run_insights(fake, AwsTarget(GROUP), W, None, None, slices=1, sleep=slept.append, poll=0.5))
    msg = str(ei.value)
    assert f"ended with status {status}" in msg and "q1" in msg and "\n" not in msg
    assert "2023-11-14T22:13:20.000Z" in msg
    assert slept == [0.5]


def test_insights_running_too_long_is_stopped_and_reported() -> None:
    fake = FakeInsights([{"status": "Running"}])
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    with pytest.raises(AwsError, match="still running after 30s; stopped it"):
        list(run_insights(fake, AwsTarget(GROUP), W, None, None, slices=1, sleep=sleep,
                          clock=lambda: now[0], max_wait=30, poll=1.0))
    assert fake.stopped == ["q1"]


def test_insights_scheduled_then_paged_results() -> None:
    ts0 = W.start_ms
    fake = FakeInsights([
        {"status": "Scheduled"},
        {"status": "Complete", "results": [_row(1, ts0 + 5), _row(0, ts0 + 1)], "nextToken": "t1"},
        {"status": "Complete", "results": [_row(2, ts0 + 9), _row(1, ts0 + 5)]},
    ])
    out = list(run_insights(fake, AwsTarget(GROUP), W, None, None, slices=1, sleep=lambda s: None))
    assert [e.cw.timestamp - ts0 for e in out] == [1, 5, 9]  # sorted, the repeated row deduplicated


def test_insights_access_denied_propagates_without_stop() -> None:
    fake = FakeInsights([], start_error=AwsError("access denied calling start_query: grant logs:StartQuery"))
    with pytest.raises(AwsError, match="access denied"):
        list(run_insights(fake, AwsTarget(GROUP), W, None, None, slices=1, sleep=lambda s: None))
    assert fake.stopped == []


def test_insights_unsplittable_cap_warns_and_keeps_events() -> None:
    ts0 = W.start_ms
    rows = [_row(i, ts0 + 100) for i in range(3)]
    fake = FakeInsights([{"status": "Complete", "results": rows}])
    warnings: list[str] = []
    out = list(run_insights(fake, AwsTarget(GROUP), Window(ts0, ts0 + 1000), None, None, slices=1,
                            row_cap=3, sleep=lambda s: None, on_warning=warnings.append))
    assert len(out) == 3
    assert len(warnings) == 1 and "3-row cap" in warnings[0] and "--engine events" in warnings[0]


def test_insights_transient_errors_are_retried() -> None:
    from eksaudit.cloudwatch.client import TransientAwsError

    class Flaky(FakeInsights):
        fails = 2

        def start_query(self, **params: Any) -> dict[str, Any]:
            if self.fails:
                self.fails -= 1
                raise TransientAwsError("throttle", "start_query: LimitExceededException")
            return super().start_query(**params)

    fake = Flaky([{"status": "Complete", "results": [_row(0, W.start_ms)]}])
    out = list(run_insights(fake, AwsTarget(GROUP), W, None, None, slices=1, sleep=lambda s: None,
                            retry=RetryPolicy(sleep=lambda s: None)))
    assert len(out) == 1 and fake.started == 1


def test_parse_insights_time_formats() -> None:
    assert parse_insights_time("2026-01-02 03:04:05.678") == 1767323045678
    assert parse_insights_time("1767323045678") == 1767323045678
    assert parse_insights_time("garbage") is None


def test_insights_moto_with_a_pushed_filter(loaded: tuple[str, int, list[tuple[int, str]]]) -> None:
    """moto ignores `filter`, so every event comes back; the query string must still be accepted."""
    from eksaudit.condition import compile_condition, parse
    from eksaudit.fields import default_registry

    endpoint, base, events = loaded
    reg = default_registry()
    cond = compile_condition(parse("ka.verb = delete and ka.target.resource startswith po"), reg)
    rec = Recorder(_client(endpoint))
    out = list(run_insights(rec, AwsTarget(GROUP), Window(base, base + 600_000), cond.ast, reg, slices=2,
                            sleep=lambda s: None))
    q = next(p["queryString"] for n, p in rec.calls if n == "start_query")
    assert 'filter verb = "delete" and objectRef.resource like /^po/' in q
    kept = [e for e in out if cond.matches(e)]
    assert len(kept) == 20 and len(out) == len(_expected(events, base, base + 600_000))
