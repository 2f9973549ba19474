"""eksaudit against the tools people actually reach for: jq, jaq and DuckDB, on two data sets.

Usage: python benchmarks/vs_peers.py [N] [--runs R] [--rules-events M] [--only demo|shapes] [--jobs J]
  N: events per data set (default 500000); R: runs per tool, best kept (default 2);
  M: events for the rules question (default 100000); J: eksaudit's --jobs (default: its own default).

Data sets (generated once, cached under bench-data/): `demo`, the demo generator's events
(eksaudit/demo/generator.py), and `shapes`, benchmarks/shapes.py's (smaller events, 40% list/watch,
Go-spelled `\\u0026`, 5% of 3-10 KB). Questions, each asked of every tool:

  selective   ka.verb=delete and ka.target.resource=secrets            (matching events printed)
  full-parse  not ka.verb in (get, list, watch)                        (matching events printed)
  count-by    --count-by ka.user.name  /  jq -r .user.username | sort | uniq -c | sort -rn  /  GROUP BY
  rules       filter -r k8s_audit_rules.yaml (Falco upstream) over M events  /  jq -c . >/dev/null

DuckDB runs `read_json_objects` with `->>` on 2 threads (in a Python process of its own: its import
is part of its time, as eksaudit's is of eksaudit's) and prints what it matched, as the others do.
Answers must agree (events printed; groups and their counts): the script stops with exit 1 when
they do not. Ratios are peer time / eksaudit time, on the best wall time and on the least CPU
time (user+system of the whole process tree) of the runs; peak memory is each command's max RSS.
Targets are issue 10's; `make bench` installs the peers (the `bench` extra) and runs this.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from _common import EKSAUDIT, Sample, eksaudit_env, events_file, find_tool, need, sample, shapes_file
from rules_vs_jq import upstream_rules

# DuckDB in a process of its own: argv = path, question, threads. Prints matched events (one JSON
# text a line) or `count<TAB>name` groups, largest first.
DUCKDB_SCRIPT = r"""
import sys
import duckdb
path, question, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect(config={"threads": threads})
con.execute("SET enable_progress_bar = false")  # it prints to stdout on long queries
src = "read_json_objects(?, format='newline_delimited')"
if question == "count-by":
    sql = f"SELECT json->>'$.user.username' AS u, count(*) AS c FROM {src} GROUP BY u ORDER BY c DESC"
else:
    where = {
        "selective": "json->>'$.verb' = 'delete' AND json->>'$.objectRef.resource' = 'secrets'",
        "full-parse": "json->>'$.verb' NOT IN ('get', 'list', 'watch')",
    }[question]
    sql = f"SELECT json FROM {src} WHERE {where}"
cur = con.execute(sql, [path])
out = sys.stdout
while rows := cur.fetchmany(10000):
    if question == "count-by":
        out.write("".join(f"{c}\t{u}\n" for u, c in rows))
    else:
        out.write("".join(f"{j}\n" for (j,) in rows))
out.flush()
"""

SELECTIVE = "ka.verb=delete and ka.target.resource=secrets"
FULL_PARSE = "not ka.verb in (get, list, watch)"
JQ_SELECTIVE = 'select(.verb=="delete" and .objectRef.resource=="secrets")'
JQ_FULL_PARSE = 'select(.verb != "get" and .verb != "list" and .verb != "watch")'

# (question, peer) -> target ratio (issue 10); peers without a target are shown for reference
TARGETS = {
    ("selective", "jq"): 20.0, ("selective", "duckdb"): 2.0,
    ("full-parse", "jq"): 8.0, ("full-parse", "duckdb"): 1.0,
    ("count-by", "jq"): 6.0, ("count-by", "duckdb"): 1.0,
    ("rules", "jq"): 6.0,
}
MEMORY_TARGET_MB = 100.0


@dataclass
class Case:
    question: str
    tools: dict[str, tuple[list[str] | str, bool]]  # tool -> (command, run through the shell)
    answer: str  # "lines": events printed must agree; "groups": groups and counts must agree; "": not compared
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def best_wall(self, tool: str) -> float:
        return min(s.wall for s in self.samples[tool])

    def best_cpu(self, tool: str) -> float:
        return min(s.cpu for s in self.samples[tool])

    def peak(self, tool: str) -> float:
        return max(s.max_rss_mb for s in self.samples[tool])


def q(s: str) -> str:
    """Single-quoted for /bin/sh."""
    return "'" + s.replace("'", "'\\''") + "'"


def groups(tool: str, out: bytes) -> dict[str, int]:
    """A count-by answer as {name: count}, from each tool's own output format."""
    import orjson

    result: dict[str, int] = {}
    for line in out.decode().splitlines():
        if not line.strip():
            continue
        if tool == "eksaudit":
            row = orjson.loads(line)
            result[str(row["ka.user.name"])] = int(row["count"])
        elif tool == "duckdb":
            count, name = line.split("\t", 1)
            result[name] = int(count)
        else:  # uniq -c: right-aligned count, one space, the value
            count, name = line.lstrip().split(" ", 1)
            result[name] = int(count)
    return result


def check_answers(case: Case, data: str) -> str:
    """The agreed answer, described; exits 1 when the tools disagree."""
    if not case.answer:
        return ""
    if case.answer == "lines":
        counts = {tool: {s.lines for s in ss} for tool, ss in case.samples.items()}
        if len({c for cs in counts.values() for c in cs}) != 1:
            raise SystemExit(f"ANSWERS DIFFER on {data} / {case.question}: events printed per tool {counts}")
        return f"{next(iter(counts['eksaudit']))} events"
    answers = {tool: [groups(tool, s.output) for s in ss] for tool, ss in case.samples.items()}
    reference = answers["eksaudit"][0]
    for tool, per_run in answers.items():
        for got in per_run:
            if got != reference:
                diff = sorted(set(got.items()) ^ set(reference.items()))[:6]
                raise SystemExit(f"ANSWERS DIFFER on {data} / {case.question}: {tool} vs eksaudit, e.g. {diff}")
    return f"{len(reference)} groups, {sum(reference.values())} events"


def cases(path: str, rules_path: str | None, rules: str | None, jaq: str, threads: int, jobs: list[str]) -> list[Case]:
    duck = [sys.executable, "-c", DUCKDB_SCRIPT, path]
    sort = "LC_ALL=C sort | uniq -c | LC_ALL=C sort -rn"
    out = [
        Case("selective", {
            "eksaudit": (EKSAUDIT + ["filter", SELECTIVE, path, *jobs], False),
            "jq": (f"jq -c {q(JQ_SELECTIVE)} {q(path)}", True),
            "jaq": (f"{q(jaq)} -c {q(JQ_SELECTIVE)} {q(path)}", True),
            "duckdb": (duck + ["selective", str(threads)], False),
        }, "lines"),
        Case("full-parse", {
            "eksaudit": (EKSAUDIT + ["filter", FULL_PARSE, path, *jobs], False),
            "jq": (f"jq -c {q(JQ_FULL_PARSE)} {q(path)}", True),
            "jaq": (f"{q(jaq)} -c {q(JQ_FULL_PARSE)} {q(path)}", True),
            "duckdb": (duck + ["full-parse", str(threads)], False),
        }, "lines"),
        Case("count-by", {
            "eksaudit": (EKSAUDIT + ["filter", "ka.verb exists", path, "--count-by", "ka.user.name", *jobs], False),
            "jq": (f"jq -r .user.username {q(path)} | {sort}", True),
            "jaq": (f"{q(jaq)} -r .user.username {q(path)} | {sort}", True),
            "duckdb": (duck + ["count-by", str(threads)], False),
        }, "groups"),
    ]
    if rules_path is not None and rules is not None:
        out.append(Case("rules", {
            # alerts formatted and printed through a pipe; jq only parses and re-prints, to /dev/null
            "eksaudit": (EKSAUDIT + ["filter", "-r", rules, rules_path, *jobs], False),
            "jq": (f"jq -c . {q(rules_path)} >/dev/null", True),
        }, ""))
    return out


def run_case(case: Case, runs: int, env: dict[str, str]) -> None:
    keep = case.answer == "groups"
    for _ in range(runs):  # interleaved, so a burst of load from elsewhere hits every tool alike
        for tool, (cmd, shell) in case.tools.items():
            s = sample(cmd, shell=shell, env=env if tool == "eksaudit" else None, keep_output=keep)
            case.samples.setdefault(tool, []).append(s)


def print_case(case: Case, answer: str) -> None:
    ours_wall, ours_cpu = case.best_wall("eksaudit"), case.best_cpu("eksaudit")
    print(f"  {case.question}: {answer or 'outputs differ by design (alerts vs events), not compared'}")
    for tool in case.tools:
        wall, cpu = case.best_wall(tool), case.best_cpu(tool)
        runs = " ".join(f"{s.wall:.2f}" for s in case.samples[tool])
        line = f"    {tool:9} wall {wall:7.2f}s  CPU {cpu:7.2f}s  peak {case.peak(tool):6.0f} MB  (runs: {runs})"
        if tool != "eksaudit":
            rw, rc = wall / ours_wall, cpu / ours_cpu
            target = TARGETS.get((case.question, tool))
            verdict = f"target >= {target:g}x: {'meets' if rw >= target else 'BELOW'}" if target else "no target"
            line += f"  ratio {rw:5.1f}x wall {rc:5.1f}x CPU  [{verdict}]"
        print(line)


def summary(results: dict[str, list[Case]]) -> None:
    names = list(results)
    print("\n## Ratios: peer time / eksaudit time (best wall, least CPU), peak memory of each\n")
    head = "| question | peer | " + " | ".join(f"{n} wall | {n} CPU" for n in names) + " | target |"
    print(head)
    print("|" + " --- |" * (2 + 2 * len(names) + 1))
    questions: list[tuple[str, str]] = []
    for cs in results.values():
        for c in cs:
            for tool in c.tools:
                if tool != "eksaudit" and (c.question, tool) not in questions:
                    questions.append((c.question, tool))
    below = []
    for question, tool in questions:
        cells = []
        target = TARGETS.get((question, tool))
        for n in names:
            c = next((c for c in results[n] if c.question == question), None)
            if c is None:
                cells += ["—", "—"]
                continue
            rw = c.best_wall(tool) / c.best_wall("eksaudit")
            rc = c.best_cpu(tool) / c.best_cpu("eksaudit")
            mark = "" if target is None or rw >= target else " ✗"
            if mark:
                below.append(f"{n}/{question} vs {tool}: {rw:.1f}x (target {target:g}x)")
            cells += [f"{rw:.1f}x{mark}", f"{rc:.1f}x"]
        shown = f">= {target:g}x" if target else "—"
        print(f"| {question} | {tool} | " + " | ".join(cells) + f" | {shown} |")
    print("\n## Seconds (best wall / least CPU) and peak memory (MB)\n")
    tools = ["eksaudit", "jq", "jaq", "duckdb"]
    print("| data set | question | " + " | ".join(tools) + " |")
    print("|" + " --- |" * (2 + len(tools)))
    over = []
    for n, cs in results.items():
        for c in cs:
            cells = []
            for tool in tools:
                if tool not in c.samples:
                    cells.append("—")
                    continue
                cells.append(f"{c.best_wall(tool):.2f} / {c.best_cpu(tool):.2f} s, {c.peak(tool):.0f} MB")
                if tool == "eksaudit" and c.peak(tool) >= MEMORY_TARGET_MB:
                    over.append(f"{n}/{c.question}: {c.peak(tool):.0f} MB")
            print(f"| {n} | {c.question} | " + " | ".join(cells) + " |")
    print(f"\neksaudit peak memory target < {MEMORY_TARGET_MB:g} MB: " + ("met by every run" if not over else
                                                                       "OVER in " + ", ".join(over)))
    print("targets below (wall time): " + ("none" if not below else "; ".join(below)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=500_000, help="events per data set (default 500000)")
    parser.add_argument("--runs", type=int, default=2, help="runs per tool; the best is kept (default 2)")
    parser.add_argument("--rules-events", type=int, default=100_000, help="events for the rules question (default 100000)")
    parser.add_argument("--only", choices=("demo", "shapes"), help="one data set only")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
    parser.add_argument("--jobs", type=int, help="eksaudit --jobs (default: eksaudit's, the CPUs available)")
    args = parser.parse_args()

    need("jq")
    jaq = find_tool("jaq")
    if jaq is None:
        raise SystemExit("jaq is not installed: pip install -e '.[bench]' (or `make bench`) installs it with duckdb")
    try:
        import duckdb  # noqa: F401
    except ImportError:
        raise SystemExit("duckdb is not installed: pip install -e '.[bench]' (or `make bench`) installs it with jaq") from None
    rules = upstream_rules()
    if rules is None:
        print("rules question skipped: Falco's k8s_audit_rules.yaml not found under shared/conformance/falco/")
    makers = {"demo": events_file, "shapes": shapes_file}
    if args.only:
        makers = {args.only: makers[args.only]}
    files = {name: (str(make(args.n)), str(make(args.rules_events)) if rules else None) for name, make in makers.items()}

    env = eksaudit_env()
    sample(EKSAUDIT + ["filter", "ka.verb exists", os.devnull], env=env)  # writes the bytecode cache
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {args.runs} runs per tool, "
          f"best kept; DuckDB {sys.modules['duckdb'].__version__} on {args.threads} threads")
    results: dict[str, list[Case]] = {}
    for name, (path, rules_path) in files.items():
        size = Path(path).stat().st_size
        print(f"\n# {name}: {args.n} events, {size / 1e6:.0f} MB ({size / args.n:.0f} B/event), {path}")
        results[name] = []
        jobs = ["--jobs", str(args.jobs)] if args.jobs is not None else []
        for case in cases(path, rules_path, rules, jaq, args.threads, jobs):
            run_case(case, args.runs, env)
            answer = check_answers(case, name)
            print_case(case, answer)
            results[name].append(case)
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    summary(results)


if __name__ == "__main__":
    main()
