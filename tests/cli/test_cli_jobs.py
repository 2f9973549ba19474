"""`--jobs N`: large files scanned by worker processes, with the output of one process.

The property test (test_jobs_property.py) compares `--jobs 1` and `--jobs 2/3` on random inputs;
these are the cases a user meets on purpose: `--limit`, `--count-by`, rules, Ctrl-C, `| head -1`,
and a bad `--jobs`.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from support.jobs import RUNNER, run_jobs
from support.proc import Child

import eksaudit.parallel as parallel
import eksaudit.parallel.worker  # noqa: F401 (`parallel.worker`: loaded by the first split, patched below)
from eksaudit.cli.app import app
from eksaudit.demo.generator import generate_events

EVENTS = [json.dumps(e, separators=(",", ":")) for e in generate_events(400, seed=21)]
BROKEN = '{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"delete", broken}'


def run(*args: str, jobs: int, chunk: int = 4096) -> tuple[int, bytes, bytes]:
    return run_jobs(list(args), jobs, chunk)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 events with a broken line after every tenth: about 500 KB, a hundred chunks of 4 KB."""
    lines = []
    for i, ev in enumerate(EVENTS):
        lines.append(ev)
        if i % 10 == 9:
            lines.append(BROKEN)
    p = tmp_path_factory.mktemp("jobs") / "audit.log"
    p.write_text("\n".join(lines) + "\n")
    return p


def same(*args: str, jobs: int = 2, chunk: int = 4096) -> tuple[int, bytes, bytes]:
    one = run(*args, jobs=1, chunk=chunk)
    assert run(*args, jobs=jobs, chunk=chunk) == one
    return one


def test_the_input_is_split_and_read_in_workers(log: Path, monkeypatch: pytest.MonkeyPatch):
    merged = []
    real = parallel._Run._merge
    monkeypatch.setattr(parallel._Run, "_merge", lambda self, res, lines: (merged.append(res.count), real(self, res, lines))[1])
    rc, out, err = same("filter", "ka.verb exists", str(log))
    assert rc == 0 and out.count(b"\n") == 400
    assert len(merged) > 50 and sum(merged) == 400  # every match, found by a worker


@pytest.mark.parametrize("limit", ["1", "7", "39", "400", "1000"])
def test_limit_prints_the_first_matches_and_reports_only_what_came_before(log: Path, limit: str):
    rc, out, err = same("filter", "ka.verb exists", str(log), "--limit", limit)
    assert rc == 0
    assert out.splitlines() == [ev.encode() for ev in EVENTS[: int(limit)]]
    broken_before = min(int(limit), 400) // 10 - (1 if int(limit) % 10 == 0 and int(limit) <= 400 else 0)
    if broken_before:
        assert f"{broken_before} unreadable input line(s) skipped".encode() in err
    else:
        assert b"unreadable" not in err


def test_bad_lines_keep_their_line_numbers(log: Path):
    rc, out, err = same("filter", "ka.verb!=nothing", str(log))
    assert rc == 0
    assert b"audit.log:11: not valid JSON" in err
    assert b"audit.log:55: not valid JSON" in err  # line numbers run on across chunks


@pytest.mark.parametrize("extra", [[], ["--top", "2"], ["-o", "csv"], ["-o", "table"], ["--max-memory", "1K"]])
def test_count_by_is_exact(log: Path, extra: list[str]):
    rc, out, err = same("filter", "ka.verb exists", str(log), "--count-by", "ka.user.name,ka.verb", *extra)
    assert rc == 0 and out


@pytest.mark.parametrize("fmt", ["falco", "falco-json", "jsonl", "csv"])
def test_rules_alerts_and_summary(log: Path, fmt: str):
    rc, out, err = same("filter", "-r", "eks", str(log), "-o", fmt)
    assert rc in (0, 1)
    if rc == 0:
        assert b"Events detected:" in err


def test_fields_extraction(log: Path):
    rc, out, err = same("fields", "ka.verb", "ka.user.name", str(log), "-o", "csv")
    assert rc == 0 and out.count(b"\n") == 441  # a header, and a row per line (broken ones: empty)


def test_strict_stops_at_the_same_line(tmp_path: Path):
    p = tmp_path / "strict.log"
    p.write_text("\n".join(EVENTS[:200] + ["not JSON"] + EVENTS[200:]) + "\n")
    rc, out, err = same("filter", "ka.verb exists", str(p), "--strict")
    assert rc == 2 and b"strict.log:201: not JSON" in err
    assert out.count(b"\n") == 200


@pytest.mark.parametrize("bad", ["0", "-1", "x"])
def test_jobs_must_be_a_positive_number(log: Path, bad: str):
    r = RUNNER.invoke(app, ["filter", "ka.verb exists", str(log), "--jobs", bad], prog_name="eksaudit")
    assert r.exit_code == 2
    assert "--jobs" in r.stderr and "Traceback" not in r.stderr


# --- a real process: signals, pipes, no orphans ------------------------------------------------------
def _eksaudit(chunk: int, *args: str) -> list[str]:
    code = (
        "import sys, eksaudit.parallel as p; p.CHUNK_BYTES = int(sys.argv[1]); del sys.argv[1]; "
        "sys.argv[0] = 'eksaudit'; from eksaudit.cli.app import main; main()"
    )
    return [sys.executable, "-c", code, str(chunk), *args]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 40 MB: long enough to interrupt while workers are busy."""
    p = tmp_path_factory.mktemp("big") / "big-audit.log"
    block = ("\n".join(EVENTS) + "\n").encode()
    with p.open("wb") as f:
        for _ in range(40 * 1024 * 1024 // len(block) + 1):
            f.write(block)
    return p


def _processes_reading(path: Path) -> list[int]:
    """Processes whose command line names `path` (a worker is a fork: it has the parent's)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if str(path).encode() in cmd:
                found.append(int(pid))
    return found


def _no_orphans(path: Path) -> None:
    deadline = time.monotonic() + 20
    while _processes_reading(path):
        assert time.monotonic() < deadline, f"workers left running: {_processes_reading(path)}"
        time.sleep(0.1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_ctrl_c_stops_the_workers_and_exits_130(big: Path):
    with Child(_eksaudit(256 * 1024, "filter", "not ka.verb in (get, list)", str(big), "--jobs", "2"),
               start_new_session=True) as child:
        child.readline()  # workers are running
        os.killpg(child.proc.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
        _, err = child.finish()
    assert child.returncode == 130, err
    assert b"Traceback" not in err and b"Error" not in err, err
    _no_orphans(big)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_closed_pipe_ends_quietly(big: Path):
    with Child(_eksaudit(256 * 1024, "filter", "ka.verb exists", str(big), "--jobs", "2")) as child:
        child.readline()
        child.close_stdout()  # `| head -1`
        _, err = child.finish()
    assert child.returncode == 0, err
    assert err == b""
    _no_orphans(big)


def test_a_worker_that_dies_is_one_error_line(log: Path, monkeypatch: pytest.MonkeyPatch):
    """A worker killed under us (the OOM killer) ends the run with status 2 and says so, no traceback."""
    real = parallel.worker.work

    def dying(name: str, start: int, end: int, anchor: int | None, *more: Any):
        if start > 100_000:
            os._exit(9)  # in the worker process: as if killed
        return real(name, start, end, anchor, *more)

    monkeypatch.setattr(parallel.worker, "work", dying)
    rc, out, err = run("filter", "ka.verb exists", str(log), jobs=2)
    assert rc == 2
    assert b"ended unexpectedly" in err and b"--jobs 1" in err and b"Traceback" not in err
    assert out.count(b"\n") > 20  # what came before it was printed


# --- stdin and gzip: read by the parent, cut into chunks for the workers (parallel/stream.py) -------
def test_stdin_and_gzip_are_cut_and_read_in_workers(log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    merged = []
    real = parallel._Run._merge
    monkeypatch.setattr(parallel._Run, "_merge", lambda self, res, lines: (merged.append(res.count), real(self, res, lines))[1])
    data = log.read_bytes()
    gz = tmp_path / "audit.log.gz"
    gz.write_bytes(gzip.compress(data))
    for args, stdin in ((["filter", "ka.verb exists"], data), (["filter", "ka.verb exists", str(gz)], None),
                        (["filter", "ka.verb exists"], gzip.compress(data))):
        merged.clear()
        one = run_jobs(args, 1, 4096, stdin)
        assert run_jobs(args, 2, 4096, stdin) == one
        rc, out, err = one
        assert rc == 0 and out.count(b"\n") == 400 and b":11: not valid JSON" in err  # broken lines, numbered
        assert len(merged) > 50 and sum(merged) == 400  # every match, found by a worker


def test_a_truncated_gzip_stream_gives_its_events_then_one_error():
    data = gzip.compress(("\n".join(EVENTS) * 3 + "\n").encode())
    cut = data[: len(data) // 2]
    one = run_jobs(["filter", "ka.verb exists"], 1, 4096, cut)
    assert run_jobs(["filter", "ka.verb exists"], 2, 4096, cut) == one
    rc, out, err = one
    assert 50 < out.count(b"\n") < 1200 and b"<stdin>:" in err and b"cannot decompress" in err


@pytest.fixture(scope="module")
def big_gz(big: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("biggz") / "big-audit.log.gz"
    with big.open("rb") as src, gzip.open(p, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst)
    return p


def _no_spool(pid: int) -> None:
    """The chunks' temporary files are gone (stream.Spool names its folder after the process)."""
    base = tempfile.gettempdir()
    assert not [n for n in os.listdir(base) if n.startswith(f"eksaudit-{pid}-")], base


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_ctrl_c_stops_the_workers_reading_gzip(big_gz: Path):
    with Child(_eksaudit(256 * 1024, "filter", "not ka.verb in (get, list)", str(big_gz), "--jobs", "2"),
               start_new_session=True) as child:
        child.readline()  # workers are running
        os.killpg(child.proc.pid, signal.SIGINT)
        _, err = child.finish()
    assert child.returncode == 130, err
    assert b"Traceback" not in err and b"Error" not in err, err
    _no_orphans(big_gz)
    _no_spool(child.proc.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_closed_pipe_ends_quietly_reading_gzip(big_gz: Path):
    with Child(_eksaudit(256 * 1024, "filter", "ka.verb exists", str(big_gz), "--jobs", "2")) as child:
        child.readline()
        child.close_stdout()
        _, err = child.finish()
    assert child.returncode == 0, err
    assert err == b""
    _no_orphans(big_gz)
    _no_spool(child.proc.pid)


def test_a_tmpdir_that_cannot_be_written_is_one_error_line(log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dir"))
    rc, out, err = run_jobs(["filter", "ka.verb exists"], 2, 4096, log.read_bytes())
    assert rc == 2 and out == b""
    assert b"TMPDIR" in err and b"--jobs 1" in err and b"Traceback" not in err and err.count(b"\n") == 1


def test_stdin_from_a_file_is_split_like_the_file(log: Path):
    """`eksaudit ... < FILE`: standard input that is a regular file is read in byte ranges, as the
    file would be (reports name `<stdin>`), and left at its end as one process leaves it."""
    import subprocess

    probe = "import eksaudit.parallel as p; p.CHUNK_BYTES = 4096; print(p._stdin_file_size())"
    with log.open("rb") as f:
        size = subprocess.run([sys.executable, "-c", probe], stdin=f, capture_output=True, check=True).stdout
    assert int(size) == log.stat().st_size
    outs = []
    for jobs in ("1", "2"):
        with log.open("rb") as f:
            outs.append(subprocess.run(_eksaudit(4096, "filter", "ka.verb exists", "--jobs", jobs), stdin=f,
                                       capture_output=True))
    assert outs[0].returncode == outs[1].returncode == 0
    assert outs[0].stdout == outs[1].stdout and outs[0].stdout.count(b"\n") == 400
    assert outs[0].stderr == outs[1].stderr and b"<stdin>:11: not valid JSON" in outs[1].stderr
    rest = "import sys, os; sys.argv = ['eksaudit', 'filter', 'ka.verb exists', '--jobs', '2', '-q']; " \
           "import eksaudit.parallel as p; p.CHUNK_BYTES = 4096; from eksaudit.cli.app import main\n" \
           "try:\n    main()\nexcept SystemExit:\n    print(os.lseek(0, 0, os.SEEK_CUR), file=sys.stderr)"
    with log.open("rb") as f:
        r = subprocess.run([sys.executable, "-c", rest], stdin=f, capture_output=True)
    assert int(r.stderr.strip().splitlines()[-1]) == log.stat().st_size
