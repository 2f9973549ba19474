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
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.moto import audit_message, create_group, logs_client, put_events
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


def start_watch(endpoint: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    env.pop("AWS_PROFILE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "eksaudit", "watch", "--cluster", "demo", "--endpoint-url", endpoint,
         "--poll", "0.1", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        bufsize=0,  # unbuffered: readline() must not read ahead what communicate() then reads from the fd
    )


def ids_of(lines) -> list[str]:
    return [json.loads(line)["auditID"] for line in lines if line.strip()]


def test_prints_events_as_they_are_written_once_each_as_they_come(cw):
    endpoint, client = cw
    now = int(time.time() * 1000)
    put(client, 0, now - 60_000)  # before --since: not printed
    put(client, 1, now - 1_500)
    p = start_watch(endpoint, "--since", "20s", "--max-events", "7", "--lag", "1")
    first = p.stdout.readline()  # printed while the process still runs: flushed per line
    assert json.loads(first)["auditID"] == audit_id(1) and p.poll() is None
    for i in range(2, 8):
        put(client, i, int(time.time() * 1000))
        time.sleep(0.05)
    out, err = p.communicate(timeout=30)
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
    p = start_watch(endpoint, "--since", "5s", "--filter", "ka.verb=delete", "--max-events", "3", "--lag", "1")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert ids_of(out.decode().splitlines()) == [audit_id(0), audit_id(3), audit_id(6)]
    assert b'filter pattern { $.verb = "delete" }' in err  # pushed down (moto ignores it; checked locally)


def test_ctrl_c_saves_the_checkpoint_and_a_restart_neither_loses_nor_repeats(cw, tmp_path: Path):
    endpoint, client = cw
    state = tmp_path / "watch.json"
    t0 = int(time.time() * 1000)
    until = t0 + 2_500
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set() and i < 60:
            ts = int(time.time() * 1000)
            if i % 5 == 4:
                ts -= 600  # late: stamped before what was already printed
            if ts >= t0:
                put(client, i, ts)
            i += 1
            time.sleep(0.03)

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    p = start_watch(endpoint, "--start", str(t0), "--until", str(until), "--lag", "1.5", "--state", str(state))
    first = [p.stdout.readline() for _ in range(5)]
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert b"Traceback" not in err
    first_ids = ids_of(first + out.decode().splitlines())
    saved = json.loads(state.read_text())
    assert saved["mode"] == "watch" and saved["delivered"] == len(first_ids)
    time.sleep(0.3)  # down for a while; the writer keeps writing

    p2 = start_watch(endpoint, "--until", str(until), "--lag", "1.5", "--state", str(state))
    out2, err2 = p2.communicate(timeout=30)
    stop.set()
    w.join()
    assert p2.returncode == 0, err2
    assert b"resuming from" in err2
    second_ids = ids_of(out2.decode().splitlines())
    expected = sorted(
        e["message"] and json.loads(e["message"])["auditID"]
        for e in client.filter_log_events(logGroupName=GROUP, startTime=t0, endTime=until - 1, interleaved=True)["events"]
    )
    both = first_ids + second_ids
    assert len(both) == len(set(both)), "an event was printed twice"
    assert sorted(both) == expected, "an event was lost"


def test_sigterm_with_rules_prints_the_summary_and_keeps_the_checkpoint(cw, tmp_path: Path):
    endpoint, client = cw
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    state = tmp_path / "s.json"
    now = int(time.time() * 1000)
    put(client, 0, now - 1_000, verb="delete", resource="secrets")
    put(client, 1, now - 900)
    p = start_watch(endpoint, "--since", "5s", "-r", str(rules), "--lag", "1", "--state", str(state))
    line = p.stdout.readline().decode()
    assert "Warning secret deleted" in line and audit_id(0) in line
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 128 + signal.SIGTERM
    assert b"Secret deleted" in err  # the summary, on stderr
    # stopped between two events or while waiting: the alert's event at least is counted delivered
    assert json.loads(state.read_text())["delivered"] in (1, 2)


def test_a_closed_pipe_ends_quietly(cw):
    endpoint, client = cw
    now = int(time.time() * 1000)
    put_events(client, GROUP, STREAMS[0], [(now - 3_000 + i, audit_message(i, now - 3_000 + i, pad=1500)) for i in range(400)])
    p = start_watch(endpoint, "--since", "5s", "--lag", "1")
    assert p.stdout.readline()
    p.stdout.close()  # like `| head -1`
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0
    assert err.count(b"\n") <= 1 and b"Error" not in err  # only the "watching ..." line


def test_a_missing_log_group_exits_3_with_one_line(moto_endpoint):
    p = start_watch(moto_endpoint, "--since", "5s")
    out, err = p.communicate(timeout=30)
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
    assert r.exit_code == 2 and "another log group" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = runner.invoke(app, ["watch", "--cluster", "c", "--state", str(bad)], prog_name="eksaudit")
    assert r.exit_code == 2 and "not JSON" in r.stderr
