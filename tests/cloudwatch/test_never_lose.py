"""Issue 13: every way CloudWatch or a signal can cut a fetch/watch run, against moto (+ fault proxy).

Each test names the finding it pins: a malformed 200 page, token recovery giving up, AWS_REGION,
SIGTERM/SIGHUP, EPIPE and a full disk, the stream prefix on --log-group and Insights, hand-edited
state files, a dead proxy and credentials in URLs, incremental export, and exactly-once output to a
file across SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from support.faultproxy import FaultPlan, FaultProxy
from support.moto import audit_message, create_group, isolate_aws_env, logs_client, put_events
from support.proc import DEADLINE_S, Child, wait_until
from typer.testing import CliRunner

from eksaudit.cli.app import app
from eksaudit.cloudwatch import paging
from eksaudit.cloudwatch.client import AwsTarget, TransientAwsError, make_client
from eksaudit.cloudwatch.retry import RetryPolicy

GROUP = "/aws/eks/demo/cluster"
STREAMS = ["kube-apiserver-audit-a", "kube-apiserver-audit-b", "kube-apiserver-audit-c"]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_env(monkeypatch, tmp_path)


def load(endpoint: str, n: int = 300, *, streams: list[str] = STREAMS, region: str = "us-east-1",
         end_ms: int | None = None, span_ms: int = 20 * 60_000) -> tuple[int, int, list[str]]:
    """n audit events spread over `span_ms` before `end_ms`; (start, end, messages in delivery order)."""
    client = logs_client(endpoint) if region == "us-east-1" else _client_in(endpoint, region)
    create_group(client, GROUP, streams)
    end = end_ms if end_ms is not None else int(time.time() * 1000) // 1000 * 1000 - 60_000
    start = end - span_ms
    per: dict[str, list[tuple[int, str]]] = {s: [] for s in streams}
    step = span_ms // (n + 1)
    for i in range(n):
        ts = start + (i + 1) * step
        per[streams[i % len(streams)]].append((ts, audit_message(i, ts)))
    for s, evs in per.items():
        put_events(client, GROUP, s, evs)
    return start, end, [m for _, m in sorted(m for evs in per.values() for m in evs)]


def _client_in(endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("logs", region_name=region, endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(inject_host_prefix=False))


def cli(*args: str) -> tuple[int, str, str]:
    if "--max-rps" not in args:
        args = (*args, "--max-rps", "100")
    r = CliRunner().invoke(app, ["fetch", *args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def proc_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.update(extra)
    return env


def fetch_cmd(endpoint: str, start: int, end: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "eksaudit", "fetch", "--cluster", "demo", "--endpoint-url", endpoint,
            "--start", str(start), "--end", str(end), *extra]


def ids(text: str) -> list[str]:
    return [json.loads(line)["auditID"] for line in text.splitlines() if line.strip()]


def expected_ids(ordered: list[str]) -> list[str]:
    return [json.loads(m)["auditID"] for m in ordered]


# ---- 1. a 200 reply that is not a page is a fault, never the end ---------------------------------------


@pytest.mark.parametrize("body", [{}, {"events": None}, {"events": "x"}, {"events": [{"timestamp": "abc", "message": "m"}]},
                                  {"events": [], "nextToken": 5}, [1, 2]])
def test_a_malformed_page_is_a_transient_fault(body: Any) -> None:
    with pytest.raises(TransientAwsError, match="not a page"):
        paging.check_page(body)


def test_a_malformed_page_is_retried_not_taken_for_the_last_one() -> None:
    script: list[Any] = [{"events": [{"timestamp": 1500, "message": "{}", "eventId": "1"}], "nextToken": "t"}, {},
                         {"events": None}, {"events": [{"timestamp": 1600, "message": "{}", "eventId": "2"}]}]

    class Client:
        def filter_log_events(self, **_: Any) -> Any:
            return script.pop(0)

    retry = RetryPolicy(base=0.001, sleep=lambda _: None)
    pages = list(paging.iter_pages(Client(), paging.FilterRequest("/g", 1000, 2000), retry=retry))
    assert [e["eventId"] for p in pages for e in p.events] == ["1", "2"]


def test_eventless_200s_through_the_proxy_lose_nothing(moto_endpoint: str) -> None:
    start, end, ordered = load(moto_endpoint, 300)
    plan = FaultPlan(["eventless", None, None] * 12)  # every third request, four body shapes in turn
    with FaultProxy(moto_endpoint, plan, upstream_limit=25) as proxy:
        code, out, err = cli("--cluster", "demo", "--endpoint-url", proxy.endpoint, "--start", str(start), "--end", str(end))
        assert proxy.injected["eventless"] >= 4
    assert code == 0, err
    assert ids(out) == expected_ids(ordered)


# ---- 2. token recovery gives up: finish the millisecond stream by stream, else exit 3 -----------------


def _crowded_ms(endpoint: str, per_stream: int, streams: list[str]) -> tuple[int, int, int, list[str]]:
    client = logs_client(endpoint)
    create_group(client, GROUP, [*streams, "authenticator-x"])
    end = int(time.time() * 1000) // 1000 * 1000 - 60_000
    start = end - 10 * 60_000
    crowded = start + 5 * 60_000 + 7
    per: dict[str, list[tuple[int, str]]] = {s: [] for s in streams}
    i = 0
    for k, s in enumerate(streams):
        for j in range(40):  # ordinary traffic around it
            ts = start + 1000 + j * 13_000 + k
            per[s].append((ts, audit_message(i, ts)))
            i += 1
        for _ in range(per_stream):
            per[s].append((crowded, audit_message(i, crowded)))
            i += 1
    for s, evs in per.items():
        put_events(client, GROUP, s, evs)
    put_events(client, GROUP, "authenticator-x", [(crowded, audit_message(10**6, crowded))])
    return start, end, crowded, [m for _, m in sorted(m for evs in per.values() for m in evs)]


@pytest.mark.parametrize("mode", ["repeat", "reject"])
def test_a_crowded_millisecond_with_broken_tokens_is_read_stream_by_stream(moto_endpoint: str, mode: str) -> None:
    start, end, _, ordered = _crowded_ms(moto_endpoint, 8, STREAMS)  # 24 events in one ms, pages of 10
    with FaultProxy(moto_endpoint, upstream_limit=10, token_giveup=mode) as proxy:
        code, out, err = cli("--cluster", "demo", "--endpoint-url", proxy.endpoint, "--start", str(start),
                             "--end", str(end), "--workers", "2")
        assert proxy.injected[mode] > 0
    assert code == 0, err
    assert sorted(ids(out)) == sorted(expected_ids(ordered)) and len(ids(out)) == len(ordered)
    assert "stream by stream" in err


def test_an_unprovable_millisecond_ends_with_exit_3_and_the_uncertain_range(moto_endpoint: str) -> None:
    start, end, crowded, ordered = _crowded_ms(moto_endpoint, 25, STREAMS[:1])  # one stream: no split helps
    with FaultProxy(moto_endpoint, upstream_limit=10, token_giveup="reject"):
        proxy_ep = FaultProxy(moto_endpoint, upstream_limit=10, token_giveup="reject").start()
        try:
            code, out, err = cli("--cluster", "demo", "--endpoint-url", proxy_ep.endpoint, "--start", str(start),
                                 "--end", str(end), "--workers", "2")
        finally:
            proxy_ep.stop()
    from eksaudit.timewindow import format_ms

    assert code == 3, err
    assert "could not be proved complete" in err and format_ms(crowded) in err
    before = [json.loads(m)["auditID"] for m in ordered if json.loads(m)["requestReceivedTimestamp"] < str(crowded)]
    assert ids(out)[: len(before)] == before  # everything before the uncertain range came out, once


# ---- 3. region resolution as the AWS CLI v2 ---------------------------------------------------------


@pytest.fixture
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("AWS_CONFIG_FILE")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    return home


def test_region_order_is_flag_then_aws_region_then_default_then_profile(fake_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = AwsTarget.from_options("demo", None)
    assert make_client(target).region == "eu-west-1"  # the profile, from ~/.aws/config
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert make_client(target).region == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    assert make_client(target).region == "us-east-2"  # AWS_REGION beats AWS_DEFAULT_REGION and the profile
    assert make_client(AwsTarget.from_options("demo", None, region="ap-south-1")).region == "ap-south-1"


def test_aws_region_beats_the_profile_end_to_end(fake_home: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> None:
    start, end, ordered = load(moto_endpoint, 20)  # the data lives in us-east-1; the profile says eu-west-1
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    code, out, err = cli("--cluster", "demo", "--endpoint-url", moto_endpoint, "--start", str(start), "--end", str(end))
    assert code == 0, err
    assert ids(out) == expected_ids(ordered)
    code, _, err = cli("--cluster", "demo", "--endpoint-url", moto_endpoint, "--start", str(start), "--end", str(end),
                       "--region", "eu-west-1")
    assert code == 3 and "not found" in err  # --region still wins over AWS_REGION


# ---- 4. SIGTERM / SIGHUP in fetch: the checkpoint counts exactly what was written -----------------------


def _slow_fetch(proxy: FaultProxy, start: int, end: int, state: Path, *extra: str) -> list[str]:
    return fetch_cmd(proxy.endpoint, start, end, "--state", str(state), "--max-rps", "8", "--workers", "2", *extra)


def _delivered(state: Path) -> int:
    """What the checkpoint counts as delivered so far (0 before the first save; saves are atomic)."""
    return json.loads(state.read_text())["delivered"] if state.exists() else 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_save_a_checkpoint_that_resumes_without_repeats(moto_endpoint: str, tmp_path: Path,
                                                                           sig: int) -> None:
    start, end, ordered = load(moto_endpoint, 400)
    state = tmp_path / "s.json"
    outs = []
    with FaultProxy(moto_endpoint, upstream_limit=10) as proxy:
        with open(tmp_path / "out1", "wb") as f, open(tmp_path / "err1", "wb") as e:
            p = subprocess.Popen(_slow_fetch(proxy, start, end, state), stdout=f, stderr=e, env=proc_env())
            try:
                # a saved checkpoint that counts an event: the run is under way, its handlers in place
                wait_until(lambda: p.poll() is not None or _delivered(state) > 0,
                           what="a checkpoint counting a delivered event")
                assert p.poll() is None, "the fetch ended before the signal: " + (tmp_path / "err1").read_text()
                p.send_signal(sig)
                p.wait(timeout=DEADLINE_S)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        err = (tmp_path / "err1").read_text()
        assert p.returncode == 128 + sig, err
        outs.append((tmp_path / "out1").read_text())
        saved = json.loads(state.read_text())
        assert saved["delivered"] == len(ids(outs[0])) > 0  # counted == written
        r = subprocess.run(_slow_fetch(proxy, start, end, state), capture_output=True, text=True, timeout=120, env=proc_env())
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert ids(outs[0]) + ids(outs[1]) == expected_ids(ordered)


# ---- 5. EPIPE and a full disk leave a checkpoint at the first unwritten event ---------------------------


def test_head_50_then_the_same_command_delivers_event_51(moto_endpoint: str, tmp_path: Path) -> None:
    start, end, ordered = load(moto_endpoint, 400)
    state = tmp_path / "s.json"
    with FaultProxy(moto_endpoint, upstream_limit=20) as proxy:
        cmd = " ".join(f"'{a}'" for a in _slow_fetch(proxy, start, end, state))
        first = subprocess.run(f"{cmd} | head -50", shell=True, capture_output=True, text=True, timeout=120, env=proc_env())
        assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
        second = subprocess.run(_slow_fetch(proxy, start, end, state), capture_output=True, text=True, timeout=120,
                                env=proc_env())
    assert second.returncode == 0, second.stderr
    want = expected_ids(ordered)
    assert ids(first.stdout) == want[:50]
    got = ids(second.stdout)
    assert want[50] in got  # event #51
    assert got == want[want.index(got[0]):]  # a suffix, in order: nothing after the restart point is lost


def _limit_file_size(limit: int) -> Any:
    def pre() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, like a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def test_a_full_disk_stops_with_exit_2_and_the_file_resumes_exactly_once(moto_endpoint: str, tmp_path: Path) -> None:
    start, end, ordered = load(moto_endpoint, 400)
    state, out = tmp_path / "s.json", tmp_path / "out.jsonl"
    with FaultProxy(moto_endpoint, upstream_limit=20) as proxy:
        cmd = _slow_fetch(proxy, start, end, state, "--output-file", str(out))
        first = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=proc_env(),
                               preexec_fn=_limit_file_size(60_000))
        assert first.returncode == 2, first.stderr
        assert "cannot write to" in first.stderr and "Traceback" not in first.stderr
        assert 0 < out.stat().st_size <= 60_000
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=proc_env())
    assert second.returncode == 0, second.stderr
    assert ids(out.read_text()) == expected_ids(ordered)


def test_dev_full_is_an_error_not_a_traceback(moto_endpoint: str, tmp_path: Path) -> None:
    start, end, _ = load(moto_endpoint, 30)
    r = subprocess.run(fetch_cmd(moto_endpoint, start, end, "--state", str(tmp_path / "s.json"), "--output-file",
                                 "/dev/full"), capture_output=True, text=True, timeout=120, env=proc_env())
    assert r.returncode == 2 and "No space left on device" in r.stderr and "Traceback" not in r.stderr


# ---- 6. the stream prefix applies to --log-group and to every engine ----------------------------------


def test_log_group_reads_only_audit_streams_with_both_engines(moto_endpoint: str) -> None:
    start, end, ordered = load(moto_endpoint, 30, streams=["kube-apiserver-audit-a", "authenticator-x", "kube-apiserver-b"])
    audit = [m for m in ordered if json.loads(m)["auditID"] in {
        json.loads(m2)["auditID"] for m2 in ordered[0::3]}]
    for engine in ("events", "insights"):
        code, out, err = cli("--log-group", GROUP, "--endpoint-url", moto_endpoint, "--start", str(start),
                             "--end", str(end), "--engine", engine)
        assert code == 0, err
        assert ids(out) == expected_ids(audit), engine
    code, out, _ = cli("--log-group", GROUP, "--stream-prefix", "", "--endpoint-url", moto_endpoint,
                       "--start", str(start), "--end", str(end))
    assert sorted(ids(out)) == sorted(expected_ids(ordered))  # an empty prefix: every stream


# ---- 7. state files validated field by field ------------------------------------------------------------


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: [d], "not a fetch state file"),
    (lambda d: {**d, "cursor": {**d["cursor"], "last_ts": "abc"}}, "field cursor.last_ts"),
    (lambda d: {**d, "cursor": {**d["cursor"], "slice": -1}}, "field cursor.slice"),
    (lambda d: {**d, "cursor": {**d["cursor"], "slice": 999}}, "field cursor.slice"),
    (lambda d: {**d, "window": [5, 1]}, "field window"),
    (lambda d: {**d, "slices": [[0, 1]]}, "field slices[0]"),
    (lambda d: {**d, "cursor": {**d["cursor"], "ids": [1]}}, "field cursor.ids"),
    (lambda d: {**d, "delivered": -3}, "field delivered"),
    (lambda d: {**d, "version": "1"}, "field version"),
    (lambda d: {**d, "output": {"path": "x"}}, "field output"),
])
def test_a_bad_state_file_is_one_line_exit_2_naming_file_and_field(moto_endpoint: str, tmp_path: Path, edit: Any,
                                                                    field: str) -> None:
    start, end, ordered = load(moto_endpoint, 20)
    state = tmp_path / "s.json"
    args = ("--cluster", "demo", "--endpoint-url", moto_endpoint, "--start", str(start), "--end", str(end),
            "--state", str(state))
    code, out, err = cli(*args, "--limit", "5")
    assert code == 0, err
    state.write_text(json.dumps(edit(json.loads(state.read_text()))))
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 2 and str(state) in lines[1] and field in lines[1], err  # the window line, then the error


# ---- 8. a dead proxy fails fast with the right advice; credentials in URLs are masked ------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dead_proxy_fails_fast_and_says_proxy(moto_endpoint: str) -> None:
    started = time.monotonic()
    now = int(time.time() * 1000)
    r = subprocess.run(fetch_cmd(moto_endpoint, now - 60_000, now), capture_output=True, text=True, timeout=120,
                       env=proc_env(HTTP_PROXY=f"http://alice:s3cret@127.0.0.1:{_closed_port()}"))
    elapsed = time.monotonic() - started
    assert r.returncode == 3, r.stderr
    assert "proxy" in r.stderr and "--max-rps" not in r.stderr and "Traceback" not in r.stderr
    assert "s3cret" not in r.stderr
    assert elapsed < 45  # generous: a closed port used to mean ten minutes of silent retries


def test_credentials_in_the_endpoint_url_are_masked() -> None:
    now = int(time.time() * 1000)
    r = subprocess.run(fetch_cmd(f"http://bob:hunter2@127.0.0.1:{_closed_port()}", now - 60_000, now), capture_output=True,
                       text=True, timeout=120, env=proc_env())
    assert r.returncode == 3 and "hunter2" not in r.stderr and "***@127.0.0.1" in r.stderr, r.stderr


def test_mask_secrets() -> None:
    from eksaudit.cloudwatch.client import mask_secrets

    assert mask_secrets("x http://u:p@h:1/a y https://t@h z") == "x http://***@h:1/a y https://***@h z"
    assert mask_secrets("no url, a@b.c") == "no url, a@b.c"


# ---- 9. incremental export: --state with --since continues from the saved end -------------------------


def test_since_with_state_continues_from_the_saved_end(moto_endpoint: str, tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    _, _, old = load(moto_endpoint, 30, end_ms=now - 2000, span_ms=5 * 60_000)
    state = tmp_path / "s.json"
    args = ("--cluster", "demo", "--endpoint-url", moto_endpoint, "--since", "10m", "--state", str(state))
    code, out1, err = cli(*args)
    assert code == 0, err
    assert ids(out1) == expected_ids(old)
    saved_end = json.loads(state.read_text())["window"][1]
    client = logs_client(moto_endpoint)
    new = [(saved_end + k, audit_message(1000 + k, saved_end + k)) for k in range(0, 400, 40)]
    put_events(client, GROUP, STREAMS[0], new)
    while int(time.time() * 1000) <= saved_end + 500:
        time.sleep(0.05)
    code, out2, err = cli(*args)
    assert code == 0, err
    assert ids(out2) == [json.loads(m)["auditID"] for _, m in new]  # no gap, no repeat
    assert "continuing after" in err
    code, out3, err = cli(*args)
    assert code == 1 and out3 == ""  # nothing new since


# ---- 10. exactly once across SIGKILL with --output-file ------------------------------------------------


def test_sigkill_20_times_with_output_file_gives_every_event_exactly_once(moto_endpoint: str, tmp_path: Path) -> None:
    start, end, ordered = load(moto_endpoint, 500)
    state, out = tmp_path / "s.json", tmp_path / "out.jsonl"
    rng = random.Random(13)
    kills = 0
    with FaultProxy(moto_endpoint, upstream_limit=10) as proxy:
        cmd = fetch_cmd(proxy.endpoint, start, end, "--state", str(state), "--output-file", str(out),
                        "--max-rps", "25", "--workers", "3")
        for _ in range(20):
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=proc_env())
            time.sleep(rng.uniform(0.5, 1.6))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait(timeout=60)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=proc_env())
    assert r.returncode in (0, 1), r.stderr
    assert kills >= 10
    assert ids(out.read_text()) == expected_ids(ordered)


def test_watch_output_file_is_cut_back_to_the_checkpoint(moto_endpoint: str, tmp_path: Path) -> None:
    start, end, ordered = load(moto_endpoint, 60)
    state, out = tmp_path / "w.json", tmp_path / "w.jsonl"
    cmd = [sys.executable, "-m", "eksaudit", "watch", "--cluster", "demo", "--endpoint-url", moto_endpoint,
           "--start", str(start), "--until", str(end), "--lag", "0", "--state", str(state), "--output-file", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=proc_env())
    assert r.returncode == 0, r.stderr
    assert ids(out.read_text()) == expected_ids(ordered)
    saved = json.loads(state.read_text())
    assert saved["output"] == {"path": str(out), "bytes": out.stat().st_size}
    with open(out, "ab") as f:  # what a run killed after writing but before its checkpoint leaves behind
        f.write(b'{"auditID": "half a line')
    saved["confirm_ms"] = saved["fast_ms"] = end  # nothing left to read
    state.write_text(json.dumps(saved))
    r = subprocess.run(cmd[:-6] + ["--until", str(end + 1), "--lag", "0", "--state", str(state), "--output-file",
                                   str(out)], capture_output=True, text=True, timeout=120, env=proc_env())
    assert r.returncode in (0, 1), r.stderr
    assert ids(out.read_text()) == expected_ids(ordered)


def test_watch_head_50_then_the_same_command_delivers_event_51(moto_endpoint: str, tmp_path: Path) -> None:
    start, end, ordered = load(moto_endpoint, 3000, span_ms=10 * 60_000)
    state = tmp_path / "w.json"
    cmd = [sys.executable, "-m", "eksaudit", "watch", "--cluster", "demo", "--endpoint-url", moto_endpoint,
           "--start", str(start), "--until", str(end), "--lag", "0", "--state", str(state), "--max-rps", "100"]
    quoted = " ".join(f"'{a}'" for a in cmd)
    first = subprocess.run(f"{quoted} | head -50", shell=True, capture_output=True, text=True, timeout=120, env=proc_env())
    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=proc_env())
    assert second.returncode == 0, second.stderr
    want = expected_ids(ordered)
    assert ids(first.stdout) == want[:50]
    got = ids(second.stdout)
    assert want[50] in got and set(want[50:]) <= set(got)  # event #51 and everything after it


def test_watch_sighup_stops_cleanly_with_129(moto_endpoint: str, tmp_path: Path) -> None:
    load(moto_endpoint, 10)
    state = tmp_path / "w.json"
    with Child([sys.executable, "-m", "eksaudit", "watch", "--cluster", "demo", "--endpoint-url", moto_endpoint,
                "--since", "30m", "--state", str(state), "--poll", "0.2"], env=proc_env()) as p:
        # the first checkpoint is saved from inside the watch loop: its signal handlers are in place
        wait_until(state.exists, what=f"the first checkpoint in {state}", child=p)
        p.send_signal(signal.SIGHUP)
        out, err = p.finish(what="the watch to stop after SIGHUP")
    assert p.returncode == 129, err
    assert json.loads(state.read_text())["delivered"] == len(out.splitlines())


# ---- the worker pool follows the page latency ----------------------------------------------------------


class _SlowPages:
    """Three pages per query, each answered after `latency` seconds (a FilterLogEvents stand-in)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency

    def filter_log_events(self, **params: Any) -> dict[str, Any]:
        time.sleep(self.latency)
        n = int(params.get("nextToken") or 0)
        ts = params["startTime"] + n
        page: dict[str, Any] = {"events": [{"timestamp": ts, "message": "{}", "eventId": f"{ts}", "logStreamName":
                                            "kube-apiserver-audit-a"}]}
        if n < 2:
            page["nextToken"] = str(n + 1)
        return page


@pytest.mark.parametrize(("workers", "grows"), [(None, True), (4, False)])
def test_the_default_pool_grows_with_page_latency(workers: int | None, grows: bool) -> None:
    from eksaudit.cloudwatch.fetch import DEFAULT_WORKERS, fetch_window
    from eksaudit.timewindow import Window

    run = fetch_window(_SlowPages(0.15), AwsTarget.from_options("demo", None), Window(0, 24 * 60_000), workers=workers,
                       max_rps=40)
    events = list(run)
    assert len(events) == 3 * len(run.slices)
    # 40 requests/s x 0.15 s per page needs ~6 in flight, plus a margin: more than the default 4
    assert (len(run._threads) > DEFAULT_WORKERS) is grows
