"""Falco rules over an audit log (`eksaudit filter -r`) against `jq -c .` reading the same file.

Usage: python benchmarks/rules_vs_jq.py [N] [RULES_FILE]
  N defaults to 100000 generated EKS events (~1 KB each); RULES_FILE defaults to Falco's upstream
  k8s_audit_rules.yaml from the conformance folder (also run: the built-in `eks` ruleset).
jq only parses and re-prints each event, the least work any jq detection could do; eksaudit runs
every rule of the file. Also prints the in-process matching rate (no CLI, no output). Asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from _common import EKSAUDIT, REPO, events_file, need, report, run


def cpu_seconds(cmd: list[str] | str, *, shell: bool = False, repeat: int = 2) -> float:
    """Best user+system CPU time of a command: steadier than wall time on a shared machine."""
    best = float("inf")
    for _ in range(repeat):
        proc = subprocess.Popen(cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, rusage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) not in (0, 1) or b"Traceback" in err:
            raise SystemExit(f"command failed: {cmd}\n{err.decode(errors='replace')[-2000:]}")
        best = min(best, rusage.ru_utime + rusage.ru_stime)
    return best


def upstream_rules() -> str | None:
    for base in (REPO.parent / "shared" / "conformance", Path("/work/shared/conformance")):
        p = base / "falco" / "k8s_audit_rules.yaml"
        if p.is_file():
            return str(p)
    return None


def in_process(path: str, rules: str) -> None:
    from eksaudit.events.readers import read_events
    from eksaudit.fields import default_registry
    from eksaudit.rules import load_rules

    rs = load_rules([rules], default_registry())
    t0 = time.perf_counter()
    n = alerts = skipped = 0
    pf = rs.prefilter
    for ev in read_events([path]):
        n += 1
        if pf is not None and not pf(ev.raw):
            skipped += 1
            continue
        alerts += len(rs.match(ev))
    dt = time.perf_counter() - t0
    print(f"  in-process ({rules}): {n} events in {dt:.2f}s = {n / dt:,.0f} events/s, "
          f"{alerts} alerts, {skipped} skipped by the prefilter")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rules = sys.argv[2] if len(sys.argv) > 2 else upstream_rules()
    need("jq")
    path = str(events_file(n))
    print(f"{n} events in {path}\n")
    jq_cmd = f"jq -c . {path} >/dev/null"
    peer = run(jq_cmd, shell=True)
    jq_cpu = cpu_seconds(["sh", "-c", f"exec {jq_cmd}"])
    for rules_arg, name in ((rules, "upstream k8s_audit_rules.yaml"), ("eks", "built-in eks ruleset")):
        if rules_arg is None:
            print(f"{name}: not found, skipped")
            continue
        # alerts formatted and printed (read through a pipe), as jq prints every event
        ours = run(EKSAUDIT + ["filter", "-r", rules_arg, path], repeat=2)
        report(f"rules: {name} (eksaudit filter -r ..., alerts printed) vs jq -c . >/dev/null", ours, peer, "jq", 3)
        cpu = cpu_seconds(EKSAUDIT + ["filter", "-r", rules_arg, path])
        print(f"  CPU time: eksaudit {cpu:.2f}s, jq {jq_cpu:.2f}s, ratio {jq_cpu / cpu:.1f}x")
        quiet = run(EKSAUDIT + ["filter", "-r", rules_arg, path, "-q"], repeat=2)
        print(f"  with -q (matching only, nothing printed): {quiet.seconds:.2f}s, ratio {peer.seconds / quiet.seconds:.1f}x")
        in_process(path, rules_arg)
        print()


if __name__ == "__main__":
    main()
