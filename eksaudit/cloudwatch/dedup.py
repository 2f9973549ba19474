"""Deduplicating CloudWatch events: the keys that say "the same event", and a bounded set of them.

Every reader re-reads on purpose (a restarted query, a resumed `--state`, watch's confirming pass,
overlapping Insights slices), so each needs a key; they differ because what the source gives differs:

* `group_key(group, eventId)` (fetch's cursor): FilterLogEvents gives every event an eventId,
  unique within its log group, so the id is the key; over several groups it is `GROUP|eventId`.
  Saved in fetch state files (`cursor.ids`).
* `record_key(rec)` (watch): the same, but a record without an eventId (a test double, a proxy
  that drops it) must still be printed once, so it falls back to `content_key`. Saved in watch
  state files (`seen`): its spelling must not change, or a resumed watch prints events again.
* `insights_key(ev)` (Logs Insights): rows carry no eventId, so an audit event is known by its
  `auditID|stage` (the API server writes one line per stage), any other line by its content.
  Kept in memory only.

`SeenIds` holds keys, evicted by event timestamp: a polling tail re-reads a time range (fresh
pass, then a confirming pass after the lag allowance), so the same key comes back. A key is
needed only while its timestamp can still be re-read: once the confirming cursor has passed a
timestamp, nothing at or before it is ever asked for again. Keys are therefore kept in per-second
buckets and dropped a whole bucket at a time, so memory is about rate x (lag + poll) keys and
pruning costs O(evicted).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..events.event import AuditEvent


def group_key(group: str | None, key: str) -> str:
    """`GROUP|key` when events of several log groups share one cursor or memory, else `key`."""
    return f"{group}|{key}" if group else key


def content_key(stream: str, timestamp: int, data: bytes) -> str:
    """An event without an id: its stream, timestamp and a digest of its bytes."""
    return f"{stream}|{timestamp}|{hashlib.sha1(data).hexdigest()}"


def record_key(rec: Mapping[str, Any]) -> str:
    """watch's key of a FilterLogEvents record: eventId, else `content_key` of the message; records
    tagged with `logGroupName` (a watch over several groups) are keyed `GROUP|...`."""
    eid = rec.get("eventId")
    if eid:
        key = str(eid)
    else:
        message = str(rec.get("message", "")).encode("utf-8", "surrogatepass")
        key = content_key(rec.get("logStreamName", ""), rec.get("timestamp", 0), message)
    return group_key(rec.get("logGroupName"), key)


def insights_key(ev: AuditEvent) -> str:
    """A Logs Insights event's key: `auditID|stage` for audit events, `raw|` + `content_key` otherwise."""
    o = ev.obj
    if isinstance(o, dict) and "auditID" in o:
        return f"{o.get('auditID')}|{o.get('stage')}"
    cw = ev.cw
    stream, ts = (cw.log_stream or "", cw.timestamp or 0) if cw is not None else ("", 0)
    return "raw|" + content_key(stream, ts, ev.raw)


class SeenIds:
    """key -> timestamp (ms); `prune_before(ms)` forgets keys whose whole second is older."""

    __slots__ = ("_ids", "_buckets", "_heap")

    def __init__(self, items: Iterable[tuple[str, int]] = ()) -> None:
        self._ids: dict[str, int] = {}
        self._buckets: dict[int, list[str]] = {}
        self._heap: list[int] = []
        for key, ts in items:
            self.add(key, ts)

    def add(self, key: str, ts_ms: int) -> bool:
        """Remember `key`; True when it was not seen before (the event is new)."""
        if key in self._ids:
            return False
        self._ids[key] = ts_ms
        b = ts_ms // 1000
        bucket = self._buckets.get(b)
        if bucket is None:
            self._buckets[b] = [key]
            heapq.heappush(self._heap, b)
        else:
            bucket.append(key)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def prune_before(self, watermark_ms: int) -> int:
        """Forget ids in seconds that end at or before `watermark_ms`; returns how many were dropped.

        The second that holds the watermark is kept whole: keeping a few extra ids is harmless,
        dropping one that can still be re-read would print its event twice.
        """
        dropped = 0
        heap = self._heap
        while heap and (heap[0] + 1) * 1000 <= watermark_ms:
            b = heapq.heappop(heap)
            for key in self._buckets.pop(b, ()):
                self._ids.pop(key, None)
                dropped += 1
        return dropped

    def items(self) -> Iterator[tuple[str, int]]:
        """(eventId, timestamp) pairs, oldest second first (for the checkpoint)."""
        for b in sorted(self._buckets):
            for key in self._buckets[b]:
                yield key, self._ids[key]
