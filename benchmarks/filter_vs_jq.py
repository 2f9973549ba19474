"""`eksaudit filter` against jq on the same generated audit log, side by side.

Usage: python benchmarks/filter_vs_jq.py [N] [RUNS]   (default 500000 events, ~1.4 KB each; 3 runs)
Prints, for each of the issue's targets, every run's wall time, user+system CPU and peak memory,
then the ratios on the best wall time and on the least CPU time (CPU time is what a loaded
machine disturbs least). Asserts nothing.

eksaudit runs with Python's bytecode cache, as after `pip install` (which compiles it): when the
environment sets PYTHONDONTWRITEBYTECODE, every run would compile eksaudit's modules from source
again (~40 ms of start-up), so the cache is kept under bench-data/pycache for these runs. Set
BENCH_KEEP_ENV=1 to measure with the environment exactly as it is.
"""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import dataclass

from _common import DATA, EKSAUDIT, events_file, measure, need


@dataclass
class Run:
    wall: float
    user: float
    sys: float
    max_rss_mb: float
    lines: int

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def run_once(cmd: list[str] | str, *, shell: bool = False, env: dict[str, str] | None = None) -> Run:
    """One run with stdout read through a pipe and counted; CPU is the whole process tree's."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = measure(cmd, shell=shell, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU includes the launcher's start-up (~10 ms), the same for eksaudit and jq
    return Run(t.seconds, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, t.max_rss_mb,
               t.output_lines)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    need("jq")
    path = str(events_file(n))
    print(f"{n} events in {path}, {runs} runs each, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    env = dict(os.environ)
    if not env.get("BENCH_KEEP_ENV"):
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
        run_once(EKSAUDIT + ["filter", "ka.verb exists", os.devnull], env=env)  # writes the cache
        print("eksaudit runs with its bytecode cache (see the module docstring)")
    print()
    cases = [
        (
            "selective: ka.verb=delete and ka.target.resource=secrets",
            EKSAUDIT + ["filter", "ka.verb=delete and ka.target.resource=secrets", path],
            f"jq -c 'select(.verb==\"delete\" and .objectRef.resource==\"secrets\")' {path}",
            10,
        ),
        (
            "every event parsed: not ka.verb in (get, list, watch)",
            EKSAUDIT + ["filter", "not ka.verb in (get, list, watch)", path],
            f"jq -c 'select(.verb != \"get\" and .verb != \"list\" and .verb != \"watch\")' {path}",
            5,
        ),
        (
            "aggregation: --count-by ka.user.name",
            EKSAUDIT + ["filter", "ka.verb exists", path, "--count-by", "ka.user.name"],
            f"jq -r .user.username {path} | sort | uniq -c | sort -rn",
            3,
        ),
    ]
    peak = 0.0
    for name, ours_cmd, jq_cmd, target in cases:
        print(name)
        results: dict[str, list[Run]] = {"eksaudit": [], "jq": []}
        for _ in range(runs):  # interleaved, so a burst of load hits both sides alike
            results["eksaudit"].append(run_once(ours_cmd, env=env))
            results["jq"].append(run_once(jq_cmd, shell=True))
        for who, rs in results.items():
            for r in rs:
                print(f"  {who:8} wall {r.wall:6.2f}s  user {r.user:6.2f}s  sys {r.sys:5.2f}s  "
                      f"{r.max_rss_mb:5.0f} MB  {r.lines} lines")
        ours, peer = results["eksaudit"], results["jq"]
        if ours[0].lines == 0:
            print("  note: no event matches in this data set (both sides print nothing)")
        if ours[0].lines != peer[0].lines:
            print(f"  warning: eksaudit printed {ours[0].lines} lines, jq {peer[0].lines}")
        by_wall = min(r.wall for r in peer) / min(r.wall for r in ours)
        by_cpu = min(r.cpu for r in peer) / min(r.cpu for r in ours)
        verdict = "meets" if min(by_wall, by_cpu) >= target else "BELOW"
        print(f"  ratio {by_wall:.1f}x on wall time, {by_cpu:.1f}x on CPU time (target {target:g}x: {verdict})\n")
        peak = max(peak, *(r.max_rss_mb for r in ours))
    print(f"peak memory of eksaudit across runs: {peak:.0f} MB (target < 100 MB)")


if __name__ == "__main__":
    main()
