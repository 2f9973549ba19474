"""`eksaudit watch` as users run it: a real process against moto, real pipes and signals.

Covers: events written while watching come out once and at once (line-buffered), --until and
--max-events end it cleanly, Ctrl-C saves the checkpoint and prints the rules summary (exit 130), a
restart from --state continues without loss or repeats, a closed pipe ends quietly (exit 0), fatal
AWS errors exit 3 with one line, and the usage errors.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from support.moto import audit_message, create_group, logs_client, put_events
from support.proc import Child, wait_until
from typer.testing import CliRunner

from eksaudit.cli.app import app

GROUP = "/aws/eks/demo/cluster"
STREAMS = ("kube-apiserver-audit-aaa", "kube-apiserver-audit-bbb")
RULES = """
- rule: Secret deleted
  desc: a secret was deleted
  condition: ka.verb=delete and ka.target.resource=secrets
  output: secret deleted (user=%ka.user.name id=%ka.auditid)
  priority: WARNING
  source: k8s_audit
"""


def audit_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


@pytest.fixture
def cw(moto_endpoint):
    client = logs_client(moto_endpoint)
    create_group(client, GROUP, STREAMS)
    return moto_endpoint, client


def put(client, i: int, ts: int, **kw) -> None:
    client.put_log_events(logGroupName=GROUP, logStreamName=STREAMS[i % 2],
                          logEvents=[{"timestamp": ts, "message": audit_message(i, ts, **kw)}])


def start_watch(endpoint: str, *args: str) -> Child:
    """The watch as a child process; its output is read with deadlines (support/proc.py), never a bare
    readline that would hang the run if a line never came."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    env.pop("AWS_PROFILE", None)
    return Child(
        [sys.executable, "-m", "eksaudit", "watch", "--cluster", "demo", "--endpoint-url", endpoint,
         "--poll", "0.1", *args],
        env=env,
    )


def ids_of(lines) -> list[str]:
    return [json.loads(line)["auditID"] for line in lines if line.strip()]


def test_prints_events_as_they_are_written_once_each_as_they_come(cw):
    endpoint, client = cw
    now = int(time.time() * 1000)
    put(client, 0, now - 60_000)  # before the start: not printed
    put(client, 1, now - 1_500)
    # an absolute start: `--since` would count from the child's clock, seconds later on a loaded machine
    with start_watch(endpoint, "--start", str(now - 20_000), "--max-events", "7", "--lag", "1") as p:
        first = p.readline(what="the event written before the start")
        # printed while the process still runs: flushed per line
        assert json.loads(first)["auditID"] == audit_id(1) and p.proc.poll() is None
        for i in range(2, 8):
            put(client, i, int(time.time() * 1000))
            time.sleep(0.05)  # pacing: events written one by one while it watches, not a synchronisation
        out, err = p.finish(what="the 7th event (--max-events 7)")
    assert p.returncode == 0, err
    got = [audit_id(1)] + ids_of(out.decode().splitlines())
    assert got == [audit_id(i) for i in range(1, 8)]
    assert b"watching /aws/eks/demo/cluster (kube-apiserver-audit*)" in err


def test_filter_and_max_events_stop_after_n_matches(cw):
    endpoint, client = cw
    now = int(time.time() * 1000)
    events = [(now - 2_000 + i, audit_message(i, now - 2_000 + i, verb="delete" if i % 3 == 0 else "get"))
              for i in range(12)]
    put_events(client, GROUP, STREAMS[0], events)
    with start_watch(endpoint, "--start", str(now - 5_000), "--filter", "ka.verb=delete", "--max-events", "3",
                     "--lag", "1") as p:
        out, err = p.finish(what="3 matches (--max-events 3)")
    assert p.returncode == 0, err
    assert ids_of(out.decode().splitlines()) == [audit_id(0), audit_id(3), audit_id(6)]
    assert b'filter pattern { $.verb = "delete" }' in err  # pushed down (moto ignores it; checked locally)


class _Writer(threading.Thread):
    """Writes one event every 30 ms, stamped when written; every fifth is late (stamped 600 ms back,
    before what may already be printed). Stops at `stop_at_ms` (once set) or when told."""

    def __init__(self, client, t0: int) -> None:
        super().__init__(daemon=True)
        self.client, self.t0 = client, t0
        self.count = 0
        self.stop_at_ms: int | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.halt.is_set() and i < 2_000:
            ts = int(time.time() * 1000)
            if self.stop_at_ms is not None and ts >= self.stop_at_ms:
                break
            if i % 5 == 4:
                ts -= 600
            if ts >= self.t0:
                put(self.client, i, ts)
                self.count += 1
            i += 1
            time.sleep(0.03)


def test_ctrl_c_saves_the_checkpoint_and_a_restart_neither_loses_nor_repeats(cw, tmp_path: Path):
    endpoint, client = cw
    state = tmp_path / "watch.json"
    t0 = int(time.time() * 1000)
    lag_ms = 1_500
    w = _Writer(client, t0)
    w.start()
    try:
        # the first run is stopped by Ctrl-C, never by its --until (there only so it cannot run for ever)
        with start_watch(endpoint, "--start", str(t0), "--until", str(t0 + 600_000), "--lag", str(lag_ms / 1000),
                         "--state", str(state)) as p:
            # five events printed: it is running and its signal handlers are in place
            first = p.readlines(5, what="printed by the first run")
            p.send_signal(signal.SIGINT)
            out, err = p.finish(what="the first run to stop after SIGINT")
        assert p.returncode == 130, err
        assert b"Traceback" not in err
        first_ids = ids_of(first + out.decode().splitlines())
        saved = json.loads(state.read_text())
        assert saved["mode"] == "watch" and saved["delivered"] == len(first_ids)
        # down for a while; the writer keeps writing: the restart has events of its own to print
        down = w.count
        wait_until(lambda: w.count >= down + 8, what="8 events written while the watch is down")
        until = int(time.time() * 1000) + 1_000
        w.stop_at_ms = until  # the writer goes on while the restart starts, up to the restart's --until
        with start_watch(endpoint, "--until", str(until), "--lag", str(lag_ms / 1000), "--state", str(state)) as p2:
            out2, err2 = p2.finish(what="the restart to reach --until")
    finally:
        w.halt.set()
        w.join(timeout=60)
    assert p2.returncode == 0, err2
    assert b"resuming from" in err2
    second_ids = ids_of(out2.decode().splitlines())
    stored = [e for page in client.get_paginator("filter_log_events").paginate(
        logGroupName=GROUP, startTime=t0, endTime=until - 1, interleaved=True) for e in page["events"]]
    # --lag promises the events CloudWatch ingested within the lag of their timestamp; on a loaded
    # machine a write may take longer than that: such an event may come (once) or not
    due = sorted(json.loads(e["message"])["auditID"] for e in stored if e["ingestionTime"] - e["timestamp"] < lag_ms)
    allowed = {json.loads(e["message"])["auditID"] for e in stored}
    both = first_ids + second_ids
    assert len(both) == len(set(both)), "an event was printed twice"
    assert set(both) <= allowed, "an event from outside the window was printed"
    assert sorted(set(both) & set(due)) == due, "an event was lost"
    assert len(due) * 2 >= len(stored), f"{len(stored) - len(due)} of {len(stored)} writes took longer than the lag"


def test_sigterm_with_rules_prints_the_summary_and_keeps_the_checkpoint(cw, tmp_path: Path):
    endpoint, client = cw
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    state = tmp_path / "s.json"
    now = int(time.time() * 1000)
    put(client, 0, now - 1_000, verb="delete", resource="secrets")
    put(client, 1, now - 900)
    # --since counts from the child's clock: a wide margin for a slow start-up
    with start_watch(endpoint, "--since", "2m", "-r", str(rules), "--lag", "1", "--state", str(state)) as p:
        line = p.readline(what="the alert").decode()
        assert "Warning secret deleted" in line and audit_id(0) in line
        p.send_signal(signal.SIGTERM)
        out, err = p.finish(what="the watch to stop after SIGTERM")
    assert p.returncode == 128 + signal.SIGTERM, err
    assert b"Secret deleted" in err  # the summary, on stderr
    # stopped between two events or while waiting: the alert's event at least is counted delivered
    assert json.loads(state.read_text())["delivered"] in (1, 2)


def test_a_closed_pipe_ends_quietly(cw):
    endpoint, client = cw
    now = int(time.time() * 1000)
    put_events(client, GROUP, STREAMS[0], [(now - 3_000 + i, audit_message(i, now - 3_000 + i, pad=1500)) for i in range(400)])
    with start_watch(endpoint, "--start", str(now - 5_000), "--lag", "1") as p:
        assert p.readline(what="the first event").strip()
        p.close_stdout()  # like `| head -1`
        _, err = p.finish(what="the watch to end on the closed pipe")
    assert p.returncode == 0, err
    assert err.count(b"\n") <= 1 and b"Error" not in err, err  # only the "watching ..." line


def test_a_missing_log_group_exits_3_with_one_line(moto_endpoint):
    with start_watch(moto_endpoint, "--since", "5s") as p:
        out, err = p.finish()
    assert p.returncode == 3
    assert out == b""
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("eksaudit: error: log group /aws/eks/demo/cluster in us-east-1 not found")
    assert "Traceback" not in err.decode()


def test_usage_errors(tmp_path: Path):
    runner = CliRunner()
    r = runner.invoke(app, ["watch", "--since", "5m"], prog_name="eksaudit")
    assert r.exit_code == 2 and "--cluster" in r.stderr
    r = runner.invoke(app, ["watch", "--cluster", "c", "--since", "5m", "--until", "-10m"], prog_name="eksaudit")
    assert r.exit_code == 2 and "is not after the start" in r.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"version": 1, "mode": "watch", "query": "0123", "confirm_ms": 1, "fast_ms": 1,
                                 "lag_ms": 1000, "seen": []}))
    r = runner.invoke(app, ["watch", "--cluster", "c", "--state", str(other)], prog_name="eksaudit")
    assert r.exit_code == 2 and "different query" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = runner.invoke(app, ["watch", "--cluster", "c", "--state", str(bad)], prog_name="eksaudit")
    assert r.exit_code == 2 and "not JSON" in r.stderr
