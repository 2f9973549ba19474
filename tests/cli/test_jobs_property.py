"""Property: `--jobs 2/3` prints exactly what `--jobs 1` (the sequential scan, the slow twin) prints.

Inputs are random mixes of what a saved audit log holds, and what it should not: API-server event
lines (also Go-spelled), re-spelled events (tests/support/respell.py), pretty-printed documents,
arrays, CloudWatch pages, other JSON, broken and over-long lines, blank lines, CRLF, a BOM, a
missing last newline. The chunk size is forced down to a few hundred bytes so one input spans many
chunks and split points land everywhere. stdout, stderr and the exit status must be identical.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.jobs import run_jobs
from support.respell import go_spell, respell

import eksaudit.parallel as parallel
from eksaudit.demo.generator import generate_events

EVENTS = list(generate_events(300, seed=5))

RULES = """\
- rule: Secret deleted
  desc: d
  condition: ka.verb=delete and ka.target.resource=secrets
  output: secret %ka.target.name deleted by %ka.user.name
  priority: WARNING
- rule: Anything written
  desc: d
  condition: ka.verb in (create, update, patch, delete)
  output: %ka.verb by %ka.user.name
  priority: NOTICE
- rule: Pod exec
  desc: d
  condition: ka.target.subresource=exec
  output: exec by %ka.user.name
  priority: ERROR
"""

COMMANDS = [
    ["filter", "ka.verb=delete"],
    ["filter", "ka.verb=delete and ka.target.resource=secrets"],
    ["filter", "not ka.verb in (get, list, watch)"],
    ["filter", "ka.verb exists", "--count-by", "ka.user.name"],
    ["filter", "ka.verb exists", "--count-by", "ka.verb,ka.target.resource", "--top", "3", "-o", "csv"],
    ["filter", "ka.verb exists", "--count-by", "ka.user.name", "-o", "table"],
    ["filter", "ka.verb exists", "--count-by", "ka.user.name", "--max-memory", "1K"],
    ["filter", "ka.verb in (create, delete)", "--limit", "3"],
    ["filter", "ka.verb exists", "--limit", "12"],
    ["filter", "ka.verb!=get", "--limit", "25", "--fields", "ka.verb"],
    ["filter", "jevt.value[/kind] exists", "--limit", "7", "-o", "cw"],
    ["filter", "ka.verb=get", "--fields", "ka.user.name,ka.uri", "-o", "csv"],
    ["filter", "ka.verb=get", "--fields", "ka.user.name,ka.target.name", "--limit", "5", "-o", "csv"],
    ["filter", "ka.verb=list", "-o", "cw", "--query", "message"],
    ["filter", "ka.verb exists", "-o", "table"],
    ["filter", "ka.verb=delete", "-q"],
    ["filter", "ka.verb exists", "--strict"],
    ["filter", "ka.verb=patch", "--max-line-bytes", "3K"],
    ["filter", "-r", "{rules}"],
    ["filter", "-r", "{rules}", "-o", "falco-json"],
    ["filter", "-r", "{rules}", "-o", "jsonl"],
    ["filter", "-r", "{rules}", "--limit", "2"],
    ["filter", "-r", "eks", "-o", "falco"],
    ["filter", "ka.verb=delete", "-r", "{rules}", "--count-by", "ka.user.name"],
    ["fields", "ka.verb", "ka.user.name"],
    ["fields", "ka.verb", "ka.target.name", "-o", "csv", "--limit", "9"],
]


def _compact(ev: dict) -> str:
    return json.dumps(ev, separators=(",", ":"))


def _piece(rng: random.Random) -> str:
    """One item of an input file, without its line end (it may span several lines)."""
    ev = rng.choice(EVENTS)
    roll = rng.random()
    if roll < 0.55:
        return _compact(ev)
    if roll < 0.62:
        return go_spell(_compact(ev).encode()).decode()
    if roll < 0.68:
        return respell(ev, rng)
    if roll < 0.71:
        return respell(ev, rng, multiline=True)
    if roll < 0.74:
        return json.dumps([ev, rng.choice(EVENTS)], indent=rng.choice([None, 1]))
    if roll < 0.77:
        return json.dumps({"events": [{"timestamp": 1, "message": _compact(ev)}]}, indent=rng.choice([None, 2]))
    if roll < 0.80:
        return rng.choice(["", "   ", "\t"])
    if roll < 0.83:
        return '{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"delete", broken}'
    if roll < 0.85:
        return rng.choice(["not json at all", '{"protoPayload": {}, "logName": "x"}', '{"a": 1}', "[Truncated...]"])
    if roll < 0.87:
        return "{"  # a document that never closes: the lines after it are read again one by one
    if roll < 0.89:
        big = dict(ev, annotations={"pad": "x" * rng.choice([500, 4000])})
        return _compact(big)
    if roll < 0.91:
        return '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"z","verb":"delete"}'
    return _compact(ev)[: rng.randrange(5, 200)]  # a line cut short


def make_input(seed: int, n: int) -> bytes:
    rng = random.Random(seed)
    crlf = rng.random() < 0.2
    end = "\r\n" if crlf else "\n"
    text = ("\ufeff" if rng.random() < 0.2 else "") + end.join(_piece(rng) for _ in range(n))
    if rng.random() < 0.8:
        text += end
    return text.encode("utf-8", "surrogatepass")


def run(args: list[str], jobs: int, chunk: int, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    return run_jobs(args, jobs, chunk, stdin)


def _args(template: list[str], files: list[str], rules: str) -> list[str]:
    args = [a.replace("{rules}", rules) for a in template]
    if args[0] == "fields":
        return args[:3] + files + args[3:]
    return args[:2] + files + args[2:] if "-r" not in args[:2] else args[:3] + files + args[3:]


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("rules") / "rules.yaml"
    p.write_text(RULES)
    return str(p)


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 60),
    cmd=st.sampled_from(COMMANDS),
    chunk=st.sampled_from([64, 300, 1000, 3000]),
    jobs=st.sampled_from([2, 3]),
    two_files=st.booleans(),
)
def test_jobs_print_what_one_process_prints(tmp_path: Path, rules_file: str, seed, n, cmd, chunk, jobs, two_files):
    files = []
    for i in range(2 if two_files else 1):
        p = tmp_path / f"in{seed}-{i}.log"
        p.write_bytes(make_input(seed + i, n))
        files.append(str(p))
    if two_files:
        files.insert(1, str(tmp_path / "missing.log"))
    args = _args(cmd, files, rules_file)
    assert run(args, jobs, chunk) == run(args, 1, chunk)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 60),
    cmd=st.sampled_from(COMMANDS),
    chunk=st.sampled_from([64, 300, 1000, 3000]),
    jobs=st.sampled_from([2, 3]),
    via=st.sampled_from(["stdin", "gz", "gz-stdin", "gz-cut", "gz-cut-stdin", "gz-gz"]),
)
def test_streams_print_what_one_process_prints(tmp_path: Path, rules_file: str, seed, n, cmd, chunk, jobs, via):
    """Stdin and gzip are read by the parent and cut into chunks (parallel/stream.py): a truncated
    gzip stream must give the same events and the same `cannot decompress` line."""
    data = make_input(seed, n)
    if via.startswith("gz"):
        data = gzip.compress(data, mtime=0)
        if via == "gz-gz":
            data = gzip.compress(data, mtime=0)
        if "cut" in via:
            data = data[: random.Random(seed).randrange(12, max(13, len(data)))]
    stdin = data if via == "stdin" or via.endswith("-stdin") else None
    files = []
    if stdin is None:
        p = tmp_path / f"in{seed}.log.gz"
        p.write_bytes(data)
        files.append(str(p))
    args = _args(cmd, files or ["-"], rules_file)
    assert run(args, jobs, chunk, stdin) == run(args, 1, chunk, stdin)


def test_the_generator_makes_inputs_that_split():
    """The property is worth something only if inputs are cut into many chunks, some of them unclean."""
    data = make_input(3, 60)
    import io

    chunks = list(parallel._chunks(io.BytesIO(data), len(data), 300))
    assert len(chunks) > 5
    assert all(a < b for a, b in chunks if b > 0)


def test_the_stream_cutter_cuts_at_split_points_and_stops_where_gzip_breaks():
    """The stream property is worth something only if streams are cut into many chunks, and a
    truncated gzip stream ends the cutting with the error the sequential reader reports."""
    import io

    from eksaudit.parallel.stream import _SPLIT, Cutter, Spool

    def cut(f: Any, gz: bool) -> tuple[Cutter, list[tuple[bytes, int]]]:
        cutter = Cutter(f, f.readline(), gz, 300, spool)
        got = []
        for path, size, n in cutter:
            got.append((b"".join(Spool.read(path, size)), n))
            spool.free(path)  # written over by a later chunk, as in the parent
        return cutter, got

    spool = Spool()
    try:
        data = make_input(3, 60)
        cutter, chunks = cut(io.BufferedReader(io.BytesIO(data)), False)
        assert len(chunks) > 5
        assert b"".join(d for d, _ in chunks) + b"".join(cutter.rest()) == data
        if not cutter.stopped:
            assert sum(n for _, n in chunks) == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        for d, n in chunks[:-1]:
            assert _SPLIT.search(d + b'{"kind":"Event",', len(d) - 3) is not None  # ends at a split point
            assert n == d.count(b"\n")
        assert len(spool.idle) + 1 >= spool.n  # a few files, written over

        broken = gzip.compress(data, mtime=0)[:-60]
        lines = []
        try:
            for line in gzip.GzipFile(fileobj=io.BytesIO(broken)):
                lines.append(line)
        except EOFError:
            pass
        cutter, chunks = cut(gzip.GzipFile(fileobj=io.BytesIO(broken)), True)
        assert cutter.stopped  # at the break, or earlier for lack of a split point
        got = b"".join(d for d, _ in chunks) + b"".join(cutter.rest())
        assert got == b"".join(lines)  # what line iteration gave, no more
        assert cutter.error is not None and cutter.error[1].startswith("cannot decompress")
        assert cutter.error[0] == len(lines) + 1
    finally:
        spool.close()
