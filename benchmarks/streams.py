"""Stdin and gzip under `--jobs`: the parent reads the stream and feeds chunks to workers.

Usage: python benchmarks/streams.py [N] [--runs R]
  N events per data set (default 200000); R runs per command, best kept (default 2).

For each data set (the demo generator's and benchmarks/shapes.py's), the same question asked of
the same events read three ways, with `--jobs 1` (one process) and the default `--jobs`:
  stdin   `eksaudit filter Q < FILE`          (a pipe: `cat FILE | eksaudit filter Q`)
  gzip    `eksaudit filter Q FILE.gz`
  gz|     `zcat FILE.gz | eksaudit filter Q`
and, as the alternatives a user has, `zcat FILE.gz | jq -c 'select(...)'` and DuckDB reading the
.gz itself (`read_json_objects` inflates it). Q is the full-parse question of vs_peers.py
(`not ka.verb in (get, list, watch)`, a third of the events printed), where workers pay most.
Outputs are compared (line counts); times are best wall / least CPU of the process tree.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from pathlib import Path

from _common import EKSAUDIT, Sample, eksaudit_env, events_file, find_tool, sample, shapes_file

QUESTION = "not ka.verb in (get, list, watch)"
JQ = 'select(.verb != "get" and .verb != "list" and .verb != "watch")'
DUCKDB = (
    "import sys, duckdb\n"
    "con = duckdb.connect(config={'threads': 2}); con.execute('SET enable_progress_bar = false')\n"
    "cur = con.execute(\"SELECT json FROM read_json_objects(?, format='newline_delimited') "
    "WHERE json->>'$.verb' NOT IN ('get', 'list', 'watch')\", [sys.argv[1]])\n"
    "while rows := cur.fetchmany(10000):\n"
    "    sys.stdout.write(''.join(f'{j}\\n' for (j,) in rows))\n"
)


def gz_of(path: Path) -> Path:
    out = path.with_suffix(path.suffix + ".gz")
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        with path.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        tmp.rename(out)
    return out


def best(cmd: list[str] | str, runs: int, *, shell: bool = False) -> Sample:
    env = eksaudit_env()
    got = [sample(cmd, shell=shell, env=env) for _ in range(runs)]
    wall = min(got, key=lambda s: s.wall)
    cpu = min(s.cpu for s in got)
    return Sample(wall.wall, cpu, 0.0, max(s.max_rss_mb for s in got), wall.lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    eks = " ".join(EKSAUDIT)
    jq = find_tool("jq")
    try:
        import duckdb  # noqa: F401

        has_duckdb = True
    except ImportError:
        has_duckdb = False
    for label, path in (("demo", events_file(a.n)), ("shapes", shapes_file(a.n))):
        gz = gz_of(path)
        print(f"\n{label}: {a.n} events, {path.stat().st_size / 1e6:.0f} MB ({gz.stat().st_size / 1e6:.0f} MB gzip)")
        rows: list[tuple[str, Sample]] = []
        for jobs in ("1", "default"):
            opt = "--jobs 1 " if jobs == "1" else ""
            q = f"'{QUESTION}'"
            rows.append((f"stdin  --jobs {jobs}", best(f"{eks} filter {opt}{q} < {path}", a.runs, shell=True)))
            rows.append((f"gzip   --jobs {jobs}", best(f"{eks} filter {opt}{q} {gz}", a.runs, shell=True)))
            rows.append((f"gz|    --jobs {jobs}", best(f"zcat {gz} | {eks} filter {opt}{q}", a.runs, shell=True)))
        if jq is not None:
            rows.append(("zcat | jq", best(f"zcat {gz} | {jq} -c '{JQ}'", a.runs, shell=True)))
        if has_duckdb:
            import sys

            rows.append(("duckdb (.gz)", best([sys.executable, "-c", DUCKDB, str(gz)], a.runs)))
        want = rows[0][1].lines
        for name, s in rows:
            flag = "" if s.lines == want else f"  <- {s.lines} lines, expected {want}"
            print(f"  {name:22s} {s.wall:6.2f} s wall {s.user:6.2f} s CPU {s.max_rss_mb:6.0f} MB{flag}")
        by = dict(rows)
        for way in ("stdin ", "gzip  ", "gz|   "):
            one, many = by[f"{way} --jobs 1"], by[f"{way} --jobs default"]
            print(f"  {way.strip():6s} workers vs one process: {one.wall / many.wall:.2f}x wall, "
                  f"{one.user / many.user:.2f}x CPU")
        for peer in ("zcat | jq", "duckdb (.gz)"):
            if peer in by:
                p = by[peer]
                g = by["gzip   --jobs default"]
                print(f"  {peer} / eksaudit gzip: {p.wall / g.wall:.1f}x wall, {p.user / g.user:.1f}x CPU")


if __name__ == "__main__":
    main()
