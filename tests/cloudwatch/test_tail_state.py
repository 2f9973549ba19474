"""The state files of fetch and watch (one format, one atomic write, one query hash), the dedup keys
and the bounded dedup set behind watch's memory."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eksaudit.cloudwatch.checkpoint import (
    Checkpoint,
    WatchCheckpoint,
    WatchState,
    query_hash,
    query_identity,
    write_atomically,
)
from eksaudit.cloudwatch.dedup import SeenIds, group_key, insights_key, record_key
from eksaudit.cloudwatch.tail import to_audit_event
from eksaudit.errors import UsageError
from eksaudit.events.event import AuditEvent, CwMeta
from eksaudit.timewindow import Window

# State files written by eksaudit before fetch and watch shared one format (commit e38bc03): users
# keep them between runs, so each must still resume the query it was written for.
LEGACY = Path(__file__).resolve().parents[1] / "data" / "checkpoints"
PROD = ["/aws/eks/prod/cluster"]
FLEET = ["/aws/eks/prod/cluster", "/aws/eks/staging/cluster"]
PREFIX = "kube-apiserver-audit"
PATTERN = '{ $.verb = "delete" }'


def test_seen_ids_prune_whole_seconds_only():
    s = SeenIds([("a", 1_000), ("b", 1_999), ("c", 2_000), ("d", 2_500), ("e", 3_000)])
    assert not s.add("c", 2_000) and s.add("f", 500)
    assert s.prune_before(2_400) == 3  # f, a, b: their seconds end at or before 2.4 s; c, d kept
    assert "c" in s and "d" in s and "a" not in s and len(s) == 3
    assert list(s.items()) == [("c", 2_000), ("d", 2_500), ("e", 3_000)]
    assert s.prune_before(10_000) == 3 and len(s) == 0
    assert s.add("a", 1_000)  # forgotten ids are new again (their range is never re-read)


def _watch(path: Path, groups=PROD, filter_expr=None, rules=None) -> WatchCheckpoint:
    return WatchCheckpoint(path, query_identity(groups, PREFIX, filter_expr, None, rules, None))


def test_watch_state_round_trip_and_atomic_save(tmp_path: Path):
    st = WatchState(confirm_ms=10, fast_ms=20, lag_ms=5_000, seen=[("1", 11), ("2", 19)], lag_samples=[(15, 300)],
                    delivered=7, late=1)
    path = tmp_path / "w.json"
    store = _watch(path)
    store.save(st)
    assert store.load() == st
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]  # no temp file left behind
    data = json.loads(path.read_text())
    assert data["mode"] == "watch" and data["version"] == 1 and data["seen"] == [["1", 11], ["2", 19]]
    # the same header as fetch's: the query itself, its hash, the tool
    assert data["query"]["log_group"] == PROD[0] and data["query_hash"] == query_hash(data["query"])
    assert data["tool"] == "eksaudit"


def test_a_failed_save_keeps_the_previous_file(tmp_path: Path, monkeypatch):
    path = tmp_path / "w.json"
    store = _watch(path)
    store.save(WatchState(1, 1, 1))

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        store.save(WatchState(2, 2, 2))
    with pytest.raises(OSError):
        write_atomically(path, b"{}")
    assert json.loads(path.read_text())["confirm_ms"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["w.json"]


def test_watch_refuses_what_it_cannot_resume(tmp_path: Path):
    assert _watch(tmp_path / "missing.json").load() is None
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert _watch(empty).load() is None
    cases = {
        "[1, 2]": "not a watch state file",
        "{not json": "is not JSON",
        '{"mode": "fetch", "version": 1}': "written by eksaudit fetch, not watch",
        '{"mode": "tail", "version": 1}': "field mode: expected 'watch'",
        '{"mode": "watch", "version": 9}': "field version: expected 1",
        '{"mode": "watch", "version": 1, "fast_ms": 1}': "field confirm_ms: expected a non-negative integer",
        '{"mode": "watch", "version": 1, "confirm_ms": "abc", "fast_ms": 1, "lag_ms": 0}': "field confirm_ms",
        '{"mode": "watch", "version": 1, "confirm_ms": 5, "fast_ms": 1, "lag_ms": 0}': "field fast_ms: 1 is before",
        '{"mode": "watch", "version": 1, "confirm_ms": 1, "fast_ms": 1, "lag_ms": 0, "seen": [["a"]]}': "field seen",
        '{"mode": "watch", "version": 1, "confirm_ms": 1, "fast_ms": 1, "lag_ms": 0, "late": -1}': "field late",
        '{"mode": "watch", "version": 1, "confirm_ms": 1, "fast_ms": 1, "lag_ms": 0, "output": {"path": 1}}': "field output",
    }
    for text, message in cases.items():
        f = tmp_path / "s.json"
        f.write_text(text)
        with pytest.raises(UsageError, match=message) as e:
            _watch(f).load()
        assert str(e.value).startswith(f"state file {f}")  # one wording for every state file problem
    f = tmp_path / "q.json"
    _watch(f, filter_expr="ka.verb=get").save(WatchState(1, 1, 1))
    with pytest.raises(UsageError, match="belongs to a different query .*filter=ka.verb=get"):
        _watch(f, filter_expr="ka.verb=delete").load()


def test_fetch_refuses_a_watch_file_and_the_other_way_round(tmp_path: Path):
    f = tmp_path / "s.json"
    _watch(f).save(WatchState(1, 1, 1))
    identity = query_identity(PROD, PREFIX, None, None, None, None, engine="events")
    with pytest.raises(UsageError, match="written by eksaudit watch, not fetch"):
        Checkpoint.open(f, identity, Window(0, 10))
    ck = Checkpoint(f, identity, Window(0, 10), slices=[(0, 10)])
    ck.save()
    with pytest.raises(UsageError, match="written by eksaudit fetch, not watch"):
        _watch(f).load()


@pytest.mark.parametrize(("name", "groups", "filter_expr", "pattern", "rules", "min_priority"), [
    ("watch-one-group.json", PROD, "ka.verb=delete", PATTERN, None, None),
    ("watch-two-groups.json", FLEET, None, None, ["eks"], "WARNING"),
])
def test_a_watch_file_written_before_the_formats_were_one_still_resumes(
    tmp_path: Path, name, groups, filter_expr, pattern, rules, min_priority
):
    path = tmp_path / name
    path.write_bytes((LEGACY / name).read_bytes())
    identity = query_identity(groups, PREFIX, filter_expr, pattern, rules, min_priority)
    st = WatchCheckpoint(path, identity).load()
    assert st is not None and (st.confirm_ms, st.fast_ms, st.lag_ms, st.delivered, st.late) == (
        1_780_000_000_000, 1_780_000_005_000, 12_000, 2, 1
    )
    assert [ts for _, ts in st.seen] == [1_780_000_001_000, 1_780_000_002_000]
    assert st.lag_samples == [(1_780_000_001_500, 500)]
    assert st.output == ({"path": "/tmp/w.jsonl", "bytes": 100} if len(groups) == 1 else None)
    other = query_identity(groups, PREFIX, "ka.verb=get", pattern, rules, min_priority)
    with pytest.raises(UsageError, match="belongs to a different query"):
        WatchCheckpoint(path, other).load()
    WatchCheckpoint(path, identity).save(st)  # the next save writes today's format; it still resumes
    assert json.loads(path.read_text())["query_hash"] == query_hash(identity)
    assert WatchCheckpoint(path, identity).load() == st


@pytest.mark.parametrize(("name", "groups", "filter_expr", "pattern", "rules"), [
    ("fetch-one-group.json", PROD, "ka.verb=delete", PATTERN, ["eks"]),
    ("fetch-two-groups.json", FLEET, None, None, None),
])
def test_a_fetch_file_written_before_the_formats_were_one_still_resumes(
    tmp_path: Path, name, groups, filter_expr, pattern, rules
):
    path = tmp_path / name
    path.write_bytes((LEGACY / name).read_bytes())
    identity = query_identity(groups, PREFIX, filter_expr, pattern, rules, None, engine="events")
    window = Window(1_780_000_000_000, 1_780_000_600_000)
    ck = Checkpoint.open(path, identity, window)
    assert ck.resumed and not ck.complete and ck.window == window
    if len(groups) == 1:
        assert (ck.cursor.slice, ck.cursor.last_ts, ck.delivered) == (1, 1_780_000_400_000, 12)
        assert ck.output == {"path": "/tmp/out.jsonl", "bytes": 4096}
    else:
        assert ck.cursor.ids == [f"{g}|7" for g in FLEET] and ck.delivered == 3
    with pytest.raises(UsageError, match="belongs to a different query"):
        Checkpoint.open(path, {**identity, "filter": "ka.verb=get"}, window)


def test_the_dedup_keys():
    rec = {"eventId": "9", "timestamp": 5, "logStreamName": "s", "message": "m"}
    assert record_key(rec) == "9" and record_key({**rec, "logGroupName": "/g"}) == "/g|9"
    no_id = record_key({**rec, "eventId": None})
    assert no_id.startswith("s|5|") and no_id != record_key({**rec, "eventId": None, "message": "n"})
    assert group_key(None, "9") == "9" and group_key("/g", "9") == "/g|9"
    audit = AuditEvent(b'{"auditID":"a1","stage":"ResponseComplete"}', cw=CwMeta(log_stream="s", timestamp=5))
    assert insights_key(audit) == "a1|ResponseComplete"
    other = AuditEvent(b"plain text", cw=CwMeta(log_stream="s", timestamp=5))
    assert insights_key(other).startswith("raw|s|5|") and insights_key(AuditEvent(b"plain text")).startswith("raw||0|")


def test_records_become_events_with_their_bytes_and_metadata():
    ev = to_audit_event(
        {"eventId": "9", "timestamp": 5, "ingestionTime": 7, "logStreamName": "s", "message": '{"a":"é"}\r\n'}, "/g"
    )
    assert ev.raw == '{"a":"é"}'.encode()
    assert (ev.cw.event_id, ev.cw.timestamp, ev.cw.ingestion_time, ev.cw.log_stream, ev.cw.log_group) == (
        "9", 5, 7, "s", "/g"
    )


def test_save_history_gives_the_newest_save_the_reader_surely_got():
    from eksaudit.cloudwatch.outfile import SaveHistory

    h = SaveHistory("start", limit=3)
    assert h.at_most(0) == "start"
    for written, save in [(10, "a"), (20, "b"), (30, "c"), (40, "d")]:
        h.add(written, save)
    assert h.at_most(35) == "c" and h.at_most(40) == "d" and h.at_most(29) == "b"
    assert h.at_most(15) == "start"  # "a" was dropped (limit 3): the run's start, never a later save
