"""The watch algorithm against a simulated CloudWatch: fake clock, fake sleep, fake FilterLogEvents.

The fake store makes each event visible to FilterLogEvents only from its `visible_ms` on (ingestion
plus index delay), returns [start, end] inclusive like the service's documentation and moto, and
sorts by timestamp. Time moves only when the tail sleeps, and writers are scheduled on that clock.
"""

from __future__ import annotations

import collections
import itertools
from email.utils import formatdate

import pytest

from eksaudit.cloudwatch.checkpoint import WatchState
from eksaudit.cloudwatch.clock import LagEstimator, ServerClock
from eksaudit.cloudwatch.tail import Tail

T0 = 1_800_000_000.0  # seconds; a fixed "now" for every test
T0_MS = int(T0 * 1000)


class Transient(Exception):
    transient = True


class Fatal(Exception):
    pass


class World:
    def __init__(self, t0: float = T0) -> None:
        self.t = t0
        self.events: list[dict] = []
        self.visible: dict[str, int] = {}
        self.scheduled: list[tuple[float, object]] = []
        self.calls: list[tuple[int, int]] = []
        self.fail_next: list[Exception] = []
        self.ids = itertools.count(1)
        self.horizon = t0 + 3600
        self.page_size = 3
        self.date_hook = None
        self.returned: collections.Counter[str] = collections.Counter()

    # the tail's injected clock and sleep
    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.t += seconds
        if self.t > self.horizon:
            raise AssertionError("the tail did not stop in simulated time")
        due = [f for at, f in self.scheduled if at <= self.t]
        self.scheduled = [(at, f) for at, f in self.scheduled if at > self.t]
        for f in due:
            f()

    @property
    def now_ms(self) -> int:
        return int(self.t * 1000)

    def put(self, ts_ms: int, *, delay_ms: int = 0, visible_delay_ms: int = 0, stream: str = "s1") -> str:
        """An event with timestamp ts, ingested `delay_ms` after it, searchable `visible_delay_ms` later."""
        eid = f"{next(self.ids):08d}"
        ingest = ts_ms + delay_ms
        self.events.append(
            {"eventId": eid, "timestamp": ts_ms, "ingestionTime": ingest, "logStreamName": stream,
             "message": f'{{"auditID":"{eid}","n":{len(self.events)}}}'}
        )
        self.visible[eid] = ingest + visible_delay_ms
        return eid

    def at(self, t: float, fn) -> None:
        self.scheduled.append((t, fn))

    def fetch(self, start: int, end: int):
        self.calls.append((start, end))
        if self.fail_next:
            raise self.fail_next.pop(0)
        if self.date_hook is not None:
            self.date_hook()
        rows = sorted(
            (e for e in self.events if self.visible[e["eventId"]] <= self.now_ms and start <= e["timestamp"] <= end),
            key=lambda e: (e["timestamp"], e["ingestionTime"], e["eventId"]),
        )
        for i in range(0, len(rows), self.page_size):  # lazily, page by page
            for r in rows[i : i + self.page_size]:
                if r["timestamp"] < end:  # (ts == end comes back too, and is dropped by the tail)
                    self.returned[r["eventId"]] += 1
                yield r


def make_tail(w: World, **kw) -> Tail:
    kw.setdefault("poll_s", 1.0)
    kw.setdefault("lag", LagEstimator(fixed_ms=5_000))
    kw.setdefault("start_ms", T0_MS - 10_000)
    return Tail(w.fetch, clock=w.clock, sleep=w.sleep, **kw)


def ids(events) -> list[str]:
    return [e.cw.event_id for e in events]


def test_events_written_while_watching_come_once_in_arrival_order():
    w = World()
    written = []
    for k in range(30):  # one event every 0.5 s, visible 200 ms after its timestamp
        w.at(T0 + k * 0.5, lambda k=k: written.append(w.put(T0_MS + k * 500, delay_ms=200)))
    t = make_tail(w, until_ms=T0_MS + 15_000)
    got = list(t)
    assert ids(got) == written
    assert t.stats.late == 0
    assert t.stats.duplicates > 0  # the confirming pass re-read them
    assert t.confirm_ms == T0_MS + 15_000


def test_late_event_older_than_the_cursor_is_delivered_exactly_once():
    w = World()
    early = [w.put(T0_MS - 3_000 + i) for i in range(5)]  # (ingested at once: the overlap stays short)
    newer = w.put(T0_MS - 1_000)
    late: list[str] = []
    # written at T0+2s with a timestamp 4 s old: the fresh cursor is long past it
    w.at(T0 + 2, lambda: late.append(w.put(T0_MS - 2_000, delay_ms=4_000)))
    t = make_tail(w, until_ms=T0_MS + 4_000, lag=LagEstimator(fixed_ms=6_500), overlap_ms=0)
    got = list(t)
    assert ids(got) == [*early, newer, late[0]]
    assert t.stats.late == 1
    # and the event carries its CloudWatch metadata
    ev = got[-1]
    assert ev.cw.timestamp == T0_MS - 2_000 and ev.cw.ingestion_time == T0_MS + 2_000
    assert ev.obj["auditID"] == late[0]


def test_same_millisecond_events_arriving_later_are_not_lost():
    """Falco's plugin lost these (ts + 1 restart) or repeated them (inclusive restart without dedup)."""
    w = World()
    a = w.put(T0_MS - 500)
    b: list[str] = []
    w.at(T0 + 1, lambda: b.append(w.put(T0_MS - 500, delay_ms=1_400)))
    got = list(make_tail(w, until_ms=T0_MS + 2_000))
    assert ids(got) == [a, b[0]]


def test_peer_style_cursor_would_lose_the_late_event():
    """The same scenario with no lag allowance (a 'max timestamp seen' tail) misses the late event."""
    w = World()
    w.put(T0_MS - 1_000)
    w.at(T0 + 2, lambda: w.put(T0_MS - 2_000, delay_ms=4_000))
    t = make_tail(w, until_ms=T0_MS + 4_000, lag=LagEstimator(fixed_ms=0, min_ms=0), overlap_ms=0)
    assert len(list(t)) == 1


def test_each_event_is_read_a_bounded_number_of_times_not_once_per_poll():
    """Cost: a fresh read or two plus one confirming read per event, not lag/poll re-reads."""
    w = World()
    for k in range(20):
        w.at(T0 + k, lambda k=k: w.put(T0_MS + k * 1000, delay_ms=100))
    t = make_tail(w, start_ms=T0_MS, until_ms=T0_MS + 20_000, overlap_ms=1_000, lag=LagEstimator(fixed_ms=8_000))
    assert len(list(t)) == 20
    # returned by the fresh pass, maybe once more by its overlap, once by the confirming pass;
    # a sliding window as wide as the lag would return each event ~8 times
    after_warmup = [n for eid, n in sorted(w.returned.items())][5:]
    assert max(after_warmup) <= 3
    assert t.stats.duplicates == sum(w.returned.values()) - 20  # each extra read was suppressed


def test_max_events_stops_mid_page_and_a_restart_continues_without_loss_or_repeat():
    w = World()
    written = [w.put(T0_MS - 5_000 + k * 10) for k in range(10)]
    t = make_tail(w, max_events=4)
    first = ids(t)
    assert first == written[:4]
    state = WatchState.from_json(t.state().to_json())
    w.sleep(10)  # time passes while stopped; more events arrive
    more = [w.put(w.now_ms - 1_000), w.put(w.now_ms - 900)]
    t2 = make_tail(w, state=state, until_ms=w.now_ms)
    assert ids(t2) == written[4:] + more
    assert t2.stats.delivered == 12


def test_until_ends_after_everything_before_it_is_confirmed_and_nothing_after_is_printed():
    w = World()
    inside = w.put(T0_MS + 500)
    w.put(T0_MS + 3_000)  # at or after until: never printed
    late: list[str] = []
    w.at(T0 + 4, lambda: late.append(w.put(T0_MS + 1_900, delay_ms=2_500)))
    t = make_tail(w, start_ms=T0_MS, until_ms=T0_MS + 2_000, lag=LagEstimator(fixed_ms=4_000))
    got = list(t)
    assert ids(got) == [inside, late[0]]
    assert w.t >= T0 + 6  # it waited for the lag allowance past --until before ending


def test_until_in_the_past_behaves_like_a_window_fetch():
    w = World()
    a, b = w.put(T0_MS - 60_000), w.put(T0_MS - 30_000)
    w.put(T0_MS - 20_000)
    t = make_tail(w, start_ms=T0_MS - 120_000, until_ms=T0_MS - 25_000)
    assert ids(t) == [a, b]
    assert w.t == T0  # no sleeping: the range is already older than the lag


def test_transient_errors_back_off_warn_once_per_streak_and_lose_nothing():
    w = World()
    written = [w.put(T0_MS - 4_000 + k * 100) for k in range(7)]
    warnings: list[str] = []
    w.fail_next = [Transient("Rate exceeded"), Transient("Rate exceeded"), Transient("Rate exceeded")]
    t = make_tail(w, until_ms=T0_MS, on_warning=warnings.append, backoff_base_s=0.5, backoff_max_s=2)
    got = ids(t)
    assert got == written
    assert t.stats.errors == 3
    assert len(warnings) == 1 and "Rate exceeded" in warnings[0]


def test_error_midway_through_a_pass_resumes_at_the_newest_timestamp_read():
    w = World()
    written = [w.put(T0_MS - 4_000 + k * 100) for k in range(9)]
    real = w.fetch
    state = {"n": 0}

    def flaky(start, end):
        state["n"] += 1
        for i, rec in enumerate(real(start, end)):
            if state["n"] == 1 and i == 5:
                raise ConnectionError("connection reset by peer")
            yield rec

    t = Tail(flaky, start_ms=T0_MS - 10_000, until_ms=T0_MS, clock=w.clock, sleep=w.sleep,
             lag=LagEstimator(fixed_ms=1_000), poll_s=1)
    assert ids(t) == written
    assert w.calls[1][0] == T0_MS - 4_000 + 400  # resumed at the 5th event's timestamp, not the start


def test_fatal_errors_propagate():
    w = World()
    w.fail_next = [Fatal("AccessDeniedException")]
    with pytest.raises(Fatal):
        list(make_tail(w, until_ms=T0_MS))


def test_seen_ids_are_evicted_once_their_range_is_confirmed():
    w = World()
    for k in range(600):  # 10 events a second for a minute
        w.at(T0 + k / 10, lambda k=k: w.put(T0_MS + k * 100, delay_ms=50))
    sizes = []
    t = make_tail(w, start_ms=T0_MS, until_ms=T0_MS + 60_000, lag=LagEstimator(fixed_ms=3_000),
                  on_checkpoint=lambda st: sizes.append(len(st.seen)))
    assert len(list(t)) == 600
    # ids are kept for about (lag + poll + one second bucket) worth of events, not for the whole run
    assert max(sizes) <= 10 * (3 + 1 + 1 + 1)
    assert len(t.seen) <= 10 * 2


def test_lag_is_learned_from_ingestion_delay_and_bounded():
    lag = LagEstimator(initial_ms=60_000, min_ms=2_000, max_ms=30_000, factor=2, margin_ms=500, min_samples=5)
    assert lag.current_ms(T0_MS) == 30_000  # the initial value, bounded by max
    for i in range(100):
        lag.observe(1_000 + (i % 10) * 100, T0_MS)  # 1.0 .. 1.9 s
    assert lag.percentile_ms(T0_MS) == 1_900
    assert lag.current_ms(T0_MS) == 2 * 1_900 + 500
    for _ in range(20):
        lag.observe(-300, T0_MS)  # a client clock ahead of the service: counts as 0
    assert lag.current_ms(T0_MS) == 2 * 1_900 + 500
    assert lag.current_ms(T0_MS + 301_000) == 30_000  # samples older than the window are forgotten
    for _ in range(50):
        lag.observe(60_000, T0_MS + 301_000)
    assert lag.current_ms(T0_MS + 301_000) == 30_000  # capped


def test_adaptive_lag_shrinks_the_confirm_delay_in_the_tail():
    w = World()
    for k in range(60):
        w.at(T0 + k / 4, lambda k=k: w.put(T0_MS + k * 250, delay_ms=300))
    lag = LagEstimator(initial_ms=20_000, min_ms=500, max_ms=20_000, min_samples=10, margin_ms=200)
    t = make_tail(w, start_ms=T0_MS, until_ms=T0_MS + 15_000, lag=lag)
    assert len(list(t)) == 60
    assert lag.current_ms() == 2 * 300 + 200
    assert w.t < T0 + 20  # finished well before the initial 20 s allowance would have allowed


def test_a_fast_local_clock_does_not_confirm_ranges_the_server_has_not_reached():
    """The local clock runs 60 s ahead; 'now' comes from the Date header instead."""
    skew = 60.0
    w = World()
    server = ServerClock(lambda: w.t + skew)
    w.date_hook = lambda: server.observe_date(formatdate(w.t, usegmt=True))
    late: list[str] = []
    first = w.put(T0_MS - 500)
    w.at(T0 + 3, lambda: late.append(w.put(T0_MS + 1_000, delay_ms=2_500)))
    t = Tail(w.fetch, start_ms=T0_MS - 1_000, until_ms=T0_MS + 2_000, clock=lambda: w.t + skew,
             sleep=w.sleep, server_clock=server, lag=LagEstimator(fixed_ms=5_000), poll_s=1)
    got = ids(t)
    assert got == [first, late[0]]
    assert -61 < server.offset_s <= -59


def test_server_clock_takes_the_tightest_safe_offset_and_ignores_garbage():
    now = [1000.4]
    sc = ServerClock(lambda: now[0])
    assert sc.now() == 1000.4 and not sc.synced
    sc.observe_date("not a date")
    sc.observe_date(None)
    assert not sc.synced
    sc.observe_date(formatdate(1010, usegmt=True))  # server second 1010 seen at local 1000.4
    sc.observe_response({"ResponseMetadata": {"HTTPHeaders": {"date": formatdate(1010.9, usegmt=True)}}})
    now[0] = 1000.9
    sc.observe_date(formatdate(1011, usegmt=True))
    assert sc.offset_s == pytest.approx(10.1)
    assert sc.now_ms() == 1_011_000


def test_stop_request_ends_between_events_with_a_consistent_state():
    w = World()
    written = [w.put(T0_MS - 5_000 + k) for k in range(6)]
    t = make_tail(w)
    got = []
    for ev in t:
        got.append(ev.cw.event_id)
        if len(got) == 2:
            t.request_stop()
    assert got == written[:2]
    st = t.state()
    again = make_tail(w, state=st, until_ms=T0_MS)
    assert ids(again) == written[2:]


def test_stop_request_while_waiting_raises_keyboard_interrupt():
    w = World()
    calls = []

    def sleep(s):
        calls.append(s)
        t.request_stop()

    t = Tail(w.fetch, start_ms=T0_MS, clock=w.clock, sleep=sleep, lag=LagEstimator(fixed_ms=1000))
    assert list(t) == []  # the flag is seen before sleeping again
    assert calls == [2.0]


def test_idle_polls_back_off():
    w = World()
    sleeps = []

    def sleep(s):
        sleeps.append(s)
        w.sleep(s)

    t = Tail(w.fetch, start_ms=T0_MS, until_ms=T0_MS + 60_000, clock=w.clock, sleep=sleep,
             lag=LagEstimator(fixed_ms=1000), poll_s=2)
    list(t)
    assert sleeps[:3] == [2, 2, 2] and max(sleeps) == 10


def test_events_without_event_id_dedup_by_content():
    w = World()
    rec = {"timestamp": T0_MS - 3_000, "ingestionTime": T0_MS - 2_900, "logStreamName": "s", "message": "{}\n"}

    def fetch(start, end):
        return [dict(rec)] if start <= rec["timestamp"] <= end else []

    t = Tail(fetch, start_ms=T0_MS - 5_000, until_ms=T0_MS, clock=w.clock, sleep=w.sleep,
             lag=LagEstimator(fixed_ms=1_000))
    got = list(t)
    assert len(got) == 1 and got[0].raw == b"{}"


def test_fresh_overlap_follows_the_usual_ingestion_delay_so_few_events_wait_for_the_lag():
    w = World()
    for k in range(40):  # every event reaches the index 3 s after its timestamp
        w.at(T0 + k / 2, lambda k=k: w.put(T0_MS + k * 500 - 3_000, delay_ms=3_000))
    t = make_tail(w, start_ms=T0_MS - 5_000, until_ms=T0_MS + 17_000, overlap_ms=500,
                  lag=LagEstimator(fixed_ms=10_000))
    assert len(list(t)) == 40
    assert t.lag.overlap_ms(500) == 3_500
    assert t.stats.late <= 4  # only before the first delays were observed
