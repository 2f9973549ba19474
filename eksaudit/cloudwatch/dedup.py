"""Bounded dedup of CloudWatch events by eventId, evicted by event timestamp.

A polling tail re-reads a time range (fresh pass, then a confirming pass after the lag allowance),
so the same eventId comes back. An id is needed only while its timestamp can still be re-read:
once the confirming cursor has passed a timestamp, nothing at or before it is ever asked for
again. Ids are therefore kept in per-second buckets and dropped a whole bucket at a time, so
memory is about rate x (lag + poll) ids and pruning costs O(evicted).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator


class SeenIds:
    """eventId -> timestamp (ms); `prune_before(ms)` forgets ids whose whole second is older."""

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
