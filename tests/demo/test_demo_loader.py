"""Loading CloudWatch through the real API (moto on 127.0.0.1): counts, order and PutLogEvents limits."""

from __future__ import annotations

import time

import pytest
from support.moto import logs_client

from eksaudit.demo.generator import generate_lines
from eksaudit.demo.loader import (
    EVENT_OVERHEAD,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_BATCH_SPAN_MS,
    batches,
    load_to_cloudwatch,
)
from eksaudit.demo.scenario import build_scenario
from eksaudit.errors import InputError

NOW = 1_800_000_000_000


class Recorder:
    """Wraps a client and records every PutLogEvents batch, to check the limits moto does not enforce."""

    def __init__(self, client):
        self.client = client
        self.batches: list[list[dict]] = []

    def __getattr__(self, name):
        return getattr(self.client, name)

    def put_log_events(self, **kw):
        self.batches.append(kw["logEvents"])
        return self.client.put_log_events(**kw)


def _all_events(client, group: str, stream: str) -> list[dict]:
    out, token = [], None
    while True:
        kw = {"logGroupName": group, "logStreamNames": [stream], "limit": 10_000}
        if token:
            kw["nextToken"] = token
        page = client.filter_log_events(**kw)
        out.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return out


def _check_limits(batch: list[dict]) -> None:
    assert len(batch) <= MAX_BATCH_EVENTS
    assert sum(len(e["message"].encode()) + EVENT_OVERHEAD for e in batch) <= MAX_BATCH_BYTES
    ts = [e["timestamp"] for e in batch]
    assert ts == sorted(ts) and ts[-1] - ts[0] < MAX_BATCH_SPAN_MS


def test_scenario_loads_with_counts_per_stream(moto_endpoint):
    scenario = build_scenario(now_ms=int(time.time() * 1000))
    client = Recorder(logs_client(moto_endpoint))
    by_stream = scenario.by_stream()
    counts = load_to_cloudwatch(client, scenario.log_group, by_stream)
    assert counts == {s: len(v) for s, v in by_stream.items()}
    for b in client.batches:
        _check_limits(b)
    stream = max(by_stream, key=lambda s: len(by_stream[s]))
    stored = _all_events(client.client, scenario.log_group, stream)
    assert [e["message"] for e in stored] == [m for _t, m in by_stream[stream]]
    # loading again into the existing group and streams is accepted
    assert load_to_cloudwatch(client, scenario.log_group, {stream: by_stream[stream][:5]}) == {stream: 5}


def test_large_events_split_by_bytes(moto_endpoint):
    now = int(time.time() * 1000)
    big = "x" * 300_000
    events = [(now - 3_600_000 + i, f'{{"n":{i},"pad":"{big}"}}') for i in range(7)]
    events.append((now - 3_600_000 + 7, "y" * (MAX_BATCH_BYTES - EVENT_OVERHEAD)))  # exactly the largest allowed
    client = Recorder(logs_client(moto_endpoint))
    counts = load_to_cloudwatch(client, "/aws/eks/big/cluster", {"kube-apiserver-audit-big": events}, workers=1)
    assert counts == {"kube-apiserver-audit-big": 8}
    assert [len(b) for b in client.batches] == [3, 3, 1, 1]
    for b in client.batches:
        _check_limits(b)


def test_batches_split_by_count_span_and_sort():
    many = [(NOW + i, "m") for i in range(MAX_BATCH_EVENTS * 2 + 5)]
    assert [len(b) for b in batches(reversed(many))] == [MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 5]
    assert next(iter(batches(reversed(many))))[0]["timestamp"] == NOW
    spread = [(NOW, "a"), (NOW + MAX_BATCH_SPAN_MS - 1, "b"), (NOW + MAX_BATCH_SPAN_MS, "c")]
    assert [[e["message"] for e in b] for b in batches(spread)] == [["a", "b"], ["c"]]
    lines = [(t, line.decode()) for t, line in generate_lines(2000, with_time=True)]
    assert sum(len(b) for b in batches(lines)) == 2000


def test_bad_events_are_refused_with_the_stream_named():
    with pytest.raises(InputError, match="exceeds CloudWatch's limit"):
        list(batches([(NOW, "z" * MAX_BATCH_BYTES)], stream="s1"))
    with pytest.raises(InputError, match="s1:2: .*empty"):
        list(batches([(NOW, "a"), (NOW + 1, "")], stream="s1"))


def test_rejected_timestamps_are_an_error(moto_endpoint):
    from eksaudit.errors import AwsError

    client = logs_client(moto_endpoint)
    old = int(time.time() * 1000) - 30 * 86_400_000
    with pytest.raises(AwsError, match="rejected"):
        load_to_cloudwatch(client, "/aws/eks/old/cluster", {"kube-apiserver-audit-old": [(old, "old")]})
