"""`eksaudit filter` against jq on the same generated audit log, side by side.

Usage: python benchmarks/filter_vs_jq.py [N]   (default 500000 events, ~1 KB each)
Prints throughput ratios for the issue's targets; asserts nothing.
"""

from __future__ import annotations

import sys

from _common import EKSAUDIT, events_file, need, report, run


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    need("jq")
    path = str(events_file(n))
    print(f"{n} events in {path}\n")
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
        ours = run(ours_cmd, repeat=2)
        peer = run(jq_cmd, shell=True)
        if ours.output_lines == 0:
            print(f"  warning: eksaudit printed nothing for {name}")
        report(name, ours, peer, "jq", target)
        peak = max(peak, ours.max_rss_mb)
    print(f"\npeak memory of eksaudit across runs: {peak:.0f} MB (target < 100 MB)")


if __name__ == "__main__":
    main()
