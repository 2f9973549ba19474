"""The watch checkpoint file and the bounded dedup set behind it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eksaudit.cloudwatch.dedup import SeenIds
from eksaudit.cloudwatch.tail import TailState, load_state, query_hash, save_state, to_audit_event
from eksaudit.errors import UsageError


def test_seen_ids_prune_whole_seconds_only():
    s = SeenIds([("a", 1_000), ("b", 1_999), ("c", 2_000), ("d", 2_500), ("e", 3_000)])
    assert not s.add("c", 2_000) and s.add("f", 500)
    assert s.prune_before(2_400) == 3  # f, a, b: their seconds end at or before 2.4 s; c, d kept
    assert "c" in s and "d" in s and "a" not in s and len(s) == 3
    assert list(s.items()) == [("c", 2_000), ("d", 2_500), ("e", 3_000)]
    assert s.prune_before(10_000) == 3 and len(s) == 0
    assert s.add("a", 1_000)  # forgotten ids are new again (their range is never re-read)


def test_state_round_trip_and_atomic_save(tmp_path: Path):
    st = TailState(confirm_ms=10, fast_ms=20, lag_ms=5_000, seen=[("1", 11), ("2", 19)],
                   lag_samples=[(15, 300)], query=query_hash("/g", "p", None), delivered=7, late=1)
    path = tmp_path / "w.json"
    save_state(str(path), st)
    assert load_state(str(path), query=st.query) == st
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]  # no temp file left behind
    data = json.loads(path.read_text())
    assert data["mode"] == "watch" and data["version"] == 1 and data["seen"] == [["1", 11], ["2", 19]]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch):
    path = tmp_path / "w.json"
    save_state(str(path), TailState(1, 1, 1))

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_state(str(path), TailState(2, 2, 2))
    assert json.loads(path.read_text())["confirm_ms"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]


def test_load_state_rejects_what_it_cannot_resume(tmp_path: Path):
    assert load_state(str(tmp_path / "missing.json")) is None
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert load_state(str(empty)) is None
    cases = {
        "[1, 2]": "not a watch checkpoint",
        '{"mode": "fetch", "version": 1}': "not a watch checkpoint",
        '{"mode": "watch", "version": 9}': "field version: expected 1",
        '{"mode": "watch", "version": 1, "fast_ms": 1}': "field confirm_ms: expected a non-negative integer",
        '{"mode": "watch", "version": 1, "confirm_ms": "abc", "fast_ms": 1, "lag_ms": 0}': "field confirm_ms",
        '{"mode": "watch", "version": 1, "confirm_ms": 5, "fast_ms": 1, "lag_ms": 0}': "field fast_ms: 1 is before",
        '{"mode": "watch", "version": 1, "confirm_ms": 1, "fast_ms": 1, "lag_ms": 0, "seen": [["a"]]}': "field seen",
        '{"mode": "watch", "version": 1, "confirm_ms": 1, "fast_ms": 1, "lag_ms": 0, "output": {"path": 1}}': "field output",
    }
    for text, message in cases.items():
        f = tmp_path / "s.json"
        f.write_text(text)
        with pytest.raises(UsageError, match=message):
            load_state(str(f))
    f = tmp_path / "q.json"
    save_state(str(f), TailState(1, 1, 1, query=query_hash("/a")))
    with pytest.raises(UsageError, match="another log group"):
        load_state(str(f), query=query_hash("/b"))


def test_records_become_events_with_their_bytes_and_metadata():
    ev = to_audit_event(
        {"eventId": "9", "timestamp": 5, "ingestionTime": 7, "logStreamName": "s", "message": '{"a":"é"}\r\n'}, "/g"
    )
    assert ev.raw == '{"a":"é"}'.encode()
    assert (ev.cw.event_id, ev.cw.timestamp, ev.cw.ingestion_time, ev.cw.log_stream, ev.cw.log_group) == (
        "9", 5, 7, "s", "/g"
    )
