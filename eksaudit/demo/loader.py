"""Load events into CloudWatch Logs through the real API (PutLogEvents), as fast as the limits allow.

Used by `eksaudit demo` and the benchmarks against the local endpoint; it works the same against
AWS. Batches respect every PutLogEvents limit: at most 10,000 events and 1,048,576 bytes (each
event's UTF-8 message plus 26 bytes), chronological order, and a span under 24 hours. Streams are
loaded in parallel (one thread per stream, at most `workers`), since each stream is its own
sequence of batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import AwsError, InputError

MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = MAX_BATCH_BYTES - EVENT_OVERHEAD
MAX_BATCH_SPAN_MS = 24 * 3_600_000


def local_client(endpoint: str, region: str = "us-east-1") -> Any:
    """A plain boto3 client for loading a local endpoint (any credentials are accepted there).

    Kept apart from the query client (cloudwatch/client.py): loading needs none of its retry or
    error translation, and must not pick up the user's AWS profile.
    """
    import boto3
    from botocore.config import Config

    return boto3.client(
        "logs",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=8),
    )


def batches(events: Iterable[tuple[int, str]], *, stream: str = "") -> Iterable[list[dict[str, Any]]]:
    """Split `(timestamp_ms, message)` pairs (sorted here, stably) into PutLogEvents batches."""
    ordered = sorted(events, key=lambda e: e[0])
    batch: list[dict[str, Any]] = []
    size = 0
    first = 0
    for n, (ts, msg) in enumerate(ordered, 1):
        if not msg:
            raise InputError("CloudWatch Logs does not accept an empty message", source=stream or None, line=n)
        b = len(msg.encode("utf-8")) + EVENT_OVERHEAD
        if b > MAX_BATCH_BYTES:
            raise InputError(
                f"event of {b - EVENT_OVERHEAD} bytes exceeds CloudWatch's limit of {MAX_EVENT_BYTES} bytes",
                source=stream or None, line=n,
            )
        if batch and (len(batch) >= MAX_BATCH_EVENTS or size + b > MAX_BATCH_BYTES or ts - first >= MAX_BATCH_SPAN_MS):
            yield batch
            batch, size = [], 0
        if not batch:
            first = ts
        batch.append({"timestamp": int(ts), "message": msg})
        size += b
    if batch:
        yield batch


def _error_code(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _create(call: Any, **kwargs: Any) -> None:
    """Create a group or stream; one that already exists is fine."""
    try:
        call(**kwargs)
    except Exception as e:
        if _error_code(e) != "ResourceAlreadyExistsException":
            raise AwsError(f"CloudWatch Logs: {e}") from e


def _load_stream(client: Any, log_group: str, stream: str, events: Iterable[tuple[int, str]]) -> int:
    _create(client.create_log_stream, logGroupName=log_group, logStreamName=stream)
    count = 0
    for batch in batches(events, stream=stream):
        try:
            resp = client.put_log_events(logGroupName=log_group, logStreamName=stream, logEvents=batch)
        except Exception as e:
            raise AwsError(f"PutLogEvents to {log_group}/{stream} failed: {e}") from e
        rejected = resp.get("rejectedLogEventsInfo")
        if rejected:
            raise AwsError(
                f"CloudWatch Logs rejected events in {log_group}/{stream} ({rejected}): "
                "timestamps must be within 14 days in the past and 2 hours in the future"
            )
        count += len(batch)
    return count


def load_to_cloudwatch(
    client: Any,
    log_group: str,
    events_by_stream: Mapping[str, Iterable[tuple[int, str]]],
    *,
    workers: int = 4,
) -> dict[str, int]:
    """Create `log_group` and its streams and put every `(timestamp_ms, message)`; returns counts per stream.

    `client` is a boto3 CloudWatch Logs client (e.g. `local_client(endpoint)`).
    """
    _create(client.create_log_group, logGroupName=log_group)
    streams = list(events_by_stream.items())
    if not streams:
        return {}
    if workers <= 1 or len(streams) == 1:
        return {s: _load_stream(client, log_group, s, ev) for s, ev in streams}
    with ThreadPoolExecutor(max_workers=min(workers, len(streams))) as pool:
        futures = {s: pool.submit(_load_stream, client, log_group, s, ev) for s, ev in streams}
        return {s: f.result() for s, f in futures.items()}
