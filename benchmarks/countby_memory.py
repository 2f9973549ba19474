"""Peak memory of `--count-by` over many distinct values (issue 14: 2M distinct `ka.auditid` < 300 MB).

Usage: python benchmarks/countby_memory.py [N] [EXTRA OPTIONS...]   (default N = 2,000,000)

Writes (once, cached in bench-data/) N small audit events with distinct auditIDs, then runs
`eksaudit filter 'ka.verb exists' FILE --count-by ka.auditid` (and with `--top 2`), printing wall
time, peak RSS (of the eksaudit process alone, see _common.launch) and the number of output lines,
which must be N (resp. 2). Extra options (e.g. `--max-memory 64M`) are passed to both runs.
Asserts nothing; prints "OK" or "OVER" against the 300 MB target.
"""

from __future__ import annotations

import sys
import time

from _common import DATA, EKSAUDIT, measure

TARGET_MB = 300


def distinct_events(n: int):
    path = DATA / f"countby-distinct-{n}.jsonl"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    t0 = time.perf_counter()
    head = b'{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"'
    tail = (b'","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list",'
            b'"user":{"username":"system:serviceaccount:kube-system:job"},"sourceIPs":["10.0.0.1"],'
            b'"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},'
            b'"responseStatus":{"metadata":{},"code":200},"stageTimestamp":"2026-11-30T10:00:01.004000Z"}\n')
    with open(tmp, "wb") as f:
        batch = []
        for i in range(n):
            batch.append(head + b"%08x-0000-4000-8000-%012x" % (i, i * 7919) + tail)
            if len(batch) == 10000:
                f.write(b"".join(batch))
                batch.clear()
        f.write(b"".join(batch))
    tmp.rename(path)
    print(f"generated {n} events ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s")
    return path


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    extra = sys.argv[2:]
    path = str(distinct_events(n))
    for top in (None, 2):
        cmd = EKSAUDIT + ["filter", "ka.verb exists", path, "--count-by", "ka.auditid", *extra]
        if top is not None:
            cmd += ["--top", str(top)]
        t = measure(cmd)
        want = n if top is None else top
        verdict = "OK" if t.max_rss_mb < TARGET_MB and t.output_lines == want else "OVER"
        label = " ".join(cmd[3:]).replace(path, "FILE")
        print(f"{label}\n  {t.seconds:7.1f}s  peak {t.max_rss_mb:5.0f} MB  {t.output_lines} lines "
              f"(want {want}; target < {TARGET_MB} MB: {verdict})")


if __name__ == "__main__":
    main()
