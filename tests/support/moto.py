"""A local CloudWatch Logs (moto server on 127.0.0.1:0) and helpers to load it fast.

Import the fixtures into a conftest.py (`from support.moto import moto_server, moto_endpoint`); the
helpers (`logs_client`, `create_group`, `put_events`, `audit_message`) are plain functions so
benchmarks and other helpers' tests can reuse them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from eksaudit.demo.server import LocalCloudWatch

BATCH_EVENTS = 10_000  # PutLogEvents limits (moto does not enforce them; AWS does)
BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
BATCH_SPAN_MS = 24 * 3_600_000 - 1


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalCloudWatch]:
    """One moto server per test process (each xdist worker gets its own)."""
    server = LocalCloudWatch().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_endpoint(moto_server: LocalCloudWatch) -> str:
    """The endpoint URL of a freshly reset moto server."""
    moto_server.reset()
    return moto_server.endpoint


def logs_client(endpoint: str) -> Any:
    """A plain boto3 logs client for loading test data (not the client under test)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "logs",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=16),
    )


def create_group(client: Any, group: str, streams: Sequence[str]) -> None:
    client.create_log_group(logGroupName=group)
    for s in streams:
        client.create_log_stream(logGroupName=group, logStreamName=s)


def _batches(events: Sequence[tuple[int, str]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    first_ts = 0
    for ts, msg in events:
        n = len(msg.encode("utf-8")) + EVENT_OVERHEAD
        if batch and (len(batch) >= BATCH_EVENTS or size + n > BATCH_BYTES or ts - first_ts > BATCH_SPAN_MS):
            yield batch
            batch, size = [], 0
        if not batch:
            first_ts = ts
        batch.append({"timestamp": ts, "message": msg})
        size += n
    if batch:
        yield batch


def put_events(client: Any, group: str, stream: str, events: Iterable[tuple[int, str]]) -> int:
    """Put (timestamp_ms, message) pairs, sorted by time, in batches within PutLogEvents' limits."""
    ordered = sorted(events, key=lambda e: e[0])
    n = 0
    for batch in _batches(ordered):
        resp = client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        rejected = resp.get("rejectedLogEventsInfo")
        if rejected:
            raise AssertionError(f"moto rejected events (timestamps out of range?): {rejected}")
        n += len(batch)
    return n


def audit_message(i: int, ts_ms: int, *, verb: str = "get", resource: str = "pods", pad: int = 0) -> str:
    """A compact audit.k8s.io/v1 Event JSON with a unique auditID (`pad` bytes of padding in userAgent)."""
    iso = f"{ts_ms}"
    return json.dumps(
        {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": f"00000000-0000-4000-8000-{i:012d}",
            "stage": "ResponseComplete",
            "requestURI": f"/api/v1/namespaces/default/{resource}",
            "verb": verb,
            "user": {"username": "system:serviceaccount:default:app", "groups": ["system:authenticated"]},
            "sourceIPs": ["10.0.0.1"],
            "userAgent": "kubectl/v1.30" + ("x" * pad),
            "objectRef": {"resource": resource, "namespace": "default", "apiVersion": "v1"},
            "responseStatus": {"metadata": {}, "code": 200},
            "requestReceivedTimestamp": iso,
            "stageTimestamp": iso,
            "annotations": {"authorization.k8s.io/decision": "allow"},
        },
        separators=(",", ":"),
    )


_AWS_ENV_FROM_THE_MACHINE = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_REGION",
    "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy",
)


def isolate_aws_env(monkeypatch: Any, tmp_path: Path) -> None:
    """Fake credentials and region; no profile, endpoint, proxy or config file from the developer's machine."""
    for k in _AWS_ENV_FROM_THE_MACHINE:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
