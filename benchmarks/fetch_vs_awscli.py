"""`eksaudit fetch` vs `aws logs filter-log-events` on a local CloudWatch (moto), and quota use.

Prints figures, asserts nothing. Two measurements:

1. End to end, same endpoint, same window, full pagination, output to /dev/null: the ratio
   aws-cli time / eksaudit time (target: >= 2).
2. Through the fault proxy set to 10 FilterLogEvents requests/s (throttling beyond, like the quota)
   and 1 MB pages: the share of the quota eksaudit achieves (target >= 90%) and how many requests
   were throttled (target: no storm).

The AWS CLI is taken from $AWS_CLI, else `aws` on PATH, else .venv/bin/aws; install it with
`.venv/bin/pip install awscli` (or into a separate venv and point AWS_CLI at it) if missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from support.faultproxy import FaultProxy  # noqa: E402
from support.moto import create_group, logs_client, put_events  # noqa: E402

from eksaudit.demo.server import LocalCloudWatch  # noqa: E402
from eksaudit.timewindow import parse_iso_ms  # noqa: E402

N_EVENTS = int(os.environ.get("BENCH_EVENTS", "50000"))
CLUSTER = "bench"
GROUP = f"/aws/eks/{CLUSTER}/cluster"
STREAMS = ["kube-apiserver-audit-0a1b", "kube-apiserver-audit-2c3d", "kube-apiserver-audit-4e5f"]
QUOTA_RPS = 10.0
PAGE_BYTES = 1_048_576


def patch_moto_filter() -> None:
    """moto re-parses the filter pattern once per *stored* event on every FilterLogEvents call, so its
    per-request cost is a full scan (~0.5 s here) that dwarfs both clients. This equivalent version
    parses the pattern once per call: same events, same order, a server closer to AWS's latency."""
    from moto.logs import models
    from moto.logs.utils import EventMessageFilter

    def filter_log_events(self, start_time, end_time, filter_pattern):  # type: ignore[no-untyped-def]
        f = EventMessageFilter(filter_pattern)
        out = []
        for e in sorted(
            (e for e in self.events
             if not (start_time and e.timestamp < start_time) and not (end_time and e.timestamp > end_time)
             and f.matches(e.message)),
            key=lambda x: x.timestamp,
        ):
            d = e.to_filter_dict()
            d["logStreamName"] = self.log_stream_name
            out.append(d)
        return out

    models.LogStream.filter_log_events = filter_log_events


def find_aws_cli() -> str | None:
    cand = [os.environ.get("AWS_CLI"), shutil.which("aws"), str(REPO / ".venv" / "bin" / "aws")]
    return next((c for c in cand if c and Path(c).exists()), None)


def load(endpoint: str) -> tuple[int, int, int]:
    """N_EVENTS realistic audit events over the last hour in 3 streams; returns (start, end, bytes)."""
    from eksaudit.demo.generator import generate_lines

    end = int(time.time() * 1000) // 1000 * 1000 - 60_000
    start = end - 3_600_000
    client = logs_client(endpoint)
    create_group(client, GROUP, STREAMS + ["authenticator-9z"])
    per: dict[str, list[tuple[int, str]]] = {s: [] for s in STREAMS}
    total = 0
    for i, line in enumerate(generate_lines(N_EVENTS, seed=1, start_ms=start, span_ms=3_590_000, cluster=CLUSTER)):
        text = line.decode() if isinstance(line, bytes) else line
        ts = parse_iso_ms(json.loads(text)["stageTimestamp"]) or start
        ts = min(max(ts, start), end - 1)
        per[STREAMS[i % 3]].append((ts, text))
        total += len(text)
    for s, evs in per.items():
        put_events(client, GROUP, s, evs)
    return start, end, total


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, bytes]:
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, env=env, check=False)
        dt = time.perf_counter() - t0
        if p.returncode not in (0, 1):
            raise SystemExit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode()[-500:]}")
        out.seek(0)
        return dt, out.read()


def main() -> None:
    if "--fast-moto" in sys.argv:
        patch_moto_filter()
        print("moto: filter pattern parsed once per request (--fast-moto)")
    else:
        print("moto as shipped (add --fast-moto for a server whose per-request cost is closer to AWS)")
    env = dict(os.environ)
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"):
        env.pop(k, None)
    eksaudit = [sys.executable, "-m", "eksaudit"]
    with LocalCloudWatch() as cw:
        t0 = time.perf_counter()
        start, end, nbytes = load(cw.endpoint)
        print(f"loaded {N_EVENTS:,} events ({nbytes / 1e6:.1f} MB) into moto in {time.perf_counter() - t0:.1f}s")
        window = ["--start", str(start), "--end", str(end)]

        # 1. end to end against the AWS CLI
        ours_cmd = [*eksaudit, "fetch", "--cluster", CLUSTER, "--endpoint-url", cw.endpoint, *window, "-q", "-o", "jsonl",
                    "--max-rps", "25"]
        ours_cmd.remove("-q")  # -q would print nothing; we want the real output cost
        t_ours, out_ours = timed(ours_cmd, env)
        n_ours = out_ours.count(b"\n")
        print(f"eksaudit fetch (4 workers, --max-rps 25): {t_ours:.2f}s, {n_ours:,} events")
        aws = None if os.environ.get("BENCH_SKIP_AWSCLI") else find_aws_cli()
        if aws is None:
            print("aws CLI not found: set AWS_CLI or `.venv/bin/pip install awscli`; comparison skipped")
        else:
            aws_cmd = [aws, "logs", "filter-log-events", "--endpoint-url", cw.endpoint, "--region", "us-east-1",
                       "--log-group-name", GROUP, "--log-stream-name-prefix", "kube-apiserver-audit",
                       "--start-time", str(start), "--end-time", str(end - 1), "--output", "json"]
            t_aws, out_aws = timed(aws_cmd, env)
            n_aws = len(json.loads(out_aws)["events"])
            print(f"aws logs filter-log-events:            {t_aws:.2f}s, {n_aws:,} events")
            print(f"ratio aws-cli / eksaudit: {t_aws / t_ours:.2f}x (target >= 2x)")

        # 2. quota use through a proxy enforcing 10 requests/s and 1 MB pages: 8 workers, and the
        #    default pool (4 workers, grown from the observed page latency)
        configs = (("--workers 8", ["--workers", "8"]), ("--workers 4 (fixed)", ["--workers", "4"]),
                   ("default workers (adaptive)", []))
        for label, workers in configs:
            with FaultProxy(cw.endpoint, rps=QUOTA_RPS, page_bytes=PAGE_BYTES, upstream_limit=1500) as proxy:
                cmd = [*eksaudit, "fetch", "--cluster", CLUSTER, "--endpoint-url", proxy.endpoint, *window,
                       "--max-rps", str(QUOTA_RPS), *workers]
                t_q, out_q = timed(cmd, env)
                times = proxy.request_times
                span = (times[-1] - times[0]) if len(times) > 1 else 0.0
                achieved = (len(times) - 1) / span if span > 0 else 0.0
                ok = proxy.requests - proxy.rate_throttled
                n_q = out_q.count(b"\n")
                print(f"through the quota proxy ({QUOTA_RPS:g} req/s, 1 MB pages, {label}): {t_q:.2f}s end to end, "
                      f"{n_q:,} events, {proxy.requests} requests ({ok} served, "
                      f"{proxy.rate_throttled} throttled)")
                print(f"achieved request rate {achieved:.2f}/s over {span:.1f}s = {achieved / QUOTA_RPS:.0%} of the quota "
                      f"(target >= 90%); served-request rate {(ok - 1) / span if span else 0:.2f}/s")

if __name__ == "__main__":
    main()
