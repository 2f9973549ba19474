"""The selective filter on the same events spelled two ways: as generated, and as Go writes them.

Usage: python benchmarks/spelling.py [N] [RUNS]   (default 300000 events, 3 runs)

The API server (Go's encoding/json) writes `&`, `<`, `>` as `\\u0026`, `\\u003c`, `\\u003e`; about
three lines in ten of the demo data hold one. The fast paths must stay sound on escapes without
losing their speed on such lines: an escape that cannot spell a character of the wanted literals
(`\\u0026` cannot spell `"delete"`) still lets the line be skipped at C speed. Prints the best wall
and CPU time of `eksaudit filter 'ka.verb=delete and ka.target.resource=secrets'` on each file and
the ratio (target: Go-spelled within 10% of plain). Both must print the same number of lines.

BENCH_BASELINE=/path/to/other/checkout runs that checkout's eksaudit too (PYTHONPATH), e.g. an
older commit made with `git worktree add /tmp/base c4aef04`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from _common import DATA, EKSAUDIT, events_file
from filter_vs_jq import Run, run_once

CONDITION = "ka.verb=delete and ka.target.resource=secrets"


def go_spelled(path: Path) -> Path:
    out = path.with_name(path.stem + "-go.jsonl")
    if not out.exists() or out.stat().st_mtime < path.stat().st_mtime:
        tmp = out.with_suffix(".tmp")
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            while block := src.read(1 << 24):
                dst.write(block.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e"))
        tmp.rename(out)
    return out


def best(runs: list[Run]) -> tuple[float, float, int]:
    return min(r.wall for r in runs), min(r.cpu for r in runs), runs[0].lines


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    plain = events_file(n)
    go = go_spelled(plain)
    with open(go, "rb") as f:
        escaped = sum(1 for line in f if b"\\u00" in line)
    print(f"{n} events; {escaped} lines ({100 * escaped / n:.0f}%) hold a \\u escape once Go-spelled; "
          f"{runs} runs each, load {os.getloadavg()[0]:.1f}")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    variants = [("eksaudit", env)]
    base = os.environ.get("BENCH_BASELINE")
    if base:
        benv = dict(env, PYTHONPATH=base, PYTHONPYCACHEPREFIX=str(DATA / "pycache-baseline"))
        variants.append((f"baseline ({base})", benv))
    for label, e in variants:
        run_once(EKSAUDIT + ["filter", "ka.verb exists", os.devnull], env=e)  # bytecode cache
        results: dict[str, list[Run]] = {"plain": [], "go-spelled": []}
        for _ in range(runs):  # interleaved, so a burst of load hits both alike
            results["plain"].append(run_once(EKSAUDIT + ["filter", CONDITION, str(plain)], env=e))
            results["go-spelled"].append(run_once(EKSAUDIT + ["filter", CONDITION, str(go)], env=e))
        print(f"{label}: {CONDITION}")
        figures = {}
        for name, rs in results.items():
            wall, cpu, lines = figures[name] = best(rs)
            print(f"  {name:10} wall {wall:6.2f}s  cpu {cpu:6.2f}s  {lines} lines")
        (pw, pc, pl), (gw, gc, gl) = figures["plain"], figures["go-spelled"]
        if pl != gl:
            print(f"  WARNING: {pl} lines on plain, {gl} on Go-spelled")
        verdict = "meets" if gc <= 1.10 * pc else "ABOVE"
        print(f"  go-spelled / plain: {gw / pw:.2f} on wall, {gc / pc:.2f} on CPU (target <= 1.10: {verdict})\n")


if __name__ == "__main__":
    main()
