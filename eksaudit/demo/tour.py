"""`eksaudit demo`: load the demo cluster into a local CloudWatch Logs and run the real commands on it.

Each step is an ordinary eksaudit command line (or a pipeline of them) run as a child process with
the same Python, so what is printed after `$` is exactly what ran and can be copied. The children
talk to the local endpoint through the real AWS API (FilterLogEvents via boto3), with throwaway
credentials and the region the data was loaded in, so the user's AWS profile is never touched.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from ..errors import EksauditError
from ..timewindow import format_ms
from .loader import load_to_cloudwatch, local_client
from .scenario import ATTACKER_IP, SCENARIO, Scenario, build_scenario
from .server import LocalCloudWatch

REGION = "us-east-1"


@dataclass
class Step:
    """One demo step: a comment and a pipeline of eksaudit commands."""

    title: str
    pipeline: list[list[str]]  # each: arguments after `eksaudit`


@dataclass
class DemoResult:
    statuses: list[int] = field(default_factory=list)
    seconds: float = 0.0
    loaded: dict[str, int] = field(default_factory=dict)


def demo_steps(endpoint: str, cluster: str = "demo") -> list[Step]:
    """The tour: overview, anonymous probing, the attacker's actions, the stolen role, the rules."""
    aws = ["--cluster", cluster, "--endpoint-url", endpoint]
    window = ["--since", "2h", "--max-rps", "50"]  # a local endpoint: no need for AWS's request rate
    fetch = ["fetch", *aws, *window]
    role = SCENARIO["attacker"]["canonical_arn"]
    return [
        Step("What happened in the last two hours? The five most frequent verbs.",
             [[*fetch, "--count-by", "ka.verb", "--top", "5", "-o", "table"]]),
        Step("Anonymous requests (EKS Best Practices: alarm on 401/403, pivot on the source IP).",
             [[*fetch, "--filter", "ka.user.name=system:anonymous", "--count-by", "ka.sourceips,ka.response.code",
               "-o", "table"]]),
        Step("Everything else that IP did: fetch piped into filter.",
             [fetch, ["filter", f"ka.sourceips intersects ({ATTACKER_IP}) and ka.user.name != system:anonymous",
                      "-o", "table"]]),
        Step("Whose credentials were they? Sessions of the same IAM role, by source IP.",
             [[*fetch, "--filter", f'eks.user.canonical_arn = "{role}"', "--count-by", "eks.user.session,ka.sourceips",
               "-o", "table"]]),
        Step("The built-in EKS rules over the same window (watch, replaying it until now); the Falco-style "
             "summary follows the alerts.",
             [["watch", *aws, *window, "--until", "now", "--lag", "0", "--poll", "0.2", "-r", "eks"]]),
    ]


def child_env() -> dict[str, str]:
    """The environment of the demo's commands: local credentials and region, nothing from the user's AWS setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION,
               AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true", PYTHONUNBUFFERED="1")
    env.pop("NO_COLOR", None)
    return env


def command_line(pipeline: Sequence[Sequence[str]]) -> str:
    return " | ".join(shlex.join(["eksaudit", *args]) for args in pipeline)


def run_pipeline(pipeline: Sequence[Sequence[str]], out: TextIO, *, cwd: str, env: dict[str, str]) -> int:
    """Run `eksaudit` commands connected by pipes; their stdout (last) and stderr (all) stream to `out`.

    Returns the rightmost non-zero exit status (like a shell's `pipefail`), else 0.
    """
    r, w = os.pipe()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        prev = None
        for i, args in enumerate(pipeline):
            last = i == len(pipeline) - 1
            p = subprocess.Popen(
                [sys.executable, "-m", "eksaudit", *args], stdin=prev if prev is not None else subprocess.DEVNULL,
                stdout=w if last else subprocess.PIPE, stderr=w, cwd=cwd, env=env,
            )
            if prev is not None:
                prev.close()
            prev = p.stdout
            procs.append(p)
        os.close(w)
        w = -1
        with os.fdopen(r, "rb", closefd=True) as reader:
            r = -1
            for line in reader:
                out.write(line.decode("utf-8", "replace"))
                out.flush()
        statuses = [p.wait() for p in procs]
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
    failed = [s for s in statuses if s != 0]
    return failed[-1] if failed else 0


def load_scenario(cw: LocalCloudWatch, seed: int) -> tuple[Scenario, dict[str, int]]:
    scenario = build_scenario(seed=seed)
    counts = load_to_cloudwatch(local_client(cw.endpoint, REGION), scenario.log_group, scenario.by_stream())
    return scenario, counts


def run_demo(out: TextIO, *, seed: int = 0, clock: Callable[[], float] = time.monotonic) -> DemoResult:
    """Start the endpoint, load the scenario, run every step, stop; nothing is left behind."""
    t0 = clock()
    result = DemoResult()
    with tempfile.TemporaryDirectory(prefix="eksaudit-demo-") as tmp, LocalCloudWatch() as cw:
        out.write(f"Local CloudWatch Logs endpoint: {cw.endpoint} (region {REGION})\n")
        scenario, result.loaded = load_scenario(cw, seed)
        audit = sum(n for s, n in result.loaded.items() if s.startswith(SCENARIO["stream_prefix"]))
        out.write(f"Loaded {sum(result.loaded.values()):,} events into {scenario.log_group} "
                  f"({audit:,} audit events in {sum(1 for s in result.loaded if s.startswith('kube-apiserver-audit'))} "
                  f"kube-apiserver-audit-* streams, plus authenticator and API server logs), "
                  f"{format_ms(scenario.start_ms)} to {format_ms(scenario.end_ms)}\n")
        out.flush()
        env = child_env()
        for step in demo_steps(cw.endpoint, scenario.cluster):
            out.write(f"\n# {step.title}\n")
            out.write(f"$ {command_line(step.pipeline)}\n")
            out.flush()
            status = run_pipeline(step.pipeline, out, cwd=tmp, env=env)
            result.statuses.append(status)
            if status != 0:
                out.write(f"(exit status {status})\n")
        attacker = SCENARIO["attacker"]
        out.write(
            "\nWhat the log holds (see eksaudit/demo/scenario.py): session "
            f"{attacker['session_name']} of role {attacker['canonical_arn']} from {attacker['source_ip']} "
            "(after anonymous probing from the same IP) listed every secret, exec'd into a pod for its "
            "token, bound a new service account to cluster-admin, started a privileged hostPath pod and "
            "mapped a backdoor role in aws-auth.\n"
        )
    result.seconds = clock() - t0
    out.write(f"Demo finished in {result.seconds:.1f} s; the local endpoint is stopped.\n")
    out.flush()
    bad = [(i + 1, s) for i, s in enumerate(result.statuses) if s != 0]
    if bad:
        raise EksauditError("demo step(s) failed: " + ", ".join(f"step {i} exited {s}" for i, s in bad))
    return result


def serve(out: TextIO, *, seed: int = 0, port: int = 0, wait: Callable[[], None] | None = None) -> Scenario:
    """Load the scenario and keep the endpoint up, printing how to query it, until `wait` returns (Ctrl-C)."""
    with LocalCloudWatch(port=port) as cw:
        scenario, counts = load_scenario(cw, seed)
        start = format_ms(scenario.start_ms - 60_000)
        end = format_ms(scenario.now_ms)
        ep = cw.endpoint
        common = f"--cluster {scenario.cluster} --endpoint-url {ep} --region {REGION}"
        out.write(
            f"Local CloudWatch Logs endpoint: {ep}\n"
            f"  --endpoint-url {ep}\n  --region {REGION}\n"
            f"  log group {scenario.log_group}: {sum(counts.values()):,} events in {len(counts)} streams, "
            f"audit events from {format_ms(scenario.start_ms)} to {format_ms(scenario.end_ms)}\n"
            "Any credentials work (eksaudit uses throwaway ones for a local endpoint when none are set).\n\n"
            "Try:\n"
            f"  eksaudit fetch {common} --start {start} --end {end} --count-by ka.user.name --top 10 -o table\n"
            f"  eksaudit fetch {common} --start {start} --end {end} -r eks\n"
            f"  eksaudit fetch {common} --start {start} --end {end} --filter 'ka.target.subresource=exec' -o table\n"
            f"  eksaudit watch {common} -r eks\n"
            f"  aws logs filter-log-events --endpoint-url {ep} --region {REGION} --log-group-name {scenario.log_group} "
            "--log-stream-name-prefix kube-apiserver-audit --max-items 5\n\n"
            "Press Ctrl-C to stop.\n"
        )
        out.flush()
        with contextlib.suppress(KeyboardInterrupt), _term_as_interrupt():  # Ctrl-C is how --serve is meant to end
            (wait or _sleep_forever)()
        out.write("Stopping the local endpoint.\n")
        out.flush()
    return scenario


@contextlib.contextmanager
def _term_as_interrupt() -> Iterator[None]:
    """SIGTERM (kill, a service manager) stops --serve as cleanly as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _sleep_forever() -> None:
    while True:
        time.sleep(3600)
