"""Projection decoding and block-level skipping, each against its slow twin.

Usage: python benchmarks/projection.py [N] [RUNS]   (default 200000 events, 2 runs)

Part 1: each question of vs_peers.py (and `fields`, and `-r eks`) on both data sets, once with
`eksaudit.events.projection.PROJECTING` on (the default) and once off (every event parsed whole by
orjson): best CPU seconds of each, their ratio, and whether both printed the same bytes.

Part 2 (issue 10, item 2): on one megabyte of each data set, what skipping the lines between two
anchor hits at once costs (counting the newlines for exact line numbers, and the
`}\\n{"kind":"Event",` joints that say every line is plain), with CPython's `bytes.count` and
with StringZilla's SIMD count (what the reader uses, `events/fastscan.py`), against the reader's
per-line loop; and the anchor search itself, `bytes.find` against SIMD; in µs per MB.

Part 3: the selective questions with the block reader's fast paths (`events.blocks.RUNS`,
`events.fastscan.SIMD`) on and off, in one process (`--jobs 1`): best CPU seconds and ratio.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import timeit

import stringzilla
from _common import events_file, shapes_file

PRELUDE = (
    "import sys; import eksaudit.events.projection as p; p.PROJECTING = sys.argv.pop(1) == '1'; "
    "from eksaudit.cli.app import main; sys.argv[0] = 'eksaudit'; main()"
)
BLOCKS_PRELUDE = (
    "import sys; import eksaudit.events.blocks as b, eksaudit.events.fastscan as f; "
    "b.RUNS = f.SIMD = sys.argv.pop(1) == '1'; "
    "from eksaudit.cli.app import main; sys.argv[0] = 'eksaudit'; main()"
)
SELECTIVE = [
    ("delete secrets", ["filter", "ka.verb=delete and ka.target.resource=secrets", "--jobs", "1"]),
    ("verb in (2)", ["filter", "ka.verb in (delete, deletecollection)", "--jobs", "1"]),
    ("user", ["filter", "ka.user.name=system:kube-scheduler", "--jobs", "1"]),
]
QUESTIONS = [
    ("selective", ["filter", "ka.verb=delete and ka.target.resource=secrets"]),
    ("full-parse", ["filter", "not ka.verb in (get, list, watch)"]),
    ("count-by", ["filter", "ka.verb exists", "--count-by", "ka.user.name"]),
    ("fields", ["fields", "ka.user.name", "ka.verb", "ka.target.resource"]),
    ("rules eks", ["filter", "-q", "-r", "eks"]),
]


def run(on: bool, args: list[str], path: str, prelude: str = PRELUDE) -> tuple[float, str]:
    before = os.times()
    out = subprocess.run([sys.executable, "-c", prelude, "1" if on else "0", *args, path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, hashlib.sha256(out).hexdigest()


def twins(n: int, runs: int, questions: list[tuple[str, list[str]]], prelude: str, heads: tuple[str, str]) -> None:
    """Each question with the switch on and off, interleaved: best CPU of each, ratio, same output."""
    print(f"{'data':7} {'question':14} {heads[0]:>10} {heads[1]:>8} {'ratio':>6}  same output")
    for name, path in (("demo", events_file(n)), ("shapes", shapes_file(n))):
        for label, args in questions:
            on: list[float] = []
            off: list[float] = []
            digests = set()
            for _ in range(runs):
                for flag, acc in ((True, on), (False, off)):
                    cpu, digest = run(flag, args, str(path), prelude)
                    acc.append(cpu)
                    digests.add(digest)
            a, b = min(on), min(off)
            print(f"{name:7} {label:14} {a:9.2f}s {b:7.2f}s {b / a:5.2f}x  {'yes' if len(digests) == 1 else 'NO'}")


def part1(n: int, runs: int) -> None:
    twins(n, runs, QUESTIONS, PRELUDE, ("projected", "whole"))


def part3(n: int, runs: int) -> None:
    print("\nselective questions, block reader's fast paths (RUNS, SIMD) on and off, one process")
    twins(n, runs, SELECTIVE, BLOCKS_PRELUDE, ("fast", "twin"))


def part2(n: int) -> None:
    print("\nper MB of events (µs): what a gap skipped at once costs, against the per-line loop")
    for name, path in (("demo", events_file(n)), ("shapes", shapes_file(n))):
        with open(path, "rb") as f:
            buf = f.read(1 << 20)
        buf = buf[: buf.rfind(b"\n") + 1]
        prefix = b'\n{"kind":"Event",'

        def per_line(buf: bytes = buf) -> int:
            p = n = 0
            find = buf.find
            while (q := find(b"\n", p)) >= 0:
                n += 1
                p = q + 1
            return n

        joint = b"}" + prefix
        cases = {
            "count newlines": lambda buf=buf: buf.count(b"\n"),
            "count joints": lambda buf=buf, joint=joint: buf.count(joint),
            "SIMD newlines": lambda buf=buf: stringzilla.count(buf, b"\n"),
            "SIMD joints": lambda buf=buf, joint=joint: stringzilla.count(buf, joint),
            "per-line find loop": per_line,
            'find a literal': lambda buf=buf: buf.find(b'"nowhere"'),
            'SIMD find a literal': lambda buf=buf: stringzilla.find(buf, b'"nowhere"'),
        }
        for label, fn in cases.items():
            t = timeit.timeit(fn, number=20) / 20
            print(f"  {name:7} {label:22} {t * 1e6:8.0f}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    print(f"{n} events per data set, best of {runs}; load {os.getloadavg()[0]:.1f}; {time.strftime('%H:%M:%S')}")
    part1(n, runs)
    part2(n)
    part3(n, runs)


if __name__ == "__main__":
    main()
